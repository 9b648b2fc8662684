"""The gradient lesson in AppTest: the shipped run before any click, every view and view control,
training in the page (a background thread), Stop, overflow reported, presets, share link,
presenter mode, Reset, and two sessions that do not share runs."""
import time

import pytest
from streamlit.testing.v1 import AppTest

from lessons.gradients.views import VIEWS
from tests.app.lesson import open_lesson

TINY = {"depth": 3, "width": 16, "steps": 20}


def charts(at: AppTest) -> list:
    return at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.success] + [w.value for w in at.warning]
    return "\n".join(parts + [i.value for i in at.info] + [e.value for e in at.error] + [c.value for c in at.caption])


def finish_training(at: AppTest, key: str = "gradients.runs") -> AppTest:
    """Wait (on the condition, with a generous limit) until the session's runs stop, then rerun."""
    for _ in range(1200):
        if not any(r.live for r in at.session_state[key]):
            break
        time.sleep(0.1)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def trained() -> AppTest:
    at = open_lesson("gradients", state=TINY)
    at.button(key="gradients._train").click().run()
    return finish_training(at)


def test_the_shipped_run_shows_before_the_first_click():
    at = open_lesson("gradients")
    assert len(charts(at)) >= 1
    body = texts(at)
    assert "shipped precomputed run of the Healthy" in body and "healthy" in body
    assert at.session_state["gradients.runs"] == []


def chart_data(at: AppTest):
    """The first chart's data (the Norms view's per-layer lines) as a DataFrame."""
    import pyarrow as pa

    chart = charts(at)[0]
    datasets = chart.proto.datasets or []
    raw = datasets[0].data.data if datasets else chart.proto.data.data
    return pa.ipc.open_stream(raw).read_all().to_pandas()


def test_the_activation_changes_the_picture_before_any_training():
    """The main control answers on the first screen: each activation at the default settings has a
    shipped run, and sigmoid's first-layer gradient is far below ReLU's."""
    at = open_lesson("gradients")
    relu = chart_data(at)
    at.selectbox(key="gradients.activation").set_value("sigmoid").run()
    assert not at.exception
    sigmoid = chart_data(at)
    assert "shipped precomputed run of these settings (mlp 10x64 sigmoid, kaiming init" in texts(at)
    first = lambda frame: frame[(frame.depth == frame.depth.min()) & (frame.step == frame.step.min())].raw.iloc[0]
    assert first(sigmoid) < 1e-3 * first(relu)
    assert at.session_state["gradients.runs"] == []  # nothing was trained: the shipped run answered


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_draws_from_the_shipped_run(view):
    at = open_lesson("gradients", state={"view": view})
    assert len(charts(at)) >= 1, view
    assert not at.error, [e.value for e in at.error]


def test_training_in_the_page_adds_a_run_and_describes_it(trained):
    runs = trained.session_state["gradients.runs"]
    assert len(runs) == 1 and runs[0].status == "finished" and len(runs[0].steps) == 20
    body = texts(trained)
    assert "This is your run #1" in body and "shipped precomputed" not in body.split("What you see")[-1][:200]


def test_view_controls_change_the_picture(trained):
    for view in VIEWS:
        trained.session_state["gradients.view"] = view
        trained.run()
        assert not trained.exception and charts(trained), view
    trained.session_state["gradients.view"] = "Norms"
    trained.run()
    fixed = charts(trained)[0].proto.spec
    trained.radio(key="gradients.axes").set_value("autoscaled").run()
    assert charts(trained)[0].proto.spec != fixed and '"clamp"' not in charts(trained)[0].proto.spec
    trained.radio(key="gradients.statistic").set_value("grad_mean_abs").run()
    assert "mean |g| per weight" in charts(trained)[0].proto.spec
    trained.session_state["gradients.view"] = "Heatmap"
    trained.run()
    before = charts(trained)[0].proto.spec
    trained.radio(key="gradients.heatmap_order").set_value("largest value").run()
    assert charts(trained)[0].proto.spec != before
    trained.session_state["gradients.view"] = "Diagnosis"
    trained.run()
    trained.radio(key="gradients.at_step").set_value("latest step").run()
    assert "At step 20" in texts(trained) and "Autoscaled axes fit each chart" in texts(trained)


def test_stop_ends_a_live_run():
    at = open_lesson("gradients", state={**TINY, "steps": 500, "depth": 10})
    at.button(key="gradients._train").click().run()
    run = at.session_state["gradients.runs"][-1]
    assert run.live and at.button(key="gradients._stop").disabled is False
    at.button(key="gradients._stop").click().run()
    finish_training(at)
    assert run.status == "stopped" and len(run.steps) < 500


def test_an_overflow_is_reported_without_a_crash():
    at = open_lesson("gradients", state={"init": "scaled_10", "lr": 1e-4})  # the init x10 preset
    at.button(key="gradients._train").click().run()
    finish_training(at)
    assert at.session_state["gradients.runs"][-1].status == "diverged"
    assert any("overflowed" in e.value for e in at.error)


def test_two_sessions_do_not_share_runs(trained):
    other = open_lesson("gradients")
    assert other.session_state["gradients.runs"] == []
    assert len(trained.session_state["gradients.runs"]) >= 1


def test_preset_button_sets_the_controls_and_shows_its_run():
    at = open_lesson("gradients")
    at.button(key="gradients._preset.deep_sigmoid").click().run()
    assert at.selectbox(key="gradients.activation").value == "sigmoid"
    body = texts(at)
    assert "Deep sigmoid (vanishing) preset" in body and "**vanishing**" in body


def test_try_this_checks_the_shipped_run_before_training():
    at = open_lesson("gradients")
    at.radio(key="gradients._predict.deep_sigmoid").set_value("Less than a hundredth of it").run()
    at.button(key="gradients._setup.deep_sigmoid").click().run()
    body = texts(at)
    assert "The expected effect appeared on this run" in body
    assert "Checked on the shipped precomputed run of this preset" in body and "Your prediction matched." in body


def test_compare_trains_both_on_the_same_batches():
    at = open_lesson("gradients", state={"view": "Compare", "compare_left": "current settings",
                                         "compare_right": "deep_sigmoid", **TINY})
    assert "Press Train both" in texts(at)
    at.button(key="gradients._train_both").click().run()
    finish_training(at, "gradients.compare_runs")
    left, right = at.session_state["gradients.compare_runs"]
    assert left.status == right.status == "finished" and right.spec.seed == left.spec.seed
    assert len(charts(at)) >= 1 and "your runs" in texts(at)


def test_share_link_sets_the_controls():
    at = open_lesson("gradients", query={"gradients.activation": "sigmoid", "gradients.init": "PyTorch default",  # bound widgets carry their label
                                         "gradients.view": "Heatmap"})
    assert at.selectbox(key="gradients.activation").value == "sigmoid"
    assert "Deep sigmoid (vanishing) preset" in texts(at)


def test_presenter_mode_keeps_the_charts():
    at = open_lesson("gradients", session={"presenter": True})
    assert charts(at) and "Check yourself" not in at.subheader.values


def test_reset_puts_the_controls_back():
    at = open_lesson("gradients", state={"activation": "sigmoid", "view": "Heatmap"})
    at.button(key="gradients._reset_button").click().run()
    assert at.selectbox(key="gradients.activation").value == "relu"
    assert at.session_state["gradients.view"] == "Norms"
