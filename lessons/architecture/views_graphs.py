"""The architecture views that trace a model: the layer diagram, the autograd graph, the parameter table,
one layer and the comparison of two models, each with its cached wrapper (plain values in, plain data out).
page.render() shows the open one; what the views share is in view_helpers.py (this module never imports the page).

No torch at import: the layer diagram at the page's defaults is drawn from the shipped result; every other
view runs after page.go_live() and imports compute, graphs and charts (torch, pandas, altair) inside its
functions."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import streamlit as st

from lessons import ui
from lessons.architecture import builder, settings
from lessons.architecture.content import fully_connected_sentences
from lessons.architecture.view_helpers import (DEFAULTS, SLUG, builder_broken, first, graph, layer_choices,
                                               shown_diagram, stack_args)

if TYPE_CHECKING:
    import pandas as pd

AUTOGRAD_MAX_BOXES = 900  # larger graphs are offered as a download only (too slow to lay out in a browser)
BATCH_SIZES = (1, 8, 32, 128, 512)


# ----- cached wrappers (plain values in, plain data out) ------------------------------------------

@st.cache_data(max_entries=32, show_spinner="Building the autograd graph…")
def autograd(name: str, show_saved: bool, stack: str, input_shape: str) -> dict:
    from lessons.architecture import compute, graphs

    g = graphs.autograd_graph(compute.build_model(name, stack, input_shape, device=compute.trace_device(name)),
                              show_saved)
    return {"dot": g.dot, "counts": g.counts, "parameter_tensors": g.parameter_tensors}


@st.cache_data(max_entries=64, show_spinner="Counting parameters…")
def table(name: str, depth: int, batch: int, stack: str, input_shape: str) -> tuple[pd.DataFrame, dict]:
    from lessons.architecture import compute

    spec = compute.build_model(name, stack, input_shape)
    frame, totals = compute.parameter_table(spec, depth, batch)
    totals["fully_connected"] = compute.fully_connected_share(spec)
    totals["title"] = spec.title
    return frame, totals


@st.cache_data(max_entries=64)
def layer_info(name: str, layer: str, seed: int, stack: str, input_shape: str) -> dict:
    from lessons.architecture import compute

    spec = compute.build_model(name, stack, input_shape)
    detail = compute.layer_detail(spec, layer)
    detail["attention"] = dataclasses.asdict(detail["attention"]) if detail["attention"] is not None else None
    detail["tensors"] = compute.layer_parameters(spec, layer)
    detail["histogram"], detail["stats"] = compute.layer_weight_histogram(name, layer, seed, stack, input_shape)
    return detail


@st.cache_data(max_entries=32, show_spinner="Comparing…")
def comparison(a: str, b: str, stack: str, input_shape: str) -> pd.DataFrame:
    from lessons.architecture import compute

    return compute.compare_models(compute.build_model(a, stack, input_shape), compute.build_model(b, stack, input_shape))


# ----- views ----------------------------------------------------------------------------------------

def _layer_diagram(page: ui.LessonPage, result: dict) -> list[str]:
    controls, picture = st.columns([1, 3])
    page.control(controls.radio, "direction", "Direction", list(settings.DIRECTIONS))
    page.control(controls.toggle, "unroll", "Show repeated blocks one by one",
                 help="Off: runs of identical blocks (same type, parameters and shapes) are rolled into one box "
                      "\u201c\u00d7 N\u201d.")
    if builder_broken(page):
        return []
    # the shipped default diagram (no torch), or live after page.go_live() once a control has changed
    d, caption, sentences, _ = shown_diagram(page, page.value("model"), page.value("depth"), page.value("direction"),
                                             not page.value("unroll"), *stack_args(page))
    controls.download_button("Download DOT", d["dot"], file_name=f"{page.value('model')}_depth{page.value('depth')}.dot",
                             mime="text/vnd.graphviz", key=f"{SLUG}._download_diagram")
    controls.caption("Green boxes hold parameters, white ones have none, orange ones are rolled-up repeats, "
                     "light blue ones are functions called in forward (add, flatten...).")
    with picture:
        graph(d["dot"], caption)
    result.update(joins=d["joins"], labelled_arrows=d["labelled_arrows"], boxes=d["boxes"], title=d["title"],
                  unroll=page.value("unroll"))
    return sentences


def _autograd_graph(page: ui.LessonPage, result: dict) -> list[str]:
    controls, picture = st.columns([1, 3])
    page.control(controls.toggle, "show_saved", "show_saved", help="Also draw the tensors the forward pass saves for backward.")
    if builder_broken(page):
        return []
    g = autograd(page.value("model"), page.value("show_saved"), *stack_args(page))
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
            graph(g["dot"], f"torchviz make_dot of {loss} for one example; arrows point the way the "
                   "forward pass went, backward walks them in reverse.")
    result.update(autograd=counts, parameter_tensors=g["parameter_tensors"])
    return [f"The autograd graph has {counts['lightblue']} light-blue boxes, one per parameter tensor of the "
            f"model ({g['parameter_tensors']} tensors), and {counts['lightgrey']} gray backward operations."
            + (f" {counts['orange']} orange boxes are tensors the forward pass saved for backward."
               if page.value("show_saved") else " Switch show_saved on to see the tensors kept for backward.")]


def _table(page: ui.LessonPage, result: dict) -> list[str]:
    cols = st.columns([1, 1, 1, 1.5])
    page.control(cols[3].segmented_control, "batch", "Batch size", BATCH_SIZES, required=True)
    if builder_broken(page):
        return []
    from lessons.architecture import charts

    frame, totals = table(page.value("model"), page.value("depth"), page.value("batch"), *stack_args(page))
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
    result.update(fully_connected=totals["fully_connected"]["fully_connected"], parameters=totals["parameters"],
                  title=totals["title"])
    top = frame.sort_values("parameters", ascending=False).iloc[0] if len(frame) else None
    out = [f"{totals['title']} has {totals['parameters']:,} parameters ({totals['size_mb']:,.1f} MB as float32) "
           f"and needs {totals['multiply_adds'] / 1e6:,.1f} million multiply-adds per example."]
    if top is not None and top["parameters"] > 0:
        out.append(f"The largest row, {top['layer']} ({top['type']}), holds {top['% of total']:.1f} % of them.")
    return out + fully_connected_sentences(totals["fully_connected"])


def _one_layer(page: ui.LessonPage, result: dict) -> list[str]:
    choices = layer_choices(page.value("model"), *stack_args(page))
    if choices and page.value("layer") not in choices:
        page.set_values({"layer": choices[0]})
    controls, picture = st.columns([2, 3])
    with controls:
        if choices:
            page.control(st.selectbox, "layer", "Layer", choices)
        page.control(st.number_input, "seed", "Seed (initialisation of untrained layers)", 0, 10_000)
    if builder_broken(page) or not choices:
        return []
    from lessons.architecture import charts

    with controls:
        info = layer_info(page.value("model"), page.value("layer"), page.value("seed"), *stack_args(page))
        st.code(info["module"], language=None, wrap_lines=True)
        st.dataframe(info["tensors"], hide_index=True)
        st.markdown(f"**Parameters:** {info['formula']}")
        st.markdown(f"**Multiply-adds:** {info['multiply_adds']:,} per example, i.e. {info['flops']:,} FLOPs "
                    "(a multiply and an add each)" + _multiply_add_note(info))
    stats = info["stats"]
    with picture:
        page.chart(charts.weight_histogram(info["histogram"], f"{page.value('layer')}: {stats['source']}",
                                           height=page.chart_height(300)),
                   f"Histogram of the layer's {stats['values']:,} weights ({stats['source']}).")
    return [f"{info['layer'] or 'The model itself'} ({info['type']}) owns {info['parameters']:,} parameters "
            f"({100 * info['share']:.2f} % of the model): {info['formula']}.",
            f"Its weights ({stats['source']}) have mean {stats['mean']:.4f} and standard deviation "
            f"{stats['std']:.4f}, from {stats['min']:.3f} to {stats['max']:.3f}."]


def _multiply_add_note(info: dict) -> str:
    """What the one-layer view's multiply-adds count, for a module with submodules (own work first)."""
    split, total = info["attention"], info["with_submodules"]
    if split is not None:
        return (f": the query, key and value in-projection {split['in_projection']:,} and the attention products "
                f"Q·Kᵀ and A·V {split['products']:,}; its out_proj submodule adds {split['out_projection']:,} "
                f"(the attention applies out_proj's weights itself), {total:,} in all")
    if total == info["multiply_adds"]:
        return ""
    if info["multiply_adds"]:
        return f" in its own forward; with its submodules, {total:,} in all"
    return f" of its own; its submodules do the work, {total:,} in all"


# ----- compare -----------------------------------------------------------------------------------------

def _compare(page: ui.LessonPage, result: dict) -> list[str]:
    c1, c2 = st.columns(2)
    import pandas as pd

    from lessons.architecture import charts

    names = list(settings.MODELS)
    for column, name in ((c1, "model_a"), (c2, "model_b")):  # the default first: see view_helpers.first
        page.control(column.selectbox, name, f"Model {name[-1].upper()}", first(DEFAULTS[name], names))
    a, b = page.value("model_a"), page.value("model_b")
    if "builder" in (a, b) and not builder.build_stack(*stack_args(page)).ok:
        st.warning("Your model in the Model builder view has an error: fix it there first.")
        return []
    frame = comparison(a, b, *stack_args(page))
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
