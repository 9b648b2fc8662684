"""What the gradient lesson's views share: session runs, the shipped presets, the run a view shows,
drawing a (spec, data) pair, and the messages for a run that overflowed or has no data yet.

Streamlit, but no torch at import time: the first render draws the shipped runs.
"""
from __future__ import annotations

import streamlit as st

from lessons import ui, warmup
from lessons.gradients import compute, diagnosis, run_store
from lessons.gradients.precompute import PRESET_FILE

SLUG = "gradients"
RUNS_KEY = f"{SLUG}.runs"  # not "_"-prefixed: Reset puts the controls back but keeps the runs
COMPARE_KEY = f"{SLUG}.compare_runs"
NEXT_ID_KEY = f"{SLUG}.next_run_id"
POLL_KEY = f"{SLUG}._polling"
REDRAW_SECONDS = 0.25  # at most 4 redraws per second while a run trains
RUN_CONTROLS = tuple(compute.RunSpec().to_dict())
CURRENT = "current settings"


@st.cache_data(max_entries=1, show_spinner=False)
def cached_presets() -> dict[str, compute.Run]:
    return run_store.load_presets(PRESET_FILE)


def live_data() -> compute.DigitsData:
    """For a training thread: wait for this lesson's warm-up (never another lesson's), then the 4,000
    training digits shared by every session."""
    warmup.wait(SLUG)
    return compute.shared_data()


def presets() -> dict[str, compute.Run]:
    """The shipped runs by key: every preset, and the default settings with each other activation."""
    return {key: run for key, run in cached_presets().items()}


def session_runs() -> list[compute.Run]:
    return st.session_state.setdefault(RUNS_KEY, [])


def compare_runs() -> list[compute.Run]:
    return st.session_state.setdefault(COMPARE_KEY, [])


def any_live() -> bool:
    return any(r.live for r in session_runs() + compare_runs())


def current_spec(page: ui.LessonPage) -> compute.RunSpec:
    return compute.RunSpec.from_values({name: page.value(name) for name in RUN_CONTROLS})


def next_run_id() -> int:
    run_id = st.session_state.get(NEXT_ID_KEY, 1)
    st.session_state[NEXT_ID_KEY] = run_id + 1
    return run_id


def choose_displayed(spec: compute.RunSpec) -> tuple[compute.Run, str | None]:
    """The run the views show, and a note when it is not a run of the current controls."""
    runs = session_runs()
    shipped = presets()
    for run in reversed(runs):
        if run.spec == spec:
            return run, None
    key = compute.matching_preset(spec)
    if key is not None:
        return shipped[key], (f"Showing the shipped precomputed run of the {compute.PRESETS[key].title} preset: "
                              "press Train to train it yourself.")
    key = compute.matching_shipped(spec)
    if key is not None:
        return shipped[key], (f"Showing the shipped precomputed run of these settings ({spec.describe()}): "
                              "press Train to train it yourself.")
    if runs:
        return runs[-1], "Showing your latest run: the controls have changed since, press Train to run them."
    return shipped["healthy"], ("Showing the shipped precomputed run of the Healthy preset: press Train to train "
                                "with your settings.")


def fixed_axes(page: ui.LessonPage) -> bool:
    return page.value("axes") == "fixed"


def axes_note(page: ui.LessonPage) -> str:
    return "" if fixed_axes(page) else " Autoscaled axes: compare magnitudes with care (see Diagnosis)."


def run_messages(run: compute.Run) -> None:
    """The run's failure or overflow, as a clear message (never an exception)."""
    if run.status == "failed":
        st.error("This run failed (see the server log); change a control and press Train again.")
    if run.diverged is not None:
        what = "gradient norm" if run.diverged["what"] == "gradient" else "loss"
        st.error(f"At step {run.diverged['step']} the {what} overflowed to {run.diverged['value']:g} (inf or NaN), "
                 "so the run stopped there; the charts mark the step.", icon=":material/warning:")


def has_data(run: compute.Run) -> bool:
    if min(len(run.stats), len(run.steps)) == 0:
        if not run.live:
            st.info("This run recorded no step.")
        elif not warmup.is_ready(SLUG):
            st.info("Waiting for the first step: this server is still loading PyTorch (once, for everyone).")
        else:
            st.info("Waiting for the first step…")
        return False
    return True


def diagnosis_line(run: compute.Run, index: int) -> str:
    return diagnosis.diagnose(run, index)["sentence"]
