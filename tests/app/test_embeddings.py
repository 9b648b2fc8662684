"""The embeddings lesson in AppTest: the first render draws the shipped projection without torch or
umap, every view and source renders, bad input gets its message, typed HTML stays text, controls go
into the share link, "Try this" names the run it judged, presenter mode and Reset work, one failing
view shows its own message."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from lessons.embeddings.settings import DEFAULTS, VIEWS
from tests.app.lesson import open_lesson

ROOT = Path(__file__).resolve().parents[2]


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.success] + [w.value for w in at.warning]
    return "\n".join(parts + [i.value for i in at.info] + [e.value for e in at.error] + [c.value for c in at.caption])


def charts(at) -> list:
    return list(at.get("vega_lite_chart")) + list(at.get("arrow_vega_lite_chart")) + list(at.get("plotly_chart"))


def test_the_first_render_draws_the_shipped_projection_without_torch_or_umap():
    code = textwrap.dedent("""
        import json, sys
        from streamlit.testing.v1 import AppTest
        from lessons import warmup
        warmup.start = lambda slug: None  # no background warm-up: only what the render itself imports
        at = AppTest.from_string("from lessons.registry import get; get('embeddings').render()", default_timeout=120)
        at.run()
        print(json.dumps({"heavy": [m for m in ("torch", "umap", "numba", "sklearn") if m in sys.modules],
                          "exception": [str(e.value) for e in at.exception],
                          "charts": len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart")),
                          "text": "\\n".join(m.value for m in at.markdown)}))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["exception"] == [] and report["heavy"] == [] and report["charts"] >= 1
    assert "the shipped projection" in report["text"] and "Trustworthiness" in report["text"]


def test_every_view_renders_its_shipped_result():
    for view in VIEWS:
        at = open_lesson("embeddings", query={"embeddings.view": view})
        assert charts(at), view
        assert not at.error, (view, [e.value for e in at.error])
        assert "the shipped" in texts(at), view


def test_every_source_has_a_shipped_projection_and_the_neighbours_view():
    for source in ("words", "sentences", "photos"):
        at = open_lesson("embeddings", state={"source": source})
        assert charts(at) and not at.error and "the shipped projection" in texts(at), source
        at = open_lesson("embeddings", state={"source": source, "view": "Neighbours"})
        assert at.dataframe and "the shipped neighbour lists" in texts(at), source


def test_the_untrained_network_is_shipped_for_every_method():
    """The first comparison a student makes (trained against untrained features) needs no live fit."""
    for method in ("UMAP", "t-SNE", "PCA"):
        at = open_lesson("embeddings", state={"network": "untrained", "method": method})
        assert charts(at) and not at.error and "the shipped projection" in texts(at), method
        assert "untrained" in texts(at), method


def test_the_default_digits_carry_their_image_in_the_tooltip_and_the_csv_downloads():
    at = open_lesson("embeddings")
    spec = next(c.proto.spec for c in charts(at) if hasattr(c.proto, "spec"))
    assert '"image"' in spec and '"name"' in spec
    assert at.get("download_button")


def test_the_3d_view_is_plotly_and_comes_from_the_shipped_file():
    at = open_lesson("embeddings", query={"embeddings.dims": "3-D", "embeddings.method": "PCA"})
    assert at.get("plotly_chart") and "the shipped projection" in texts(at)
    assert "explain" in texts(at)


def test_too_many_points_and_a_too_large_perplexity_are_refused_with_a_message():
    at = open_lesson("embeddings", state={"method": "t-SNE", "points": 5000})
    assert any("at most 2,000 points" in w.value for w in at.warning) and not at.exception
    at = open_lesson("embeddings", state={"source": "photos", "method": "t-SNE", "perplexity": 100})
    assert any("perplexity (100) must be smaller than the number of points (84)" in w.value for w in at.warning)


def test_ten_thousand_typed_characters_are_refused_and_the_shipped_picture_stays():
    at = open_lesson("embeddings", state={"source": "words", "typed": "x" * 10_000})
    assert any("10,000 characters" in w.value for w in at.warning)
    assert "the shipped projection" in texts(at)


def test_typed_html_is_embedded_and_shown_as_text():
    at = open_lesson("embeddings", state={"source": "words", "typed": "<b>bold</b>, kitten, kitten, ",
                                          "method": "PCA", "view": "Neighbours"}, timeout=600)
    assert not at.error, [e.value for e in at.error]
    item = at.selectbox(key="embeddings.item")
    assert "<b>bold</b> (typed by you)" in item.options  # typed items come first in the list
    assert "your live neighbour lists" in texts(at)
    assert any("1 repeated item" in w.value for w in at.warning)  # the second "kitten"
    item.set_value(241).run()  # 240 bundled words, then "<b>bold</b>", then "kitten"
    assert "nearest neighbours of \u201ckitten\u201d" in texts(at)
    table = at.dataframe[0].value
    assert "cat" in list(table["neighbour"])[:5]


def test_a_control_goes_into_the_share_link_and_pca_is_shipped():
    at = open_lesson("embeddings", query={"embeddings.method": "PCA"})
    assert at.session_state["embeddings.method"] == "PCA"
    assert "principal components explain" in texts(at) and "the shipped projection" in texts(at)


def test_try_this_names_the_run_it_judged():
    at = open_lesson("embeddings")
    at.radio(key="embeddings._predict.depth").set_value("At the penultimate layer").run()
    at.button(key="embeddings._setup.depth").click().run()
    body = texts(at)
    assert at.session_state["embeddings.view"] == "Layers"
    assert "Checked on the shipped layer projections" in body
    assert "The expected effect appeared on this run" in body


def test_presenter_mode_and_reset():
    at = open_lesson("embeddings", session={"presenter": True})
    assert charts(at) and "Check yourself" not in at.subheader.values
    at = open_lesson("embeddings", state={"view": "Layers", "layers_method": "PCA"})
    at.button(key="embeddings._reset_button").click().run()
    assert at.session_state["embeddings.view"] == DEFAULTS["view"]
    assert at.session_state["embeddings.layers_method"] == DEFAULTS["layers_method"]


def test_a_failing_view_shows_its_own_message(monkeypatch):
    from lessons.embeddings import views

    def broken(page, result):
        raise RuntimeError("projection exploded")

    monkeypatch.setitem(views.VIEW_FUNCTIONS, "Layers", broken)
    at = open_lesson("embeddings", state={"view": "Layers"})
    assert any("Could not draw the Layers view" in e.value and "projection exploded" in e.value for e in at.error)
    assert "Check yourself" in at.subheader.values


# Each view opened from a share link: every control that changes its picture is drawn by that view, so its
# value is restored from the link and stays in the link (a bound widget that a view does not draw drops out
# of the URL, and the view would read the default). The values are shipped or refused: no live computation.
LINKS = {
    "Neighbours": {"method": "PCA", "dims": "3-D", "distance": "euclidean", "k": "20"},
    "Small multiples": {"points": "5,000", "multiple_over": "t-SNE perplexity", "seed": "7"},  # refused: > 2,000
    "Layers": {"layers_method": "t-SNE", "points": "5,000", "seed": "7"},  # refused: > 2,000
}
RESTORED = {
    "Neighbours": {"method": "PCA", "dims": 3, "distance": "euclidean", "k": 20},
    "Small multiples": {"points": 5000, "multiple_over": "t-SNE perplexity", "seed": 7},
    "Layers": {"layers_method": "t-SNE", "points": 5000, "seed": 7},
}


def test_each_view_restores_its_controls_from_a_share_link_and_keeps_them_in_it():
    for view, link in LINKS.items():
        query = {"embeddings.view": view} | {f"embeddings.{name}": value for name, value in link.items()}
        at = open_lesson("embeddings", query=query)
        for name, value in RESTORED[view].items():
            assert at.session_state[f"embeddings.{name}"] == value, (view, name)
            if value != DEFAULTS[name]:
                assert at.query_params.get(f"embeddings.{name}") == link[name], (view, name, dict(at.query_params))
        assert not at.error, (view, [e.value for e in at.error])


def test_the_neighbours_view_rings_them_in_the_projection_its_link_names():
    at = open_lesson("embeddings", query={"embeddings.view": "Neighbours", "embeddings.method": "PCA",
                                          "embeddings.dims": "3-D"})
    assert at.get("plotly_chart"), "the 3-D PCA projection"
    assert any("(PCA)" in c.value for c in at.caption)
    assert "the shipped neighbour lists" in texts(at)
