"""Reading a run's statistics: arrays and frames for the views, the step a view looks at, and the
floor that keeps zeros on a log axis.

Plain numpy and pandas (no Streamlit, no torch). A run that is still training is read as far as
it got: ``snapshot`` takes the rows that exist when it is called.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lessons.gradients.compute import LAYER_STATS, QUANTILE_NAMES, Run

# Fixed axes: wide enough for a vanishing 10-layer sigmoid net (1e-8) and an exploding x10 net (1e7).
# Values outside are drawn on the edge (an exact zero on the bottom edge), never dropped.
GRAD_DOMAIN = (1e-12, 1e12)
UPDATE_DOMAIN = (1e-10, 1e2)
STD_DOMAIN = (1e-4, 1e12)
STATISTICS = {"grad_norm": "gradient norm |g|", "grad_mean_abs": "mean |g| per weight"}
AT_STEPS = ("first step", "latest step")
MAX_LINE_POINTS = 300  # steps per line drawn (every k-th step beyond that, the last one kept)
MAX_HEATMAP_COLUMNS = 250


def snapshot(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """(steps (n,), stats (n, layers, len(LAYER_STATS))) of the steps recorded so far."""
    n = min(len(run.stats), len(run.steps))
    if n == 0:
        return np.zeros(0, int), np.zeros((0, len(run.layers), len(LAYER_STATS)))
    steps = np.array([row["step"] for row in run.steps[:n]])
    return steps, np.asarray(run.stats[:n], dtype=np.float64)


def stat(stats: np.ndarray, name: str) -> np.ndarray:
    return stats[..., LAYER_STATS.index(name)]


def step_index(run: Run, at: str) -> int | None:
    """Index into the recorded steps for "first step" or "latest step" (None before any step)."""
    n = min(len(run.stats), len(run.steps))
    if n == 0:
        return None
    return 0 if at == AT_STEPS[0] else n - 1


def floored(values, floor: float) -> np.ndarray:
    """Values for a log axis: NaN stays NaN (not drawn), inf and anything below `floor` (zeros
    included) are clamped into the axis, so a zero gradient never breaks a log scale."""
    v = np.asarray(values, dtype=np.float64)
    out = np.where(np.isnan(v), np.nan, np.clip(np.nan_to_num(v, posinf=np.finfo(np.float64).max), floor, None))
    return out


def thin_steps(n: int, limit: int) -> np.ndarray:
    """Indices of at most about `limit` of n steps, evenly spaced, always with the last."""
    if n <= limit:
        return np.arange(n)
    keep = np.arange(0, n, math.ceil(n / limit))
    return np.unique(np.append(keep, n - 1))


def layer_labels(run: Run) -> list[str]:
    """'layer 1' ... 'layer 10', 'output', input to output."""
    return [f"layer {name}" if name != "out" else "output" for name in run.layers]


def series_frame(run: Run, statistic: str, floor: float = GRAD_DOMAIN[0]) -> pd.DataFrame:
    """One row per (thinned step, layer): step, layer, depth (0 = input side), value (floored)
    and raw (the measured value, for the tooltip)."""
    steps, stats = snapshot(run)
    keep = thin_steps(len(steps), MAX_LINE_POINTS)
    values = stat(stats, statistic)[keep]  # (k, layers)
    labels = layer_labels(run)
    k, layers = values.shape if values.ndim == 2 else (0, len(labels))
    return pd.DataFrame(dict(step=np.repeat(steps[keep], layers), layer=np.tile(labels, k),
                             depth=np.tile(np.arange(layers), k), raw=values.reshape(-1),
                             value=floored(values.reshape(-1), floor)))


def flow_frame(run: Run, index: int) -> pd.DataFrame:
    """The gradient flow at one recorded step: per layer mean |g| and max |g| (input to output)."""
    _, stats = snapshot(run)
    row = stats[index]
    return pd.DataFrame(dict(layer=layer_labels(run), depth=np.arange(len(run.layers)),
                             mean_abs=row[:, LAYER_STATS.index("grad_mean_abs")],
                             max_abs=row[:, LAYER_STATS.index("grad_max_abs")],
                             grad_norm=row[:, LAYER_STATS.index("grad_norm")],
                             backprop_norm=row[:, LAYER_STATS.index("backprop_norm")]))


def heatmap_frame(run: Run, order: str = "layer order") -> tuple[pd.DataFrame, list[str]]:
    """log10 of each layer's gradient norm per step (at most MAX_HEATMAP_COLUMNS steps), and the
    row order: input to output, or by the largest value the layer reached (largest on top).
    A zero gradient gets log10 of the fixed floor (and raw 0 in the tooltip)."""
    steps, stats = snapshot(run)
    keep = thin_steps(len(steps), MAX_HEATMAP_COLUMNS)
    norms = stat(stats, "grad_norm")[keep]  # (k, layers)
    labels = layer_labels(run)
    k = len(keep)
    next_step = np.append(steps[keep][1:], steps[keep][-1] + 1) if k else np.zeros(0, int)
    log_norm = np.log10(floored(norms, GRAD_DOMAIN[0]).reshape(-1))
    frame = pd.DataFrame(dict(step=np.repeat(steps[keep], len(labels)), step_end=np.repeat(next_step, len(labels)),
                              layer=np.tile(labels, k), raw=norms.reshape(-1), log_norm=log_norm))
    if order == "largest value" and k:
        peak = np.nan_to_num(np.nanmax(np.log10(floored(norms, GRAD_DOMAIN[0])), axis=0), nan=-np.inf)
        rows = [labels[i] for i in np.argsort(-peak, kind="stable")]
    else:
        rows = list(reversed(labels))  # the output on top, the input at the bottom, as in the network diagram
    return frame, rows


def distribution_frame(run: Run, layers: list[str]) -> pd.DataFrame:
    """Percentiles of |g| per (thinned step, chosen layer): step, layer, q05 ... q95 (floored)."""
    steps, stats = snapshot(run)
    keep = thin_steps(len(steps), MAX_LINE_POINTS)
    labels = layer_labels(run)
    parts = []
    for name in layers:
        j = labels.index(name)
        part = {"step": steps[keep], "layer": name}
        for q in QUANTILE_NAMES:
            part[q] = floored(stat(stats, q)[keep, j], GRAD_DOMAIN[0])
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["step", "layer", *QUANTILE_NAMES])


def distribution_layers(run: Run, which: str) -> list[str]:
    """The layers the distributions view shows: first, middle and last, or all of them."""
    labels = layer_labels(run)
    if which == "all layers" or len(labels) <= 3:
        return labels
    return [labels[0], labels[len(labels) // 2], labels[-1]]


def activation_frame(run: Run, index: int) -> pd.DataFrame:
    """Activation statistics of each block at one recorded step (the output layer has none)."""
    _, stats = snapshot(run)
    row = stats[index][:-1]  # blocks only
    return pd.DataFrame(dict(layer=layer_labels(run)[:-1], depth=np.arange(len(row)),
                             mean=row[:, LAYER_STATS.index("act_mean")], std=row[:, LAYER_STATS.index("act_std")],
                             saturated=row[:, LAYER_STATS.index("act_saturated")],
                             dead=row[:, LAYER_STATS.index("act_dead")]))


def first_last(run: Run, index: int, statistic: str = "grad_norm") -> tuple[float, float]:
    """The first (input) and last (output) layer's value at one recorded step."""
    _, stats = snapshot(run)
    values = stat(stats, statistic)[index]
    return float(values[0]), float(values[-1])
