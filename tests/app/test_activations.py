"""The activation-heatmap page in AppTest: every view renders its pictures, the main controls move,
a preset experiment checks itself, the share link restores the controls, and a computation that fails
shows a message in its own section while the rest of the page is drawn."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.lesson import open_lesson


def open_page(**state) -> AppTest:
    return open_lesson("activations", state=state, timeout=240)


def charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def images(at: AppTest) -> int:
    return len(at.get("image"))


def in_order(at: AppTest) -> list:
    """Every element of the main area in page order."""
    out = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            out.append(child)
            walk(child)
    walk(at.main)
    return out


def what_you_see(at: AppTest) -> str:
    """The bullet list right under the "What you see" subheader (not any other list on the page)."""
    elements = in_order(at)
    heading = next(i for i, e in enumerate(elements) if e.type == "subheader" and e.value == "What you see")
    text = elements[heading + 1]
    assert text.type == "markdown" and text.value.startswith("- ")
    return text.value


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
    assert not at.error, [e.value for e in at.error]
    assert "Nothing to show" not in what_you_see(at) and len(what_you_see(at).splitlines()) >= 1


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
    assert "than 50%" in body  # "most of its mass" is more than half, in the question and in the verdict
    assert "Judged on your current run: held-out digit 0 with class marker, HiResCAM at block 1 (16 ch, 28 px)." in body


def test_share_link_sets_the_controls():
    at = open_lesson("activations", query={"activations.method": "HiResCAM", "activations.image": "rocket"},
                     timeout=240)
    assert not at.exception
    assert at.selectbox(key="activations.method").value == "HiResCAM"
    assert at.selectbox(key="activations.image").value == "rocket"


def test_share_link_with_the_digits_model_keeps_its_layer():
    at = open_lesson("activations", query={"activations.model": "Digits CNN", "activations.layer": "block 1 (16 ch, 28 px)"},
                     timeout=240)
    assert at.selectbox(key="activations.layer").value == "block 1 (16 ch, 28 px)"
    assert "28 x 28 grid of block 1: neighbouring cells are 1 input pixel apart" in what_you_see(at)


def test_presenter_mode_keeps_the_picture():
    at = open_lesson("activations", session={"presenter": True}, timeout=240)
    assert not at.exception and images(at) == 1 and charts(at) == 1
    assert "Check yourself" not in at.subheader.values


@pytest.mark.parametrize("method", ["GradCAM", "HiResCAM", "LayerCAM"])
def test_eigen_smoothing_then_another_class_keeps_the_page(method):
    """The two clicks of issue #10 (eigen smoothing, then "Class to explain") once raised
    NotImplementedError for methods without channel weights."""
    at = open_page(method=method)
    at.toggle(key="activations.eigen_smooth").set_value(True).run()
    at.selectbox(key="activations.target").set_value("285: Egyptian cat").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    caption = at.get("image")[0].proto.imgs[0].caption
    assert caption == f"{method} with eigen smoothing for “Egyptian cat” at head conv (1280 ch, 7 px)"
    assert "32 input pixels apart" in what_you_see(at)


def test_a_failing_computation_shows_a_message_in_its_section(monkeypatch):
    from lessons.activations import compute, views

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory while computing the map")

    monkeypatch.setattr(compute, "class_activation_maps", broken)
    views.heatmaps.clear()  # a cached map would not call the computation
    at = open_page(method="XGradCAM")
    assert not at.exception
    elements = in_order(at)
    kinds = [(e.type, getattr(e, "value", None)) for e in elements]
    error = next(i for i, (kind, _) in enumerate(kinds) if kind == "exception" or kind == "error")
    assert kinds[error][0] == "error"
    assert kinds[error][1].startswith("Could not compute the Heatmap view. The rest of the page still works")
    assert "out of memory while computing the map" in kinds[error][1]
    method_control = next(i for i, e in enumerate(elements) if getattr(e, "key", None) == "activations.method")
    heading = kinds.index(("subheader", "What you see"))
    assert method_control < error < heading  # in the view's section: after its controls, before "What you see"
    assert "Nothing to show: this view's computation failed" in what_you_see(at)
    assert {"Try this", "Check yourself", "Do it yourself", "Further reading"} <= set(at.subheader.values)
    assert len(at.error) == 1 and images(at) == 0
    # the rest keeps working: another view draws, and once the computation works again so does this one
    at.segmented_control(key="activations.view").set_value("Layer statistics").run()
    assert not at.exception and not at.error and images(at) == 1
    monkeypatch.undo()
    at.segmented_control(key="activations.view").set_value("Heatmap").run()
    assert not at.exception and not at.error and images(at) == 1


def test_a_failing_input_shows_a_message_and_the_rest_of_the_page(monkeypatch):
    from lessons.activations import controls

    def broken(*args, **kwargs):
        raise OSError("the photo file is unreadable")

    monkeypatch.setattr(controls.zoo, "borrow", broken)  # the predictions cannot run
    controls.predictions.clear()
    at = open_page(image="rocket")
    assert not at.exception
    assert [e.value for e in at.error][0].startswith("Could not read this input and the model's predictions.")
    assert "Nothing to show: this input or the model's predictions could not be computed." in what_you_see(at)
    assert {"Try this", "Check yourself"} <= set(at.subheader.values)
