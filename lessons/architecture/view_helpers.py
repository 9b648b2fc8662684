"""What the architecture page and its views share: the views, the shareable controls' defaults, the
cached wrappers more than one view calls, the builder's stack controls and the small helpers every view
draws with.

Imports run one way: page.py -> views_graphs.py / views_builder.py -> view_helpers.py. Nothing here
imports the page or a view.

No torch at import: the page's first render draws the shipped default diagram (shipped.py) before torch is
imported. compute and graphs (which import torch) are imported inside the functions of the live path, which
run only after `page.go_live()` has waited for the lesson's warm-up.
"""
from __future__ import annotations

import streamlit as st

from lessons import ui
from lessons.architecture import builder, content, shipped

SLUG = "architecture"
DEPTHS = (1, 2, 3, 4, 5, 6)  # how far nested modules are opened: the depth control's options
VIEWS = ("Layer diagram", "Autograd graph", "Parameter table", "One layer", "Model builder", "Compare",
         "Neurons")
# Streamlit 1.67 leaves a bound widget's value out of the URL (and ignores it there) when it equals the
# widget's own default: the first option, the minimum, False. So every shareable control here either has
# the lesson default as that widget default or is a segmented control (whose own default is "none").
DEFAULTS = {
    "view": VIEWS[0], "model": "digits_cnn", "depth": 2, "direction": "top-down", "unroll": False,
    "show_saved": False, "batch": 32, "layer": "features.conv1", "seed": 0,
    "stack": builder.DEFAULT_STACK, "input_shape": "1x28x28", "model_a": "vgg11", "model_b": "resnet18",
    "digit": 0, "per_neuron": 4, "neuron": "hidden 1 #0", "mlp_seed": 0,
}


# ----- cached wrappers used by more than one view (plain values in, plain data out) ----------------

@st.cache_data(max_entries=64, show_spinner="Tracing the model…")
def diagram(name: str, depth: int, direction: str, roll: bool, stack: str, input_shape: str) -> dict:
    from lessons.architecture import graphs

    return graphs.diagram_data(name, depth, direction, roll, stack, input_shape)


def shown_diagram(page: ui.LessonPage, name: str, depth: int, direction: str, roll: bool, stack: str,
                  input_shape: str) -> tuple[dict, str, list[str], str]:
    """(diagram, caption, "What you see" sentences, "shipped" | "live"): the shipped result when the
    repository holds one for these arguments (the page's defaults), else computed live after go_live."""
    hit = shipped.shipped(shipped.diagram_key(name, depth, direction, roll, stack, input_shape))
    if hit is not None:
        return hit["diagram"], hit["caption"], hit["what_you_see"], "shipped"
    page.go_live()
    d = diagram(name, depth, direction, roll, stack, input_shape)
    return d, content.diagram_caption(d, depth), content.diagram_sentences(d, depth), "live"


@st.cache_data(max_entries=32)
def layer_choices(name: str, stack: str, input_shape: str) -> list[str]:
    """Modules of `name` that own parameters (live path: call after page.go_live())."""
    from lessons.architecture import compute

    try:
        return compute.layer_names(compute.build_model(name, stack, input_shape))
    except ValueError:  # the builder's stack has an error: the page says so
        return []


def stack_controls(page: ui.LessonPage) -> None:
    """The builder's input shape and layer stack. Drawn on every view (in the builder, or under the model
    picker), so "My model" and its share link work everywhere."""
    page.control(st.selectbox, "input_shape", "Input (channels x height x width)", list(builder.INPUT_SHAPES))
    page.control(st.text_input, "stack", "Layer stack (part of the share link)",
                 help="conv:OUT:K:S:P, pool:K, bn, relu, dropout:PERCENT, flatten, linear:OUT or "
                      "linear:OUT:IN (IN written by hand), separated by commas.")


def first(default: str, options: list[str]) -> list[str]:
    """Options with the default first (see the note above DEFAULTS)."""
    return [default] + [o for o in options if o != default]


def graph(dot: str, caption: str) -> None:
    """A DOT graph at its natural size (scaled to the column it would be unreadably large), with a caption."""
    st.graphviz_chart(dot, width="content")
    st.caption(caption)


def stack_args(page: ui.LessonPage) -> tuple[str, str]:
    return page.value("stack"), page.value("input_shape")


def builder_broken(page: ui.LessonPage) -> bool:
    """True (and a warning shown) when "My model" is picked and its stack has an error."""
    if page.value("model") != "builder":
        return False
    built = builder.build_stack(*stack_args(page))
    if not built.ok:
        st.warning(f"Your model in the Model builder view has an error ({built.error.layer}): fix it there first.")
    return not built.ok
