"""The deep-feature-factorization lesson's constants and control defaults. No torch, no streamlit."""
from __future__ import annotations

from lessons import colours
from models.catalogue import EFFICIENTNET_LITE0_STAGES

SLUG = "factorization"
MODEL = "efficientnet_lite0"
VIEWS = ("Concepts", "Concept labels", "Co-segmentation", "Choosing k", "Three ways")
LAYERS: dict[str, str] = dict(EFFICIENTNET_LITE0_STAGES)  # readable name -> submodule path
HEAD = "head conv (1280 ch, 7 px)"  # the layer the classifier head reads (after global average pooling)
FRAMINGS = ("whole image", "centre crop")
UPLOAD = "upload your own"
K_MIN, K_MAX = 2, 10
SWEEP_KS = tuple(range(K_MIN, K_MAX + 1))
MAX_IMAGES = 4  # co-segmentation
TOP_LABELS = 3

# Paul Tol's "muted" palette and his pale grey (lessons/colours.py): apart under colour-vision deficiencies.
CONCEPT_COLOURS = colours.CONCEPTS

DEFAULTS = {
    "view": "Concepts", "image": "cat", "framing": "whole image", "layer": HEAD, "k": 5, "image_weight": 0.3,
    "co_images": ["astronaut", "grace_hopper"], "co_layer": HEAD, "co_k": 4,
    "sweep_layer": HEAD, "split_k": 3, "km_seed": 0,
}


def colour_rgb(index: int) -> tuple[float, float, float]:
    """Concept `index`'s colour as RGB floats in [0, 1]."""
    hex_colour = CONCEPT_COLOURS[index % len(CONCEPT_COLOURS)].lstrip("#")
    return tuple(int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4))


def layer_short(layer: str) -> str:
    return layer.split(" (")[0]
