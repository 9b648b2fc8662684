"""Lesson page: activation heatmaps. Thin: the view control, the model, input and class controls, and
which view to draw. Imports run one way: this module -> the views (views.py: heatmap, TorchCam, method
grid; views_checks.py: layer statistics, the shortcut, sanity check, faithfulness) -> what they share
(controls.py). The text (introduction, experiments, quiz, reading) is in content.py.

Each view runs inside `ui.shown_failure`: a computation that fails shows a short message in its
section, and the rest of the page (the other controls, Try this, the quiz) keeps working.

A fresh server draws the default page before torch is imported (the registry's light_first_render): at the
defaults the Heatmap view's input, top-5 and picture come from the shipped files (shipped.py, precompute.py),
the controls from torch-free modules (controls.py, models.catalogue). Any other view, input or method calls
`page.go_live()` (the lesson's warm-up) and computes live; the views that always compute live
(views_checks.py) are imported then.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lessons import ui
from lessons.activations import content, inputs, shipped
from lessons.activations.controls import (DEFAULTS, DIGIT_MODEL, MODELS, SLUG, TOP_K, UPLOAD, VIEWS, class_options,
                                          control, ensure_option, load_input, predictions)
from lessons.activations.views import grid_view, heatmap_view, shipped_controls, torchcam_view_section
from models import catalogue

INPUT_CONTROLS = ("view", "model", "image", "framing")  # at their defaults the shipped input and top-5 serve


def section(view: str):
    """The function that draws `view` (the views in views_checks.py need torch at import: loaded on first use,
    after page.go_live())."""
    if view in ("Heatmap", "TorchCam", "Method grid"):
        return {"Heatmap": heatmap_view, "TorchCam": torchcam_view_section, "Method grid": grid_view}[view]
    from lessons.activations import views_checks

    return {"Layer statistics": views_checks.statistics_view, "Find the mistake": views_checks.shortcut_view,
            "Sanity check": views_checks.sanity_view, "Faithfulness": views_checks.faithfulness_view}[view]


def choose_input(page: ui.LessonPage, model_name: str):
    """Draw the input controls; return (source key, framing, x, rgb) or None (with a message shown). At the
    lesson's default input on the Heatmap view, x and rgb are None: the view draws the shipped result, or
    loads the input itself once it computes live."""
    from data import list_images

    if model_name == DIGIT_MODEL:
        digit = control(page, st.slider, "digit", "Held-out digit (index)", 0, 999)
        page.go_live()
        x, rgb = load_input(f"digit:{digit}", "none")
        return f"digit:{digit}", "none", x, rgb
    left, right = st.columns(2)
    with left:
        image = control(page, st.selectbox, "image", "Photo", list_images() + [UPLOAD])
    with right:
        framing = control(page, st.radio, "framing", "Framing", inputs.FRAMINGS, horizontal=True,
                          help="Centre crop is how the model was evaluated on ImageNet; whole image pads the "
                               "photo with grey so nothing is cut off.")
    if image != UPLOAD and page.at_defaults(INPUT_CONTROLS) and shipped_default() is not None:
        return f"photo:{image}", framing, None, None
    if image != UPLOAD:
        page.go_live()
        x, rgb = load_input(f"photo:{image}", framing)
        return f"photo:{image}", framing, x, rgb
    uploaded = st.file_uploader("A JPEG, PNG or WebP photo (at most 10 MB)", type=["jpg", "jpeg", "png", "webp"],
                                key=f"{SLUG}._upload", max_upload_size=10)
    if uploaded is None:
        st.info("Upload a photo to see its heatmaps (it stays in your session and is not stored).")
        return None
    data = uploaded.getvalue()
    page.go_live()
    try:
        x, rgb = load_input(f"upload:{inputs.bytes_key(data)}", framing, data)
    except inputs.UploadError as error:
        st.error(f"This upload cannot be used: {error}")
        return None
    return f"upload:{inputs.bytes_key(data)}", framing, x, rgb


def shipped_default() -> dict | None:
    """The shipped Heatmap result at the lesson's defaults, or None (not shipped: everything is live)."""
    return shipped.heatmap(shipped_controls())


def _format_target(option: str, top) -> str:
    if option in TOP_K:
        row = top.iloc[TOP_K.index(option)]
        return f"{option}: {row['label']} ({row['probability']:.0%})"
    return option


def render() -> None:
    page = ui.LessonPage(SLUG, "Activation heatmaps", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["After training", "At inference"])
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    result: dict = {"view": view}
    if view != "Heatmap":  # only the Heatmap view has a shipped default
        page.go_live()
    if view == "Find the mistake":
        page.view_fragment(view, section(view), result)
    else:
        top_row = st.columns([1.1, 2.6, 1.6])
        with top_row[0]:
            model_name = page.control(st.selectbox, "model", "Model", list(MODELS), format_func=MODELS.get,
                                      help="EfficientNet-Lite0 classifies photos into 1,000 ImageNet classes; the "
                                           "digits CNN classifies 28 x 28 handwritten digits.")
        info = catalogue.info(model_name)
        layers = info.target_layers
        ensure_option(page, "layer", layers, list(layers)[-1])
        ensure_option(page, "grid_layers", layers, list(layers)[-3:])
        chosen, missing = None, "Nothing to show: this input or the model's predictions could not be computed."
        with ui.shown_failure("read this input and the model's predictions"):
            with top_row[1]:
                inp = choose_input(page, model_name)
            if inp is None:
                missing = "Nothing to show until a photo is chosen."
            else:
                options = class_options(info.labels)
                ensure_option(page, "target", options, "top 1")
                with top_row[2]:
                    top = (shipped_default()["top"] if inp[2] is None  # the shipped default input
                           else predictions(model_name, inp[0], inp[1], inp[2])[0])
                    target = page.control(st.selectbox, "target", "Class to explain", options,
                                          format_func=lambda o: _format_target(o, top))
                chosen = inp, target
        if chosen is None:
            finish(page, None, missing)
            return
        page.view_fragment(view, section(view), result, args=(model_name, chosen[0], layers, chosen[1]))
    finish(page, result)


def finish(page: ui.LessonPage, result: dict | None, missing: str = "") -> None:
    if result is None:  # otherwise the view's fragment has shown "What you see"
        page.what_you_see([missing])
    page.try_this(content.EXPERIMENTS, result)
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"), content.DIY_CAPTION)
    page.reading(content.READING)
