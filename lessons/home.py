"""The home page: the course map by phase of a model's life, and a "which visualization do I need?" guide.

Imports no torch: it must render fast on a cold server while the models warm up in the background.
"""
from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from lessons import course_path, registry


def _lesson_link(lesson: registry.Lesson, pages: Mapping[str, st.Page], note: str = "",
                 progress: bool = False) -> None:
    """The lesson's title (a link once the lesson is ready) and, under it, what the student will see
    and (progress=True) what this browser session did there. The summary is not part of the link: a
    page link is one line and cuts a long label off."""
    with st.container(gap=None):
        if lesson.slug in pages:
            st.page_link(pages[lesson.slug], label=f"**{lesson.title}**{note}", icon=lesson.icon)
        else:
            st.markdown(f"{lesson.title} *(in preparation)*{note}")
        status = course_path.status_note(lesson.slug) if progress else ""
        st.caption(lesson.summary + (f" **Your progress: {status}.**" if status else ""))


def render(pages: Mapping[str, st.Page]) -> None:
    st.title("Look inside deep learning models")
    st.markdown(
        "Nine lessons on the pictures people use to understand neural networks: what each one shows, "
        "when in a model's life it helps, and how it can mislead. Every lesson runs a real, small model "
        "on this server's CPU, so when you move a control, the picture is recomputed, not replayed."
    )
    map_col, guide_col = st.columns([3, 2], gap="large")
    with map_col:
        st.subheader("Course map")
        for phase, phase_title in registry.PHASES.items():
            lessons = [lesson for lesson in registry.COURSE if phase in lesson.phases]
            st.markdown(f"**{phase_title}**")
            for lesson in lessons:
                _lesson_link(lesson, pages, progress=True)
        order = " → ".join(registry.get(slug).title for slug in registry.RECOMMENDED_ORDER)
        st.caption(f"Studying alone? Take them in this order: {order}. Each lesson ends with a link to the next.")
        st.info(course_path.summary(), icon=":material/checklist:")
    with guide_col:
        st.subheader("Which visualization do I need?")
        goal = st.radio("My goal", list(registry.GOALS), format_func=registry.GOALS.get, key="home.goal",
                        bind="query-params")
        kind = st.radio("My model", list(registry.MODEL_KINDS), format_func=registry.MODEL_KINDS.get,
                        key="home.kind", bind="query-params", horizontal=True)
        picks = registry.recommend(goal, kind)
        if not picks:
            st.info("No lesson targets that combination directly; the architecture lesson covers every kind of model.")
            picks = [registry.get("architecture")]
        st.markdown("Open these, in this order:")
        for i, lesson in enumerate(picks, start=1):
            _lesson_link(lesson, pages, note="" if i > 1 else " *(start here)*")
