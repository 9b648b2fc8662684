"""The loss-landscape lesson in AppTest: the first render draws shipped results without torch, every
view renders, controls go into the share link, a live computation replaces a shipped one, "Try this"
names the run it judged, presenter mode and Reset work, one failing view shows its own message."""
from lessons.landscapes.settings import DEFAULTS, VIEWS
from tests.app.lesson import charts, first_render_in_a_fresh_process, open_lesson, texts
from tests.unit.test_landscapes_claims import nested_parentheses


def test_the_first_render_draws_the_shipped_surface_without_importing_torch():
    report = first_render_in_a_fresh_process("landscapes")
    assert report["exception"] == [] and report["heavy"] == [] and report["charts"] >= 1
    assert "the shipped surface" in report["text"]


def test_every_view_renders_its_shipped_result():
    for view in VIEWS:
        at = open_lesson("landscapes", query={"landscapes.view": view})
        assert charts(at), view
        assert not [e for e in at.error], (view, [e.value for e in at.error])
        assert "What you see" in at.subheader.values
        shown = [m.value for m in at.markdown] + [c.value for c in at.caption]  # sentences and chart captions
        assert [t for t in shown if nested_parentheses(t)] == [], view


def test_comparisons_render_each_comparison():
    for comparison in ("Skip connections", "Batch size", "Optimizer"):
        at = open_lesson("landscapes", state={"view": "Comparisons", "comparison": comparison})
        assert len(charts(at)) >= 1 and not at.error, comparison


def test_a_new_seed_computes_live_and_the_share_link_carries_it():
    at = open_lesson("landscapes", query={"landscapes.seed": "3", "landscapes.resolution": "9"})
    assert at.selectbox(key="landscapes.seed").value == 3
    assert "your live surface" in texts(at)
    at.toggle(key="landscapes.log_scale").set_value(True).run()
    assert not at.exception and "your live surface" in texts(at)  # the finished grid is remembered
    assert any("log10_loss" in c.proto.spec for c in at.get("vega_lite_chart"))


def test_try_this_names_the_run_it_judged():
    at = open_lesson("landscapes")
    at.radio(key="landscapes._predict.barrier").set_value("It rises: there is a barrier").run()
    at.button(key="landscapes._setup.barrier").click().run()
    body = texts(at)
    assert at.session_state["landscapes.view"] == "Interpolation"
    assert "Checked on the shipped interpolation paths" in body
    assert "The expected effect appeared on this run" in body


def test_presenter_mode_and_reset():
    at = open_lesson("landscapes", session={"presenter": True})
    assert charts(at) and "Check yourself" not in at.subheader.values
    at = open_lesson("landscapes", state={"view": "Toy surfaces", "toy_lr": 0.3})
    at.button(key="landscapes._reset_button").click().run()
    assert at.session_state["landscapes.view"] == DEFAULTS["view"]
    assert at.session_state["landscapes.toy_lr"] == DEFAULTS["toy_lr"]


def test_a_failing_view_shows_its_own_message(monkeypatch):
    from lessons.landscapes import views

    def broken(page, result):
        raise RuntimeError("grid exploded")

    monkeypatch.setitem(views.VIEW_FUNCTIONS, "Toy surfaces", broken)
    at = open_lesson("landscapes", state={"view": "Toy surfaces"})
    assert any("Could not draw the Toy surfaces view" in e.value and "grid exploded" in e.value for e in at.error)
    assert "Check yourself" in at.subheader.values  # the rest of the page still works


def test_a_live_3d_surface_with_four_seeds_draws_once_per_refinement_without_duplicate_charts():
    # the last refinement and the final picture are the same figure: each draw needs its own key
    at = open_lesson("landscapes", query={"landscapes.seed": "2", "landscapes.span": "0.5", "landscapes.resolution": "17",
                                          "landscapes.multiples": "true", "landscapes.plot": "3D surface"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 1
    body = texts(at)
    assert "Computed on your live surface" in body and "the mean loss over the slice (\u00b10.5)" in body
