"""The attention lesson in AppTest: the first render draws shipped results without torch, every
view renders, controls enter the share link, live text replaces the shipped one, bad text is shown
as text, "Try this" names the run it judged, presenter mode and Reset work, a failing view shows
its own message, and nothing a student does changes the shared models."""
import json

from lessons.attention.settings import DEFAULTS, FOX, VIEWS
from tests.app.lesson import charts, first_render_in_a_fresh_process, open_lesson, texts

def specs(at) -> str:
    """The Altair charts' specs, one line each (JSON, so no newline inside)."""
    return "\n".join(c.proto.spec.replace("\n", " ")
                     for c in list(at.get("vega_lite_chart")) + list(at.get("arrow_vega_lite_chart")))


def test_the_first_render_draws_the_shipped_head_view_without_importing_torch():
    report = first_render_in_a_fresh_process("attention")
    assert report["exception"] == [] and report["heavy"] == [] and report["charts"] >= 1
    assert "the shipped attention" in report["text"]


def test_every_view_renders_its_shipped_result():
    for view in VIEWS:
        at = open_lesson("attention", query={"attention.view": view})
        assert charts(at), view
        assert not at.error, (view, [e.value for e in at.error])
        assert "What you see" in at.subheader.values
        assert "the shipped" in texts(at), view


def test_model_view_draws_72_heads_and_the_enlarged_head():
    at = open_lesson("attention", state={"view": "Model view"})
    (figure,) = at.get("plotly_chart")
    spec = json.loads(figure.proto.spec)
    assert [t for t in spec["layout"]["xaxis"]["ticktext"]] == [f"head {h}" for h in range(1, 13)]
    assert len(spec["layout"]["yaxis"]["ticktext"]) == 6
    assert "Layer 4, head 2" in specs(at)


def test_a_preset_sets_the_controls_and_a_new_layer_enters_the_share_link():
    at = open_lesson("attention")
    at.selectbox(key="attention._example").set_value("A previous-token head").run()
    assert at.text_area(key="attention.sentence").value == FOX
    assert at.selectbox(key="attention.layer").value == 1 and at.selectbox(key="attention.head").value == 3
    assert "Layer 1, head 3" in texts(at) and "the shipped attention" in texts(at)
    at.selectbox(key="attention.layer").set_value(2).run()
    assert "Layer 2, head 3" in specs(at)
    shared = open_lesson("attention", query={"attention.layer": "2", "attention.head": "3",
                                             "attention.sentence": FOX})  # what the share link carries
    assert "Layer 2, head 3" in specs(shared) and "the shipped attention" in texts(shared)


def test_typed_text_is_computed_live_and_shown_as_text_never_html():
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)> \u05e9\u05dc\u05d5\u05dd \U0001f600"
    at = open_lesson("attention", state={"sentence": hostile})
    assert "your live attention" in texts(at)
    assert not any("<script>" in h.proto.body for h in at.get("html"))
    assert not any("<script>" in m.value for m in at.markdown)  # never put into markdown
    assert any("< script >" in c.value or "<" in c.value for c in at.code)  # the wordpieces, as code text
    assert not at.error


def test_empty_and_long_text_get_their_notes():
    at = open_lesson("attention", state={"sentence": "   "})
    assert "The text is empty" in texts(at) and not at.error
    at = open_lesson("attention", state={"sentence": "attention " * 1000, "view": "Rollout"})
    assert "cut to 256 wordpieces" in texts(at) and not at.error and charts(at)


def test_focus_token_and_rollout_toggles():
    at = open_lesson("attention")
    at.selectbox(key="attention.token").set_value(10).run()
    assert "Token 10 \u201cit\u201d attends most to" in texts(at)
    at = open_lesson("attention", state={"view": "Rollout", "hide_cls": True, "hide_sep": True})
    spec = specs(at)
    assert "[CLS]" not in spec and "[SEP]" not in spec and "renormalised over the tokens that are left" in texts(at)


def test_digits_vit_controls_and_a_live_digit():
    at = open_lesson("attention", state={"view": "Digits ViT", "digit": 5, "fusion": "max", "discard": 0.9})
    assert "your live digit" in texts(at) and "max fusion" in texts(at) and len(charts(at)) == 3


def test_the_class_pick_changes_grad_rollout_and_grad_cam_but_not_rollout_or_flow():
    at = open_lesson("attention", state={"view": "Digits ViT"})
    assert "Grad-rollout, class 0" in specs(at) and "the shipped digit" in texts(at)
    before = specs(at).split("\n")
    at.selectbox(key="attention.vit_class").set_value(7).run()
    after = specs(at).split("\n")
    assert len(before) == 3 and len(after) == 3 and not at.error
    assert after[0] == before[0] and after[1] == before[1]  # per-head attention, raw/rollout/flow: class-agnostic
    assert after[2] != before[2] and "Grad-rollout, class 7" in after[2] and "class 0 (predicted)" in after[2]
    assert "for class 7 it puts its strongest patch" in texts(at) and "the shipped digit" in texts(at)


def test_try_this_names_the_run_it_judged():
    at = open_lesson("attention")
    at.radio(key="attention._predict.previous").set_value("To the previous token").run()
    at.button(key="attention._setup.previous").click().run()
    body = texts(at)
    assert at.session_state["attention.view"] == "Head view"
    assert "Checked on the shipped attention" in body and "The expected effect appeared on this run" in body
    at.radio(key="attention._predict.pronoun").set_value("To \u201cstreet\u201d: it follows the meaning").run()
    at.button(key="attention._setup.pronoun").click().run()
    body = texts(at)
    assert "Checked on your live attention" in body and "The expected effect appeared on this run" in body
    assert "the lesson expected" in body  # the student's wrong prediction is named


def test_the_class_experiment_judges_the_shipped_digit():
    at = open_lesson("attention")
    at.radio(key="attention._predict.class").set_value(
        "Only Grad-rollout and Grad-CAM: they follow one class's score").run()
    at.button(key="attention._setup.class").click().run()
    body = texts(at)
    assert at.session_state["attention.view"] == "Digits ViT" and at.session_state["attention.vit_class"] == 9
    assert "Checked on the shipped digit: Grad-rollout for class 9 and for the predicted class 0" in body
    assert "The expected effect appeared on this run" in body and not at.error


def test_presenter_mode_and_reset():
    at = open_lesson("attention", session={"presenter": True})
    assert charts(at) and "Check yourself" not in at.subheader.values
    at = open_lesson("attention", state={"view": "Known answer", "task": "previous", "layer": 6})
    at.button(key="attention._reset_button").click().run()
    assert at.session_state["attention.view"] == DEFAULTS["view"]
    assert at.session_state["attention.task"] == DEFAULTS["task"] and at.session_state["attention.layer"] == 4


def test_a_failing_view_shows_its_own_message(monkeypatch):
    from lessons.attention import views

    def broken(page, result):
        raise RuntimeError("heads fell off")

    monkeypatch.setitem(views.VIEW_FUNCTIONS, "Rollout", broken)
    at = open_lesson("attention", state={"view": "Rollout"})
    assert any("Could not draw the Rollout view" in e.value and "heads fell off" in e.value for e in at.error)
    assert "Check yourself" in at.subheader.values


def test_students_leave_the_shared_models_unchanged():
    from models import zoo
    from tests.unit.test_attention import state_hash

    models = {name: zoo.load(name)[0] for name in ("minilm", "digits_vit")}
    before = {name: (state_hash(m), zoo.count_hooks(m)) for name, m in models.items()}
    open_lesson("attention", state={"view": "Ablation", "sentence": "A new sentence to ablate."})
    open_lesson("attention", state={"view": "Digits ViT", "digit": 9})
    assert {name: (state_hash(m), zoo.count_hooks(m)) for name, m in models.items()} == before
