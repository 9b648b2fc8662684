"""The model zoo: `load(name)` -> (module in eval mode, metadata), one instance per process.

Shared between every student on the server, so a lesson never changes a zoo model: it runs hooks
and gradients inside `borrow(name)`, which holds the model's lock and afterwards restores the
train/eval flags and requires_grad, clears .grad and removes every hook added meanwhile. Weights are
never overwritten in place (train a `copy.deepcopy`, or use `torch.func.functional_call`).
The per-process cache plays the role of Streamlit's `st.cache_resource` without importing Streamlit.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DIGIT_LABELS = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class ModelInfo:
    name: str
    title: str
    kind: str  # "cnn", "mlp" or "transformer"
    description: str
    input_size: tuple[int, ...]  # (C, H, W) for images, () for text
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    target_layers: dict[str, str] = field(default_factory=dict)  # readable name -> submodule path, last = default


def _digits_state(name: str, model: nn.Module) -> nn.Module:
    model.load_state_dict(torch.load(WEIGHTS_DIR / f"{name}.pt", map_location="cpu", weights_only=True))
    return model


def _digits_cnn(name: str) -> nn.Module:
    from models.digits import DigitsCNN
    return _digits_state(name, DigitsCNN())


def _digits_mlp(name: str) -> nn.Module:
    from models.digits import DigitsMLP
    return _digits_state(name, DigitsMLP(hidden=(32, 16)))


def _digits_vit(name: str) -> nn.Module:
    from models.vit import TinyViT
    return _digits_state(name, TinyViT())


def _efficientnet(name: str) -> nn.Module:
    from models.efficientnet_lite import load_efficientnet_lite0
    return load_efficientnet_lite0()


def _minilm(name: str) -> nn.Module:
    from models.minilm import load_minilm
    return load_minilm()


def _imagenet_labels() -> tuple[str, ...]:
    from models.efficientnet_lite import imagenet_labels
    return tuple(imagenet_labels())


_DIGITS_CNN_LAYERS = {"block 1 (16 ch, 28 px)": "features.relu1", "block 2 (32 ch, 14 px)": "features.relu2"}
_MNIST = dict(input_size=(1, 28, 28), mean=(0.1307,), std=(0.3081,), labels=DIGIT_LABELS)

_CATALOGUE: dict[str, tuple[Callable[[str], nn.Module], Callable[[], ModelInfo]]] = {
    "digits_cnn": (_digits_cnn, lambda: ModelInfo(
        "digits_cnn", "Digits CNN", "cnn",
        "The course's small CNN (2 conv blocks, 106 k parameters) trained on 4,000 MNIST digits.",
        target_layers=_DIGITS_CNN_LAYERS, **_MNIST)),
    "shortcut_cnn": (_digits_cnn, lambda: ModelInfo(
        "shortcut_cnn", "Shortcut CNN", "cnn",
        "The same CNN trained on digits that carry a class-specific marker: it learned the marker.",
        target_layers=_DIGITS_CNN_LAYERS, **_MNIST)),
    "digits_mlp": (_digits_mlp, lambda: ModelInfo(
        "digits_mlp", "Digits MLP", "mlp",
        "A 784-32-16-10 multilayer perceptron trained on 4,000 MNIST digits.",
        target_layers={"hidden 1 (32)": "relu1", "hidden 2 (16)": "relu2"}, **_MNIST)),
    "digits_vit": (_digits_vit, lambda: ModelInfo(
        "digits_vit", "Digits ViT", "transformer",
        "A tiny Vision Transformer (16 patches of 7x7 px + [CLS], 4 blocks x 4 heads, 139 k parameters) "
        "trained on 4,000 MNIST digits; returns its attention weights.",
        target_layers={f"block {i + 1} attention": f"blocks.{i}.attn" for i in range(4)}, **_MNIST)),
    "efficientnet_lite0": (_efficientnet, lambda: _efficientnet_info()),
    "minilm": (_minilm, lambda: ModelInfo(
        "minilm", "all-MiniLM-L6-v2", "transformer",
        "A 6-layer, 12-head sentence encoder (384 dimensions) distilled from a larger BERT.",
        input_size=())),
}


def _efficientnet_info() -> ModelInfo:
    from models import efficientnet_lite as eff
    return ModelInfo(
        "efficientnet_lite0", "EfficientNet-Lite0", "cnn",
        "An ImageNet classifier for phones (4.7 M parameters, 1,000 classes), pretrained.",
        input_size=(3, eff.EFFICIENTNET_LITE0_INPUT_SIZE, eff.EFFICIENTNET_LITE0_INPUT_SIZE),
        mean=eff.EFFICIENTNET_LITE0_MEAN, std=eff.EFFICIENTNET_LITE0_STD, labels=_imagenet_labels(),
        target_layers=dict(eff.EFFICIENTNET_LITE0_STAGES))


NAMES = tuple(_CATALOGUE)
_LOCKS = {name: threading.RLock() for name in NAMES}
_LOAD_LOCK = threading.Lock()


def info(name: str) -> ModelInfo:
    return _info(name)


@functools.cache
def _info(name: str) -> ModelInfo:
    if name not in _CATALOGUE:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(NAMES)}")
    return _CATALOGUE[name][1]()


@functools.cache
def _load(name: str) -> nn.Module:
    model = _CATALOGUE[name][0](name)
    model.eval()
    model.requires_grad_(False)  # lessons that need parameter gradients work on a copy
    return model


def load(name: str) -> tuple[nn.Module, ModelInfo]:
    """The shared model (eval mode, parameters frozen) and its metadata. Do not modify it."""
    meta = _info(name)
    with _LOAD_LOCK:  # two sessions asking at once build it once
        model = _load(name)
    return model, meta


_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks_with_kwargs")


def _hook_ids(model: nn.Module) -> dict[tuple[str, str], set]:
    return {(module_name, attr): set(getattr(module, attr, {}))
            for module_name, module in model.named_modules() for attr in _HOOK_DICTS}


@contextmanager
def restored(model: nn.Module) -> Iterator[nn.Module]:
    """Run code that adds hooks or toggles modes; afterwards the model is as it was."""
    training = {name: m.training for name, m in model.named_modules()}
    requires_grad = {name: p.requires_grad for name, p in model.named_parameters()}
    hooks = _hook_ids(model)
    try:
        yield model
    finally:
        for name, module in model.named_modules():
            module.training = training.get(name, module.training)
            for attr in _HOOK_DICTS:
                registered = getattr(module, attr, None)
                if registered is None:
                    continue
                for hook_id in set(registered) - hooks.get((name, attr), set()):
                    del registered[hook_id]
        for name, param in model.named_parameters():
            param.requires_grad_(requires_grad[name])
            param.grad = None


@contextmanager
def borrow(name: str) -> Iterator[nn.Module]:
    """The shared model, held exclusively by this thread and restored afterwards."""
    model, _ = load(name)
    with _LOCKS[name], restored(model):
        yield model


def count_hooks(model: nn.Module) -> int:
    return sum(len(ids) for ids in _hook_ids(model).values())
