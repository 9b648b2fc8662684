"""Embeddings: project hidden representations with PCA, t-SNE and UMAP, read neighbours, and see
beside every picture how much of the original neighbourhoods it kept.

Thin page: the view picker (URL-bound), one fragment per view (views.py), the scaffold. The first
render draws results shipped in the repository (store.py) and imports neither torch nor umap; a view
calls page.go_live() (helpers.computed) before its first live computation.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lessons import ui
from lessons.embeddings import content
from lessons.embeddings.settings import DEFAULTS, SLUG, VIEWS

FULL_RUN = f"{SLUG}._full_run"


@st.fragment
def view_fragment(page: ui.LessonPage, view: str, result: dict) -> None:
    """The view and its "What you see": a control of the view reruns only this part of the page."""
    from lessons.embeddings.views import VIEW_FUNCTIONS

    sentences: list[str] = []
    with ui.shown_failure(f"draw the {view.lower()} view"):
        sentences = VIEW_FUNCTIONS[view](page, result)
    page.what_you_see(sentences or ["Nothing to describe: the view could not be drawn."])
    whole_page = st.session_state.pop(FULL_RUN, False)
    if not whole_page and st.session_state.get(f"{SLUG}._experiment"):
        st.rerun(scope="app")  # an experiment card below checks this result: redraw it too


def render() -> None:
    page = ui.LessonPage(SLUG, "Embeddings", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["After training", "At inference"])
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    result: dict = {"view": view}
    st.session_state[FULL_RUN] = True
    view_fragment(page, view, result)
    page.try_this(content.EXPERIMENTS, result)
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"),
                        "scikit-learn's 8 x 8 digits projected with PCA, t-SNE and UMAP, each with its trustworthiness "
                        "and k-NN accuracy, drawn side by side with matplotlib.")
    page.reading(content.READING)
