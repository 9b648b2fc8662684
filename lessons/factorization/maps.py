"""Concept maps after the factorization: scaled and resized to the image, the strongest concept per
pixel, each concept's share of the image, and how much more of a concept lies inside a box than
outside, the elbow of an error curve. numpy and OpenCV only (no torch): the page draws a shipped result with these before torch
is imported. `scale_and_resize` is pytorch-grad-cam's `scale_cam_image` for a stack of 2-D maps."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def scale_and_resize(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(k, h, w) -> (k, H, W) float32: each map min-max scaled to [0, 1], then bilinearly resized
    (cv2.resize), exactly as DeepFeatureFactorization returns its explanations. size is (H, W)."""
    import cv2

    out = []
    for single in maps:  # (h, w)
        single = single - np.min(single)
        single = single / (1e-7 + np.max(single))
        out.append(cv2.resize(np.float32(single), (size[1], size[0])))  # cv2 takes (W, H)
    return np.float32(out)  # (k, H, W)


def jointly_scale_and_resize(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(B, k, h, w) -> (B, k, H, W) float32 for several images factorized together: each concept min-max
    scaled over *all* the images at once, then resized. Scaled per image (scale_and_resize, the library's
    way), every concept reaches 1 somewhere in every image, however weak it is there, so the overlay
    would paint each photo with every concept; scaled jointly, a concept absent from a photo stays dark."""
    import cv2

    low = maps.min(axis=(0, 2, 3), keepdims=True)  # (1, k, 1, 1)
    high = maps.max(axis=(0, 2, 3), keepdims=True)
    scaled = (maps - low) / (1e-7 + high - low)  # (B, k, h, w)
    return np.float32([[cv2.resize(np.float32(m), (size[1], size[0])) for m in image] for image in scaled])


def concept_reach(maps: np.ndarray) -> np.ndarray:
    """(B, k, h, w) raw maps -> (B, k): each concept's mean strength in each image divided by its mean
    strength in the image where it is strongest (1 there; near 0 where the concept is absent)."""
    strength = maps.mean(axis=(2, 3))  # (B, k)
    return np.float32(strength / np.maximum(strength.max(axis=0, keepdims=True), 1e-12))


def strongest_concept(maps: np.ndarray) -> np.ndarray:
    """(k, H, W) -> (H, W) int: the concept whose map is highest at each pixel (ties: the lowest index)."""
    return np.argmax(maps, axis=0)


def concept_shares(assignment: np.ndarray, k: int) -> np.ndarray:
    """(k,) fraction of the pixels each concept wins; sums to 1."""
    return np.bincount(assignment.ravel(), minlength=k)[:k] / assignment.size


def box_mask(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """Boolean (H, W) mask of box (row0, col0, row1, col1), ends exclusive."""
    row0, col0, row1, col1 = box
    mask = np.zeros(shape, dtype=bool)
    mask[row0:row1, col0:col1] = True
    return mask


def inside_over_outside(heat: np.ndarray, region: np.ndarray) -> float:
    """Mean of `heat` inside the region divided by its mean outside (inf when the outside is 0)."""
    inside, outside = float(heat[region].mean()), float(heat[~region].mean())
    return inside / outside if outside > 0 else float("inf")


def elbow(ks: Sequence[int], errors: Sequence[float]) -> int:
    """The k where the error curve bends most: the point farthest below the straight line from the
    first to the last point, with both axes scaled to [0, 1] (the "kneedle" rule, Satopaa et al. 2011)."""
    k = np.asarray(ks, dtype=float)
    e = np.asarray(errors, dtype=float)
    if len(k) < 3 or e[0] == e[-1]:
        return int(k[0])
    x = (k - k[0]) / (k[-1] - k[0])
    y = (e - e[-1]) / (e[0] - e[-1])  # 1 at the first k, 0 at the last
    below = (1 - x) - y  # distance under the chord
    return int(k[int(np.argmax(below))])
