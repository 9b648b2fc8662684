"""The lesson's views, control options and defaults (plain values: page.py, precompute.py and the
tests all read them; no streamlit, no torch)."""
from __future__ import annotations

SLUG = "landscapes"
VIEWS = ("Interpolation", "Slices", "Surface", "Trajectory", "Comparisons", "Toy surfaces")
MODELS = {"digits_mlp": "Digits MLP 784-32-16-10", "digits_cnn": "Digits CNN with 2 conv blocks"}  # read inside parentheses: none of their own
SAMPLES = (250, 500, 1000)
SPANS = (0.25, 0.5, 1.0, 2.0)
RESOLUTIONS = (9, 17, 33, 65)
SEEDS = tuple(range(10))
REACHES = (0.0, 0.5, 1.0)  # interpolation beyond the ends: alpha in [-reach, 1 + reach]
TRAJECTORY_RESOLUTIONS = (13, 25, 49)
TRAJECTORY_SEEDS = (0, 1, 2)
OPTIMIZERS = {"sgd": "SGD (lr 0.1)", "momentum": "Momentum 0.9 (lr 0.02)", "adam": "Adam (lr 0.002)"}
COMPARISONS = ("Skip connections", "Batch size", "Optimizer")
TOY_SURFACES = {"ravine": "Ravine", "saddle": "Saddle", "plateau": "Plateau"}
TOY_RATES = (0.003, 0.01, 0.03, 0.1, 0.3, 0.45, 1.0)
PLOTS = ("Contour", "3D surface")
SMALL_SEEDS = (0, 1, 2, 3)  # the small multiples: the same slice along four seeds' directions

DEFAULTS = {
    "view": "Surface", "samples": 500,
    "reach": 0.5,
    "slice_seed": 0, "slice_span": 1.0,
    "model": "digits_mlp", "seed": 0, "span": 1.0, "resolution": 33, "log_scale": False, "plot": "Contour",
    "multiples": False,
    "optimizer": "adam", "traj_seed": 0, "traj_resolution": 25,
    "comparison": "Skip connections", "cmp_seed": 0,
    "toy_surface": "ravine", "toy_lr": 0.1, "toy_steps": 60,
}
