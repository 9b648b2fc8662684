"""The activation-heatmap page in AppTest: a fresh process draws the shipped default before torch is imported
and the live page takes over with the same controls, every view renders its pictures, the main controls
move, a preset experiment checks itself, the share link restores the controls, and a computation that fails
shows a message in its own section while the rest of the page is drawn."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.lesson import open_lesson

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ("selectbox", "radio", "toggle", "slider", "select_slider", "button_group", "button", "number_input",
           "multiselect", "text_input")


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


def controls(at: AppTest) -> list[list[str]]:
    """Every widget of the page as [kind, key, value, its proto's fields] (text, for comparing two runs): the
    proto holds the label, the options as shown (the class picker's top-5 with their percentages), the
    default, the help and the query-param binding; its element id is left out."""
    out = []
    for kind in WIDGETS:
        for w in at.get(kind):
            fields = [line for line in str(w.proto).splitlines() if not line.startswith("id:")]
            out.append([kind, str(w.key), str(getattr(w, "value", "")), "\n".join(fields)])
    return out


def text(at: AppTest) -> list[str]:
    """Every piece of text of the main area in page order, with the Heatmap's timing line named, not quoted
    (the shipped page says it was computed when the course was built, the live page how long it took)."""
    from lessons.activations import shipped

    out = []
    for e in in_order(at):
        value = getattr(e, "value", None)
        if e.type in ("markdown", "caption", "subheader", "title", "info", "success", "warning", "error") and \
                isinstance(value, str):
            timing = value == shipped.TIMING or (value.startswith("Computed in ") and value.endswith(" s on the "
                                                                                               "server's CPU."))
            out.append(f"{e.type}: <timing>" if timing else f"{e.type}: {value}")
    return out


def pictures(at: AppTest) -> list:
    """The image captions, then each chart's spec and data rows (probabilities to 5 decimals: computed on
    another machine they may differ in the last bits; the spec names its data by a hash of the bytes)."""
    import re

    import pyarrow as pa

    out: list = [img.caption for image in at.get("image") for img in image.proto.imgs]
    for chart in at.get("vega_lite_chart"):
        out.append(re.sub(r'"name": "[0-9a-f]+"', '"name": "<data>"', chart.proto.spec))
        for dataset in chart.proto.datasets:
            rows = pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
            out.append([{k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()} for row in rows])
    return out


def first_render_in_a_fresh_process() -> list[dict]:
    """Open the page in a new Python process with no background warm-up (so only what the render itself
    imports is loaded), then change the method: what each of the two runs drew, and whether torch was loaded."""
    code = textwrap.dedent("""
        import json, sys
        from lessons import warmup
        warmup.start = lambda slug: None  # no background warm-up: only what the page imports itself
        from tests.app.test_activations import controls, pictures, text, what_you_see
        from streamlit.testing.v1 import AppTest

        def report(at):
            return {"torch": "torch" in sys.modules, "exception": [str(e.value) for e in at.exception],
                    "errors": [e.value for e in at.error], "images": len(at.get("image")),
                    "pictures": pictures(at), "text": text(at), "what_you_see": what_you_see(at),
                    "controls": controls(at)}

        at = AppTest.from_string("from lessons.registry import get; get('activations').render()", default_timeout=240)
        at.run()
        first = report(at)
        at.selectbox(key="activations.method").set_value("EigenCAM").run()
        print(json.dumps([first, report(at)]))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fresh_runs() -> list[dict]:
    return first_render_in_a_fresh_process()


def test_a_fresh_process_draws_the_shipped_heatmap_before_torch_is_imported(fresh_runs):
    from lessons.activations import shipped

    first, record = fresh_runs[0], shipped.stored()
    assert first["exception"] == [] and first["errors"] == [] and first["torch"] is False
    assert first["images"] == 1 and first["pictures"][0] == record["caption"]  # the overlay, with its caption
    assert json.loads(first["pictures"][1])["title"] == "Top-5 predictions"  # the top-5 chart
    assert [(row["label"], row["probability"]) for row in first["pictures"][2]] == [
        (label, round(p, 5)) for label, p in zip(record["top"]["label"], record["top"]["probability"])]
    assert first["what_you_see"] == "\n".join(f"- {s}" for s in record["sentences"])
    assert "- The model's top guess is **tiger cat** (38%)" in first["what_you_see"]
    assert "caption: <timing>" in first["text"]


def test_changing_a_control_after_the_light_first_render_computes_live(fresh_runs):
    second = fresh_runs[1]
    assert second["exception"] == [] and second["errors"] == [] and second["torch"] is True
    assert second["images"] == 1 and second["pictures"][0] == "EigenCAM for “tiger cat” at head conv (1280 ch, 7 px)"
    assert "The model's top guess is **tiger cat** (38%)" in second["what_you_see"]
    assert second["what_you_see"] != fresh_runs[0]["what_you_see"]  # EigenCAM's own map and hot area


def test_the_shipped_and_the_live_page_draw_the_same_controls_text_and_charts(fresh_runs, monkeypatch):
    from lessons.activations import shipped

    monkeypatch.setattr(shipped, "heatmap", lambda controls: None)  # nothing shipped: the defaults computed live
    live = open_page()
    first = fresh_runs[0]
    assert "caption: <timing>" in text(live)
    assert controls(live) == first["controls"]  # same widgets, keys, options, values: state and share link carry over
    assert text(live) == first["text"]
    assert pictures(live) == first["pictures"]  # same caption, same top-5 chart (spec and data)


def test_the_page_goes_live_only_when_it_leaves_the_shipped_default(monkeypatch):
    from lessons import ui

    calls = []
    original = ui.LessonPage.go_live
    monkeypatch.setattr(ui.LessonPage, "go_live", lambda self: (calls.append(self.slug), original(self))[1])
    at = open_page()
    assert calls == [] and images(at) == 1  # the shipped default
    at.slider(key="activations.opacity").set_value(0.8).run()  # a control of the view's fragment
    assert calls and not at.exception and images(at) == 1
    calls.clear()
    at.slider(key="activations.opacity").set_value(0.5).run()  # back at the defaults: the shipped picture again
    assert calls == [] and images(at) == 1
    at.selectbox(key="activations.image").set_value("coffee").run()  # another input: live
    assert calls and "espresso" in what_you_see(at)


def test_the_warm_up_covers_what_the_live_path_imports():
    """After the lesson's warm-up, going live on every view imports none of the heavy libraries (nor a lesson
    module) for the first time: the student's first change waits for the warm-up, not for an import."""
    code = textwrap.dedent("""
        import json, sys
        from lessons import warmup
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_string("from lessons.registry import get; get('activations').render()", default_timeout=300)
        at.run()
        warmup.wait("activations")
        before = set(sys.modules)
        at.selectbox(key="activations.method").set_value("ScoreCAM").run()
        at.selectbox(key="activations.model").set_value("digits_cnn").run()
        problems = [e.value for e in at.exception]
        for view in ("TorchCam", "Method grid", "Layer statistics", "Find the mistake", "Sanity check", "Faithfulness"):
            at.segmented_control(key="activations.view").set_value(view).run()
            problems += [e.value for e in at.exception] + [e.value for e in at.error]
        print(json.dumps([problems, sorted(set(sys.modules) - before)]))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    problems, imported_late = json.loads(out.stdout.strip().splitlines()[-1])
    assert problems == []
    heavy = ("torch", "torchvision", "torchcam", "pytorch_grad_cam", "ttach", "sklearn", "scipy", "cv2",
             "matplotlib", "PIL", "pandas", "altair", "numpy", "lessons")
    assert [m for m in imported_late if m.split(".")[0] in heavy] == []


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
    assert kinds[error][1].startswith("Could not draw the Heatmap view. The rest of the page still works")
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
    from models import zoo

    def broken(*args, **kwargs):
        raise OSError("the photo file is unreadable")

    monkeypatch.setattr(zoo, "borrow", broken)  # the predictions cannot run
    controls.predictions.clear()
    at = open_page(image="rocket")
    assert not at.exception
    assert [e.value for e in at.error][0].startswith("Could not read this input and the model's predictions.")
    assert "Nothing to show: this input or the model's predictions could not be computed." in what_you_see(at)
    assert {"Try this", "Check yourself"} <= set(at.subheader.values)


def test_the_torchcam_noise_slider_stops_above_zero_and_its_ends_draw():
    """The control walk found it: a noise of 0 made TorchCam's sampler raise. The slider starts at 0.05."""
    at = open_page(view="TorchCam", model="digits_cnn")
    noise = at.slider(key="activations.tc_std")
    assert noise.min == 0.05
    for value in (noise.min, noise.max):
        at.slider(key="activations.tc_std").set_value(value).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
