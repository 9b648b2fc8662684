"""Lesson page: deep feature factorization. Thin: the view picker (URL-bound), one fragment per view
(views.py), the scaffold. The first render draws the result shipped in the repository (store.py) and
imports no torch; a view calls page.go_live() before its first live computation. The text is in
content.py, what the views share in helpers.py.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lessons import ui
from lessons.factorization import content
from lessons.factorization.settings import DEFAULTS, SLUG, VIEWS

FULL_RUN = f"{SLUG}._full_run"


@st.fragment
def view_fragment(page: ui.LessonPage, view: str, result: dict) -> None:
    """The view and its "What you see": a control of the view reruns only this part of the page."""
    from lessons.factorization.views import VIEW_FUNCTIONS

    result.pop("failed", None)
    sentences: list[str] = []
    failed = True
    with ui.shown_failure(f"draw the {view} view"):
        sentences = VIEW_FUNCTIONS[view](page, result)
        failed = False
    if failed:
        result["failed"] = True
    page.what_you_see(sentences or ["Nothing to show: this view's computation failed (the message above says why)."])
    whole_page = st.session_state.pop(FULL_RUN, False)
    if not whole_page and st.session_state.get(f"{SLUG}._experiment"):
        st.rerun(scope="app")  # an experiment card below checks this result: redraw it too


def render() -> None:
    page = ui.LessonPage(SLUG, "Deep feature factorization", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["After training", "At inference"])
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    result: dict = {"view": view}
    st.session_state[FULL_RUN] = True
    view_fragment(page, view, result)
    page.try_this(content.EXPERIMENTS, result)
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"),
                        "Deep feature factorization of the cat photo with pytorch-grad-cam: five concepts of the head "
                        "layer, each labelled by the classifier head, and the overlay saved as `dff_cat.png`.")
    page.reading(content.READING)
