"""Training in a background thread, so the student can switch views while a run trains.

The page starts a job with the runs to train (one, or two trained side by side on the same
batches) and redraws from the runs, which the thread fills in place, at most 4 times a second.
The thread, not the button's callback, waits for the lesson's warm-up on a fresh server: Streamlit
aborts a callback at its next session-state access when the student clicks anything meanwhile, so a
callback that waited lost the run it was about to store (a view clicked right after Train). The
runs belong to one student's session (st.session_state holds them); the thread holds no global
state and ends when its runs end (finished, diverged, or stopped with ``run.stop_requested``).

No Streamlit here: the thread never draws.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from lessons.gradients import compute

_log = logging.getLogger(__name__)


Data = compute.DigitsData | Callable[[], compute.DigitsData]


def _train(runs: Sequence[compute.Run], data: Data) -> None:
    try:
        if callable(data):
            data = data()  # the page's loader: waits for the lesson's warm-up, then the shared digits
        for _ in compute.train_together(runs, data):
            pass
    except Exception:  # noqa: BLE001 - shown on the page as the run's failure, never a crash of the thread
        _log.exception("gradient run failed")
        for run in runs:
            if run.live:
                run.status = "failed"


def start(runs: Sequence[compute.Run], data: Data) -> threading.Thread:
    """Train `runs` in a daemon thread; returns the thread (tests join it). `data`: the digits, or a
    function the thread calls first to get them (it may wait for the warm-up there)."""
    thread = threading.Thread(target=_train, args=(list(runs), data), name="gradients-train", daemon=True)
    thread.start()
    return thread


def stop(runs: Sequence[compute.Run]) -> None:
    """Ask every live run to stop after its current step."""
    for run in runs:
        if run.live:
            run.stop_requested = True
