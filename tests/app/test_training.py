"""The training lesson in AppTest: renders the precomputed curves, trains in the page, moves each
control, reports divergence, keeps runs per session, checks a "Try this" on the precomputed run."""
import pytest
from streamlit.testing.v1 import AppTest

from lessons.training import curves
from tests.app.lesson import open_lesson

TINY = {"dataset": "digits", "model": "mlp", "train_size": 200, "width": 32, "depth": 1, "epochs": 4}


def fresh() -> AppTest:
    at = open_lesson("training")
    assert not at.exception
    return at


def charts(at: AppTest) -> list:
    return at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.success] + [w.value for w in at.warning]
    return "\n".join(parts + [i.value for i in at.info] + [e.value for e in at.error] + [c.value for c in at.caption])


def set_controls(at: AppTest, values: dict) -> AppTest:
    for name, value in values.items():
        at.session_state[f"training.{name}"] = value
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def trained() -> AppTest:
    at = set_controls(fresh(), TINY)
    at.button(key="training._train").click().run()
    assert not at.exception
    return at


def test_precomputed_curves_show_before_the_first_click():
    at = fresh()
    assert len(charts(at)) >= 4  # loss, accuracy, runs overlay, confusion matrix (+ ROC)
    assert "precomputed curves of the Healthy preset" in texts(at)
    assert "After 5 epochs" in texts(at)


def test_training_in_the_page_adds_a_run_and_describes_it(trained):
    runs = trained.session_state["training.runs"]
    assert len(runs) == 1 and runs[0].status == "finished" and len(runs[0].epochs) == 4
    body = texts(trained)
    assert "After 4 epochs" in body and "precomputed curves" not in body
    assert trained.get("download_button")


def test_view_controls_change_the_picture(trained):
    specs = [c.proto.spec for c in charts(trained)]
    trained.radio(key="training.x_axis").set_value("epoch").run()
    trained.slider(key="training.smoothing").set_value(0.0).run()
    trained.toggle(key="training.log_scale").set_value(True).run()
    trained.slider(key="training.patience").set_value(1).run()
    assert not trained.exception
    after = [c.proto.spec for c in charts(trained)]
    assert after[0] != specs[0] and '"log"' in after[0]
    run = trained.session_state["training.runs"][-1]
    stop = curves.early_stopping(curves.epoch_frame(run), 1)
    expected = (f"Early stopping with patience 1 would stop after epoch {stop['stop_epoch']}"
                if stop["stop_epoch"] is not None else "With patience 1 early stopping would not trigger")
    assert expected in texts(trained)
    trained.selectbox(key="training.compare_metric").set_value("val_acc").run()
    assert not trained.exception


def test_runs_can_be_renamed_and_deleted():
    at = set_controls(fresh(), TINY)
    at.button(key="training._train").click().run()
    run_id = at.session_state["training.runs"][0].run_id
    at.text_input(key=f"training._name.{run_id}").input("<b>my run</b>").run()
    assert at.session_state["training.runs"][0].name == "<b>my run</b>"
    assert all("<b>my run</b>" not in m.value for m in at.markdown)  # never rendered as markdown/HTML
    at.button(key=f"training._delete.{run_id}").click().run()
    assert at.session_state["training.runs"] == []


def test_divergence_is_reported_without_a_crash():
    at = set_controls(fresh(), {**TINY, "optimizer": "sgd", "lr": 10.0, "width": 64, "depth": 2})
    at.button(key="training._train").click().run()
    assert not at.exception
    assert at.session_state["training.runs"][-1].status == "diverged"
    assert any("diverged at step" in e.value for e in at.error)


def test_two_sessions_do_not_share_runs(trained):
    other = fresh()
    assert other.session_state["training.runs"] == []
    assert len(trained.session_state["training.runs"]) >= 1


def test_preset_button_sets_the_controls_and_shows_its_curves():
    at = fresh()
    at.button(key="training._preset.overfitting").click().run()
    assert at.select_slider(key="training.train_size").value == 100
    assert at.radio(key="training.model").value == "mlp"
    assert "precomputed curves of the Overfitting preset" in texts(at)
    assert "Overfitting: the validation loss was lowest at epoch" in texts(at)


def test_try_this_checks_the_precomputed_run_before_training():
    at = fresh()
    at.radio(key="training._predict.overfitting").set_value("It reaches a minimum, then rises").run()
    at.button(key="training._setup.overfitting").click().run()
    body = texts(at)
    assert "The expected effect appeared on this run" in body
    assert "Judged on the precomputed curves of the Overfitting preset, not on a run of yours" in body
    assert "Your prediction matched." in body


def test_share_link_sets_the_controls():
    at = open_lesson("training", query={"training.lr": "0.1", "training.optimizer": "SGD + momentum 0.9"})
    assert not at.exception
    assert at.select_slider(key="training.lr").value == 0.1
    assert at.radio(key="training.model").value == "cnn" and at.selectbox(key="training.optimizer").value == "momentum"
    # momentum at 0.1 is no preset (the "too high" preset is Adam at 0.03): the page says what it shows
    assert "Showing the precomputed curves of the Healthy preset: press Train to train with your settings." in texts(at)
    at = open_lesson("training", query={"training.lr": "0.03"})
    assert ("Showing the precomputed curves of the Learning rate too high preset: press Train to train it "
            "yourself.") in texts(at)


def test_presenter_mode_keeps_the_charts():
    at = open_lesson("training", session={"presenter": True})
    assert not at.exception and len(charts(at)) >= 2
    assert "Check yourself" not in at.subheader.values


def test_after_training_views_compute_one_at_a_time():
    at = fresh()
    assert charts(at)
    for view in ("ROC curves", "Misclassified", "Confusion matrix"):
        at.session_state["training.after_view"] = view
        at.run()
        assert not at.exception
    at.session_state["training.after_view"] = "Misclassified"
    at.run()
    assert at.get("image") and "most confident mistakes" in texts(at)
    at.session_state["training.after_view"] = "ROC curves"
    at.run()
    assert "Lowest AUC: digit" in texts(at)


def test_stop_is_enabled_only_while_training(trained):
    idle = fresh()
    assert idle.button(key="training._stop_idle").disabled
    assert not [b for b in idle.button if b.key == "training._stop"]
    # the training run drew an enabled Stop, then put the idle one back once the run finished
    assert trained.button(key="training._stop_idle").disabled


def test_a_run_interrupted_by_a_click_is_kept_as_stopped(trained):
    """A click while training (Stop or any control) ends the script run mid-loop with the run marked
    "running"; the next run marks it stopped and keeps its curves."""
    runs = trained.session_state["training.runs"]
    runs[-1].status = "running"  # as the interrupted script left it
    trained.run()
    assert not trained.exception and runs[-1].status == "stopped"
    assert "This run was interrupted before it finished." in texts(trained)
    assert any(c.value.startswith("stopped, ") for c in trained.caption)


def test_augmentation_help_says_what_the_engine_does():
    """Checked against the engine in tests/unit/test_training_claims.py (shifts only, no intensity change)."""
    assert fresh().toggle(key="training.augment").help == (
        "Each training image gets its own random shift of up to 2 pixels in each direction (1 on 8x8 digits) "
        "every time it is drawn, edge pixels repeated. Only the position changes: brightness and contrast stay "
        "as they are.")


def test_the_first_render_waits_for_no_warm_up_and_train_waits_for_this_lessons_own(monkeypatch):
    from lessons import registry, ui, warmup

    assert registry.get("training").light_first_render
    live = []
    monkeypatch.setattr(ui.LessonPage, "go_live", lambda self: live.append(self.slug))
    monkeypatch.setattr(warmup, "wait", lambda slug: pytest.fail(f"the light page waited for {slug}'s warm-up"))
    at = set_controls(fresh(), TINY)
    assert live == []  # the precomputed curves need nothing warmed
    at.button(key="training._train").click().run()
    assert not at.exception
    assert live == ["training"]
