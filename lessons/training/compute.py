"""Training dynamics: train a small digit classifier and read its curves.

Everything here is plain Python, numpy, pandas and torch (no Streamlit), usable from a notebook::

    spec = RunSpec(model="mlp", train_size=100, epochs=60)
    data = load_data(spec.dataset, spec.train_size, spec.seed)
    run = new_run(spec)
    for _ in train_run(run, data):
        pass
    overfitting_onset(epoch_frame(run))  # from lessons.training.curves

This module holds the runs: specs, presets, data, model, training. Its siblings read them, each
with the sources of its methods: `curves` (frames, smoothing, early stopping, overfitting, chart
markers), `evaluation` (the final weights on the validation set: confusion, ROC curves, mistakes)
and `run_store` (several runs, the precomputed presets).

The engine (`models.training.train_iter`): mini-batch SGD, momentum, Adam, AdamW.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

DATASETS = ("mnist5k", "digits")
DATASET_TITLES = {"mnist5k": "MNIST 5k (28x28)", "digits": "scikit-learn digits (8x8)"}
MODELS = ("cnn", "mlp")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
OPTIMIZER_TITLES = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "adam": "Adam", "adamw": "AdamW"}
VAL_CHECKS_PER_EPOCH = 4  # validation measured this many times per epoch when an epoch is long enough
MIN_STEPS_FOR_MIDEPOCH_CHECKS = 16  # shorter epochs are only measured at their end


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides a run: data, model, optimizer, seed. Plain values only."""

    dataset: str = "mnist5k"
    train_size: int = 4000
    label_noise: float = 0.0
    augment: bool = False
    model: str = "cnn"
    width: int = 16  # MLP: units per hidden layer; CNN: channels of the first block (doubling)
    depth: int = 2  # MLP: hidden layers; CNN: conv blocks
    dropout: float = 0.25
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 0.0
    epochs: int = 5
    seed: int = 0

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}")

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> RunSpec:
        """Build from a dict that may hold other keys (page controls); types are coerced."""
        kwargs = {}
        for f in fields(cls):
            if f.name in values:
                default = getattr(cls, f.name)
                kwargs[f.name] = type(default)(values[f.name])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """A short label for a run, e.g. 'cnn 16x2, adam lr 0.001, 4000 samples'."""
        return (f"{self.model} {self.width}x{self.depth}, {self.optimizer} lr {self.lr:g}, "
                f"{self.train_size} samples, {self.epochs} ep")


@dataclass(frozen=True)
class Preset:
    """A classic situation: the controls that provoke it and one line about what it shows."""

    key: str
    title: str
    spec: RunSpec
    shows: str

    @property
    def short(self) -> str:
        """A button label: 'LR too high' for 'Learning rate too high'."""
        return self.title.replace("Learning rate", "LR")


HEALTHY_SPEC = RunSpec()
TOO_HIGH_SPEC = RunSpec(lr=0.03)  # the healthy run with only the learning rate changed
TOO_HIGH_RATIO = TOO_HIGH_SPEC.lr / HEALTHY_SPEC.lr  # 30

PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("healthy", "Healthy", HEALTHY_SPEC,
           "Adam at its default learning rate on the CNN: both losses fall fast and stay close."),
    Preset("lr_too_high", "Learning rate too high", TOO_HIGH_SPEC,
           f"The healthy run with only the learning rate changed: Adam at {TOO_HIGH_SPEC.lr:g}, "
           f"{TOO_HIGH_RATIO:g} times the healthy {HEALTHY_SPEC.lr:g}. One oversized update makes the loss jump, "
           "then the network sits at chance level (2.30) and gives every digit the same answer."),
    Preset("lr_too_low", "Learning rate too low", RunSpec(optimizer="sgd", lr=1e-4),
           "Plain SGD at 1e-4: the loss barely moves from chance level (ln 10 = 2.30)."),
    Preset("overfitting", "Overfitting", RunSpec(train_size=100, model="mlp", width=256, depth=2, dropout=0.0,
                                                epochs=60),
           "A wide MLP on 100 digits, no regularisation: training loss goes to 0, validation loss turns up "
           "while validation accuracy stays flat (the wrong answers grow confident)."),
    Preset("underfitting", "Underfitting", RunSpec(model="mlp", width=4, depth=1, dropout=0.0, epochs=12),
           "An MLP with 4 hidden units: both losses stay high and close together."),
    Preset("diverges", "Divergence", RunSpec(optimizer="sgd", lr=10.0),
           "Plain SGD at learning rate 10: the loss explodes within a few steps and training stops."),
)}


def matching_preset(spec: RunSpec) -> str | None:
    """The key of the preset whose spec equals `spec`, if any."""
    for preset in PRESETS.values():
        if preset.spec == spec:
            return preset.key
    return None


# --------------------------------------------------------------------------- data and model


@dataclass
class DigitsData:
    """A training subset and a fixed validation set, as normalised tensors."""

    dataset: str
    x_train: Any  # torch.Tensor (N, 1, H, W)
    y_train: Any  # torch.Tensor (N,)
    x_val: Any  # torch.Tensor (M, 1, H, W)
    y_val: Any  # torch.Tensor (M,)
    val_pixels: np.ndarray  # (M, H, W) float in [0, 1], for showing the misclassified digits
    image_size: int


def stratified_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`size` positions into `labels`, as balanced across classes as possible (round robin over
    the classes, each shuffled with `seed`). Returns sorted int64 indices."""
    labels = np.asarray(labels)
    size = min(int(size), len(labels))
    rank = np.random.default_rng(seed).permutation(len(labels))
    order = np.lexsort((rank, labels))  # grouped by class, random inside a class
    position_in_class = np.empty(len(labels), np.int64)
    for c in np.unique(labels):
        members = order[labels[order] == c]
        position_in_class[members] = np.arange(len(members))
    round_robin = np.lexsort((labels, position_in_class))  # 1st of each class, then 2nd...
    return np.sort(round_robin[:size])


def dataset_train_pool(dataset: str) -> int:
    """How many training images a dataset offers (the training-set size is capped there)."""
    return 4000 if dataset == "mnist5k" else 1437


def _dataset_arrays(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pixels (N, H, W) float in [0, 1], labels (N,), training pool and validation positions."""
    if dataset == "mnist5k":
        from data import load_mnist5k, mnist5k_split

        images, labels = load_mnist5k()  # (5000, 28, 28) uint8, (5000,)
        train_idx, val_idx = mnist5k_split(0)
        pixels = images.astype(np.float32) / 255.0  # (5000, 28, 28) in [0, 1]
    elif dataset == "digits":
        from data import load_sklearn_digits

        pixels, labels = load_sklearn_digits(normalize=True)  # (1797, 8, 8) in [0, 1]
        val_idx = stratified_subset(labels, 360, seed=12345)  # fixed, whatever the run seed
        train_idx = np.setdiff1d(np.arange(len(labels)), val_idx)
    else:
        raise ValueError(f"dataset must be one of {DATASETS}")
    return pixels, labels, train_idx, val_idx


def validation_pixels(dataset: str) -> np.ndarray:
    """The validation images (M, H, W) in [0, 1], without torch (for showing the mistakes)."""
    pixels, _, _, val_idx = _dataset_arrays(dataset)
    return pixels[val_idx]


def load_data(dataset: str = "mnist5k", train_size: int = 4000, seed: int = 0) -> DigitsData:
    """The training subset (`train_size` images, balanced, chosen by `seed`) and the fixed
    validation set: MNIST-5k's held-out 1,000, or 360 of scikit-learn's digits."""
    import torch

    from models.digits import to_tensor

    pixels, labels, train_idx, val_idx = _dataset_arrays(dataset)
    chosen = train_idx[stratified_subset(labels[train_idx], train_size, seed)]
    x = to_tensor(pixels * 255.0)  # (N, 1, H, W), normalised like MNIST
    y = torch.as_tensor(labels, dtype=torch.long)  # (N,)
    return DigitsData(dataset, x[chosen], y[chosen], x[val_idx], y[val_idx],
                      pixels[val_idx], image_size=pixels.shape[-1])


def build_model(spec: RunSpec, image_size: int = 28):
    """The MLP or CNN that `spec` describes, initialised from `spec.seed`."""
    from models.digits import DigitsCNN, build_mlp
    from models.training import seeded

    depth = max(1, int(spec.depth))
    with seeded(spec.seed):
        if spec.model == "mlp":
            return build_mlp(input_dim=image_size * image_size, hidden=(spec.width,) * depth,
                             dropout=spec.dropout)
        max_blocks = int(math.log2(image_size))  # each block halves the image
        channels = [spec.width * 2**i for i in range(min(depth, max_blocks))]
        hidden = max(32, 4 * spec.width)
        return DigitsCNN(channels, hidden=hidden, dropout=spec.dropout, image_size=image_size)


def divergence_threshold() -> float:
    """The engine stops a run whose batch loss is NaN, infinite or above this."""
    from models.training import TrainConfig

    return TrainConfig().diverge_above


def max_shift(image_size: int) -> int:
    """Augmentation moves each training image by up to this many pixels in each direction."""
    return 2 if image_size >= 28 else 1


def train_config(spec: RunSpec, image_size: int = 28):
    from models.training import TrainConfig

    return TrainConfig(optimizer=spec.optimizer, lr=spec.lr, batch_size=spec.batch_size,
                       epochs=spec.epochs, weight_decay=spec.weight_decay, seed=spec.seed,
                       augment=spec.augment, max_shift=max_shift(image_size),
                       label_noise=spec.label_noise)


# --------------------------------------------------------------------------- a run


@dataclass
class Run:
    """One training run: its spec and every measurement, filled in while it trains.

    `steps`: one row per optimizer step (training batch loss/acc). `evals`: validation loss/acc
    at step 0, a few times per epoch and at every epoch end. `epochs`: one row per epoch (1-based
    `epoch`): the engine's training means (train mode, over the epoch's batches) and the validation
    at its end (eval mode, `validation_stats`). `status`: running, finished, diverged or stopped.
    """

    spec: RunSpec
    name: str = ""
    run_id: int = 0
    source: str = "session"  # or "precomputed"
    status: str = "running"
    steps: list[dict] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    diverged: dict | None = None
    seconds: float = 0.0
    first_step_seconds: float | None = None
    total_steps: int = 0
    val_probs: np.ndarray | None = None  # (M, 10) softmax of the final weights
    val_labels: np.ndarray | None = None  # (M,)

    @property
    def finished(self) -> bool:
        return self.status in ("finished", "diverged")


def new_run(spec: RunSpec, name: str = "", run_id: int = 0) -> Run:
    return Run(spec=spec, name=name or spec.describe(), run_id=run_id)


def validation_steps(steps_per_epoch: int) -> int:
    """Validate every this many steps inside an epoch (0: only at epoch ends)."""
    if steps_per_epoch < MIN_STEPS_FOR_MIDEPOCH_CHECKS:
        return 0
    return math.ceil(steps_per_epoch / VAL_CHECKS_PER_EPOCH)


def validation_stats(logits, labels) -> dict[str, float | None]:
    """Validation loss and accuracy from the logits (M, classes), and where the loss comes from:
    `val_loss_wrong`, the misclassified digits' part of the mean cross-entropy (their summed loss
    divided by M, so val_loss = loss of the right answers + val_loss_wrong), and `val_conf_wrong`,
    the mean probability the model gives its (wrong) answer on those digits (None if none is wrong).
    A validation loss that rises while the accuracy stays flat is the wrong answers growing confident.
    """
    import torch
    import torch.nn.functional as F

    labels = torch.as_tensor(labels, dtype=torch.long)  # (M,)
    per_digit = F.cross_entropy(logits, labels, reduction="none")  # (M,)
    confidence, predicted = torch.softmax(logits, dim=1).max(dim=1)  # (M,), (M,)
    wrong = predicted != labels  # (M,)
    n = max(1, len(labels))
    return dict(val_loss=F.cross_entropy(logits, labels).item(), val_acc=(~wrong).float().mean().item(),
                val_loss_wrong=per_digit[wrong].sum().item() / n,
                val_conf_wrong=confidence[wrong].mean().item() if wrong.any() else None)


def train_run(run: Run, data: DigitsData) -> Iterator[object]:
    """Train a fresh model for `run.spec` on `data`, filling `run` in place, and yield each
    engine event (StepEvent, EpochEvent, DivergedEvent). A page redraws between events; if it
    stops iterating, `run` keeps what was measured so far.

    Adapter over `models.training.train_iter`: this validates at step 0, a few times inside long
    epochs (so the curves have more than a handful of validation points) and at every epoch end,
    where it also records the wrong answers' part of the loss and their confidence
    (`validation_stats`).

    Setting `run.status` to anything but "running" stops it before its next measurement. The page
    needs this: with Streamlit's fast reruns, a click starts the next script run in a new thread
    while the old one trains on until its next `st` call, and the new run reads `run` meanwhile.
    """
    import torch

    from models.training import DivergedEvent, EpochEvent, StepEvent, evaluate, train_iter

    spec = run.spec
    start = time.perf_counter()
    model = build_model(spec, data.image_size)
    config = train_config(spec, data.image_size)
    steps_per_epoch = math.ceil(len(data.x_train) / spec.batch_size)
    run.total_steps = steps_per_epoch * spec.epochs
    every = validation_steps(steps_per_epoch)
    loss0, acc0, _ = evaluate(model, data.x_val, data.y_val)
    run.evals.append(dict(step=0, epoch=0.0, val_loss=loss0, val_acc=acc0))
    run.status = "running"
    # No validation data for the engine: the epoch-end validation is measured here (the same
    # evaluate, at the same point), because the page also needs its logits (validation_stats).
    for event in train_iter(model, data.x_train, data.y_train, None, None, config):
        if run.status != "running":  # stopped by the page's next script run: measure nothing more
            return
        run.seconds = time.perf_counter() - start
        if isinstance(event, StepEvent):
            if run.first_step_seconds is None:
                run.first_step_seconds = run.seconds
            run.steps.append(dict(step=event.step, epoch=event.epoch + 1, loss=event.loss, acc=event.acc))
            in_epoch = event.step - event.epoch * steps_per_epoch
            if every and in_epoch % every == 0 and in_epoch < steps_per_epoch:
                val_loss, val_acc, _ = evaluate(model, data.x_val, data.y_val)
                if run.status != "running":
                    return
                run.evals.append(dict(step=event.step, epoch=event.step / steps_per_epoch,
                                      val_loss=val_loss, val_acc=val_acc))
        elif isinstance(event, EpochEvent):
            _, _, logits = evaluate(model, data.x_val, data.y_val)  # (M, 10), eval mode: dropout off
            val = validation_stats(logits, data.y_val)
            if run.status != "running":
                return
            run.seconds = time.perf_counter() - start
            run.epochs.append(dict(epoch=event.epoch + 1, step=event.step, train_loss=event.train_loss,
                                   train_acc=event.train_acc, **val, seconds=run.seconds))
            run.evals.append(dict(step=event.step, epoch=float(event.epoch + 1),
                                  val_loss=val["val_loss"], val_acc=val["val_acc"]))
        elif isinstance(event, DivergedEvent):
            run.diverged = dict(step=event.step, epoch=event.epoch + 1, loss=event.loss)
        yield event
    if run.status != "running":
        return
    run.seconds = time.perf_counter() - start
    if run.diverged is not None:
        run.status = "diverged"
        return
    _, _, logits = evaluate(model, data.x_val, data.y_val)  # (M, 10)
    probs = torch.softmax(logits, dim=1).numpy()  # (M, 10)
    if run.status != "running":
        return
    if np.isfinite(probs).all():
        run.val_probs = probs.astype(np.float32)
        run.val_labels = data.y_val.numpy()
    run.status = "finished"


def train_to_end(spec: RunSpec, data: DigitsData | None = None) -> Run:
    """Convenience for notebooks and tests: run `spec` to the end and return the Run."""
    data = data or load_data(spec.dataset, spec.train_size, spec.seed)
    run = new_run(spec)
    for _ in train_run(run, data):
        pass
    return run


# --------------------------------------------------------------------------- warm-up


def warm_up_autograd() -> None:
    """One tiny backward pass and optimizer step. The first optimizer step in a process imports
    torch._dynamo (0.8-1.3 s on this machine); paying it before the student presses Train keeps
    the first point of the live chart under a second."""
    import torch

    layer = torch.nn.Linear(4, 2)  # private, discarded
    optimizer = torch.optim.Adam(layer.parameters())
    layer(torch.ones(3, 4)).sum().backward()  # (3, 2) -> scalar
    optimizer.step()


def warm_up() -> None:
    """One-off costs of this lesson, for the server's background warm-up (lessons/warmup.py):
    torch, torch._dynamo and the autograd/optimizer machinery the first training step needs."""
    import torch._dynamo  # noqa: F401

    warm_up_autograd()
