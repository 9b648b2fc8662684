"""Architecture lesson: builder, parameter table, graphs and neuron picture on tiny hand-checkable models."""
import numpy as np
import pytest
import torch
from torch import nn

from lessons.architecture import builder, compute, graphs, multiply_adds, neurons


def spec_of(model: nn.Module, *shape: int) -> compute.ModelSpec:
    model = model.to("meta").eval()
    return compute.ModelSpec("tiny", "Tiny", model, (torch.empty(1, *shape, device="meta"),), "x", False)


def tiny_cnn() -> nn.Module:
    # 1x4x4 -> Conv2d(1, 2, 3) -> 2x2x2 -> Flatten 8 -> Linear(8, 3)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):  # x: (B, 4)
        return x + self.fc(x)  # (B, 4)


# ----- builder ----------------------------------------------------------------------------------

def test_default_stack_shapes_and_counts_by_hand():
    built = builder.build_stack(builder.DEFAULT_STACK, "1x28x28")
    assert built.ok
    assert [r.output_shape for r in built.rows] == [(16, 28, 28), (16, 28, 28), (16, 14, 14), (32, 14, 14),
                                                    (32, 14, 14), (32, 7, 7), (1568,), (10,)]
    assert [r.parameters for r in built.rows] == [160, 0, 0, 4640, 0, 0, 0, 15690]
    assert "3·3·1·16 + 16 = 160" in built.rows[0].formula


def test_stack_text_round_trips():
    layers = builder.parse_stack("conv:8:5:2:0, relu,pool:2,bn,dropout:25,flatten,linear:10:392")
    assert builder.format_stack(layers) == "conv:8:5:2:0,relu,pool:2,bn,dropout:25,flatten,linear:10:392"
    assert layers[-1] == builder.LayerSpec("linear", (10, 392))


@pytest.mark.parametrize("stack, shape", [
    ("conv:8:5:2:0,bn,relu,pool:2,flatten,linear:7", "1x28x28"),
    ("conv:4:3:2:1,conv:6:3:1:0,pool:3,dropout:10,flatten,linear:5,relu,linear:2", "3x32x32"),
    ("flatten,linear:10", "1x8x8"),
])
def test_builder_shapes_and_counts_match_pytorch(stack, shape):
    built = builder.build_stack(stack, shape)
    assert built.ok, built.error
    model = builder.to_module(built)
    assert sum(p.numel() for p in model.parameters()) == built.total_parameters
    out = model(torch.empty(2, *built.input_shape, device="meta"))  # (2, ...)
    assert tuple(out.shape[1:]) == built.output_shape


@pytest.mark.parametrize("stack, index, words", [
    ("conv:8:3:1:1,linear:10", 1, ["Linear expects a flat vector", "Flatten"]),
    ("flatten,conv:8:3:1:1", 1, ["image-shaped", "784"]),
    ("conv:8:5:1:0,pool:2,pool:2,pool:2,conv:8:5:1:0", 4, ["does not fit", "3x3"]),
    ("pool:2,pool:2,pool:2,pool:2,pool:2", 4, ["only 1x1"]),
    ("conv:32:3:1:1,pool:4,flatten,linear:10:784", 3, ["expects 784", "gives 1,568", "32 × 7 × 7", "Set its input size to 1,568"]),
])
def test_builder_errors_name_the_layer_in_plain_words(stack, index, words):
    built = builder.build_stack(stack, "1x28x28")
    assert not built.ok
    assert built.error.index == index and built.error.layer.startswith(f"layer {index} (")
    for w in words:
        assert w in built.error.message
    assert "Traceback" not in built.error.message
    assert len(built.rows) == index  # the layers before the error are still shown


@pytest.mark.parametrize("stack", ["conv:abc", "foo", "conv:1:2", "linear:0", ",".join(["relu"] * 41)])
def test_unreadable_stacks_give_a_message_not_an_exception(stack):
    built = builder.build_stack(stack, "1x28x28")
    assert not built.ok and built.error.index == -1 and built.error.message


def test_bad_input_shape_and_huge_models_are_refused():
    assert not builder.build_stack("relu", "1x28").ok
    assert not builder.build_stack("flatten,linear:4096,linear:4096:4096,linear:4096,linear:4096", "64x512x512").ok


def test_conv_output_formula():
    assert compute.conv_output_shape(28, 5, 2, 0) == 12
    assert compute.conv_output_shape(28, 3, 1, 1) == 28
    assert compute.conv_output_shape(224, 7, 2, 3) == 112


# ----- table and layer detail --------------------------------------------------------------------

def test_parameter_table_of_a_tiny_cnn_by_hand():
    frame, totals = compute.parameter_table(spec_of(tiny_cnn(), 1, 4, 4), batch_size=10)
    assert list(frame["parameters"]) == [20, 0, 0, 27]  # 3*3*1*2 + 2, 8*3 + 3
    assert list(frame["output shape"]) == ["(1, 2, 2, 2)", "(1, 2, 2, 2)", "(1, 8)", "(1, 3)"]
    assert list(frame["multiply-adds"]) == [72, 0, 0, 24]  # 8 outputs x 9 taps; 3 outputs x 8 inputs
    assert totals["parameters"] == 47 and totals["multiply_adds"] == 96
    assert totals["activation_mb"] == pytest.approx((8 + 8 + 8 + 3) * 10 * 4 / 1e6)
    assert frame["% of total"].sum() == pytest.approx(100.0)


def test_table_depth_collapses_containers_and_keeps_own_parameters():
    class WithToken(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Parameter(torch.zeros(5))
            self.body = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 2)))

        def forward(self, x):
            return self.body(x) + self.token[:2]

    spec = spec_of(WithToken(), 4)
    deep, totals = compute.parameter_table(spec)
    shallow, _ = compute.parameter_table(spec, depth=1)
    assert totals["parameters"] == 5 + 20 + 10
    assert deep["parameters"].sum() == shallow["parameters"].sum() == 35
    assert list(shallow["layer"]) == ["body", "token"]
    assert list(deep["layer"]) == ["body.0", "body.1.0", "token"]


def test_parameter_formulas():
    assert compute.parameter_formula(nn.Conv2d(3, 16, 3)) == "k·k·C_in·C_out + C_out = 3·3·3·16 + 16 = 448"
    assert "5·5·1·8 = 200 (no bias)" in compute.parameter_formula(nn.Conv2d(8, 8, 5, groups=8, bias=False))
    assert compute.parameter_formula(nn.Linear(784, 10)) == "in·out + out = 784·10 + 10 = 7,850"
    assert "2·32 = 64" in compute.parameter_formula(nn.BatchNorm2d(32))


def test_layer_detail_counts_flops_as_two_per_multiply_add():
    spec = spec_of(tiny_cnn(), 1, 4, 4)
    detail = compute.layer_detail(spec, "0")
    assert detail["parameters"] == 20 and detail["multiply_adds"] == 72 and detail["flops"] == 144


def test_histogram_of_an_untrained_layer_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, stats_a = compute.layer_weight_histogram("resnet18", "conv1", seed=1)
    b, _ = compute.layer_weight_histogram("resnet18", "conv1", seed=1)
    c, _ = compute.layer_weight_histogram("resnet18", "conv1", seed=2)
    assert torch.equal(before, torch.random.get_rng_state())
    assert a.equals(b) and not a.equals(c)
    assert stats_a["values"] == 64 * 3 * 7 * 7 == a["count"].sum()
    assert "untrained" in stats_a["source"]


def test_reading_trained_weights_leaves_the_zoo_model_untouched():
    from models import zoo

    model, _ = zoo.load("digits_cnn")
    before = model.features.conv1.weight.clone()
    _, stats = compute.layer_weight_histogram("digits_cnn", "features.conv1")
    assert stats["source"] == "trained values"
    assert torch.equal(before, model.features.conv1.weight) and zoo.count_hooks(model) == 0
    assert stats["mean"] == pytest.approx(float(before.mean()), abs=1e-6)


def test_builder_model_spec_and_error():
    spec = compute.build_model("builder", "flatten,linear:3", "1x2x2")
    assert compute.parameter_count(spec.model) == 15
    with pytest.raises(ValueError, match="flat vector"):
        compute.build_model("builder", "linear:3", "1x2x2")


# ----- graphs -------------------------------------------------------------------------------------

def test_layer_diagram_of_a_chain():
    d = graphs.layer_diagram(spec_of(tiny_cnn(), 1, 4, 4), depth=1)
    kinds = [b.kind for b in d.boxes]
    assert kinds[0] == "input" and kinds[-1] == "output" and kinds.count("module") == 4
    assert d.merge_boxes == [] and len(d.edges) == 5
    assert "params: 20" in d.dot and "in: (1, 1, 4, 4)" in d.dot and "out: (1, 2, 2, 2)" in d.dot


def test_residual_add_receives_two_arrows():
    d = graphs.layer_diagram(spec_of(Residual(), 4), depth=1)
    assert [b.type_name for b in d.merge_boxes] == ["add"]


def test_identical_blocks_roll_into_one_box():
    spec = spec_of(nn.Sequential(*[nn.Linear(4, 4) for _ in range(3)], nn.Linear(4, 2)), 4)
    rolled = graphs.layer_diagram(spec, depth=1, roll=True)
    flat = graphs.layer_diagram(spec, depth=1, roll=False)
    assert [(b.repeats, b.names) for b in rolled.rolled_boxes] == [(3, ["0", "1", "2"])]
    assert len(flat.boxes) == len(rolled.boxes) + 2
    assert "Linear × 3" in rolled.dot and "params: 20 each, 60 in all" in rolled.dot


def test_diagram_direction_and_determinism():
    spec = spec_of(tiny_cnn(), 1, 4, 4)
    assert "rankdir=LR" in graphs.layer_diagram(spec, direction="left-right").dot
    assert graphs.layer_diagram(spec).dot == graphs.layer_diagram(spec).dot


def test_autograd_graph_colours_count_what_they_mean():
    spec = spec_of(tiny_cnn().requires_grad_(False), 1, 4, 4)
    plain = graphs.autograd_graph(spec, show_saved=False)
    saved = graphs.autograd_graph(spec, show_saved=True)
    assert plain.counts["lightblue"] == plain.parameter_tensors == 4  # two weights, two biases
    assert plain.counts["darkolivegreen1"] == 1 and plain.counts["orange"] == 0
    assert saved.counts["orange"] > 0
    assert plain.counts["lightgrey"] >= 4 + 4  # one AccumulateGrad per parameter plus the operations
    assert not any(p.requires_grad for p in spec.model.parameters())  # flags restored
    assert plain.dot == graphs.autograd_graph(spec).dot  # ids renumbered: stable text


def test_canonical_ids():
    dot = "digraph {\n\t140234 [label=a]\n\t140999 -> 140234\n\t140999 [label=b]\n}"
    assert graphs.canonical_ids(dot) == "digraph {\n\tn0 [label=a]\n\tn1 -> n0\n\tn1 [label=b]\n}\n"


# ----- neurons ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlp_state():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[8:20, 12:16] = 255  # a "1"
    return neurons.mlp_state(neurons.untrained_mlp(0), image, "untrained")


def test_mlp_state_shapes(mlp_state):
    assert [w.shape for w in mlp_state.weights] == [(32, 784), (16, 32), (10, 16)]
    assert [a.shape for a in mlp_state.activations] == [(784,), (32,), (16,), (10,)]
    assert mlp_state.activations[-1].sum() == pytest.approx(1.0, abs=1e-5)
    assert (mlp_state.activations[1] >= 0).all()


def test_network_frames_draw_strongest_inputs_only(mlp_state):
    nodes, edges = neurons.network_frames(mlp_state, per_neuron=3)
    assert len(edges) == 32 * 3 + 16 * 32 + 10 * 16
    first = edges[edges["layer"] == "input → hidden 1"]
    w1 = np.abs(mlp_state.weights[0])
    for neuron, group in first.groupby("to"):
        assert sorted(group["from"]) == sorted(np.argsort(-w1[neuron])[:3])
    assert set(nodes[nodes["layer"] == "input"]["neuron"]) == set(first["from"])
    assert edges["strength"].between(0, 1).all() and edges.groupby("layer")["strength"].max().eq(1).all()


def test_incoming_weights_sorted_and_weight_image(mlp_state):
    frame = neurons.incoming_weights(mlp_state, 2, 5)
    assert len(frame) == 32
    assert list(frame["weight"].abs()) == sorted(frame["weight"].abs(), reverse=True)
    assert neurons.weight_image(mlp_state, 3).shape == (28, 28)


def test_neighbour_correlation_smooth_versus_noise():
    smooth = np.add.outer(np.arange(28.0), np.arange(28.0))
    noise = np.random.default_rng(0).normal(size=(28, 28))
    assert neurons.neighbour_correlation(smooth) > 0.9
    assert abs(neurons.neighbour_correlation(noise)) < 0.15


def test_untrained_mlp_is_seeded():
    a, b, c = neurons.untrained_mlp(3), neurons.untrained_mlp(3), neurons.untrained_mlp(4)
    assert torch.equal(a.fc1.weight, b.fc1.weight) and not torch.equal(a.fc1.weight, c.fc1.weight)


def test_do_it_yourself_notebook_runs_and_agrees_with_the_page(tmp_path):
    from tests.unit.notebook_run import run_notebook

    out = run_notebook("architecture", tmp_path).splitlines()  # diy.py, cell by cell
    assert out[0] == "diagram boxes: 13"  # the page's digits CNN diagram at depth 2 also has 13 boxes
    assert out[1] == "parameters: 105866 = 105866"
    assert out[2] == "parameter boxes: 8 of 8"
    assert out[3] == "conv2 parameters: 4640 = 4640"
    table, totals = compute.parameter_table(compute.build_model("digits_cnn"))
    assert totals["parameters"] == 105866
    assert len(graphs.layer_diagram(compute.build_model("digits_cnn"), depth=2).boxes) == 13


def test_typed_text_is_not_echoed_as_markup():
    built = builder.build_stack("[x](javascript:alert(1))<b>", "1x28x28")
    assert not built.ok
    assert not any(ch in built.error.message for ch in "[]<>*`")


# ----- multiply-adds per module (lessons/architecture/multiply_adds.py) ------------------------------------

class Attend(nn.Module):
    """x -> MultiheadAttention(x, memory, memory): L query tokens, S memory tokens."""

    def __init__(self, batch_first: bool = True, kdim: int | None = None, vdim: int | None = None):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=batch_first, kdim=kdim, vdim=vdim)

    def forward(self, x, memory_k, memory_v):
        return self.attn(x, memory_k, memory_v, need_weights=False)[0]


def attend_spec(batch_first=True, kdim=None, vdim=None, length=3, memory=5) -> compute.ModelSpec:
    model = Attend(batch_first, kdim, vdim).to("meta").eval()
    shape = (lambda n, d: (1, n, d)) if batch_first else (lambda n, d: (n, 1, d))
    inputs = tuple(torch.empty(*shape(n, d), device="meta") for n, d in
                   ((length, 8), (memory, kdim or 8), (memory, vdim or 8)))
    return compute.ModelSpec("attend", "Attend", model, inputs, "x", False)


@pytest.mark.parametrize("batch_first, kdim, vdim, in_projection", [
    (True, None, None, 3 * 8 * 8 + 2 * 5 * 8 * 8),  # packed in_proj_weight: q from 3 tokens, k and v from 5
    (False, None, None, 3 * 8 * 8 + 2 * 5 * 8 * 8),  # sequence first
    (True, 4, 6, 3 * 8 * 8 + 5 * 4 * 8 + 5 * 6 * 8),  # q/k/v_proj_weight of other widths
])
def test_multihead_attention_split_by_hand(batch_first, kdim, vdim, in_projection):
    spec = attend_spec(batch_first, kdim, vdim)
    t = multiply_adds.trace(spec.model, spec.inputs)
    split = t.attention["attn"]
    assert split.in_projection == in_projection
    assert split.out_projection == 3 * 8 * 8  # out_proj on the 3 query tokens
    assert split.products == 2 * 3 * 5 * 8  # Q·Kᵀ (3 x 5 per head) and A·V, over 2 heads of 4
    assert t.total[""] == t.total["attn"] == in_projection + 3 * 8 * 8 + 2 * 3 * 5 * 8
    assert t.total["attn.out_proj"] == 3 * 8 * 8 and t.own["attn"] == in_projection + 2 * 3 * 5 * 8
    assert t.shapes["attn.out_proj"] == t.shapes["attn"]  # never called: its attention's output
    assert sum(t.own.values()) == t.total[""]
    frame, totals = compute.parameter_table(spec, depth=2)
    assert frame["multiply-adds"].sum() == totals["multiply_adds"] == t.total[""]
    assert frame["parameters"].sum() == totals["parameters"]
    assert list(frame["type"]) == ["in-projection (q, k, v)", "attention products", "NonDynamicallyQuantizableLinear"]


def test_module_list_containers_get_their_childrens_multiply_adds():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(4, 4) for _ in range(3))  # never called itself

        def forward(self, x):  # x: (B, 4)
            for layer in self.layers:
                x = layer(x)
            return x @ x.T  # (B, B): a product of the model's own, 2 x 2 x 4 = 16 multiply-adds for B = 2

    spec = spec_of(Stack(), 4)
    spec.inputs = (torch.empty(2, 4, device="meta"),)
    t = multiply_adds.trace(spec.model, spec.inputs)
    assert t.total["layers"] == 3 * 2 * 4 * 4 and t.own["layers"] == 0
    assert t.own[""] == 2 * 2 * 4 and t.total[""] == 3 * 2 * 4 * 4 + 16
    shallow, totals = compute.parameter_table(spec, depth=1)
    assert list(shallow["layer"]) == ["layers", "model (own matrix products)"]
    assert list(shallow["multiply-adds"]) == [96, 16] and totals["multiply_adds"] == 112
    assert list(shallow["output shape"]) == ["(2, 4)", "(2, 2)"]  # the last layer's; x @ x.T


def test_one_layer_detail_of_an_attention_counts_its_own_work():
    spec = attend_spec()
    detail = compute.layer_detail(spec, "attn")
    assert detail["parameters"] == 3 * 8 * 8 + 3 * 8  # in_proj_weight + in_proj_bias, not out_proj
    assert detail["multiply_adds"] == 3 * 8 * 8 + 2 * 5 * 8 * 8 + 2 * 3 * 5 * 8
    assert detail["with_submodules"] == detail["multiply_adds"] + 3 * 8 * 8
    assert "3·E·E + 3·E = 3·8·8 + 3·8 = 216" in detail["formula"] and "out_proj" in detail["formula"]
    assert compute.layer_detail(spec, "attn.out_proj")["multiply_adds"] == 3 * 8 * 8


# ----- structure: imports run one way, page -> views -> view_helpers -----------------------------------

def _imports(path) -> tuple[set[str], set[str]]:
    """(modules imported at the top level, modules imported anywhere) by a file, as dotted names."""
    import ast

    tree = ast.parse(path.read_text())

    def names(nodes):
        out = set()
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module:
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
        return out

    return names(tree.body), names(ast.walk(tree))


def test_lesson_modules_import_one_way():
    from pathlib import Path

    import lessons.architecture as package

    folder = Path(package.__file__).parent
    page = "lessons.architecture.page"
    views = {"lessons.architecture.views_graphs", "lessons.architecture.views_builder"}
    for path in folder.glob("*.py"):
        top, anywhere = _imports(path)
        if path.stem != "page":
            assert page not in anywhere, f"{path.name} imports the page"
        if path.stem not in ("page",) and not path.stem.startswith("views_"):
            assert not views & anywhere, f"{path.name} imports a view"
    top, anywhere = _imports(folder / "page.py")
    assert views <= top and anywhere - top == set()  # the views at the top, nothing inside render()
    for view in ("views_graphs", "views_builder"):
        top, anywhere = _imports(folder / f"{view}.py")
        assert "lessons.architecture.view_helpers" in top and not views & anywhere
