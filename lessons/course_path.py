"""One path through the course: which lessons this browser session opened, which quiz questions it
answered, and the previous / next lesson in the recommended order (registry.RECOMMENDED_ORDER).

Progress lives in the student's own st.session_state (a dict under PROGRESS_KEY), never in a global:
it lasts as long as the browser session (a reload starts a new one) and no student sees another's.
The home page reads it (lessons/home.py); every lesson page records itself (registry.Lesson.render)
and its quiz answers (ui.LessonPage.quiz); the router draws the previous / next links under each
lesson (streamlit_app.py). No torch.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from lessons import registry

PROGRESS_KEY = "course.progress"  # {"opened": [slug, ...], "answers": {slug: {question index: right?}}}


@dataclass(frozen=True)
class LessonProgress:
    opened: bool
    answered: int  # quiz questions answered (the latest answer of each counts)
    right: int


def _progress() -> dict:
    return st.session_state.setdefault(PROGRESS_KEY, {"opened": [], "answers": {}})


def mark_opened(slug: str) -> None:
    opened = _progress()["opened"]
    if slug not in opened:
        opened.append(slug)


def record_answer(slug: str, question: int, right: bool) -> None:
    _progress()["answers"].setdefault(slug, {})[question] = right


def of(slug: str) -> LessonProgress:
    progress = _progress()
    answers = progress["answers"].get(slug, {})
    return LessonProgress(slug in progress["opened"], len(answers), sum(answers.values()))


def ordered_slugs() -> list[str]:
    """The ready lessons in the recommended order (a lesson missing from the order comes last)."""
    ready = [lesson.slug for lesson in registry.LESSONS]
    return [s for s in registry.RECOMMENDED_ORDER if s in ready] + [s for s in ready if s not in registry.RECOMMENDED_ORDER]


def neighbours(slug: str) -> tuple[str | None, str | None]:
    """The previous and the next lesson in the recommended order (None at either end)."""
    order = ordered_slugs()
    if slug not in order:
        return None, None
    i = order.index(slug)
    return (order[i - 1] if i > 0 else None), (order[i + 1] if i + 1 < len(order) else None)


def status_note(slug: str) -> str:
    """A short note for the course map: "opened", "quiz 2 of 3 right" (empty if not opened)."""
    progress = of(slug)
    if not progress.opened:
        return ""
    if not progress.answered:
        return "opened"
    return f"opened, quiz: {progress.right} of {progress.answered} answered right"


def summary() -> str:
    order = ordered_slugs()
    opened = [s for s in order if of(s).opened]
    answered = sum(of(s).answered for s in order)
    right = sum(of(s).right for s in order)
    text = f"In this browser session you have opened {len(opened)} of {len(order)} lessons"
    if answered:
        text += f" and answered {answered} quiz questions ({right} right)"
    return text + ". A reload of the page starts a new session."


def next_lesson_links(slug: str, pages: Mapping[str, st.Page]) -> None:
    """Previous and next lesson, at the end of a lesson page."""
    previous, following = neighbours(slug)
    if previous is None and following is None:
        return
    st.divider()
    left, middle, right = st.columns([2, 1, 2], vertical_alignment="center")
    if previous is not None:
        lesson = registry.get(previous)
        left.page_link(pages[previous], label=f"Previous lesson: {lesson.title}", icon=":material/arrow_back:")
    position = ordered_slugs().index(slug) + 1
    middle.caption(f"Lesson {position} of {len(ordered_slugs())}")
    if following is not None:
        lesson = registry.get(following)
        right.page_link(pages[following], label=f"Next lesson: {lesson.title}", icon=":material/arrow_forward:")
