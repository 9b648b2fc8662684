"""Warm each lesson's heavy imports and models in the background, on demand, once per process.

Each lesson declares its warm-up in lessons/registry.py (`Lesson.warm`, steps in order). Opening a
lesson starts its warm-up in a background thread (`start(slug)`); the lesson's page waits only for
its own steps (`wait(slug)`), never for another lesson's, and the home page waits for nothing. A
lesson nobody opened is never warmed, so a server holds only what its students used.

A step is one of
- ``"torch"``: import a module;
- ``"model:efficientnet_lite0"``: load a shared model through models.zoo;
- ``"lessons.architecture.graphs:warm_up"``: call a function (a lesson's one-off costs, such as the
  first torchview trace).

Each step runs at most once per process, under a lock of its own. Two threads that need the same
step for the first time (two students, or a page and a warm-up thread) run it once: the second
waits for the first. Different steps run in parallel. So no thread imports a package while another
is half-way through the same first import (two first imports of torch._dynamo or sympy in parallel
saw half-initialised modules), without the single global barrier that once made every page wait
for every lesson's libraries. A lesson lists the shared base packages (torch, pandas...) before the
packages that import them, so those are taken under their own lock first.
"""
from __future__ import annotations

import gc
import importlib
import logging
import threading

_log = logging.getLogger(__name__)

# Process-wide, never per student: they record only which one-off steps this process has done.
_guard = threading.Lock()
_step_locks: dict[str, threading.Lock] = {}
_done_steps: set[str] = set()
_failed_steps: dict[str, str] = {}
_lesson_threads: dict[str, threading.Thread] = {}


def _lock_for(step: str) -> threading.Lock:
    with _guard:
        return _step_locks.setdefault(step, threading.Lock())


def _execute(step: str) -> None:
    if step.startswith("model:"):
        importlib.import_module("models.zoo").load(step.removeprefix("model:"))
    elif ":" in step:
        module, function = step.split(":", 1)
        getattr(importlib.import_module(module), function)()
    else:
        importlib.import_module(step)


def run_step(step: str) -> bool:
    """Do `step` unless this process already did it; wait if another thread is doing it now.

    Returns whether the step succeeded. A failure is logged once and not retried: the page's own
    code then meets the same error and shows it in its section.
    """
    if step in _done_steps:
        return True
    with _lock_for(step):
        if step in _done_steps:
            return True
        if step in _failed_steps:
            return False
        try:
            _execute(step)
        except Exception as error:  # a missing optional library must not stop the server
            _failed_steps[step] = f"{type(error).__name__}: {error}"
            _log.warning("warm-up step %s failed", step, exc_info=True)
            return False
        _done_steps.add(step)
        return True


def steps_of(slug: str) -> tuple[str, ...]:
    from lessons import registry

    return registry.get(slug).warm


def is_ready(slug: str) -> bool:
    """Whether every step of the lesson is done (never blocks)."""
    return all(step in _done_steps or step in _failed_steps for step in steps_of(slug))


def wait(slug: str, up_to: str | None = None) -> None:
    """Block until the lesson's own steps are done, doing any that nobody has started yet; with
    `up_to`, only the steps before it and that step itself (a computation that needs less than the
    whole warm-up, such as PCA before UMAP's compilation)."""
    steps = steps_of(slug)
    if up_to is not None:
        if up_to not in steps:
            raise ValueError(f"{up_to!r} is not a warm-up step of {slug!r}")
        steps = steps[: steps.index(up_to) + 1]
    for step in steps:
        run_step(step)


def _warm_lesson(slug: str) -> None:
    wait(slug)
    # Streamlit runs a full garbage collection after every script run; with torch, the models and
    # the chart libraries in memory that took ~200 ms of each interaction (measured). What the
    # warm-up loaded lives for the whole process, so move it out of the collector's way.
    gc.freeze()


def start(slug: str) -> None:
    """Begin warming the lesson in a background thread, unless this process already began."""
    if not steps_of(slug):
        return
    with _guard:
        if slug in _lesson_threads:
            return
        thread = threading.Thread(target=_warm_lesson, args=(slug,), name=f"warmup-{slug}", daemon=True)
        _lesson_threads[slug] = thread
    thread.start()


def failures() -> dict[str, str]:
    """Steps that failed in this process, with their error (for the server's health checks and tests)."""
    return dict(_failed_steps)
