"""Open a registered lesson in AppTest, with share-link query params and session state set first."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest


def open_lesson(slug: str, *, query: dict | None = None, state: dict | None = None,
                session: dict | None = None, timeout: float = 120) -> AppTest:
    """Run lesson `slug` once and check it raised nothing.

    query: URL query params as a share link carries them ("<slug>.<name>" -> text);
    state: the lesson's controls by name (set as session state "<slug>.<name>");
    session: other session-state keys as they are (for example the router's "presenter").
    """
    at = AppTest.from_string(f"from lessons.registry import get; get({slug!r}).render()", default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for name, value in (state or {}).items():
        at.session_state[f"{slug}.{name}"] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
