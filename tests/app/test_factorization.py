"""The factorization lesson in AppTest: the first render draws the shipped result without torch, every
view renders its pictures, the controls go into the share link and change the result, "Try this" names
the run it judged, presenter mode and Reset work, a bad upload and a failing view get their own message."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from lessons.factorization.settings import DEFAULTS, VIEWS
from tests.app.lesson import open_lesson

ROOT = Path(__file__).resolve().parents[2]


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.success] + [w.value for w in at.warning]
    return "\n".join(parts + [i.value for i in at.info] + [e.value for e in at.error] + [c.value for c in at.caption])


def charts(at) -> list:
    return list(at.get("vega_lite_chart")) + list(at.get("arrow_vega_lite_chart"))


def test_the_first_render_draws_the_shipped_concepts_without_importing_torch():
    code = textwrap.dedent("""
        import json, sys
        from streamlit.testing.v1 import AppTest
        from lessons import warmup
        warmup.start = lambda slug: None  # no background warm-up: only what the render itself imports
        at = AppTest.from_string("from lessons.registry import get; get('factorization').render()", default_timeout=120)
        at.run()
        print(json.dumps({"torch": "torch" in sys.modules, "exception": [str(e.value) for e in at.exception],
                          "images": len(at.get("image")), "text": "\\n".join(m.value for m in at.markdown)}))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["exception"] == [] and report["torch"] is False
    assert "the shipped factorization" in report["text"] and report["images"] >= 6  # overlay + 5 concept maps


def test_every_view_renders():
    for view in VIEWS:
        at = open_lesson("factorization", query={"factorization.view": view})
        assert at.get("image") or charts(at), view
        assert not at.error, (view, [e.value for e in at.error])
        assert "What you see" in at.subheader.values


def test_k_and_layer_compute_live_and_change_the_picture():
    at = open_lesson("factorization")
    assert len(at.get("image")) == 6
    at.slider(key="factorization.k").set_value(7).run()
    assert not at.exception and len(at.get("image")) == 8  # overlay + 7 concept maps
    assert "your live factorization" in texts(at) and "7 concepts at head conv" in texts(at)
    at.selectbox(key="factorization.layer").set_value("stage 5 (112 ch, 14 px)").run()
    assert not at.exception and "have no labels" in texts(at)


def test_a_share_link_sets_the_controls():
    at = open_lesson("factorization", query={"factorization.view": "Co-segmentation", "factorization.co_k": "3",
                                             "factorization.co_images": ["cat", "coffee", "rocket"]})
    assert at.slider(key="factorization.co_k").value == 3
    assert len(at.get("image")) == 3 and "3 photos, one set of 3 concepts" in texts(at)


def test_try_this_names_the_run_it_judged():
    at = open_lesson("factorization", state={"k": 3})
    at.radio(key="factorization._predict.cat").set_value("yes").run()
    at.button(key="factorization._setup.cat").click().run()
    body = texts(at)
    assert at.session_state["factorization.k"] == 5
    assert "The expected effect appeared on this run" in body
    assert "Judged on the cat photo (whole image), head conv with k = 5 (shipped)" in body


def test_the_cosegmentation_experiment_judges_the_students_run():
    at = open_lesson("factorization", state={"view": "Co-segmentation"})
    at.radio(key="factorization._predict.shared").set_value(
        "yes, a concept such as the background or a texture is shared").run()
    at.button(key="factorization._setup.shared").click().run()
    body = texts(at)
    assert not at.exception and at.session_state["factorization.co_images"] == ["cat", "coffee"]
    assert "No concept is present in every photo" in body and "0 of the 4 concepts are present in every photo" in body
    assert "Judged on cat, coffee (whole image), head conv with k = 4" in body


def test_presenter_mode_and_reset():
    at = open_lesson("factorization", session={"presenter": True})
    assert at.get("image") and "Check yourself" not in at.subheader.values
    at = open_lesson("factorization", state={"view": "Three ways", "k": 4, "km_seed": 3})
    at.button(key="factorization._reset_button").click().run()
    assert at.session_state["factorization.view"] == DEFAULTS["view"]
    assert at.session_state["factorization.k"] == DEFAULTS["k"] and at.session_state["factorization.km_seed"] == 0


def test_a_failing_view_shows_its_own_message(monkeypatch):
    from lessons.factorization import views

    def broken(page, result):
        raise RuntimeError("NMF exploded")

    monkeypatch.setitem(views.VIEW_FUNCTIONS, "Three ways", broken)
    at = open_lesson("factorization", state={"view": "Three ways"})
    assert any("Could not draw the Three ways view" in e.value and "NMF exploded" in e.value for e in at.error)
    assert "Check yourself" in at.subheader.values  # the rest of the page still works


def test_a_refused_k_shows_its_message_in_the_view(monkeypatch):
    from lessons.factorization import compute

    monkeypatch.setattr(compute, "check_rank", lambda k, channels, positions, layer="": (_ for _ in ()).throw(
        compute.FactorizationError(f"{k} concepts cannot come out of {layer}")))
    at = open_lesson("factorization", state={"k": 6})
    assert any("6 concepts cannot come out of head conv" in e.value for e in at.error)
    assert "Check yourself" in at.subheader.values
