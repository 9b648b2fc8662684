"""The "shortcut" model's marker test: digits with no marker, their class's marker or a wrong one,
each model's accuracy on them, and the marker's region for measuring a heatmap's mass on it.
No streamlit here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from lessons.activations.map_tools import box_mask

MARKER_MODES = ("no marker", "class marker", "wrong marker")


def with_markers(images: np.ndarray, labels: np.ndarray, mode: str) -> np.ndarray:
    """Digits (N, 28, 28) without a marker, with their class's marker, or with the next class's."""
    from data.shortcut import add_class_marker

    if mode == "no marker":
        return images.copy()
    if mode not in MARKER_MODES:
        raise ValueError(f"mode must be one of {MARKER_MODES}, got {mode!r}")
    return add_class_marker(images, labels, wrong=mode == "wrong marker")


def predict(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """The predicted class of each uint8 digit (N, 28, 28): (N,)."""
    from models.digits import to_tensor

    with torch.no_grad():
        return model(to_tensor(images)).argmax(1).numpy()  # (N,)


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of digits (N, 28, 28) uint8 classified correctly."""
    return float((predict(model, images) == labels).mean())


def marker_classes(labels: np.ndarray, mode: str) -> np.ndarray | None:
    """The class whose marker `with_markers(images, labels, mode)` draws on each digit (None: no marker)."""
    from data.shortcut import marker_classes as stamped

    return None if mode == "no marker" else stamped(labels, wrong=mode == "wrong marker")


def marker_accuracy_table(models: dict[str, nn.Module], images: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Each model on the digits with no marker, the class marker and a wrong marker: accuracy, and
    `follows_marker`, the share of answers that name the marker's class (NaN without a marker)."""
    rows = []
    for name, model in models.items():
        for mode in MARKER_MODES:
            predicted = predict(model, with_markers(images, labels, mode))
            marked = marker_classes(labels, mode)
            rows.append(dict(model=name, markers=mode, accuracy=float((predicted == labels).mean()),
                             follows_marker=float("nan") if marked is None else float((predicted == marked).mean())))
    return pd.DataFrame(rows)


def marker_region(label: int, margin: int = 2, size: int = 28) -> np.ndarray:
    """The marker of class `label` grown by `margin` pixels (the CAM is coarser than the marker)."""
    from data.shortcut import marker_box

    return box_mask((size, size), marker_box(label), margin)
