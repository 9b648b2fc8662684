"""Model architecture: layer diagram, autograd graph, parameter table, one layer, builder, compare, neurons.

Thin page: widgets -> cached wrappers (plain values in) -> compute/graphs/neurons -> charts -> st.*.
Only the open view is drawn and computed: a segmented control bound to the URL picks it. Its controls keep
their values while another view is open (Streamlit keeps a bound widget's value when it is not drawn).
This module holds render() and the model picker; the views and their cached wrappers are in views_graphs.py
(layer diagram, autograd graph, parameter table, one layer, compare) and views_builder.py (model builder with
the conv-shape checker, neurons); what they share (defaults, stack controls, helpers) in view_helpers.py; the
experiments, quiz and reading in content.py. Imports run one way: page -> views -> view_helpers.

A fresh server draws the default page before torch is imported: the layer diagram at the defaults comes from
shipped_views.json (precompute.py), and the controls come from torch-free settings. Any other view, and the
diagram once a control has changed, waits for the lesson's warm-up (page.go_live()) and computes live.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lessons import ui
from lessons.architecture import content, settings
from lessons.architecture.content import READING, _experiments, _quiz
from lessons.architecture.view_helpers import DEFAULTS, DEPTHS, SLUG, VIEWS, layer_choices, stack_controls
from lessons.architecture.views_builder import _builder, _neurons
from lessons.architecture.views_graphs import _autograd_graph, _compare, _layer_diagram, _one_layer, _table
from lessons.callbacks import runs_whole


SHIPPED_VIEWS = ("Layer diagram",)  # views that may draw a shipped result; the others always compute live


# ----- the page -------------------------------------------------------------------------------------

def render() -> None:
    page = ui.LessonPage(SLUG, "Model architecture", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["Before training"])
    stack_slot = _model_picker(page)
    view = page.control(st.segmented_control, "view", "View", list(VIEWS), required=True,
                        label_visibility="collapsed")
    if view != "Model builder":  # the builder view draws these itself
        with stack_slot.expander("My model: the builder's layer stack", expanded=page.value("model") == "builder"):
            stack_controls(page)
    result: dict = {"model": page.value("model"), "depth": page.value("depth")}
    drawers = {"Layer diagram": _layer_diagram, "Autograd graph": _autograd_graph, "Parameter table": _table,
               "One layer": _one_layer, "Model builder": _builder, "Compare": _compare, "Neurons": _neurons}
    if view not in SHIPPED_VIEWS:
        page.go_live()
    sentences = drawers[view](page, result)
    page.what_you_see(sentences or ["Pick a view above."])
    page.try_this(_experiments(), result)
    page.quiz(_quiz())
    page.do_it_yourself(Path(__file__).with_name("diy.py"), content.DIY_CAPTION)
    page.reading(READING)


def _model_picker(page: ui.LessonPage) -> DeltaGenerator:
    """Model and depth; returns a slot under the model for the builder's stack (filled once the view is known)."""
    left, right = st.columns([3, 2])
    page.control(left.selectbox, "model", "Model", list(settings.MODELS), on_change=_reset_layer, args=(page,),
                 help="Used by the diagram, autograd graph, table and one-layer views. Untrained torchvision "
                      "models are built on the meta device: no weights are downloaded or stored.")
    left.caption(settings.MODELS[page.value("model")])
    page.control(right.segmented_control, "depth", "Depth (how far nested modules are opened)", DEPTHS, required=True,
                 help="1 shows the model's direct children; deeper opens the blocks inside them.")
    return left.container()


@runs_whole
def _reset_layer(page: ui.LessonPage) -> None:
    page.go_live()  # the layer names come from the model itself
    choices = layer_choices(page.value("model"), page.value("stack"), page.value("input_shape"))
    if choices:
        page.set_values({"layer": choices[0]})
