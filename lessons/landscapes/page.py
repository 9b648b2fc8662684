"""Loss landscapes: honest slices of a function of thousands of weights.

Thin page: the view picker (URL-bound), one fragment per view (views.py), the scaffold. The first
render draws results shipped in the repository (store.py) and imports no torch; a view calls
page.go_live() (helpers.shipped_or) before its first live computation.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lessons import ui
from lessons.landscapes import content
from lessons.landscapes.settings import DEFAULTS, SAMPLES, SLUG, VIEWS


def render() -> None:
    page = ui.LessonPage(SLUG, "Loss landscapes", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["During training", "After training"])
    view_col, samples_col = st.columns([3, 1], vertical_alignment="bottom")
    with view_col:
        view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    with samples_col:  # here, not in each view: see samples_control
        samples_control(page, view)
    result: dict = {"view": view}
    page.view_fragment(view, draw_view, result)
    page.try_this(content.EXPERIMENTS, result)
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"), content.DIY_CAPTION)
    page.reading(content.READING)


def samples_control(page: ui.LessonPage, view: str) -> None:
    """"Evaluation digits", one control for every view, drawn outside the views. Drawn inside each view, the
    slider of the view left behind was removed only when the run ended, after the new view's slider had
    mounted: the browser then dropped the new slider's URL binding (both have the same element id, the
    key), and the control stopped writing to the address bar (seen in Chromium, Streamlit 1.67)."""
    page.control(st.select_slider, "samples", "Evaluation digits", SAMPLES, disabled=view == "Toy surfaces",
                 help="The loss at every point is the mean cross-entropy on this many of the 4,000 training digits "
                      "(the same digits at every point). The toy surfaces use none.")


def draw_view(page: ui.LessonPage, result: dict) -> list[str]:
    from lessons.landscapes.views import VIEW_FUNCTIONS  # the views import torch-free helpers only; loaded on first use

    return VIEW_FUNCTIONS[result["view"]](page, result)
