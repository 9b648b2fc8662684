"""A share link whose values no longer exist, on every lesson (issue 18's share-link rows): every
URL-bound control gets a value no widget offers (a number far out of range, a word that is no option,
"maybe" for a switch), plus parameters the page does not know. The page draws, every control it draws
falls back to its default (a text box may keep the word: any text is valid there), the view says so
in a warning, and nothing raises. The controls are discovered from each page's LessonPage, so a new
control or lesson is covered without editing this file."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lessons.registry import LESSONS

WORD = "zzz-no-such-option"

# Runs the lesson with LessonPage's constructor recording its defaults into the session state.
SCRIPT = """
import streamlit as st
from lessons import ui
from lessons.registry import get

original_init, original_control = ui.LessonPage.__init__, ui.LessonPage.control

def record(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    st.session_state["_test_defaults"] = dict(self.defaults)

def record_label(self, widget, name, *args, **kwargs):  # the label of each URL-bound control drawn
    value = original_control(self, widget, name, *args, **kwargs)
    if name in self.defaults:
        st.session_state.setdefault("_test_labels", {{}})[name] = args[0] if args else kwargs.get("label", name)
    return value

ui.LessonPage.__init__, ui.LessonPage.control = record, record_label
try:
    get({slug!r}).render()
finally:
    ui.LessonPage.__init__, ui.LessonPage.control = original_init, original_control
"""


def garbage(default) -> str:
    if isinstance(default, bool):
        return "maybe"
    if isinstance(default, (int, float)):
        return "1e99"
    return WORD


def lesson_defaults(slug: str) -> dict:
    at = AppTest.from_string(SCRIPT.format(slug=slug), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return dict(at.session_state["_test_defaults"])


@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS])
def test_a_link_with_values_that_no_longer_exist_falls_back_to_the_defaults(slug):
    defaults = lesson_defaults(slug)
    assert defaults, "a lesson without URL-bound controls"
    at = AppTest.from_string(SCRIPT.format(slug=slug), default_timeout=180)
    for name, default in defaults.items():
        at.query_params[f"{slug}.{name}"] = garbage(default)
    at.query_params["unknown"] = "1"
    at.query_params[f"{slug}.no_such_control"] = "1"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "Could not" in e.value]  # no view failed to draw
    labels = at.session_state["_test_labels"]  # name -> label of every URL-bound control drawn
    assert labels, "no control was drawn"
    warnings = [w.value for w in at.warning]
    for name, label in labels.items():
        value = at.session_state[f"{slug}.{name}"]
        if isinstance(defaults[name], str) and value == WORD:
            continue  # a text box: any text is valid there
        assert value == defaults[name], (name, value, defaults[name])
        # each refused value is named in its own control's warning
        said = [w for w in warnings if w.startswith(f"This link asked for {label} “")]
        assert len(said) == 1 and "which the page no longer offers" in said[0], (name, label, warnings)
