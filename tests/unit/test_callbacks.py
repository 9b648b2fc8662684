"""A click during a widget callback no longer stops it halfway (lessons/callbacks.py).

The session state here is Streamlit's own SafeSessionState, with the yield check a script runner
installs: it raises RerunException at the next access once a click waits, as ScriptRunner does.
"""
from types import SimpleNamespace

import pytest
import streamlit as st
from streamlit.runtime.scriptrunner import RerunData, RerunException
from streamlit.runtime.scriptrunner_utils import script_run_context
from streamlit.runtime.state.safe_session_state import SafeSessionState
from streamlit.runtime.state.session_state import SessionState

from lessons.callbacks import in_callback, runs_whole


@pytest.fixture
def session(monkeypatch):
    """(state, click): Streamlit's session state of one script run, and a click that arrives now."""
    waiting = []

    def yield_check():  # ScriptRunner._maybe_handle_execution_control_request, reduced to a click
        if waiting:
            waiting.clear()
            raise RerunException(RerunData())

    state = SafeSessionState(SessionState(), yield_check)
    ctx = SimpleNamespace(session_state=state)
    monkeypatch.setattr(script_run_context, "get_script_run_ctx", lambda suppress_warning=False: ctx)
    return state, lambda: waiting.append("a view clicked")


def _store_a_run(click):
    st.session_state["runs"] = ["run #1"]
    click()  # the student clicks a view between the two writes
    st.session_state["next_id"] = 2


def test_without_it_streamlit_stops_the_callback_at_its_next_session_state_access(session):
    state, click = session
    with pytest.raises(RerunException):
        _store_a_run(click)
    assert "runs" in state._state and "next_id" not in state._state  # the run stored, its id not


def test_a_whole_callback_finishes_and_the_click_is_handled_right_after(session):
    state, click = session
    runs_whole(_store_a_run)(click)
    assert state._state["runs"] == ["run #1"] and state._state["next_id"] == 2
    with pytest.raises(RerunException):  # the click still waits: the next access outside starts its rerun
        state["runs"]


def test_st_rerun_inside_a_whole_callback_still_ends_it(session):
    state, _ = session

    def rerun_now():
        st.session_state["a"] = 1
        raise RerunException(RerunData())  # what st.rerun() raises in a callback

    with pytest.raises(RerunException):
        runs_whole(rerun_now)()
    assert state._state["a"] == 1 and state["a"] == 1  # the yield check is restored, and no click waits


def test_in_callback_counts_only_inside_whole_callbacks(session):
    seen = []
    runs_whole(lambda: seen.append(in_callback()))()
    runs_whole(lambda: runs_whole(lambda: seen.append(in_callback()))())()
    assert seen == [1, 2] and in_callback() == 0
