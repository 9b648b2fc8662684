"""Lesson page: activation heatmaps. Thin: widgets -> cached compute (lessons.activations.compute and its
sibling modules) -> charts. This module holds the scaffold (render, experiments, quiz, reading) and the
helpers every view shares; the views and their cached wrappers are in views.py (the maps: heatmap,
TorchCam, method grid) and views_checks.py (layer statistics, the shortcut, sanity check, faithfulness)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
import torch

from lessons import ui
from lessons.activations import charts, compute, inputs
from models import zoo

SLUG = "activations"
PHOTO_MODEL, DIGIT_MODEL = "efficientnet_lite0", "digits_cnn"
MODELS = {PHOTO_MODEL: "EfficientNet-Lite0", DIGIT_MODEL: "Digits CNN"}
VIEWS = ("Heatmap", "TorchCam", "Method grid", "Layer statistics", "Find the mistake", "Sanity check", "Faithfulness")
UPLOAD = "upload your own"
COLORMAPS = ("jet", "turbo", "viridis", "inferno", "magma")
CHANNEL_CHOICES = ("32", "64", "128", "256", "all")
TOP_K = tuple(f"top {k}" for k in range(1, 6))
SLOW_SECONDS = {"ScoreCAM": "2-6 s", "AblationCAM": "3-8 s", "FullGrad": "about 1 s"}
SHORTCUT_LAYER = "block 1 (16 ch, 28 px)"

DEFAULTS = {
    "view": "Heatmap", "model": PHOTO_MODEL, "image": "cat", "framing": "centre crop", "digit": 0,
    "method": "GradCAM", "layer": "head conv (1280 ch, 7 px)", "target": "top 1", "opacity": 0.5,
    "colormap": "jet", "aug_smooth": False, "eigen_smooth": False, "channels": "64",
    "tc_samples": 4, "tc_std": 0.3,
    "grid_methods": ["GradCAM", "GradCAM++", "LayerCAM", "EigenCAM"],
    "grid_layers": ["stage 5 (112 ch, 14 px)", "stage 7 (320 ch, 7 px)", "head conv (1280 ch, 7 px)"],
    "statistic": "mean", "threshold": 0.05, "channel": 0,
    "sc_digit": 0, "sc_markers": "class marker", "sc_method": "HiResCAM", "sc_layer": SHORTCUT_LAYER,
    "sanity_methods": ["GradCAM", "GradCAM++", "EigenCAM"], "faith_methods": ["GradCAM", "HiResCAM", "EigenCAM", "LayerCAM"],
    "faith_metric": "keep the map", "seed": 0,
}

WHY = """A classifier says *tabby cat*: but what in the picture made it say so? **Class activation maps**
weight the feature maps of one layer by how much they matter for a class and paint the sum over the
image. They are how you check, **after training and at inference**, that a model looks at the object
and not at a watermark, a ruler or a hospital's tag. The catch: different methods and layers give
different maps, and some maps do not depend on the model at all. This page lets you compare them,
test them, and catch a model that is right for the wrong reason."""

OBJECTIVES = [
    "Compute a class activation map and read it: which pixels drive which class, at which layer.",
    "Compare methods (gradient-based, gradient-free, class-agnostic) and layers on the same image.",
    "Expose a shortcut: a model that reads a marker instead of the digit.",
    "Test whether a map explains the model at all (cascading randomization) and score its faithfulness.",
]


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
    with zoo.borrow(model_name) as model, torch.no_grad():
        probs = model(torch.from_numpy(_x)).softmax(-1)[0]  # (classes,)
    return compute.top_from_probabilities(probs, zoo.info(model_name).labels, 5), probs.numpy()


def _progress_bar(label: str):
    """A bar drawn inside a cached function (so a cache hit replays it and its removal)."""
    bar = st.progress(0.0, text=label)
    return bar, lambda fraction, text: bar.progress(min(1.0, fraction), text=f"{label}: {text}")


# --------------------------------------------------------------------------- controls


def _ensure_option(page: ui.LessonPage, name: str, options, fallback) -> None:
    """A value from another model (or a stale link) that is not an option here falls back."""
    value = page.value(name)
    valid = all(v in options for v in value) if isinstance(value, list) else value in options
    if not valid:
        page.set_values({name: fallback})


def _control(page: ui.LessonPage, widget, name: str, *args, **kwargs):
    """A control that keeps its value while another view is shown."""
    return page.control(widget, name, *args, persist_state="page", **kwargs)


def class_options(labels) -> list[str]:
    return list(TOP_K) + [f"{i}: {label}" if len(labels) > 10 else f"digit {label}" for i, label in enumerate(labels)]


def choose_input(page: ui.LessonPage, model_name: str):
    """Draw the input controls; return (source key, framing, x, rgb) or None (with a message shown)."""
    from data import list_images

    if model_name == DIGIT_MODEL:
        digit = _control(page, st.slider, "digit", "Held-out digit (index)", 0, 999)
        x, rgb = load_input(f"digit:{digit}", "none")
        return f"digit:{digit}", "none", x, rgb
    left, right = st.columns(2)
    with left:
        image = _control(page, st.selectbox, "image", "Photo", list_images() + [UPLOAD])
    with right:
        framing = _control(page, st.radio, "framing", "Framing", inputs.FRAMINGS, horizontal=True,
                           help="Centre crop is how the model was evaluated on ImageNet; whole image pads the "
                                "photo with grey so nothing is cut off.")
    if image != UPLOAD:
        x, rgb = load_input(f"photo:{image}", framing)
        return f"photo:{image}", framing, x, rgb
    uploaded = st.file_uploader("A JPEG, PNG or WebP photo (at most 10 MB)", type=["jpg", "jpeg", "png", "webp"],
                                key=f"{SLUG}._upload", max_upload_size=10)
    if uploaded is None:
        st.info("Upload a photo to see its heatmaps (it stays in your session and is not stored).")
        return None
    data = uploaded.getvalue()
    try:
        x, rgb = load_input(f"upload:{inputs.bytes_key(data)}", framing, data)
    except inputs.UploadError as error:
        st.error(f"This upload cannot be used: {error}")
        return None
    return f"upload:{inputs.bytes_key(data)}", framing, x, rgb


def resolve_class(target: str, top) -> int:
    if target in TOP_K:
        return int(top["class_index"].iloc[TOP_K.index(target)])
    return (int(target.split(":")[0]) if ":" in target else int(target.split()[-1]))


def class_name(model_name: str, index: int) -> str:
    return zoo.info(model_name).labels[index]


def show_image(image: np.ndarray, caption: str) -> None:
    """The image as wide as its column: a fixed pixel width spills over a narrow column (small
    screens, presenter mode's larger charts beside it). Layouts size pictures through their columns."""
    st.image(charts.enlarge(image) if image.shape[0] < 100 else image, caption=caption, width="stretch")


# --------------------------------------------------------------------------- the page


def render() -> None:
    # the views import this module's shared helpers, so they are imported here, not at the top
    from lessons.activations.views import grid_view, heatmap_view, torchcam_view_section
    from lessons.activations.views_checks import faithfulness_view, sanity_view, shortcut_view, statistics_view

    page = ui.LessonPage(SLUG, "Activation heatmaps", DEFAULTS)
    page.header(WHY, OBJECTIVES, phases=["After training", "At inference"])
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    result: dict = {"view": view}
    st.session_state[FULL_RUN] = True  # read by the fragment: this run draws the whole page
    if view == "Find the mistake":
        view_fragment(page, shortcut_view, (), result)
    else:
        top_row = st.columns([1.1, 2.6, 1.6])
        with top_row[0]:
            model_name = page.control(st.selectbox, "model", "Model", list(MODELS), format_func=MODELS.get,
                                      help="EfficientNet-Lite0 classifies photos into 1,000 ImageNet classes; the "
                                           "digits CNN classifies 28 x 28 handwritten digits.")
        info = zoo.info(model_name)
        layers = info.target_layers
        _ensure_option(page, "layer", layers, list(layers)[-1])
        _ensure_option(page, "grid_layers", layers, list(layers)[-3:])
        with top_row[1]:
            inp = choose_input(page, model_name)
        if inp is None:
            st.session_state.pop(FULL_RUN, None)
            finish(page, None)
            return
        options = class_options(info.labels)
        _ensure_option(page, "target", options, "top 1")
        with top_row[2]:
            top, _ = predictions(model_name, inp[0], inp[1], inp[2])
            target = page.control(st.selectbox, "target", "Class to explain", options,
                                  format_func=lambda o: _format_target(o, top))
        section = {"Heatmap": heatmap_view, "TorchCam": torchcam_view_section, "Method grid": grid_view,
                   "Layer statistics": statistics_view, "Sanity check": sanity_view,
                   "Faithfulness": faithfulness_view}[view]
        view_fragment(page, section, (model_name, inp, layers, target), result)
    finish(page, result)


FULL_RUN = f"{SLUG}._full_run"


@st.fragment
def view_fragment(page: ui.LessonPage, section, args: tuple, result: dict) -> None:
    """The view and its "What you see": a control of the view reruns only this part of the page
    (the header, the try-this cards, the quiz and the code are not sent again)."""
    section(page, *args, result)
    page.what_you_see(result.get("sentences", []))
    whole_page = st.session_state.pop(FULL_RUN, False)
    if not whole_page and st.session_state.get(f"{SLUG}._experiment"):
        st.rerun(scope="app")  # an experiment card below checks this result: redraw it too


def _format_target(option: str, top) -> str:
    if option in TOP_K:
        row = top.iloc[TOP_K.index(option)]
        return f"{option}: {row['label']} ({row['probability']:.0%})"
    return option


def finish(page: ui.LessonPage, result: dict | None) -> None:
    if result is None:  # otherwise the view's fragment has shown "What you see"
        page.what_you_see(["Nothing to show until a photo is chosen."])
    page.try_this(EXPERIMENTS, result)
    page.quiz(QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"),
                        "Grad-CAM on the cat photo with pytorch-grad-cam, in a dozen lines. It prints the top class "
                        "and saves the overlay as `gradcam_cat.png`.")
    page.reading(READING)


def _check(key: str, test, message) -> callable:
    def check(result):
        if not result or result.get(key) is None:
            return False, "Run the experiment's view first."
        return bool(test(result[key])), message(result[key])
    return check


EXPERIMENTS = [
    ui.Experiment(
        "shortcut", "Right for the wrong reason",
        {"view": "Find the mistake", "sc_markers": "class marker", "sc_method": "HiResCAM", "sc_layer": SHORTCUT_LAYER},
        "The shortcut CNN scores 100% on digits that carry their class marker. Where will its HiResCAM map put "
        "most of its mass?", ("on the digit's strokes", "on the small marker square"), 1,
        _check("shortcut_marker_share", lambda s: s > 0.4,
               lambda s: f"{s:.0%} of the shortcut model's map lies on the marker box, which covers 3% of the image.")),
    ui.Experiment(
        "gradcam_hides", "Grad-CAM can hide the shortcut",
        {"view": "Find the mistake", "sc_markers": "class marker", "sc_method": "GradCAM", "sc_layer": SHORTCUT_LAYER},
        "Same model, same digit, but Grad-CAM instead of HiResCAM. Will the marker still take most of the map?",
        ("yes, the marker still dominates", "no, the map spreads over the digit"), 1,
        _check("shortcut_marker_share", lambda s: s < 0.3,
               lambda s: f"Grad-CAM puts {s:.0%} of the shortcut model's map on the marker.")),
    ui.Experiment(
        "sanity", "Which map ignores the classifier?",
        {"view": "Sanity check", "model": PHOTO_MODEL, "layer": "head conv (1280 ch, 7 px)",
         "sanity_methods": ["GradCAM", "EigenCAM"]},
        "Randomize only the final classifier layer. Which method's map stays the same?",
        ("Grad-CAM", "EigenCAM", "both change"), 1,
        _check("first", lambda f: f.get("EigenCAM", 0) > 0.95 and f.get("GradCAM", 1) < 0.8,
               lambda f: "rank correlation after randomizing the classifier: "
                         + ", ".join(f"{m} {v:.2f}" for m, v in f.items()) + ".")),
    ui.Experiment(
        "faithful", "Does Grad-CAM beat a random map?",
        {"view": "Faithfulness", "model": PHOTO_MODEL, "image": "coffee", "framing": "centre crop", "target": "top 1",
         "faith_metric": "ROAD", "layer": "head conv (1280 ch, 7 px)", "faith_methods": ["GradCAM", "EigenCAM"]},
        "ROAD removes the pixels a map calls most relevant (and, separately, least relevant) from the coffee photo "
        "and measures the drop in probability. Does Grad-CAM score higher than a random map?",
        ("yes, clearly", "no, about the same as random"), 0,
        _check("scores", lambda s: s["GradCAM"] > s["random map (baseline)"],
               lambda s: f"Grad-CAM {s['GradCAM']:+.3f} vs random {s['random map (baseline)']:+.3f}.")),
]

QUIZ = [
    ui.QuizQuestion(
        "How does Grad-CAM weight each feature map of the target layer?",
        ("By the map's largest activation", "By the spatial average of the class score's gradient over that map",
         "By the first principal component of all the maps"), 1,
        "Grad-CAM (Selvaraju et al. 2017) averages the gradient over the map's positions; HiResCAM multiplies "
        "gradient and activation position by position instead; EigenCAM uses the principal component and no class."),
    ui.QuizQuestion(
        "You randomize a model's top layers and a method's heatmap barely changes. What does that tell you?",
        ("The method is robust: a good sign", "The map does not depend on what the model learned for the class, so "
         "it cannot explain the model's decision", "The model was undertrained"), 1,
        "That is the sanity check of Adebayo et al. (2018): an explanation must change when the model it explains "
        "is destroyed. A map that survives shows properties of the image (edges, the object outline)."),
    ui.QuizQuestion(
        "A chest X-ray model is 95% accurate at one hospital and 70% at another. Its heatmaps light up a corner "
        "where the first hospital prints a metal token. What is the best next step?",
        ("Ship it: 95% is good", "Test it on images with the token removed or moved, and retrain without the "
         "shortcut", "Use a different heatmap method until the corner disappears"), 1,
        "Like the shortcut CNN here, the model may read the token rather than the lungs (Zech et al. 2018). "
        "Changing the explanation method does not change the model: test the hypothesis on controlled inputs."),
]

READING = [
    ui.Reading("Grad-CAM: Visual explanations from deep networks via gradient-based localization",
               "https://arxiv.org/abs/1610.02391", "Selvaraju et al., ICCV 2017"),
    ui.Reading("Sanity checks for saliency maps", "https://arxiv.org/abs/1810.03292",
               "Adebayo et al., NeurIPS 2018: cascading randomization"),
    ui.Reading("Shortcut learning in deep neural networks", "https://arxiv.org/abs/2004.07780",
               "Geirhos et al., Nature Machine Intelligence 2020"),
    ui.Reading("Variable generalization performance of a deep learning model to detect pneumonia in chest "
               "radiographs", "https://doi.org/10.1371/journal.pmed.1002683",
               "Zech et al., PLOS Medicine 2018: a model that learned the hospital"),
    ui.Reading("Use HiResCAM instead of Grad-CAM for faithful explanations", "https://arxiv.org/abs/2011.08891",
               "Draelos & Carin 2020"),
    ui.Reading("A consistent and efficient evaluation strategy for attribution methods (ROAD)",
               "https://arxiv.org/abs/2202.00449", "Rong et al., ICML 2022"),
    ui.Reading("pytorch-grad-cam", "https://github.com/jacobgil/pytorch-grad-cam",
               "the methods and metrics used on this page, with a tutorial book"),
    ui.Reading("TorchCam", "https://github.com/frgfm/torch-cam", "SmoothGradCAM++ and overlay_mask"),
]
