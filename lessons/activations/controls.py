"""What the activation-heatmap views share: the lesson's constants and control defaults, the cached
input, predictions and layer geometry, and small helpers for controls, progress bars and pictures.

Imports run one way: page.py -> views.py / views_checks.py -> this module (and content.py -> this
module). Nothing here imports page.py or a view.

No torch at import: the page's first render draws its controls from here and the default view from the
shipped results (shipped.py) before torch is loaded. The cached functions below import torch, models.zoo
and the compute modules when they run, which is on the live path only (after `page.go_live()`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from lessons import colours, ui
from lessons.activations import charts, inputs
from models import catalogue

if TYPE_CHECKING:
    from lessons.activations import geometry

SLUG = "activations"
PHOTO_MODEL, DIGIT_MODEL = "efficientnet_lite0", "digits_cnn"
MODELS = {PHOTO_MODEL: "EfficientNet-Lite0", DIGIT_MODEL: "Digits CNN"}
VIEWS = ("Heatmap", "TorchCam", "Method grid", "Layer statistics", "Find the mistake", "Sanity check", "Faithfulness")
UPLOAD = "upload your own"
COLORMAPS = colours.OVERLAY_COLORMAPS + colours.RAINBOW_COLORMAPS  # safe ones first; rainbows to compare with papers
CHANNEL_CHOICES = ("32", "64", "128", "256", "all")
TOP_K = tuple(f"top {k}" for k in range(1, 6))
SLOW_SECONDS = {"ScoreCAM": "2-6 s", "AblationCAM": "3-8 s", "FullGrad": "about 1 s"}
SHORTCUT_LAYER = "block 1 (16 ch, 28 px)"

DEFAULTS = {
    "view": "Heatmap", "model": PHOTO_MODEL, "image": "cat", "framing": "centre crop", "digit": 0,
    "method": "GradCAM", "layer": "head conv (1280 ch, 7 px)", "target": "top 1", "opacity": 0.5,
    "colormap": "viridis", "aug_smooth": False, "eigen_smooth": False, "channels": "64",
    "tc_samples": 4, "tc_std": 0.3,
    "grid_methods": ["GradCAM", "GradCAM++", "LayerCAM", "EigenCAM"],
    "grid_layers": ["stage 5 (112 ch, 14 px)", "stage 7 (320 ch, 7 px)", "head conv (1280 ch, 7 px)"],
    "statistic": "mean", "threshold": 0.05, "channel": 0,
    "sc_digit": 0, "sc_markers": "class marker", "sc_method": "HiResCAM", "sc_layer": SHORTCUT_LAYER,
    "sanity_methods": ["GradCAM", "GradCAM++", "EigenCAM"], "faith_methods": ["GradCAM", "HiResCAM", "EigenCAM", "LayerCAM"],
    "faith_metric": "keep the map", "seed": 0,
}


# --------------------------------------------------------------------------- cached compute


@st.cache_data(max_entries=16, show_spinner=False)
def load_input(source: str, framing: str, _upload: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """source is "photo:<name>", "upload:<hash>" or "digit:<held-out index>". Raises UploadError."""
    from data import load_image

    kind, _, name = source.partition(":")
    if kind == "digit":
        images, _ = inputs.heldout_digits()
        x, rgb = inputs.digit_input(images[int(name)])
    else:
        image = inputs.open_upload(_upload) if kind == "upload" else load_image(name)
        x, rgb = inputs.photo_input(image, framing)
    return x.numpy(), rgb


@st.cache_data(max_entries=64, show_spinner=False)
def predictions(model_name: str, source: str, framing: str, _x: np.ndarray):
    """(top-5 DataFrame, every class's probability (classes,))."""
    import torch

    from lessons.activations import compute
    from models import zoo

    with zoo.borrow(model_name) as model, torch.no_grad():
        probs = model(torch.from_numpy(_x)).softmax(-1)[0]  # (classes,)
    return compute.top_from_probabilities(probs, zoo.info(model_name).labels, 5), probs.numpy()


@st.cache_data(max_entries=32, show_spinner=False)
def layer_geometry(model_name: str, layer_path: str, input_shape: tuple[int, ...]) -> geometry.LayerGeometry:
    """Grid, stride and receptive field of one layer, computed from the architecture."""
    from lessons.activations import geometry
    from models import zoo

    with zoo.borrow(model_name) as model:
        return geometry.layer_geometry(model, layer_path, input_shape)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[float, str], None]]:
    """A bar drawn inside a cached function (a cache hit replays it and its removal); removed
    afterwards even when the computation fails."""
    bar = st.progress(0.0, text=label)
    try:
        yield lambda fraction, text: bar.progress(min(1.0, fraction), text=f"{label}: {text}")
    finally:
        bar.empty()


# --------------------------------------------------------------------------- controls


def ensure_option(page: ui.LessonPage, name: str, options, fallback) -> None:
    """A value from another model (or a stale link) that is not an option here falls back to the lesson's
    default, or to `fallback` where this model does not offer the default. Before its widget is first
    drawn, a control's value is the one in the link, if the link carries it."""
    key = page.key(name)
    if key in st.session_state:
        value = st.session_state[key]
    elif key in st.query_params:
        value = (st.query_params.get_all(key) if isinstance(page.defaults.get(name), list)
                 else st.query_params[key])
    else:
        value = page.defaults.get(name)
    if not _offered(value, options):  # the lesson's default where this model offers it, else `fallback`
        default = page.defaults.get(name)
        page.set_values({name: default if default is not None and _offered(default, options) else fallback})


def _offered(value, options) -> bool:
    return all(v in options for v in value) if isinstance(value, list) else value in options


def control(page: ui.LessonPage, widget, name: str, *args, **kwargs):
    """A control that keeps its value while another view is shown."""
    return page.control(widget, name, *args, persist_state="page", **kwargs)


def max_channels(channels: str) -> int | None:
    """The "Channels scored" control's value as `compute`'s max_channels (None: all)."""
    return None if channels == "all" else int(channels)


def class_options(labels) -> list[str]:
    return list(TOP_K) + [f"{i}: {label}" if len(labels) > 10 else f"digit {label}" for i, label in enumerate(labels)]


def resolve_class(target: str, top) -> int:
    if target in TOP_K:
        return int(top["class_index"].iloc[TOP_K.index(target)])
    return (int(target.split(":")[0]) if ":" in target else int(target.split()[-1]))


def class_name(model_name: str, index: int) -> str:
    return catalogue.info(model_name).labels[index]


def describe_input(model_name: str, source: str, framing: str) -> str:
    """The input in words, for the "which run was judged" part of a verdict."""
    kind, _, name = source.partition(":")
    if kind == "digit":
        return f"{MODELS[model_name]}, held-out digit {name}"
    what = "your uploaded photo" if kind == "upload" else f"the {name} photo"
    return f"{MODELS[model_name]}, {what} ({framing})"


def show_image(image: np.ndarray, caption: str) -> None:
    """The image as wide as its column: a fixed pixel width spills over a narrow column (small
    screens, presenter mode's larger charts beside it). Layouts size pictures through their columns."""
    st.image(charts.enlarge(image) if image.shape[0] < 100 else image, caption=caption, width="stretch", alt=caption)
