"""Widget callbacks that run to their end, whatever the student clicks meanwhile.

Streamlit checks for a waiting rerun at every session-state access (``SafeSessionState`` calls its
yield check in ``__getitem__``, ``__setitem__``, ``__contains__``...), also inside a callback. A
click that arrives while a callback runs therefore stops the callback at its next
``st.session_state`` access, and its remaining work is lost: Streamlit catches the
``RerunException`` as if the callback had asked for a rerun (tests/unit/test_callbacks.py shows it
on Streamlit's own SafeSessionState). The gradients CI flake (Train, then a view click, on a fresh
server) was a different loss: there the callback was never called, though the button's value was
True in the script body; the gradients page now starts such a run from the body (TRAIN_HANDLED).

``runs_whole`` turns the yield check off for the callback's duration, and marks the thread as
inside a callback (``in_callback``: ``LessonPage.set_values`` cleans the share link only there, so
a callback that calls set_values must be decorated). The waiting rerun is not lost: Streamlit handles it at its first check after the callbacks (``ScriptRunner._run_script``
checks right after ``on_script_will_rerun``). ``st.rerun()`` inside the callback still works: it
raises directly, not through the yield check.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, Iterator, TypeVar

Callback = TypeVar("Callback", bound=Callable[..., Any])

_YIELD_CHECK = "_yield_callback"  # SafeSessionState's attribute (Streamlit 1.67); a test pins it
_depth = threading.local()  # per script thread: how many runs_whole callbacks are running


def _no_yield_check() -> None:
    return None


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Session-state accesses inside this block never stop it for a waiting rerun."""
    from streamlit.runtime.scriptrunner_utils import script_run_context

    ctx = script_run_context.get_script_run_ctx(suppress_warning=True)
    state = getattr(ctx, "session_state", None)
    if state is None or not hasattr(state, _YIELD_CHECK):  # bare mode (tests calling it directly)
        yield
        return
    saved = getattr(state, _YIELD_CHECK)
    object.__setattr__(state, _YIELD_CHECK, _no_yield_check)  # SafeSessionState forwards setattr
    try:
        yield
    finally:
        object.__setattr__(state, _YIELD_CHECK, saved)


def runs_whole(callback: Callback) -> Callback:
    """Decorator for a widget callback that must not stop halfway (it stores several keys)."""
    @functools.wraps(callback)
    def whole(*args: Any, **kwargs: Any) -> Any:
        _depth.value = in_callback() + 1
        try:
            with uninterrupted():
                return callback(*args, **kwargs)
        finally:
            _depth.value -= 1
    return whole  # type: ignore[return-value]


def in_callback() -> int:
    """How many `runs_whole` callbacks this thread is inside (0: the script body)."""
    return getattr(_depth, "value", 0)
