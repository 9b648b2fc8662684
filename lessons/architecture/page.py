"""Model architecture: layer diagram, autograd graph, parameter table, one layer, builder, compare, neurons.

Thin page: widgets -> cached wrappers (plain values in) -> compute/graphs/neurons -> charts -> st.*.
Only the open view is drawn and computed: a segmented control bound to the URL picks it. Its controls keep
their values while another view is open (Streamlit keeps a bound widget's value when it is not drawn).
This module holds render(), the shared controls and helpers the views use; the views and their cached
wrappers are in views_graphs.py (layer diagram, autograd graph, parameter table, one layer, compare) and
views_builder.py (model builder with the conv-shape checker, neurons); the experiments, quiz and reading
in content.py.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lessons import ui
from lessons.architecture import builder, compute, neurons
from lessons.architecture.content import READING, _experiments, _quiz

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

@st.cache_data(max_entries=32)
def layer_choices(name: str, stack: str, input_shape: str) -> list[str]:
    try:
        return compute.layer_names(compute.build_model(name, stack, input_shape))
    except ValueError:  # the builder's stack has an error: the page says so
        return []


# ----- the page -------------------------------------------------------------------------------------

def render() -> None:
    # the views import this module's shared helpers, so they are imported here, not at the top
    from lessons.architecture.views_builder import _builder, _neurons
    from lessons.architecture.views_graphs import _autograd_graph, _compare, _layer_diagram, _one_layer, _table

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
    page.reading(READING)


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
