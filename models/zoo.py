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
from pathlib import Path

import torch
from torch import nn

from models.catalogue import DIGIT_LABELS, NAMES, ModelInfo, info  # noqa: F401  (re-exported: zoo.info(...))

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


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


_CATALOGUE: dict[str, Callable[[str], nn.Module]] = {
    "digits_cnn": _digits_cnn, "shortcut_cnn": _digits_cnn, "digits_mlp": _digits_mlp,
    "digits_vit": _digits_vit, "efficientnet_lite0": _efficientnet, "minilm": _minilm,
}
assert tuple(_CATALOGUE) == NAMES, "every model of models/catalogue.py has a builder here"


_LOCKS = {name: threading.RLock() for name in NAMES}
_LOAD_LOCK = threading.Lock()


@functools.cache
def _load(name: str) -> nn.Module:
    model = _CATALOGUE[name](name)
    model.eval()
    model.requires_grad_(False)  # lessons that need parameter gradients work on a copy
    return model


def load(name: str) -> tuple[nn.Module, ModelInfo]:
    """The shared model (eval mode, parameters frozen) and its metadata. Do not modify it."""
    meta = info(name)
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
