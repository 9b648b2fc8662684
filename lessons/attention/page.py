"""Attention: head view, model view, rollout and attention flow, and ablation on all-MiniLM-L6-v2;
[CLS] attention, rollout, flow, Grad-rollout and Grad-CAM on the tiny digits ViT; and a toy
transformer whose right attention is known.

Thin page: the view picker (URL-bound), one fragment per view (views.py), the scaffold. The first
render draws results shipped in the repository (store.py) and imports no torch; a view calls
page.go_live() (helpers.shipped_or) before its first live computation.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lessons import ui
from lessons.attention import content
from lessons.attention.settings import DEFAULTS, SLUG, VIEWS

def render() -> None:
    page = ui.LessonPage(SLUG, "Attention", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["After training", "At inference"])
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    result: dict = {"view": view}
    page.view_fragment(view, draw_view, result)
    page.try_this(content.EXPERIMENTS, result)
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"), content.DIY_CAPTION)
    page.reading(content.READING)


def draw_view(page: ui.LessonPage, result: dict) -> list[str]:
    from lessons.attention.views import VIEW_FUNCTIONS  # the views import torch-free helpers only; loaded on first use

    return VIEW_FUNCTIONS[result["view"]](page, result)
