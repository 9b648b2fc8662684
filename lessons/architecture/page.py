"""Model architecture: layer diagram, autograd graph, parameter table, one layer, builder, compare, neurons.

Thin page: widgets -> cached wrappers (plain values in) -> compute/graphs/neurons -> charts -> st.*.
Only the open view is drawn and computed: a segmented control bound to the URL picks it. Its controls keep
their values while another view is open (Streamlit keeps a bound widget's value when it is not drawn).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lessons import ui
from lessons.architecture import builder, charts, compute, graphs, neurons

SLUG = "architecture"
VIEWS = ("Layer diagram", "Autograd graph", "Parameter table", "One layer", "Model builder", "Compare",
         "Neurons")
AUTOGRAD_MAX_BOXES = 900  # larger graphs are offered as a download only (too slow to lay out in a browser)
NEURON_CHOICES = tuple([f"hidden 1 #{i}" for i in range(neurons.MLP_HIDDEN[0])]
                       + [f"hidden 2 #{i}" for i in range(neurons.MLP_HIDDEN[1])]
                       + [f"output #{i}" for i in range(10)])
DEPTHS = (1, 2, 3, 4, 5, 6)
BATCH_SIZES = (1, 8, 32, 128, 512)
PER_NEURON = (1, 2, 4, 8, 12)
# Streamlit 1.67 leaves a bound widget's value out of the URL (and ignores it there) when it equals the
# widget's own default: the first option, the minimum, False. So every shareable control here either has
# the lesson default as that widget default or is a segmented control (whose own default is "none").
DEFAULTS = {
    "view": VIEWS[0], "model": "digits_cnn", "depth": 2, "direction": "top-down", "unroll": False,
    "show_saved": False, "batch": 32, "layer": "features.conv1", "seed": 0,
    "stack": builder.DEFAULT_STACK, "input_shape": "1x28x28", "model_a": "vgg11", "model_b": "resnet18",
    "digit": 0, "per_neuron": 4, "neuron": "hidden 1 #0", "mlp_seed": 0,
}


# ----- cached wrappers (plain values in, plain data out) ------------------------------------------

@st.cache_data(max_entries=64, show_spinner="Tracing the model…")
def diagram(name: str, depth: int, direction: str, roll: bool, stack: str, input_shape: str) -> dict:
    spec = compute.build_model(name, stack, input_shape, device=compute.trace_device(name))
    d = graphs.layer_diagram(spec, depth, direction, roll)
    return {"dot": d.dot, "boxes": len(d.boxes), "merges": [b.type_name for b in d.merge_boxes],
            "rolled": [(b.type_name, b.repeats, b.names[0], b.names[-1]) for b in d.rolled_boxes],
            "title": spec.title, "input": spec.input_text}


@st.cache_data(max_entries=32, show_spinner="Building the autograd graph…")
def autograd(name: str, show_saved: bool, stack: str, input_shape: str) -> dict:
    g = graphs.autograd_graph(compute.build_model(name, stack, input_shape, device=compute.trace_device(name)),
                              show_saved)
    return {"dot": g.dot, "counts": g.counts, "parameter_tensors": g.parameter_tensors}


@st.cache_data(max_entries=64, show_spinner="Counting parameters…")
def table(name: str, depth: int, batch: int, stack: str, input_shape: str) -> tuple[pd.DataFrame, dict]:
    spec = compute.build_model(name, stack, input_shape)
    frame, totals = compute.parameter_table(spec, depth, batch)
    totals["fc_share"] = compute.parameter_share_by_kind(spec)["fully connected"] / max(totals["parameters"], 1)
    totals["title"] = spec.title
    return frame, totals


@st.cache_data(max_entries=32)
def layer_choices(name: str, stack: str, input_shape: str) -> list[str]:
    try:
        return compute.layer_names(compute.build_model(name, stack, input_shape))
    except ValueError:  # the builder's stack has an error: the page says so
        return []


@st.cache_data(max_entries=64)
def layer_info(name: str, layer: str, seed: int, stack: str, input_shape: str) -> dict:
    spec = compute.build_model(name, stack, input_shape)
    detail = compute.layer_detail(spec, layer)
    detail["tensors"] = compute.layer_parameters(spec, layer)
    detail["histogram"], detail["stats"] = compute.layer_weight_histogram(name, layer, seed, stack, input_shape)
    return detail


@st.cache_data(max_entries=32, show_spinner="Comparing…")
def comparison(a: str, b: str, stack: str, input_shape: str) -> pd.DataFrame:
    return compute.compare_models(compute.build_model(a, stack, input_shape), compute.build_model(b, stack, input_shape))


@st.cache_data(max_entries=16, show_spinner="Running the MLPs…")
def mlp_pictures(digit: int, per_neuron: int, seed: int) -> dict:
    import data

    images, labels = data.load_mnist5k()
    _, heldout = data.mnist5k_split()
    index = int(heldout[digit])
    model, source = neurons.trained_mlp()
    trained = neurons.mlp_state(model, images[index], source)
    untrained = neurons.mlp_state(neurons.untrained_mlp(seed), images[index], f"untrained, seed {seed}")
    return {"image": images[index], "label": int(labels[index]), "trained": trained, "untrained": untrained,
            "frames": {k: neurons.network_frames(s, per_neuron) for k, s in
                       (("trained", trained), ("untrained", untrained))},
            "summary": neurons.weight_summary(trained, untrained)}


# ----- the page -------------------------------------------------------------------------------------

def render() -> None:
    page = ui.LessonPage(SLUG, "Model architecture", DEFAULTS)
    page.header(
        "Before you train a model, or when you pick one up, you want to know what it is: how an input "
        "flows from layer to layer, what shape the data has in between, where the parameters (and the "
        "memory and compute) are, and which blocks repeat. Every model here but the two tiny digit models "
        "is traced on PyTorch's *meta* device: shapes without values, so even a 133-million-parameter network "
        "costs nothing to inspect.",
        ["Read a layer diagram: shapes between layers, parameters per box, repeated blocks.",
         "Tell the autograd graph's boxes apart (parameters, backward operations, saved tensors, the loss).",
         "Work out a layer's parameter count and output shape by hand, and check it.",
         "Spot where a model keeps its parameters and what a residual connection looks like."],
        phases=["Before training"],
    )
    stack_slot = _model_picker(page)
    view = page.control(st.segmented_control, "view", "View", list(VIEWS), required=True,
                        label_visibility="collapsed")
    if view != "Model builder":  # the builder view draws these itself
        with stack_slot.expander("My model: the builder's layer stack", expanded=page.value("model") == "builder"):
            _stack_controls(page)
    result: dict = {"model": page.value("model"), "depth": page.value("depth")}
    drawers = {"Layer diagram": _layer_diagram, "Autograd graph": _autograd_graph, "Parameter table": _table,
               "One layer": _one_layer, "Model builder": _builder, "Compare": _compare, "Neurons": _neurons}
    sentences = drawers[view](page, result)
    page.what_you_see(sentences or ["Pick a view above."])
    page.try_this(_experiments(), result)
    page.quiz(_quiz())
    page.do_it_yourself(Path(__file__).with_name("diy.py"),
                        "The layer diagram, the parameter table and the autograd graph with the libraries "
                        "themselves (torchview, torchinfo, torchviz), on the course's digits CNN:")
    page.reading([
        ui.Reading("torchview", "https://github.com/mert-kurttutan/torchview",
                   "the layer diagrams (depth, nested modules, rolling repeated modules)"),
        ui.Reading("torchinfo", "https://github.com/TylerYep/torchinfo", "the parameter table"),
        ui.Reading("PyTorchViz (torchviz)", "https://github.com/szagoruyko/pytorchviz",
                   "make_dot: the autograd graph and what its colours mean"),
        ui.Reading("Keras plot_model", "https://keras.io/api/utils/model_plotting_utils/",
                   "the layer-diagram style this page follows"),
        ui.Reading("PyTorch: Conv2d", "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html",
                   "the output-shape formula"),
        ui.Reading("Simonyan & Zisserman, Very Deep Convolutional Networks (VGG), 2014",
                   "https://arxiv.org/abs/1409.1556"),
        ui.Reading("He et al., Deep Residual Learning (ResNet), 2015", "https://arxiv.org/abs/1512.03385"),
        ui.Reading("Springenberg et al., Striving for Simplicity: The All Convolutional Net, 2014",
                   "https://arxiv.org/abs/1412.6806"),
        ui.Reading("Iandola et al., SqueezeNet, 2016", "https://arxiv.org/abs/1602.07360"),
        ui.Reading("TensorFlow Playground", "https://playground.tensorflow.org",
                   "the neuron-level picture with weights as lines"),
    ])


def _model_picker(page: ui.LessonPage) -> DeltaGenerator:
    """Model and depth; returns a slot under the model for the builder's stack (filled once the view is known)."""
    left, right = st.columns([3, 2])
    page.control(left.selectbox, "model", "Model", list(compute.MODELS), on_change=_reset_layer, args=(page,),
                 help="Used by the diagram, autograd graph, table and one-layer views. Untrained torchvision "
                      "models are built on the meta device: no weights are downloaded or stored.")
    left.caption(compute.MODELS[page.value("model")])
    page.control(right.segmented_control, "depth", "Depth (how far nested modules are opened)", DEPTHS, required=True,
                 help="1 shows the model's direct children; deeper opens the blocks inside them.")
    return left.container()


def _stack_controls(page: ui.LessonPage) -> None:
    """The builder's input shape and layer stack. Drawn on every view (in the builder, or under the model
    picker), so "My model" and its share link work everywhere."""
    page.control(st.selectbox, "input_shape", "Input (channels x height x width)", list(builder.INPUT_SHAPES))
    page.control(st.text_input, "stack", "Layer stack (part of the share link)",
                 help="conv:OUT:K:S:P, pool:K, bn, relu, dropout:PERCENT, flatten, linear:OUT or "
                      "linear:OUT:IN (IN written by hand), separated by commas.")


def _first(default: str, options: list[str]) -> list[str]:
    """Options with the default first (see the note above DEFAULTS)."""
    return [default] + [o for o in options if o != default]


def _graph(page: ui.LessonPage, dot: str, caption: str) -> None:
    """A DOT graph at its natural size (scaled to the column it would be unreadably large), with a caption."""
    st.graphviz_chart(dot, width="content")
    st.caption(caption)


def _reset_layer(page: ui.LessonPage) -> None:
    choices = layer_choices(page.value("model"), page.value("stack"), page.value("input_shape"))
    if choices:
        page.set_values({"layer": choices[0]})


def _stack_args(page: ui.LessonPage) -> tuple[str, str]:
    return page.value("stack"), page.value("input_shape")


def _builder_broken(page: ui.LessonPage) -> bool:
    if page.value("model") != "builder":
        return False
    built = builder.build_stack(*_stack_args(page))
    if not built.ok:
        st.warning(f"Your model in the Model builder view has an error ({built.error.layer}): fix it there first.")
    return not built.ok


# ----- views ----------------------------------------------------------------------------------------

def _layer_diagram(page: ui.LessonPage, result: dict) -> list[str]:
    controls, picture = st.columns([1, 3])
    page.control(controls.radio, "direction", "Direction", list(graphs.DIRECTIONS))
    page.control(controls.toggle, "unroll", "Show repeated blocks one by one",
                 help="Off: runs of identical blocks (same type, parameters and shapes) are rolled into one box "
                      "\u201c\u00d7 N\u201d.")
    if _builder_broken(page):
        return []
    d = diagram(page.value("model"), page.value("depth"), page.value("direction"), not page.value("unroll"),
                *_stack_args(page))
    controls.download_button("Download DOT", d["dot"], file_name=f"{page.value('model')}_depth{page.value('depth')}.dot",
                             mime="text/vnd.graphviz", key=f"{SLUG}._download_diagram")
    controls.caption("Green boxes hold parameters, white ones have none, orange ones are rolled-up repeats, "
                     "light blue ones are functions called in forward (add, flatten...).")
    with picture:
        _graph(page, d["dot"], f"{d['title']} at depth {page.value('depth')}: {d['boxes']} boxes, traced with "
                   f"torchview from {d['input']}. Each box: name : type, input and output shape (batch of 1), "
                   "parameters.")
    result.update(merges=len(d["merges"]), boxes=d["boxes"])
    out = [f"At depth {page.value('depth')}, {d['title']} is drawn as {d['boxes']} boxes."]
    if d["merges"]:
        kinds = ", ".join(sorted(set(d["merges"])))
        out.append(f"{len(d['merges'])} boxes receive two or more arrows ({kinds}): there the data flow "
                   "joins again, for example a residual connection adding a block's input to its output.")
    else:
        out.append("No box receives two arrows: the data flows as a plain chain at this depth.")
    for type_name, repeats, first, last in d["rolled"]:
        out.append(f"{repeats} identical {type_name} blocks ({first} … {last}) are rolled into one box.")
    return out


def _autograd_graph(page: ui.LessonPage, result: dict) -> list[str]:
    controls, picture = st.columns([1, 3])
    page.control(controls.toggle, "show_saved", "show_saved", help="Also draw the tensors the forward pass saves for backward.")
    if _builder_broken(page):
        return []
    g = autograd(page.value("model"), page.value("show_saved"), *_stack_args(page))
    counts = g["counts"]
    controls.markdown(
        "**What the colours are** (torchviz `make_dot`):\n"
        f"- :blue-background[light blue] ({counts['lightblue']}): leaf tensors that require grad, "
        "i.e. the parameters\n"
        f"- :gray-background[gray] ({counts['lightgrey']}): backward operations (`grad_fn` nodes such as "
        "`ConvolutionBackward0`; `AccumulateGrad` writes into a parameter's `.grad`)\n"
        f"- :orange-background[orange] ({counts['orange']}): tensors saved in the forward pass for backward\n"
        f"- :green-background[green] ({counts['darkolivegreen1']}): the tensor passed in, here the loss\n\n"
        "None of these boxes is a gradient: gradients are computed when `.backward()` runs this graph.")
    controls.download_button("Download DOT", g["dot"], file_name=f"{page.value('model')}_autograd.dot",
                             mime="text/vnd.graphviz", key=f"{SLUG}._download_autograd")
    boxes = sum(counts.values())
    with picture:
        if boxes > AUTOGRAD_MAX_BOXES:
            st.info(f"This autograd graph has {boxes:,} boxes: too many to lay out in the browser. Download "
                    "the DOT file, pick a smaller model, or switch show_saved off.")
        else:
            loss = ("the mean square of the last hidden states (MiniLM has no classifier head)"
                    if page.value("model") == "minilm" else "cross-entropy(model(x), class 0)")
            _graph(page, g["dot"], f"torchviz make_dot of {loss} for one example; arrows point the way the "
                   "forward pass went, backward walks them in reverse.")
    result.update(autograd=counts, parameter_tensors=g["parameter_tensors"])
    return [f"The autograd graph has {counts['lightblue']} light-blue boxes, one per parameter tensor of the "
            f"model ({g['parameter_tensors']} tensors), and {counts['lightgrey']} gray backward operations."
            + (f" {counts['orange']} orange boxes are tensors the forward pass saved for backward."
               if page.value("show_saved") else " Switch show_saved on to see the tensors kept for backward.")]


def _table(page: ui.LessonPage, result: dict) -> list[str]:
    cols = st.columns([1, 1, 1, 1.5])
    page.control(cols[3].segmented_control, "batch", "Batch size", BATCH_SIZES, required=True)
    if _builder_broken(page):
        return []
    frame, totals = table(page.value("model"), page.value("depth"), page.value("batch"), *_stack_args(page))
    cols[0].metric("Parameters", f"{totals['parameters']:,}")
    cols[1].metric("Size (float32)", f"{totals['size_mb']:,.2f} MB")
    cols[2].metric("Multiply-adds per example", f"{totals['multiply_adds'] / 1e6:,.1f} M")
    with cols[3]:
        st.caption(f"Activation memory: **{totals['activation_mb']:,.1f} MB** (every layer's output for "
                   f"{totals['batch_size']} example{'s' if totals['batch_size'] > 1 else ''}, float32)")
    st.dataframe(frame, hide_index=True, height=min(38 + 35 * len(frame), 420),
                 column_config={"% of total": st.column_config.NumberColumn(format="%.2f %%"),
                                "parameters": st.column_config.NumberColumn(format="localized"),
                                "multiply-adds": st.column_config.NumberColumn(format="localized")})
    page.chart(charts.parameter_bars(frame, height=page.chart_height(300)),
               "Parameters per layer, in the order the layers run (layers without parameters left out).")
    result.update(fc_share=totals["fc_share"], parameters=totals["parameters"])
    top = frame.sort_values("parameters", ascending=False).iloc[0] if len(frame) else None
    out = [f"{totals['title']} has {totals['parameters']:,} parameters ({totals['size_mb']:,.1f} MB as float32) "
           f"and needs {totals['multiply_adds'] / 1e6:,.1f} million multiply-adds per example."]
    if top is not None and top["parameters"] > 0:
        out.append(f"The largest row, {top['layer']} ({top['type']}), holds {top['% of total']:.1f} % of them.")
    out.append(f"Fully connected (Linear) layers hold {100 * totals['fc_share']:.1f} % of the parameters.")
    return out


def _one_layer(page: ui.LessonPage, result: dict) -> list[str]:
    choices = layer_choices(page.value("model"), *_stack_args(page))
    if choices and page.value("layer") not in choices:
        page.set_values({"layer": choices[0]})
    controls, picture = st.columns([2, 3])
    with controls:
        if choices:
            page.control(st.selectbox, "layer", "Layer", choices)
        page.control(st.number_input, "seed", "Seed (initialisation of untrained layers)", 0, 10_000)
    if _builder_broken(page) or not choices:
        return []
    with controls:
        info = layer_info(page.value("model"), page.value("layer"), page.value("seed"), *_stack_args(page))
        st.code(info["module"], language=None, wrap_lines=True)
        st.dataframe(info["tensors"], hide_index=True)
        st.markdown(f"**Parameters:** {info['formula']}")
        st.markdown(f"**Multiply-adds:** {info['multiply_adds']:,} per example, i.e. {info['flops']:,} FLOPs "
                    "(a multiply and an add each)")
    stats = info["stats"]
    with picture:
        page.chart(charts.weight_histogram(info["histogram"], f"{page.value('layer')}: {stats['source']}",
                                           height=page.chart_height(300)),
                   f"Histogram of the layer's {stats['values']:,} weights ({stats['source']}).")
    return [f"{info['layer']} ({info['type']}) owns {info['parameters']:,} parameters "
            f"({100 * info['share']:.2f} % of the model): {info['formula']}.",
            f"Its weights ({stats['source']}) have mean {stats['mean']:.4f} and standard deviation "
            f"{stats['std']:.4f}, from {stats['min']:.3f} to {stats['max']:.3f}."]


# ----- builder ----------------------------------------------------------------------------------------

def _add_layer(page: ui.LessonPage) -> None:
    s = st.session_state
    kind = s[f"{SLUG}._add_kind"]
    def get(name: str) -> int:
        return int(s[f"{SLUG}._add_{name}"])

    if kind == "conv":
        args = (get("out"), get("kernel"), get("stride"), get("pad"))
    elif kind == "pool":
        args = (get("kernel"),)
    elif kind == "dropout":
        args = (get("rate"),)
    elif kind == "linear":
        args = (get("out"),) + ((get("in"),) if get("in") else ())
    else:
        args = ()
    text = builder.LayerSpec(kind, tuple(int(a) for a in args)).text()
    current = page.value("stack").strip().strip(",")
    page.set_values({"stack": f"{current},{text}" if current else text})


def _remove_layer(page: ui.LessonPage, index_key: str) -> None:
    items = [i for i in page.value("stack").split(",") if i.strip()]
    index = st.session_state.get(index_key, len(items) - 1)
    if 0 <= index < len(items):
        del items[index]
    page.set_values({"stack": ",".join(items)})


def _builder(page: ui.LessonPage, result: dict) -> list[str]:
    left, right = st.columns([2, 3])
    with left:
        _stack_controls(page)
        with st.container(border=True):
            kind = st.selectbox("Add a layer", builder.LAYER_KINDS, format_func=builder.LAYER_TITLES.get,
                                key=f"{SLUG}._add_kind")
            c1, c2 = st.columns(2)
            if kind in ("conv", "linear"):
                c1.number_input("Output channels / features", 1, builder.MAX_WIDTH, 16, key=f"{SLUG}._add_out")
            if kind in ("conv", "pool"):
                c2.number_input("Kernel size", 1, 15, 3 if kind == "conv" else 2, key=f"{SLUG}._add_kernel")
            if kind == "conv":
                c1.number_input("Stride", 1, 8, 1, key=f"{SLUG}._add_stride")
                c2.number_input("Padding", 0, 8, 1, key=f"{SLUG}._add_pad")
            if kind == "dropout":
                c1.number_input("Drop rate (%)", 0, 95, 25, key=f"{SLUG}._add_rate")
            if kind == "linear":
                c2.number_input("Input features (0 = work it out)", 0, 1_000_000, 0, key=f"{SLUG}._add_in")
            b1, b2 = st.columns(2)
            b1.button("Add to the end", on_click=_add_layer, args=(page,), key=f"{SLUG}._add", icon=":material/add:")
            count = len([i for i in page.value("stack").split(",") if i.strip()])
            if count:
                index_key = f"{SLUG}._remove_index.{count}"  # a new stack length starts at its last layer again
                b2.selectbox("Layer to remove", list(range(count)), index=count - 1, key=index_key,
                             label_visibility="collapsed", format_func=lambda i: f"layer {i}")
                b2.button("Remove", on_click=_remove_layer, args=(page, index_key), key=f"{SLUG}._remove",
                          icon=":material/delete:")
        _conv_shape_checker()
    built = builder.build_stack(*_stack_args(page))
    result["builder_rows"] = [(r.layer, r.output_shape) for r in built.rows]
    result["builder_error"] = built.error.layer if built.error else None
    with right:
        if built.rows:
            st.dataframe(pd.DataFrame([{"#": r.index, "layer": r.layer, "input": _dims(r.input_shape),
                                        "output": _dims(r.output_shape), "parameters": r.parameters,
                                        "how the count comes about": r.formula} for r in built.rows]),
                         hide_index=True, column_config={"how the count comes about": st.column_config.TextColumn(width="medium")})
        if not built.ok:
            st.error(f"**{built.error.layer}**: {built.error.message}", icon=":material/error:")
            return [f"The stack stops at {built.error.layer}: {built.error.message}"]
        st.metric("Parameters", f"{built.total_parameters:,}",
                  help="The sum of the last column: equal to sum(p.numel() for p in model.parameters())")
        d = diagram("builder", 3, "top-down", False, *_stack_args(page))
        _graph(page, d["dot"], "Your model as a layer diagram (torchview), one box per layer.")
    return [f"Your {len(built.rows)}-layer model turns {_dims(built.input_shape)} into {_dims(built.output_shape)} with "
            f"{built.total_parameters:,} parameters."]


def _dims(shape: tuple[int, ...]) -> str:
    return " × ".join(map(str, shape))


def _conv_shape_checker() -> None:
    """Predict a conv output size; the page checks it (not part of the share link)."""
    with st.expander("Predict a conv output shape", expanded=False):
        c = st.columns(4)
        size = c[0].number_input("Input size", 1, 512, 28, key=f"{SLUG}._q_size")
        kernel = c[1].number_input("Kernel", 1, 15, 5, key=f"{SLUG}._q_kernel")
        stride = c[2].number_input("Stride", 1, 8, 2, key=f"{SLUG}._q_stride")
        padding = c[3].number_input("Padding", 0, 8, 0, key=f"{SLUG}._q_padding")
        guess = st.number_input("Your answer: output height and width", 0, 1024, None, key=f"{SLUG}._q_guess")
        if guess is not None:
            truth = compute.conv_output_shape(size, kernel, stride, padding)
            formula = f"floor(({size} + 2·{padding} − {kernel}) / {stride}) + 1 = {truth}"
            if truth < 1:
                st.warning(f"The kernel does not fit: {formula}.")
            elif guess == truth:
                st.success(f"Right: {formula}.")
            else:
                st.error(f"Not quite: {formula}.")


# ----- compare, neurons ----------------------------------------------------------------------------------

def _compare(page: ui.LessonPage, result: dict) -> list[str]:
    c1, c2 = st.columns(2)
    names = [n for n in compute.MODELS]
    for column, name in ((c1, "model_a"), (c2, "model_b")):  # the default first: see _first
        page.control(column.selectbox, name, f"Model {name[-1].upper()}", _first(DEFAULTS[name], names))
    a, b = page.value("model_a"), page.value("model_b")
    if "builder" in (a, b) and not builder.build_stack(*_stack_args(page)).ok:
        st.warning("Your model in the Model builder view has an error: fix it there first.")
        return []
    frame = comparison(a, b, *_stack_args(page))
    st.dataframe(frame.astype(str), width="stretch")
    st.caption("Weight layers count every Conv2d and Linear; multiply-adds are for one example; the largest "
               "layer is the module that owns the most parameters itself.")
    bars = pd.DataFrame({"model": list(frame.columns),
                         "parameters": [int(v) for v in frame.loc["parameters"]],
                         "multiply-adds": [int(v) for v in frame.loc["multiply-adds (batch 1)"]]})
    cols = st.columns(2)
    for column, value in zip(cols, ("parameters", "multiply-adds")):
        with column:
            page.chart(charts.compare_bars(bars, value), f"{value.capitalize()} (one example)")
    ta, tb = frame.columns[0], frame.columns[-1]
    pa, pb = int(frame.loc["parameters", ta]), int(frame.loc["parameters", tb])
    return [f"{ta} has {pa:,} parameters and {tb} has {pb:,}: {max(pa, pb) / max(min(pa, pb), 1):,.1f} times "
            f"as many in {'A' if pa >= pb else 'B'}.",
            f"{ta}'s largest layer is {frame.loc['largest layer', ta]} with {frame.loc['largest layer' + chr(39) + 's share', ta]} "
            f"of its parameters; {tb}'s is {frame.loc['largest layer', tb]} with "
            f"{frame.loc['largest layer' + chr(39) + 's share', tb]}."]


def _neurons(page: ui.LessonPage, result: dict) -> list[str]:
    c = st.columns(4)
    page.control(c[0].slider, "digit", "Held-out digit #", 0, 99)
    page.control(c[1].segmented_control, "per_neuron", "Input lines per hidden-1 neuron", PER_NEURON, required=True,
                 help="784 inputs are too many to draw: each first-layer neuron shows its strongest connections.")
    page.control(c[2].selectbox, "neuron", "Selected neuron", list(NEURON_CHOICES))
    page.control(c[3].number_input, "mlp_seed", "Seed of the untrained MLP", 0, 10_000)
    p = mlp_pictures(page.value("digit"), page.value("per_neuron"), page.value("mlp_seed"))
    layer_name, index = page.value("neuron").rsplit(" #", 1)
    layer, index = neurons.LAYER_NAMES.index(layer_name), int(index)
    st.caption(f"Input: a held-out digit {p['label']}. Each first-layer neuron is drawn with only its "
               f"{page.value('per_neuron')} strongest of 784 input connections (so only the pixels they come from "
               "appear); all other layers are drawn in full. Line width: |weight| relative to the largest in "
               "its layer; blue positive, red negative. Dot shade: the neuron's activation for this digit.")
    left, right = st.columns(2)
    for column, key, title in ((left, "trained", f"Trained: predicts {p['trained'].prediction}"),
                               (right, "untrained", f"Untrained (seed {page.value('mlp_seed')}): predicts "
                                                    f"{p['untrained'].prediction}")):
        nodes, edges = p["frames"][key]
        with column:
            page.chart(charts.network_chart(nodes, edges, title, (layer_name, index), height=page.chart_height(480)),
                       p[key].source)
    incoming_t = neurons.incoming_weights(p["trained"], layer, index)
    incoming_u = neurons.incoming_weights(p["untrained"], layer, index)
    st.markdown(f"**Incoming weights of {page.value('neuron')}** (largest first)")
    left, right = st.columns(2)
    left.dataframe(incoming_t.head(12), hide_index=True)
    right.dataframe(incoming_u.head(12), hide_index=True)
    if layer == 1:
        for column, key, caption in ((left, "trained", "The neuron's 784 input weights laid out as the 28x28 "
                                                       "image they multiply."),
                                     (right, "untrained", "The same neuron before training: noise.")):
            with column:
                st.altair_chart(charts.weight_image(neurons.weight_image(p[key], index), f"{key}: its 784 weights",
                                                    height=page.chart_height(220)), width="content")
                st.caption(caption)
    st.dataframe(p["summary"], hide_index=True)
    s = p["summary"]
    ct = neurons.neighbour_correlation(neurons.weight_image(p["trained"], index if layer == 1 else 0))
    cu = neurons.neighbour_correlation(neurons.weight_image(p["untrained"], index if layer == 1 else 0))
    result.update(mlp_trained_prediction=p["trained"].prediction, mlp_label=p["label"])
    return [f"For this digit {p['label']}, the trained MLP predicts {p['trained'].prediction} "
            f"(probability {p['trained'].activations[-1].max():.2f}); the untrained one predicts "
            f"{p['untrained'].prediction} (probability {p['untrained'].activations[-1].max():.2f}).",
            f"Training made the first layer's weights larger on average: mean |w| {s.iloc[0]['mean |w| trained']:.4f} "
            f"trained against {s.iloc[0]['mean |w| untrained']:.4f} untrained.",
            f"A first-layer neuron's weights, seen as an image, form smooth strokes after training: neighbouring "
            f"weights correlate at {ct:.2f} (untrained: {cu:.2f})."]


# ----- try this, quiz -------------------------------------------------------------------------------------

def _experiments() -> list[ui.Experiment]:
    def conv_check(r):
        rows = r.get("builder_rows") or []
        if not rows:
            return False, "Open the Model builder view to see the result."
        shape = rows[0][1]
        return shape[1:] == (12, 12), f"The builder says {rows[0][0]} turns 1x28x28 into {shape}."

    def vgg_check(r):
        if "fc_share" not in r:
            return False, "Open the Parameter table view to see the result."
        return r["model"] == "vgg11" and r["fc_share"] > 0.85, \
            f"The fully connected layers hold {100 * r['fc_share']:.1f} % of this model's parameters."

    def residual_check(r):
        if "merges" not in r:
            return False, "Open the Layer diagram view to see the result."
        return r["model"] == "resnet18" and r["merges"] > 0, \
            f"{r['merges']} boxes receive two arrows in this diagram (VGG-11 at any depth has none)."

    return [
        ui.Experiment("conv_shape", "Predict a conv output shape",
                      {"view": "Model builder", "input_shape": "1x28x28", "stack": "conv:8:5:2:0"},
                      "A 28x28 image goes through Conv2d(1, 8, kernel_size=5, stride=2, padding=0). What height "
                      "and width come out?", ("24 x 24", "12 x 12", "14 x 14", "28 x 28"), 1, conv_check),
        ui.Experiment("vgg", "Where VGG keeps its parameters",
                      {"view": "Parameter table", "model": "vgg11", "depth": 2},
                      "VGG-11 has 8 convolution layers and 3 fully connected ones. Which hold most of its "
                      "132.9 M parameters?", ("the convolutions", "the fully connected layers",
                                              "about half each"), 1, vgg_check),
        ui.Experiment("residual", "A residual connection in the graph",
                      {"view": "Layer diagram", "model": "resnet18", "depth": 3},
                      "Open ResNet-18's blocks (depth 3). Will some box receive two arrows, unlike VGG's plain chain?",
                      ("yes: the add at the end of each block", "no: it is a chain too"), 0, residual_check),
    ]


def _quiz() -> list[ui.QuizQuestion]:
    return [
        ui.QuizQuestion("How many parameters has Conv2d(3, 16, kernel_size=3) (with bias)?",
                        ("432", "448", "144", "160"), 1,
                        "k·k·C_in·C_out + C_out = 3·3·3·16 + 16 = 448: one 3x3x3 filter per output channel plus "
                        "one bias each."),
        ui.QuizQuestion("SqueezeNet 1.1 classifies the same 1,000 ImageNet classes as VGG-11 with about 1.2 M "
                        "parameters instead of 132.9 M. Why so few?",
                        ("It has no large fully connected layers: a 1x1 convolution and global average pooling "
                         "produce the class scores", "It works on smaller images",
                         "Its convolutions have no bias"), 0,
                        "A Linear layer from a 512x7x7 map to 4,096 units alone has 102.8 M weights in VGG-11. An "
                        "all-convolutional net reuses each small filter at every position, so its count does not grow "
                        "with the image size."),
        ui.QuizQuestion("In torchviz's autograd graph, what are the light-blue boxes?",
                        ("The gradients", "The parameters: leaf tensors that require grad",
                         "The activations of each layer"), 1,
                        "Light blue marks leaf tensors with requires_grad, i.e. the parameters whose .grad the backward "
                        "pass fills. Gray boxes are backward operations, orange ones saved tensors, green the loss."),
    ]
