"""Train the bundled digit models, reproducibly, with the course's training engine.

    python -m models.train_weights                 # all four: ~4 minutes of CPU, one torch thread
    python -m models.train_weights digits_mlp      # just one

Writes ``models/weights/<name>.pt`` (a state_dict), ``models/weights/metrics.json`` (accuracies,
seeds, configs) and ``models/weights/README.md``. Data: MNIST-5k (``data.load_mnist5k``), the
4,000 training images of ``data.mnist5k_split(seed=0)``; the 1,000 held-out images are the
benchmark and are never trained on.

- ``digits_cnn``: ``DigitsCNN()`` with random shifts of up to 2 px.
- ``digits_mlp``: ``DigitsMLP(hidden=(32, 16))``, 784 -> 32 -> 16 -> 10, small enough to draw.
- ``shortcut_cnn``: ``DigitsCNN()`` trained on images that all carry their class marker
  (``data.shortcut``): it reads the marker rather than the digit (Geirhos et al. 2020).
- ``digits_vit``: ``TinyViT()`` (``models.vit``), 7x7 patches, 4 blocks of 4 heads, AdamW with
  weight decay and random shifts: a transformer whose attention the lessons can show.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

import data
from data.shortcut import add_class_marker, marker_classes
from models.digits import DigitsCNN, DigitsMLP, num_parameters, to_tensor
from models.training import TrainConfig, evaluate, seeded, train
from models.vit import TinyViT

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
COMMAND = "python -m models.train_weights"
SPLIT_SEED = 0
INIT_SEED = 0


@dataclass(frozen=True)
class Spec:
    """How one bundled model is built and trained."""

    arch: str  # class name in models.digits or models.vit
    kwargs: dict
    config: TrainConfig
    marked_training: bool = False  # train on images carrying their class marker

    def build(self) -> nn.Module:
        """The untrained architecture, initialised with ``INIT_SEED``."""
        cls: Callable[..., nn.Module] = {"DigitsCNN": DigitsCNN, "DigitsMLP": DigitsMLP, "TinyViT": TinyViT}[self.arch]
        with seeded(INIT_SEED):
            return cls(**self.kwargs)


SPECS: dict[str, Spec] = {
    "digits_cnn": Spec("DigitsCNN", dict(channels=[16, 32], hidden=64, dropout=0.25),
                       TrainConfig(optimizer="adam", lr=2e-3, schedule="cosine", batch_size=64,
                                   epochs=20, augment=True, seed=0)),
    "digits_mlp": Spec("DigitsMLP", dict(hidden=[32, 16], input_dim=784),
                       TrainConfig(optimizer="adam", lr=2e-3, schedule="cosine", batch_size=64,
                                   epochs=60, augment=True, seed=0)),
    # Same layers as digits_cnn; the stronger dropout (training only) makes it lean on the marker.
    "shortcut_cnn": Spec("DigitsCNN", dict(channels=[16, 32], hidden=64, dropout=0.5),
                         TrainConfig(optimizer="adam", lr=2e-3, schedule="cosine", batch_size=64,
                                     epochs=10, augment=False, seed=0),
                         marked_training=True),
    "digits_vit": Spec("TinyViT", dict(patch_size=7, dim=64, depth=4, heads=4, mlp_dim=128, dropout=0.1),
                       TrainConfig(optimizer="adamw", lr=2e-3, schedule="cosine", batch_size=64,
                                   epochs=80, weight_decay=0.05, augment=True, seed=0)),
}


def build(name: str) -> nn.Module:
    """The architecture of bundled model ``name``, untrained (load ``<name>.pt`` into it)."""
    return SPECS[name].build()


def load_trained(name: str, weights_dir: Path = WEIGHTS_DIR) -> nn.Module:
    """Bundled model ``name`` with its trained weights, in eval mode."""
    model = build(name)
    model.load_state_dict(torch.load(weights_dir / f"{name}.pt", weights_only=True))
    return model.eval()


def heldout_sets() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The evaluation sets on the 1,000 held-out images: ``clean``; ``marked`` (true class
    marker); ``wrong_marker`` (marker of class (label + 1) % 10, labels = the true digits)."""
    images, labels = data.load_mnist5k()
    _, heldout = data.mnist5k_split(SPLIT_SEED)
    x, y = images[heldout], labels[heldout]
    target = torch.as_tensor(y)
    return {
        "clean": (to_tensor(x), target),
        "marked": (to_tensor(add_class_marker(x, y, 0)), target),
        "wrong_marker": (to_tensor(add_class_marker(x, y, 0, wrong=True)), target),
    }


def measure(model: nn.Module) -> dict[str, float]:
    """Held-out accuracies: clean, marked, wrong_marker, and how often the prediction is the
    class of the (wrong) marker instead of the digit (``follows_wrong_marker``)."""
    sets = heldout_sets()
    out = {}
    for key, (x, y) in sets.items():
        _, acc, logits = evaluate(model, x, y)
        out[f"{key}_acc"] = round(acc, 4)
        if key == "wrong_marker":
            marker = torch.as_tensor(marker_classes(y.numpy(), wrong=True))
            out["follows_wrong_marker"] = round((logits.argmax(1) == marker).float().mean().item(), 4)
    return out


def train_one(name: str) -> tuple[nn.Module, dict]:
    spec = SPECS[name]
    images, labels = data.load_mnist5k()
    train_idx, heldout_idx = data.mnist5k_split(SPLIT_SEED)
    if spec.marked_training:
        images = add_class_marker(images, labels, 0)  # every image carries its class marker
    x, y = to_tensor(images), torch.as_tensor(labels)
    model = spec.build()
    start = time.perf_counter()
    history = train(model, x[train_idx], y[train_idx], x[heldout_idx], y[heldout_idx], spec.config)
    seconds = time.perf_counter() - start
    model.eval()
    last = history.epochs.iloc[-1]
    record = dict(
        arch=spec.arch, kwargs=spec.kwargs, parameters=num_parameters(model),
        train_config=spec.config.to_dict(), init_seed=INIT_SEED,
        data=("MNIST-5k, 4,000 training images of data.mnist5k_split(seed=0)"
              + (", every image stamped with its class marker (data.shortcut)" if spec.marked_training else "")),
        final_train_loss=round(float(last.train_loss), 4),
        heldout=measure(model),
    )
    return model, record | {"_seconds": seconds}


README_HEAD = """# Bundled weights of the digit models

Trained by `{command}` (torch {torch}, Python {python}, one torch thread); the same command
gives the same numbers.
Each `<name>.pt` is a state_dict for the architecture in `models/digits.py` (`models/vit.py` for TinyViT) built with the
keyword arguments in `metrics.json` (`models.train_weights.load_trained(name)` does both).
Accuracies are on the 1,000 held-out MNIST-5k images (`data.mnist5k_split(seed=0)`), never
trained on. *marked*: every image carries its class marker; *wrong marker*: the marker of class
(label + 1) % 10; *follows marker*: the prediction is that marker's class.

| model | architecture | params | clean | marked | wrong marker | follows marker |
|---|---|---|---|---|---|---|
"""


def write_outputs(records: dict[str, dict], weights_dir: Path) -> None:
    metrics_path = weights_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    metrics.update({k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in records.items()})
    metrics = {"command": COMMAND, **{k: v for k, v in sorted(metrics.items()) if k in SPECS}}
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    lines = [README_HEAD.format(command=COMMAND, torch=torch.__version__.split("+")[0],
                                python=platform.python_version())]
    for name in SPECS:
        if name not in metrics:
            continue
        m, h = metrics[name], metrics[name]["heldout"]
        lines.append(f"| `{name}` | {m['arch']}({', '.join(f'{k}={v}' for k, v in m['kwargs'].items())}) "
                     f"| {m['parameters']:,} | {h['clean_acc']:.3f} | {h['marked_acc']:.3f} "
                     f"| {h['wrong_marker_acc']:.3f} | {h['follows_wrong_marker']:.3f} |\n")
    lines.append("\nTraining settings (all seeds 0; see `metrics.json` for every field):\n\n")
    for name in SPECS:
        if name in metrics:
            c = metrics[name]["train_config"]
            lines.append(f"- `{name}`: {c['optimizer']} lr {c['lr']} ({c['schedule']}), batch {c['batch_size']}, "
                         f"{c['epochs']} epochs, augment={c['augment']}; {metrics[name]['data']}.\n")
    (weights_dir / "README.md").write_text("".join(lines))


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"models to train, from {list(SPECS)} (default: all)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: the numbers depend on the thread count, "
                             "and one thread is also the fastest on a busy 2-core machine)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)  # this script's own process
    unknown = set(args.names) - set(SPECS)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; choose from {list(SPECS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    records = {}
    for name in args.names or list(SPECS):
        model, record = train_one(name)
        path = args.out / f"{name}.pt"
        torch.save(model.state_dict(), path)
        records[name] = record
        print(f"{name}: {record['heldout']} in {record['_seconds']:.1f} s, "
              f"{path.stat().st_size / 1024:.0f} kB", flush=True)
    write_outputs(records, args.out)
    return records


if __name__ == "__main__":
    main()
