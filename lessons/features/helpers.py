"""What the feature-visualization views share: constants, control defaults, the shipped gallery,
cached computations (plain values in; `_x` is not part of a key) and small control helpers.

Imports run one way: page.py -> views_*.py -> this module. torch is imported inside functions only,
so the page draws the shipped gallery before torch is loaded.
"""
from __future__ import annotations

import functools
import json
import re

import numpy as np
import streamlit as st

from lessons import ui
from lessons.features.precompute import (DEFAULT_CHANNEL, DEFAULT_STAGE, GALLERY_DIR, GALLERY_FILE,
                                         default_settings)
from lessons.features.settings import TRANSFORMS, Settings
from models.catalogue import EFFICIENTNET_LITE0_STAGES, info

SLUG = "features"
PHOTO_MODEL, DIGIT_MODEL = "efficientnet_lite0", "digits_cnn"
MODELS = {PHOTO_MODEL: "EfficientNet-Lite0", DIGIT_MODEL: "Digits CNN"}
FIRST_CONV = {PHOTO_MODEL: "_conv_stem", DIGIT_MODEL: "features.conv1"}
VIEWS = ("Gallery", "Feature maps", "Optimize", "Regularizers", "Dataset examples")
UPLOAD = "upload your own"
# Stage outputs only: the stem and the head end in ReLU6, which caps a channel at 6 (nothing to maximise).
OPTIMIZE_STAGES = {name: path for name, path in EFFICIENTNET_LITE0_STAGES.items() if path.startswith("_blocks")}
STEPS = (16, 32, 64, 128, 256, 512)
LEARNING_RATES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 1e36)
SIZES = (64, 96, 128, 160, 224)
PER_STAGE = (4, 8, 16)
REDRAW_SECONDS = 0.25  # at most 4 redraws a second while optimising
MAX_RUNS = 6

DEFAULTS = {
    "view": "Gallery", "gallery_pick": "stage 2 · channel 0", "model": PHOTO_MODEL, "image": "cat", "digit": 0,
    "stages": ["stage 1 (16 ch, 112 px)", "stage 3 (40 ch, 28 px)", "stage 5 (112 ch, 14 px)",
               "stage 7 (320 ch, 7 px)"],
    "per_stage": 8, "enlarge": "",
    "stage": DEFAULT_STAGE, "objective": "channel", "channel": DEFAULT_CHANNEL, "class_index": 281,
    "parameterization": "fourier", "decorrelate": True, "transforms": list(TRANSFORMS),
    "steps": 128, "lr": 0.05, "size": 128, "seed": 0,
}
OPTIMIZE_CONTROLS = ("stage", "objective", "channel", "class_index", "parameterization", "decorrelate",
                     "transforms", "steps", "lr", "size", "seed")
RUNS_KEY = f"{SLUG}.runs"  # not "_"-prefixed: Reset puts the controls back but keeps the student's runs
COMPARISONS_KEY = f"{SLUG}.comparisons"


# --------------------------------------------------------------------------- the shipped gallery


@functools.cache
def gallery() -> dict:
    """gallery.json (written by precompute.py): settings and measures of every shipped picture."""
    return json.loads(GALLERY_FILE.read_text())


@functools.lru_cache(maxsize=64)
def shipped_image(file: str) -> np.ndarray:
    from PIL import Image

    with Image.open(GALLERY_DIR / file) as image:
        return np.asarray(image.convert("RGB"))  # (S, S, 3) uint8


def shipped_entry(settings: Settings) -> dict | None:
    """The gallery picture made with exactly these settings, if any."""
    for entry in gallery()["gallery"]:
        if default_settings(entry["layer"], entry["channel"]) == settings:
            return entry
    return None


# --------------------------------------------------------------------------- controls


def channels_of(stage: str) -> int:
    """"stage 3 (40 ch, 28 px)" -> 40."""
    found = re.search(r"\((\d+) ch", stage)
    return int(found.group(1)) if found else 1


def ensure_option(page: ui.LessonPage, name: str, options, fallback) -> None:
    """A value another model (or a stale link) left that is not an option here falls back."""
    value = page.value(name)
    valid = all(v in options for v in value) if isinstance(value, list) else value in options
    if not valid:
        page.set_values({name: fallback})


def control(page: ui.LessonPage, widget, name: str, *args, **kwargs):
    """A control that keeps its value while another view is shown."""
    return page.control(widget, name, *args, persist_state="page", **kwargs)


def settings_from_controls(page: ui.LessonPage) -> Settings:
    """The Optimize controls as one Settings (EfficientNet-Lite0)."""
    objective = page.value("objective")
    logit = objective == "class logit"
    stage = page.value("stage") if page.value("stage") in OPTIMIZE_STAGES else DEFAULT_STAGE
    return Settings(layer="_fc" if logit else OPTIMIZE_STAGES[stage], objective=objective,
                    channel=int(page.value("class_index") if logit else page.value("channel")),
                    parameterization=page.value("parameterization"), decorrelate=bool(page.value("decorrelate")),
                    transforms=tuple(t for t in TRANSFORMS if t in (page.value("transforms") or [])),
                    steps=int(page.value("steps")), lr=float(page.value("lr")), size=int(page.value("size")),
                    seed=int(page.value("seed")))


def describe(settings: Settings) -> str:
    """A run in words, for captions and for the verdict of an experiment."""
    if settings.objective == "class logit":
        target = f"the logit of class {settings.channel} ({info(PHOTO_MODEL).labels[settings.channel]})"
    else:
        stage = next((n for n, p in {**OPTIMIZE_STAGES, **info(DIGIT_MODEL).target_layers}.items()
                      if p == settings.layer), settings.layer)
        what = {"channel": f"channel {settings.channel}", "neuron": f"the centre neuron of channel {settings.channel}",
                "layer (DeepDream)": "the whole layer"}[settings.objective]
        target = f"{what} of {stage.split(' (')[0]}"
    regs = [name for name, on in settings.regularizers().items() if on]
    return (f"{target}, {settings.steps} steps at {settings.size} px, lr {settings.lr:g}, seed {settings.seed}, "
            + ("regularizers: " + ", ".join(regs) if regs else "no regularizer"))


def lr_label(lr: float) -> str:
    return f"{lr:g}" + (" (absurd)" if lr > 100 else "")


# --------------------------------------------------------------------------- inputs and cached compute


@st.cache_data(max_entries=16, show_spinner=False)
def load_input(source: str, _upload: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """source: "photo:<name>", "upload:<hash>" or "digit:<held-out index>" -> (x (1, C, H, W), rgb uint8).
    Raises data.uploads.UploadError for a bad upload."""
    import torch  # noqa: F401  (preprocess_image returns a tensor)

    from data import load_image
    from data.uploads import open_upload
    from models.efficientnet_lite import preprocess_image

    kind, _, name = source.partition(":")
    if kind == "digit":
        from models.digits import to_tensor

        images, _ = heldout_digits()
        x = to_tensor(images[int(name)])  # (1, 1, 28, 28)
        return x.numpy(), np.repeat(images[int(name)][..., None], 3, axis=-1)
    image = open_upload(_upload) if kind == "upload" else load_image(name)
    x = preprocess_image(image)  # (1, 3, 224, 224)
    rgb = ((x[0].permute(1, 2, 0).numpy() * 0.5 + 0.5).clip(0, 1) * 255).round().astype(np.uint8)
    return x.numpy(), rgb


@functools.cache
def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,000 held-out MNIST-5k digits (uint8 (1000, 28, 28), labels)."""
    from data import load_mnist5k, mnist5k_split

    images, labels = load_mnist5k()
    _, heldout = mnist5k_split()
    return images[heldout], labels[heldout]


@st.cache_data(max_entries=32, show_spinner=False)
def feature_maps(model_name: str, source: str, layer_paths: tuple[str, ...], _x: np.ndarray):
    """{path: (C, h, w)} for one input, and the first convolution's filters (N, k, k, C_in)."""
    import torch

    from lessons.features import compute
    from models import zoo

    with zoo.borrow(model_name) as model:
        maps = compute.layer_activations(model, torch.from_numpy(_x), list(layer_paths))
        filters = compute.first_conv_filters(model, FIRST_CONV[model_name])
    return maps, filters


@st.cache_data(max_entries=2, show_spinner=False)
def collection(model_name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The dataset examples come from: every bundled photo (centre crop, 224 px) or 1,000 held-out
    digits. (x (N, C, H, W), rgb uint8 (N, H, W, 3), names)."""
    from data import list_images

    if model_name == DIGIT_MODEL:
        images, labels = heldout_digits()
        from models.digits import to_tensor

        return (to_tensor(images).numpy(), np.repeat(images[..., None], 3, axis=-1),
                [f"digit {label} (#{i})" for i, label in enumerate(labels)])
    names = list_images()
    pairs = [load_input(f"photo:{name}") for name in names]
    return np.concatenate([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), names


@st.cache_data(max_entries=16, show_spinner=False)
def channel_examples(model_name: str, layer: str, channel: int, count: int = 8):
    """The strongest positions of a channel over the collection, and the layer's geometry."""
    import torch

    from lessons.features import compute
    from models import zoo

    x, _, _ = collection(model_name)
    with zoo.borrow(model_name) as model:
        maps = compute.channel_over_collection(model, torch.from_numpy(x), layer, channel)  # (N, h, w)
        geometry = compute.layer_geometry(model, layer, torch.from_numpy(x[:1]))
    examples = compute.dataset_examples(maps, geometry, x.shape[-1], count, one_per_image=model_name == PHOTO_MODEL)
    image_means = maps.reshape(len(maps), -1).mean(1)  # (N,) the channel objective of each whole image
    return examples, geometry, float(image_means.max()), int(image_means.argmax())


@st.cache_data(max_entries=32, show_spinner=False)
def image_peak(model_name: str, layer: str, channel: int, image_key: str, _image: np.ndarray) -> float:
    """The channel's largest activation over the positions of an optimised image."""
    from lessons.features import optimize
    from models import zoo

    mean, std = ((0.5,) * 3, (0.5,) * 3) if model_name == PHOTO_MODEL else (digit_settings("", 0).mean,
                                                                           digit_settings("", 0).std)
    with zoo.borrow(model_name) as model:
        return optimize.channel_peak(model, layer, _image, channel, mean, std)


@st.cache_data(max_entries=8, show_spinner=False)
def optimized_channel(model_name: str, layer: str, channel: int, steps: int, size: int, seed: int):
    """A channel's optimised image for the Dataset examples view: (uint8 image, its channel mean).
    EfficientNet-Lite0: the lesson's full recipe; digits CNN: 28 px grey pixels with jitter."""
    from lessons.features import optimize
    from models import zoo

    settings = digit_settings(layer, channel, steps, seed) if model_name == DIGIT_MODEL else Settings(
        layer=layer, channel=channel, steps=steps, size=size, seed=seed)
    bar = st.progress(0.0, text="Optimising the channel's image")
    try:
        with zoo.borrow(model_name) as model:
            final = None
            for event in optimize.optimize(model, settings):
                final = event.image
                if event.step % 16 == 0:
                    bar.progress(event.step / settings.steps, text=f"Optimising: step {event.step} of {settings.steps}")
            image = optimize.current_image(final)
            value = optimize.activation_of(model, layer, image, "channel", channel, settings.mean, settings.std)
    finally:
        bar.empty()
    return image, value


def digit_settings(layer: str, channel: int, steps: int = 128, seed: int = 0) -> Settings:
    from models.digits import MNIST_MEAN, MNIST_STD

    return Settings(layer=layer, channel=channel, parameterization="pixels", decorrelate=False,
                    transforms=("jitter",), steps=steps, lr=0.05, size=28, seed=seed,
                    mean=(MNIST_MEAN,), std=(MNIST_STD,), channels_in=1)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling, so small maps and filters stay crisp: (h, w[, c]) -> (h*f, w*f[, c])."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def to_heat(channel_map: np.ndarray, size: int = 96) -> np.ndarray:
    """A (h, w) map as a uint8 viridis-like picture of about `size` px (each map scaled by itself)."""
    lo, hi = float(channel_map.min()), float(channel_map.max())
    unit = (channel_map - lo) / (hi - lo) if hi > lo else np.zeros_like(channel_map)
    factor = max(1, size // channel_map.shape[0])
    # a compact viridis: dark purple -> teal -> yellow
    stops = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32)
    position = unit * (len(stops) - 1)
    low = np.floor(position).astype(int).clip(0, len(stops) - 2)
    frac = (position - low)[..., None]
    colours = stops[low] * (1 - frac) + stops[low + 1] * frac  # (h, w, 3)
    return enlarge(colours.round().astype(np.uint8), factor)
