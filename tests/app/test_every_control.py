"""Every control of every view of every lesson, in AppTest (issue #18, "every control, every view").

For each view: open the lesson at its defaults on that view, find every widget the page drew, and
set each one to each of its values (tests/app/walk.py), one at a time from the defaults; then, with
each toggle of the view turned over, walk the view's choices again (the smoothing options of the
activation lesson crashed only in such a pair). After every change: no exception and no section that
says "Could not ...". A failure lists every change that broke the page, with the view it was on.

Run by CI as a step of its own after the README's test command (.ci/run):
`LOOK_INSIDE_WALK=1 pytest -n 2 --dist load tests/app/test_every_control.py`. Measured on a 2-core
machine (84 GFLOP/s on one thread) on 2026-12-04: all 9 lessons pass, 497 s of test time, 4:49 with
two processes (activations 134 s, landscapes 130 s, embeddings 74 s, the other six 22-40 s each: a
change costs what the student's click costs, from 20 ms to 20 s for a live CNN loss surface). The
README's suite already takes 16:30 on that machine, so the walk is not added to it. What the walk
found is fixed and kept by an ordinary test (the TorchCam noise slider at 0).
"""
from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

from lessons import registry
from tests.app import walk

LESSONS = [lesson.slug for lesson in registry.LESSONS if lesson.ready]
PAIRED_KINDS = ("selectbox", "radio", "button_group", "select_slider")
TIMEOUT = 300
pytestmark = pytest.mark.skipif(os.environ.get("LOOK_INSIDE_WALK") != "1",
                                reason="the full control walk runs as its own CI step (LOOK_INSIDE_WALK=1, .ci/run)")


def _at(slug: str, view: str | None, setup: list[walk.Change]) -> AppTest:
    at = walk.open_lesson(slug, view, timeout=TIMEOUT)
    for change in setup:
        change.apply(at)
        at.run()
    return at


def _walk_from(slug: str, view: str | None, setup: list[walk.Change], skip: set[str],
               only: set[str] | None = None) -> list[str]:
    """Apply `setup`, then vary each widget found through its values and put it back, so each widget
    is changed while every other one is at its starting value (after a button, or when a change
    removed the widget, the page is opened again). Returns what went wrong."""
    at = _at(slug, view, setup)
    where = f"{slug} / {view}" + "".join(f" + {c}" for c in setup)
    failures = [f"{where}: {p}" for p in walk.problems(at)]
    if failures:
        return failures
    found = [w for w in walk.widgets(at) if walk.name_of(w) not in skip and (only is None or walk.name_of(w) in only)]
    plan = [(walk.changes(w), walk.restore(w)) for w in found]
    for tries, back in plan:
        if setup:  # pairs: only the choices of the view, with the toggle set
            tries = [c for c in tries if c.kind in PAIRED_KINDS]
        for change in tries:
            if at is None:
                at = _at(slug, view, setup)
            if not change.apply(at):
                continue
            at.run()
            problems = walk.problems(at)
            failures += [f"{where}, then {change}: {p}" for p in problems]
            if problems or change.kind == "button":
                at = None
        if at is not None and tries:
            if back is None or not back.apply(at):
                at = None
            else:
                at.run()
    return failures


@pytest.mark.parametrize("slug", LESSONS)
def test_every_control_of_every_view(slug):
    home = walk.open_lesson(slug, timeout=TIMEOUT)
    assert not walk.problems(home), walk.problems(home)
    views = walk.views_of(home, slug)
    names = {view: {walk.name_of(w) for w in walk.widgets(walk.open_lesson(slug, view, timeout=TIMEOUT))}
             for view in views}
    on_every_view = set.intersection(*names.values())  # the header, try-this cards, quiz: walked once
    skip = {f"{slug}.view"}
    failures = _walk_from(slug, views[0], [], skip, only=on_every_view)
    for view in views:
        failures += _walk_from(slug, view, [], skip | on_every_view)
        at = walk.open_lesson(slug, view, timeout=TIMEOUT)
        toggles = [c for w in walk.widgets(at) if walk.name_of(w) not in skip
                   and walk.kind_of(w) in ("toggle", "checkbox") for c in walk.changes(w)]
        for toggle in toggles:
            failures += _walk_from(slug, view, [toggle], skip | on_every_view | {toggle.key})
    assert not failures, "\n".join(failures)
