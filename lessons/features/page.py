"""Lesson page: feature visualization. Thin: the view control, the run buttons, and which view to draw.

Imports run one way: this module -> the views (views_gallery.py: the shipped gallery; views_maps.py:
feature maps, dataset examples; views_optimize.py: the streamed optimization, the regularizer
comparison) -> what they share (helpers.py). The text is in content.py. The default view draws the
shipped gallery, so the first render imports no torch; a view that computes calls page.go_live().

The Optimize and Compare buttons are drawn here, outside the view's fragment: Stop then reruns the
whole page, which interrupts the running loop (as in lessons/training).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lessons import ui
from lessons.features import content
from lessons.features.helpers import DEFAULTS, SLUG, VIEWS

RUN_BUTTONS = {"Optimize": ("Optimize", f"{SLUG}._optimize"), "Regularizers": ("Compare", f"{SLUG}._compare")}


def _section(view: str):
    if view == "Gallery":
        from lessons.features.views_gallery import gallery_view
        return gallery_view
    if view in ("Feature maps", "Dataset examples"):
        from lessons.features import views_maps
        return views_maps.feature_maps_view if view == "Feature maps" else views_maps.dataset_examples_view
    from lessons.features import views_optimize
    return views_optimize.optimize_view if view == "Optimize" else views_optimize.regularizers_view


def run_buttons(view: str) -> None:
    label, key = RUN_BUTTONS[view]
    running = bool(st.session_state.get(key))
    go, stop, note = st.columns([1, 1, 4], vertical_alignment="center")
    go.button(label, key=key, type="primary", icon=":material/play_arrow:", width="stretch")
    stop.button("Stop", key=f"{SLUG}._stop" if running else f"{SLUG}._stop_idle", icon=":material/stop:",
                disabled=not running, width="stretch",
                help="Stop the run; the picture made so far stays." if running else "Nothing is running.")
    note.caption("One run of 128 steps at 128 px takes a few seconds; Compare runs eight. Stop, or any control "
                 "outside the view, stops a run." if view == "Optimize" else
                 "Compare optimises the objective eight times: all regularizers on, each one off in turn, all off.")


def render() -> None:
    page = ui.LessonPage(SLUG, "Feature visualization", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["After training"])
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    if view in RUN_BUTTONS:
        run_buttons(view)
    result: dict = {"view": view}
    page.view_fragment(view, _section(view), result)
    page.try_this(content.EXPERIMENTS, result)
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"), content.DIY_CAPTION)
    page.reading(content.READING)
