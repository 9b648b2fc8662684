"""Comparing and drawing heatmaps: overlay on the image, resize, mass inside a region, box masks,
rank and linear correlation of two maps. No streamlit here, and torch only inside resize_map.
"""
from __future__ import annotations

import numpy as np


def overlay_heatmap(rgb: np.ndarray, heatmap: np.ndarray, opacity: float = 0.5, colormap: str = "viridis") -> np.ndarray:
    """Blend a colour-mapped heatmap (H, W) in [0, 1] over an image (H, W, 3) in [0, 1] -> uint8 (H, W, 3)."""
    from matplotlib import colormaps

    colours = colormaps[colormap](np.clip(heatmap, 0, 1))[..., :3]  # (H, W, 3)
    return np.uint8(np.round(255 * ((1 - opacity) * rgb + opacity * colours)))


def resize_map(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a (h, w) map to size (H, W)."""
    if heatmap.shape == tuple(size):
        return np.float32(heatmap)
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor(np.float32(heatmap))[None, None]  # (1, 1, h, w)
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()  # (H, W)


def mass_share(heatmap: np.ndarray, region: np.ndarray) -> float:
    """Fraction of the heatmap's total mass inside a boolean region of the same shape."""
    total = float(np.clip(heatmap, 0, None).sum())
    return float(np.clip(heatmap, 0, None)[region].sum()) / total if total > 0 else 0.0


def box_mask(shape: tuple[int, int], box: tuple[int, int, int, int], margin: int = 0) -> np.ndarray:
    """Boolean mask of box (row0, col0, row1, col1), ends exclusive, grown by `margin` pixels."""
    row0, col0, row1, col1 = box
    mask = np.zeros(shape, dtype=bool)
    mask[max(0, row0 - margin):row1 + margin, max(0, col0 - margin):col1 + margin] = True
    return mask


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps of the same shape (0 when either map is flat)."""
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def pearson_correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])
