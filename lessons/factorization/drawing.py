"""Pictures of concepts: the factorization overlay (each pixel in the colour of its strongest concept),
one concept's heatmap, a segmentation in colours, a single heatmap. numpy and OpenCV: uint8 images out.

`factorization_overlay` is pytorch-grad-cam's `show_factorization_on_image` (Gildenblat; colours
and the HSV trick from Collins et al.'s DFF code) without its matplotlib legend: the page draws the
legend as a chart. We always pass colours: the library's default calls `plt.cm.get_cmap`, which the
installed matplotlib no longer has.
"""
from __future__ import annotations

import numpy as np

from lessons.factorization.settings import colour_rgb


def factorization_overlay(rgb: np.ndarray, maps: np.ndarray, image_weight: float = 0.3) -> np.ndarray:
    """rgb uint8 (H, W, 3), maps (k, H, W) in [0, 1] -> uint8 (H, W, 3).

    Each pixel takes the hue of its strongest concept, as bright as that concept's map there; the
    photo shows through with weight `image_weight`."""
    import cv2

    k = maps.shape[0]
    strongest = np.argmax(maps, axis=0)  # (H, W)
    layers = []
    for i in range(k):
        mask = np.zeros((*rgb.shape[:2], 3))
        mask[:, :, :] = colour_rgb(i)
        explanation = np.where(strongest == i, maps[i], 0)  # (H, W)
        mask = cv2.cvtColor(np.uint8(mask * 255), cv2.COLOR_RGB2HSV)
        mask[:, :, 2] = np.uint8(255 * explanation)
        layers.append(np.float32(cv2.cvtColor(mask, cv2.COLOR_HSV2RGB)) / 255)
    colour = np.sum(np.float32(layers), axis=0)  # (H, W, 3)
    return np.uint8((rgb / 255.0 * image_weight + colour * (1 - image_weight)) * 255)


def concept_heatmap(rgb: np.ndarray, heat: np.ndarray, index: int) -> np.ndarray:
    """One concept's map (H, W) in [0, 1] painted in its colour over the greyed photo -> uint8."""
    grey = rgb.mean(axis=2, keepdims=True) / 255.0  # (H, W, 1)
    colour = np.float32(colour_rgb(index))[None, None]  # (1, 1, 3)
    alpha = heat[..., None]  # (H, W, 1)
    return np.uint8(np.round(255 * (0.45 * grey * (1 - alpha) + alpha * colour + 0.15 * grey)).clip(0, 255))


def segments_image(rgb: np.ndarray, segments: np.ndarray, opacity: float = 0.6) -> np.ndarray:
    """A label map (H, W) of ints in colours over the photo -> uint8 (H, W, 3)."""
    palette = np.float32([colour_rgb(i) for i in range(int(segments.max()) + 1)])  # (n, 3)
    return np.uint8(np.round(255 * ((1 - opacity) * rgb / 255.0 + opacity * palette[segments])).clip(0, 255))


def heatmap_image(rgb: np.ndarray, heat: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """A heatmap (H, W) in [0, 1] in viridis (readable under colour blindness) over the photo."""
    import cv2

    colours = cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * np.clip(heat, 0, 1)), cv2.COLORMAP_VIRIDIS),
                           cv2.COLOR_BGR2RGB)
    return np.uint8(np.round((1 - opacity) * rgb + opacity * colours).clip(0, 255))


def nearest(maps_or_labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label map (h, w) to (H, W)."""
    rows = (np.arange(size[0]) * maps_or_labels.shape[0]) // size[0]
    cols = (np.arange(size[1]) * maps_or_labels.shape[1]) // size[1]
    return maps_or_labels[rows][:, cols]
