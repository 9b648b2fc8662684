"""Per-channel activation statistics of one layer over a collection of inputs: a layer's outputs
(hook removed afterwards), a statistic per channel, silent channels (|activation| never above a
threshold: pruning candidates), and one channel's map on one input. No streamlit here.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from lessons.activations.map_tools import resize_map

STATISTICS = ("mean", "median", "min", "max")


def layer_activations(model: nn.Module, x: torch.Tensor, layer_path: str, batch_size: int = 64) -> torch.Tensor:
    """The output of one layer for every input: (N, C, h, w). Removes its hook afterwards."""
    layer = model.get_submodule(layer_path)
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda module, inputs, output: captured.append(output.detach()))
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                model(x[start:start + batch_size])
    finally:
        handle.remove()
    return torch.cat(captured)  # (N, C, h, w)


def channel_statistics(activations: torch.Tensor, statistic: str) -> np.ndarray:
    """Reduce each channel's map to one number per input: (N, C, h, w) -> (N, C)."""
    flat = activations.flatten(2)  # (N, C, h*w)
    if statistic == "mean":
        return flat.mean(2).numpy()
    if statistic == "median":
        return flat.median(2).values.numpy()
    if statistic == "min":
        return flat.amin(2).numpy()
    if statistic == "max":
        return flat.amax(2).numpy()
    raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")


def group_rows(values: np.ndarray, groups: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Average the rows of (N, C) that share a group label -> (G, C), groups in first-seen order."""
    names = list(dict.fromkeys(groups))
    groups = np.asarray(groups)
    return np.stack([values[groups == g].mean(0) for g in names]), names


def channel_peak_magnitudes(activations: torch.Tensor) -> np.ndarray:
    """Each channel's largest |activation| over every input and position: (N, C, h, w) -> (C,).

    The absolute value matters: most of EfficientNet's target layers are block outputs with no
    activation function after them, where a channel can carry large negative values."""
    return activations.transpose(0, 1).flatten(1).abs().amax(1).numpy()


def silent_channels(channel_peak: np.ndarray, relative_threshold: float) -> tuple[np.ndarray, float]:
    """Channels whose |activation| never exceeds `relative_threshold` x the layer's largest |activation|
    (on any input or position), from `channel_peak_magnitudes`: pruning candidates.
    Returns (boolean (C,), the absolute threshold)."""
    threshold = float(relative_threshold) * float(np.max(channel_peak))
    return np.asarray(channel_peak) <= threshold, threshold


def silent_share_curve(channel_peak: np.ndarray, thresholds: Sequence[float]) -> pd.DataFrame:
    """Share of silent channels for each relative threshold (threshold, silent_share)."""
    return pd.DataFrame({"threshold": list(thresholds),
                         "silent_share": [float(silent_channels(channel_peak, t)[0].mean()) for t in thresholds]})



def channel_map(activations: torch.Tensor, channel: int, size: tuple[int, int]) -> np.ndarray:
    """One channel of one input's activations (1, C, h, w), scaled to [0, 1] and resized: (H, W)."""
    single = activations[0, int(channel)].float().numpy()  # (h, w)
    low, high = single.min(), single.max()
    scaled = (single - low) / (high - low) if high > low else np.zeros_like(single)
    return resize_map(scaled, size)
