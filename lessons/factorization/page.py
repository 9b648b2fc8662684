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

def render() -> None:
    page = ui.LessonPage(SLUG, "Deep feature factorization", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["After training", "At inference"])
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    result: dict = {"view": view}
    page.view_fragment(view, draw_view, result)
    page.try_this(content.EXPERIMENTS, result)
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"), content.DIY_CAPTION)
    page.reading(content.READING)


def draw_view(page: ui.LessonPage, result: dict) -> list[str]:
    from lessons.factorization.views import VIEW_FUNCTIONS  # the views import torch-free helpers only; loaded on first use

    return VIEW_FUNCTIONS[result["view"]](page, result)
