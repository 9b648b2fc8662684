"""The architecture page in AppTest: the first render draws the shipped diagram without torch and the live page
takes over, every view draws its chart, controls move, the builder explains errors."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.lesson import open_lesson

VIEW = "architecture.view"
ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ("selectbox", "radio", "toggle", "text_input", "button_group", "button", "download_button",
           "number_input", "slider")


def run(view: str | None = None, query: dict | None = None, **state) -> AppTest:
    return open_lesson("architecture", query=query, state={**({"view": view} if view else {}), **state})


def text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.success]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [e.value for e in at.error]
    return "\n".join(parts)


def buttons(at: AppTest, name: str):
    """A segmented control of the page."""
    return next(b for b in at.get("button_group") if b.key == f"architecture.{name}")


def graphviz(at: AppTest) -> list:
    return at.get("graphviz_chart")


def vega(at: AppTest) -> list:
    return at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart")


def controls(at: AppTest) -> list[list[str]]:
    """Every widget of the page as [kind, key, value, its proto's fields] (text, for comparing two runs).

    The proto holds the label, options, default, help and the query-param binding; its element id and a
    download's media URL are left out (they name the test's temporary script and media file)."""
    out = []
    for kind in WIDGETS:
        for w in at.get(kind):
            fields = [line for line in str(w.proto).splitlines() if not line.startswith(("id:", "url:"))]
            out.append([kind, str(w.key), str(getattr(w, "value", "")), "\n".join(fields)])
    return out


def first_render_in_a_fresh_process() -> list[dict]:
    """Open the page once in a new Python process (no background warm-up, so only what the render itself imports
    is loaded), then change the direction: what each of the two runs drew, and whether torch was loaded."""
    code = textwrap.dedent("""
        import json, sys
        from lessons import warmup
        warmup.start = lambda slug: None  # no background warm-up: only what the page imports itself
        from tests.app.test_architecture import controls, text
        from streamlit.testing.v1 import AppTest

        def report(at):
            return {"torch": "torch" in sys.modules, "exception": [str(e.value) for e in at.exception],
                    "graphviz": [g.proto.spec for g in at.get("graphviz_chart")], "text": text(at),
                    "markdown": [m.value for m in at.markdown], "controls": controls(at)}

        at = AppTest.from_string("from lessons.registry import get; get('architecture').render()", default_timeout=240)
        at.run()
        first = report(at)
        at.radio(key="architecture.direction").set_value("left-right").run()
        print(json.dumps([first, report(at)]))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fresh_runs() -> list[dict]:
    return first_render_in_a_fresh_process()


def test_a_fresh_process_draws_the_shipped_diagram_before_torch_is_imported(fresh_runs):
    from lessons.architecture import precompute, shipped

    first = fresh_runs[0]
    assert first["exception"] == [] and first["torch"] is False
    hit = shipped.shipped(shipped.diagram_key(*precompute.DEFAULT_DIAGRAM))
    assert first["graphviz"] == [hit["diagram"]["dot"]]  # the diagram, as a graphviz chart
    assert "- At depth 2, Digits CNN is drawn as 13 boxes.\n- No box receives arrows from two different boxes: " \
           "the data flows as a plain chain at this depth." in first["markdown"]  # "What you see"
    assert hit["caption"] in first["text"]


def test_changing_a_control_after_the_light_first_render_computes_live(fresh_runs):
    second = fresh_runs[1]
    assert second["exception"] == [] and second["torch"] is True
    assert len(second["graphviz"]) == 1 and "rankdir=LR" in second["graphviz"][0]
    assert second["graphviz"][0] != fresh_runs[0]["graphviz"][0]
    assert "At depth 2, Digits CNN is drawn as 13 boxes." in second["text"]


def test_the_shipped_and_the_live_page_draw_the_same_controls_and_picture(fresh_runs, monkeypatch):
    from lessons.architecture import shipped

    monkeypatch.setattr(shipped, "shipped", lambda key: None)  # nothing shipped: the defaults computed live
    live = run()
    first = fresh_runs[0]
    assert controls(live) == first["controls"]  # same widgets, keys, options: state and share link carry over
    assert [g.proto.spec for g in graphviz(live)] == first["graphviz"]
    assert text(live) == first["text"]


def test_the_page_goes_live_only_when_it_leaves_the_shipped_default(monkeypatch):
    from lessons import ui

    calls = []
    original = ui.LessonPage.go_live
    monkeypatch.setattr(ui.LessonPage, "go_live", lambda self: (calls.append(self.slug), original(self))[1])
    at = run()
    assert calls == [] and len(graphviz(at)) == 1  # the shipped default
    buttons(at, "depth").set_value(1).run()
    assert calls and not at.exception and "At depth 1, Digits CNN is drawn as" in text(at)
    calls.clear()
    buttons(at, "view").set_value("Parameter table").run()
    assert calls and "Digits CNN has 105,866 parameters" in text(at)


def test_default_view_is_the_layer_diagram():
    at = run()
    assert len(graphviz(at)) == 1
    assert "At depth 2, Digits CNN is drawn as 13 boxes." in text(at)
    assert at.subheader.values[:2] == ["What you see", "Try this"]


@pytest.mark.parametrize("view, graphs, charts, sentence", [
    ("Autograd graph", 1, 0, "8 light-blue boxes, one per parameter tensor"),
    ("Parameter table", 0, 1, "Digits CNN has 105,866 parameters"),
    ("One layer", 0, 1, "features.conv1 (Conv2d) owns 160 parameters"),
    ("Model builder", 1, 0, "turns 1 × 28 × 28 into 10 with 20,490 parameters"),
    ("Compare", 0, 2, "VGG-11 has 132,863,336 parameters and ResNet-18 has 11,689,512"),
    ("Neurons", 0, 4, "the trained MLP predicts"),
])
def test_every_view_draws_its_picture(view, graphs, charts, sentence):
    at = run(view)
    assert len(graphviz(at)) == graphs and len(vega(at)) == charts
    assert sentence in text(at)


def test_depth_and_model_change_the_diagram_and_roll_up():
    at = run()
    at.selectbox(key="architecture.model").set_value("resnet18").run()
    before = graphviz(at)[0].proto.spec
    assert "2 identical BasicBlock blocks (layer1.0 … layer1.1) are rolled into one box." in text(at)
    buttons(at, "depth").set_value(3).run()
    assert not at.exception and graphviz(at)[0].proto.spec != before
    assert "8 boxes receive arrows from two or more different boxes (add)" in text(at)
    at.radio(key="architecture.direction").set_value("left-right").run()
    assert "rankdir=LR" in graphviz(at)[0].proto.spec


def test_autograd_show_saved_adds_orange_boxes():
    at = run("Autograd graph")
    at.toggle(key="architecture.show_saved").set_value(True).run()
    assert "19 orange boxes are tensors the forward pass saved" in text(at)
    assert "fillcolor=orange" in graphviz(at)[0].proto.spec


def test_large_autograd_graph_is_offered_as_download_only():
    at = run("Autograd graph", model="vit_b_16")
    assert graphviz(at) == [] and "too many to lay out in the browser" in text(at)


def test_table_batch_size_changes_activation_memory():
    at = run("Parameter table", model="vgg11")
    assert "Fully connected layers (every nn.Linear) hold 93.1 % of the parameters." in text(at)
    assert "That is more than 85 %: most of this model's parameters are in its fully connected layers." in text(at)
    first = text(at)
    buttons(at, "batch").set_value(128).run()
    assert text(at) != first and "for 128 examples" in text(at)


def test_one_layer_follows_the_model():
    at = run("One layer")
    at.selectbox(key="architecture.model").set_value("resnet18").run()
    assert at.selectbox(key="architecture.layer").value == "conv1"
    assert "k·k·C_in·C_out = 7·7·3·64 = 9,408 (no bias)" in text(at)
    assert "untrained: the layer's default initialisation, seed 0" in text(at)
    at.selectbox(key="architecture.layer").set_value("fc").run()
    assert "in·out + out = 512·1,000 + 1,000 = 513,000" in text(at)


def test_builder_error_names_the_layer_without_a_traceback():
    at = run("Model builder")
    at.text_input(key="architecture.stack").input("conv:8:3:1:1,relu,linear:10").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("**layer 2 (Linear)**: Linear expects a flat vector")
    assert "Traceback" not in text(at) and graphviz(at) == []
    # the other views say the builder model is broken instead of failing
    for view in ("Layer diagram", "Autograd graph", "Parameter table", "One layer"):
        other = run(view, model="builder", stack="conv:8:3:1:1,relu,linear:10")
        assert "has an error (layer 2 (Linear))" in text(other)


def test_builder_widgets_add_and_remove_layers():
    at = run("Model builder", stack="flatten")
    at.selectbox(key="architecture._add_kind").set_value("linear").run()
    at.number_input(key="architecture._add_out").set_value(7).run()
    at.button(key="architecture._add").click().run()
    assert at.text_input(key="architecture.stack").value == "flatten,linear:7"
    assert "784·7 + 7 = 5,495" in " ".join(str(v) for v in at.dataframe[0].value["how the count comes about"])
    at.button(key="architecture._remove").click().run()
    assert at.text_input(key="architecture.stack").value == "flatten"


def test_conv_shape_checker():
    at = run("Model builder")
    at.number_input(key="architecture._q_guess").set_value(12).run()
    assert "Right: floor((28 + 2·0 − 5) / 2) + 1 = 12." in text(at)
    at.number_input(key="architecture._q_guess").set_value(13).run()
    assert "Not quite" in text(at)


def test_unroll_shows_every_block():
    at = run(model="resnet18")
    rolled = graphviz(at)[0].proto.spec
    at.toggle(key="architecture.unroll").set_value(True).run()
    assert "BasicBlock × 2" in rolled and "BasicBlock × 2" not in graphviz(at)[0].proto.spec


@pytest.mark.parametrize("name, value, sentence", [
    ("depth", "1", "At depth 1, MiniLM sentence encoder is drawn as 14 boxes."),  # the smallest value too
    ("depth", "3", "At depth 3, MiniLM sentence encoder is drawn as"),
])
def test_share_link_reaches_every_value(name, value, sentence):
    at = run(query={"architecture.model": "minilm", f"architecture.{name}": value})
    assert sentence in text(at)


def test_share_link_sets_the_controls():
    at = run(query={"architecture.model": "vgg11", "architecture.view": "Parameter table",
                    "architecture.stack": "flatten,linear:3"})
    assert at.selectbox(key="architecture.model").value == "vgg11"
    assert "VGG-11 has 132,863,336 parameters" in text(at)
    assert at.session_state["architecture.stack"] == "flatten,linear:3"


def test_share_link_opens_the_builder_view():
    at = run(query={"architecture.view": "Model builder", "architecture.stack": "flatten,linear:3"})
    assert buttons(at, "view").value == "Model builder"
    assert at.text_input(key="architecture.stack").value == "flatten,linear:3"
    assert "turns 1 × 28 × 28 into 3 with 2,355 parameters" in text(at)


def test_only_the_open_view_is_drawn_and_controls_keep_their_values():
    at = run()
    assert at.get("toggle")[0].key == "architecture.unroll" and len(at.get("toggle")) == 1  # no show_saved
    at.radio(key="architecture.direction").set_value("left-right").run()
    buttons(at, "view").set_value("Neurons").run()
    assert not at.exception
    assert [r for r in at.radio if r.key == "architecture.direction"] == [] and graphviz(at) == []
    buttons(at, "view").set_value("Layer diagram").run()
    assert at.radio(key="architecture.direction").value == "left-right"
    assert "rankdir=LR" in graphviz(at)[0].proto.spec


def test_my_model_stack_can_be_edited_from_another_view():
    at = run("Parameter table", model="builder")
    at.text_input(key="architecture.stack").input("flatten,linear:3").run()
    assert not at.exception and "My model has 2,355 parameters" in text(at)


@pytest.mark.parametrize("key, prediction, view, expected", [
    ("residual", "yes: the add at the end of each block", "Layer diagram",
     "Checked on the page as it is now (ResNet-18 at depth 3, repeated blocks rolled up): 8 boxes receive arrows "
     "from two or more different boxes (add)"),
    ("vgg", "the fully connected layers", "Parameter table",
     "Checked on the page as it is now (VGG-11, parameter table): the fully connected layers hold 93.1 % of this "
     "model's parameters, more than the 85 % this lesson calls most."),
    ("conv_shape", "12 x 12", "Model builder",
     "Checked on the page as it is now (your stack conv:8:5:2:0 on a 1x28x28 input): Conv2d(1, 8, kernel_size=5, "
     "stride=2, padding=0) turns it into (8, 12, 12)."),
])
def test_try_this_experiments(key, prediction, view, expected):
    at = run()
    at.radio(key=f"architecture._predict.{key}").set_value(prediction).run()
    at.button(key=f"architecture._setup.{key}").click().run()
    assert not at.exception
    assert at.session_state[VIEW] == view
    body = text(at)
    assert "The expected effect appeared on this run." in body and expected in body
    assert "Your prediction matched." in body


def test_neuron_view_controls():
    at = run("Neurons")
    at.selectbox(key="architecture.neuron").set_value("output #3").run()
    assert not at.exception and len(vega(at)) == 2  # no weight images for an output neuron
    at.slider(key="architecture.digit").set_value(7).run()
    buttons(at, "per_neuron").set_value(2).run()
    assert not at.exception


def test_presenter_mode_keeps_the_picture():
    at = open_lesson("architecture", session={"presenter": True})
    assert not at.exception and len(graphviz(at)) == 1
    assert "Check yourself" not in at.subheader.values


def test_quiz_feedback():
    at = run()
    at.radio(key="architecture._quiz.0").set_value("448").run()
    assert "Right. k·k·C_in·C_out + C_out = 3·3·3·16 + 16 = 448" in text(at)


def test_do_it_yourself_code_is_shown():
    from pathlib import Path

    import lessons.architecture as package

    at = run()
    script = Path(package.__file__).with_name("diy.py").read_text().strip()
    assert script in [c.value.strip() for c in at.code]


@pytest.mark.parametrize("depth", [4, 5, 6])
def test_vit_parameter_table_rows_add_up_on_the_page(depth):
    at = run("Parameter table", model="vit_b_16", depth=depth)
    frame = at.dataframe[0].value
    assert int(frame["parameters"].sum()) == 86_567_656
    assert int(frame["multiply-adds"].sum()) == 17_563_828_224
    assert "needs 17,563.8 million multiply-adds per example" in text(at)
    assert at.metric[2].value == "17,563.8 M"
    if depth >= 5:
        out_proj = frame[frame["layer"] == "encoder.layers.encoder_layer_0.self_attention.out_proj"].iloc[0]
        assert (out_proj["multiply-adds"], out_proj["output shape"]) == (197 * 768 * 768, "(1, 197, 768)")
        assert (frame["type"] == "attention products").sum() == 12


def test_try_this_verdict_names_the_settings_it_judged():
    at = run()
    at.radio(key="architecture._predict.residual").set_value("yes: the add at the end of each block").run()
    at.button(key="architecture._setup.residual").click().run()
    assert "(ResNet-18 at depth 3, repeated blocks rolled up)" in text(at)
    at.toggle(key="architecture.unroll").set_value(True).run()  # not part of the preset: judged as it is now
    assert "Checked on the page as it is now (ResNet-18 at depth 3, repeated blocks shown one by one): 8 boxes" \
        in text(at)
