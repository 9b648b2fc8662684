"""Numbers read off a loss slice: the barrier on a path, how non-convex a 2-D surface is, how sharp a
minimum is, how much slices along different random directions differ. numpy only (no torch), so the
page can state them for the shipped results before torch is imported."""
from __future__ import annotations

import numpy as np

# A grid point counts as "not locally convex" when the smaller eigenvalue of the surface's finite-
# difference Hessian is negative by more than this share of the larger one's magnitude (the ratio
# |lambda_min / lambda_max| that Li et al. 2018, figure 7, map; the small tolerance ignores rounding).
CONVEXITY_TOLERANCE = 0.05
# The no-skip surface is called rougher when its non-convex share is at least this many times the
# share with skips (the page's sentence and the "Try this" check use the same number).
ROUGHER_FACTOR = 2.0
# Roughness is read near the minimum, within this distance of the trained weights (the inner half of
# the +-1 square): farther out the loss of both nets explodes and dominates the curvature.
NEAR_DISTANCE = 0.5
# Sharpness: the mean rise of the loss at these distances along filter-normalised directions (Keskar et
# al. 2017 take the largest rise within a small box; the page reads it close in and farther out).
SHARPNESS_DISTANCE = 0.5
SHARPNESS_NEAR = 0.25


def barrier(alpha: np.ndarray, loss: np.ndarray) -> dict[str, float]:
    """Between the path's ends (alpha 0 and 1): the highest loss, where it is, and how far it rises
    above the straight line joining the end losses (Frankle et al. 2020's barrier height)."""
    alpha, loss = np.asarray(alpha, float), np.asarray(loss, float)
    inside = (alpha >= -1e-6) & (alpha <= 1 + 1e-6)
    a, l = alpha[inside], loss[inside]
    start, end = float(l[np.argmin(np.abs(a))]), float(l[np.argmin(np.abs(a - 1))])
    line = start + (end - start) * a
    i = int(np.argmax(l - line))
    return {"start": start, "end": end, "max": float(l.max()), "alpha_max": float(a[np.argmax(l)]),
            "height": float(max(0.0, l[i] - line[i])), "alpha_height": float(a[i]),
            "above_ends": float(max(0.0, l.max() - max(start, end)))}


def hessian_eigenvalues(surface: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (min, max) of the 2x2 finite-difference Hessian at every interior grid point:
    (R-2, C-2) each. surface (R, C) on a square grid of spacing `step`."""
    f = np.asarray(surface, dtype=np.float64)
    fxx = (f[1:-1, 2:] - 2 * f[1:-1, 1:-1] + f[1:-1, :-2]) / step ** 2
    fyy = (f[2:, 1:-1] - 2 * f[1:-1, 1:-1] + f[:-2, 1:-1]) / step ** 2
    fxy = (f[2:, 2:] - f[2:, :-2] - f[:-2, 2:] + f[:-2, :-2]) / (4 * step ** 2)
    mean, spread = (fxx + fyy) / 2, np.sqrt(((fxx - fyy) / 2) ** 2 + fxy ** 2)
    return mean - spread, mean + spread


def non_convex_share(surface: np.ndarray, step: float, tolerance: float = CONVEXITY_TOLERANCE) -> float:
    """Share of interior grid points where the surface curves down along some direction."""
    low, high = hessian_eigenvalues(surface, step)
    return float(np.mean(low < -tolerance * np.abs(high)))


def near_centre(axis: np.ndarray, surface: np.ndarray, distance: float = NEAR_DISTANCE) -> np.ndarray:
    """The part of a square surface (rows and columns along `axis`) within +-distance of the centre."""
    inside = np.abs(np.asarray(axis)) <= distance + 1e-6
    return np.asarray(surface)[np.ix_(inside, inside)]


def roughness(axis: np.ndarray, surface: np.ndarray) -> dict[str, float]:
    """The non-convex share of a 2-D slice near the minimum (within NEAR_DISTANCE) and over all of it."""
    step = float(axis[1] - axis[0])
    near = near_centre(axis, surface)
    return {"near": non_convex_share(near, step), "all": non_convex_share(surface, step),
            "near_points": (near.shape[0] - 2) * (near.shape[1] - 2)}  # interior points of the near square


def sharpness(alpha: np.ndarray, losses: np.ndarray, distance: float = SHARPNESS_DISTANCE) -> float:
    """Mean rise of the loss at +-distance over several 1-D slices: losses (directions, points)."""
    alpha = np.asarray(alpha, float)
    centre = np.argmin(np.abs(alpha))
    at = [np.argmin(np.abs(alpha - distance)), np.argmin(np.abs(alpha + distance))]
    losses = np.asarray(losses, float)
    return float((losses[:, at] - losses[:, [centre]]).mean())


def slice_spread(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, float)
    return {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()),
            "relative": float((v.max() - v.min()) / max(abs(v.mean()), 1e-12))}
