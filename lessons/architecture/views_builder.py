"""The architecture views that build and look inside small models: the model builder (with the conv-shape
checker) and the neurons of a trained and an untrained MLP, with their cached wrapper (plain values in, plain
data out). page.render() shows the open one; what the views share is in view_helpers.py (this module never
imports the page).

No torch at import: both views run after page.go_live() and import compute, neurons and charts (torch,
pandas, altair) inside their functions."""
from __future__ import annotations

import streamlit as st

from lessons import ui
from lessons.architecture import builder, settings
from lessons.architecture.view_helpers import SLUG, diagram, graph, stack_args, stack_controls
from lessons.callbacks import runs_whole

NEURON_CHOICES = tuple([f"hidden 1 #{i}" for i in range(settings.MLP_HIDDEN[0])]
                       + [f"hidden 2 #{i}" for i in range(settings.MLP_HIDDEN[1])]
                       + [f"output #{i}" for i in range(10)])
PER_NEURON = (1, 2, 4, 8, 12)


# ----- cached wrappers (plain values in, plain data out) ------------------------------------------

@st.cache_data(max_entries=16, show_spinner="Running the MLPs…")
def mlp_pictures(digit: int, per_neuron: int, seed: int) -> dict:
    import data
    from lessons.architecture import neurons

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


# ----- builder ----------------------------------------------------------------------------------------

@runs_whole
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


@runs_whole
def _remove_layer(page: ui.LessonPage, index_key: str) -> None:
    items = [i for i in page.value("stack").split(",") if i.strip()]
    index = st.session_state.get(index_key, len(items) - 1)
    if 0 <= index < len(items):
        del items[index]
    page.set_values({"stack": ",".join(items)})


def _builder(page: ui.LessonPage, result: dict) -> list[str]:
    import pandas as pd

    left, right = st.columns([2, 3])
    with left:
        stack_controls(page)
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
    built = builder.build_stack(*stack_args(page))
    result["builder_rows"] = [(r.layer, r.output_shape) for r in built.rows]
    result.update(stack=page.value("stack"), input_shape=page.value("input_shape"))
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
        d = diagram("builder", 3, "top-down", False, *stack_args(page))
        graph(d["dot"], "Your model as a layer diagram (torchview), one box per layer.")
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
            from lessons.architecture import compute

            truth = compute.conv_output_shape(size, kernel, stride, padding)
            formula = f"floor(({size} + 2·{padding} − {kernel}) / {stride}) + 1 = {truth}"
            if truth < 1:
                st.warning(f"The kernel does not fit: {formula}.")
            elif guess == truth:
                st.success(f"Right: {formula}.")
            else:
                st.error(f"Not quite: {formula}.")


# ----- neurons -----------------------------------------------------------------------------------------

def _neurons(page: ui.LessonPage, result: dict) -> list[str]:
    from lessons.architecture import charts, neurons

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
