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


def texts(at: AppTest) -> str:
    """All the text a student reads on the page: markdown, notices (success, warning, info, error), captions."""
    parts = [m.value for m in at.markdown] + [s.value for s in at.success] + [w.value for w in at.warning]
    return "\n".join(parts + [i.value for i in at.info] + [e.value for e in at.error] + [c.value for c in at.caption])


def charts(at: AppTest) -> list:
    """The Altair (Vega-Lite) and Plotly charts on the page."""
    return list(at.get("vega_lite_chart")) + list(at.get("arrow_vega_lite_chart")) + list(at.get("plotly_chart"))


def first_render_in_a_fresh_process(slug: str, heavy: tuple[str, ...] = ("torch",), timeout: float = 300) -> dict:
    """Open lesson `slug` once in a new Python process with its background warm-up switched off, as the
    first visitor of a fresh server sees it before the warm-up has imported anything.

    Returns {"heavy": the modules of `heavy` that the render imported, "exception": [...],
    "charts": how many charts, "images": how many images, "text": the page's markdown}.
    """
    import json
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    code = textwrap.dedent(f"""
        import json, sys
        from lessons import process_settings
        process_settings.apply()
        from streamlit.testing.v1 import AppTest
        from lessons import warmup
        warmup.start = lambda slug: None  # no background warm-up: only what the render itself imports
        at = AppTest.from_string("from lessons.registry import get; get({slug!r}).render()", default_timeout={timeout})
        at.run()
        print(json.dumps({{"heavy": [m for m in {list(heavy)!r} if m in sys.modules],
                          "exception": [str(e.value) for e in at.exception],
                          "charts": len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart"))
                                    + len(at.get("plotly_chart")),
                          "images": len(at.get("image")),
                          "text": "\\n".join(m.value for m in at.markdown)}}))
    """)
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=timeout + 60,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])
