"""The activation-heatmap page in AppTest: every view renders its pictures, the main controls move,
a preset experiment checks itself, and the share link restores the controls."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.lesson import open_lesson



def open_page(**state) -> AppTest:
    return open_lesson("activations", state=state, timeout=240)


def charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def images(at: AppTest) -> int:
    return len(at.get("image"))


def what_you_see(at: AppTest) -> str:
    assert "What you see" in at.subheader.values
    return "\n".join(m.value for m in at.markdown if m.value.startswith("- "))


def test_default_view_heatmap_and_controls():
    at = open_page()
    assert charts(at) == 1 and images(at) == 1  # top-5 bars, overlay
    assert "tiger cat" in what_you_see(at)
    at.selectbox(key="activations.method").set_value("EigenCAM").run()
    assert not at.exception and "EigenCAM for" in at.get("image")[0].proto.imgs[0].caption
    at.selectbox(key="activations.layer").set_value("stage 7 (320 ch, 7 px)").run()
    at.selectbox(key="activations.target").set_value("285: Egyptian cat").run()
    at.slider(key="activations.opacity").set_value(0.8).run()
    at.toggle(key="activations.eigen_smooth").set_value(True).run()
    assert not at.exception
    assert "Egyptian cat" in at.get("image")[0].proto.imgs[0].caption
    at.selectbox(key="activations.image").set_value("coffee").run()
    assert "espresso" in what_you_see(at)


def test_switching_to_the_digits_model_keeps_valid_layer_and_class():
    at = open_page(target="285: Egyptian cat")
    at.selectbox(key="activations.model").set_value("digits_cnn").run()
    assert not at.exception
    assert at.selectbox(key="activations.layer").value == "block 2 (32 ch, 14 px)"
    assert at.selectbox(key="activations.target").value == "top 1"
    at.slider(key="activations.digit").set_value(7).run()
    assert not at.exception and images(at) == 1


@pytest.mark.parametrize("view, model, charts_expected, images_at_least", [
    ("TorchCam", "digits_cnn", 1, 2),
    ("Method grid", "digits_cnn", 0, 8),
    ("Layer statistics", "efficientnet_lite0", 2, 1),
    ("Find the mistake", "efficientnet_lite0", 1, 3),
    ("Sanity check", "digits_cnn", 1, 12),
    ("Faithfulness", "digits_cnn", 1, 0),
])
def test_every_view_renders(view, model, charts_expected, images_at_least):
    at = open_page(view=view, model=model)
    assert charts(at) == charts_expected
    assert images(at) >= images_at_least
    assert what_you_see(at)


def test_statistics_controls_move():
    at = open_page(view="Layer statistics", model="digits_cnn")
    at.radio(key="activations.statistic").set_value("max").run()
    at.slider(key="activations.threshold").set_value(0.3).run()
    at.number_input(key="activations.channel").set_value(5).run()
    assert not at.exception and "channel 5" in at.get("image")[0].proto.imgs[0].caption


def test_shortcut_experiment_checks_itself():
    at = open_page(view="Heatmap", model="digits_cnn")
    at.radio(key="activations._predict.shortcut").set_value("on the small marker square").run()
    at.button(key="activations._setup.shortcut").click().run()
    assert not at.exception
    assert at.session_state["activations.view"] == "Find the mistake"
    body = "\n".join(s.value for s in at.success)
    assert "The expected effect appeared on this run" in body and "Your prediction matched." in "\n".join(
        m.value for m in at.markdown)


def test_share_link_sets_the_controls():
    at = open_lesson("activations", query={"activations.method": "HiResCAM", "activations.image": "rocket"},
                     timeout=240)
    assert not at.exception
    assert at.selectbox(key="activations.method").value == "HiResCAM"
    assert at.selectbox(key="activations.image").value == "rocket"


def test_presenter_mode_keeps_the_picture():
    at = open_lesson("activations", session={"presenter": True}, timeout=240)
    assert not at.exception and images(at) == 1 and charts(at) == 1
    assert "Check yourself" not in at.subheader.values
