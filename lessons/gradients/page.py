"""Gradient plots: train a deep network in the page and read every layer's gradients as it trains.

Thin page: widgets -> a background training job (jobs.py) that fills the student's run in place
-> the chosen view, drawn in a fragment that redraws at most 4 times a second while a run trains,
so the student can switch views (and Stop) without interrupting it. Runs live in
st.session_state["gradients.runs"]. The first render draws the shipped precomputed run of the
default settings and imports no torch; the training thread waits for the lesson's warm-up before the
first live training. Text in content.py, views in views.py, shared helpers in view_helpers.py.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lessons import ui
from lessons.gradients import compute, content, readings, run_store
from lessons.gradients import view_helpers as vh
from lessons.gradients.views import DISTRIBUTION_LAYERS, HEATMAP_ORDERS, SECTIONS, VIEWS
from lessons.callbacks import runs_whole

SLUG = vh.SLUG
DEPTHS = tuple(range(2, 31))
WIDTHS = (16, 32, 64, 128, 256)
CLIPS = (0.0, 0.1, 0.5, 1.0, 5.0)
LEARNING_RATES = (1e-5, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
STEPS = (20, 50, 100, 200, 500)
TRAIN_HANDLED = f"{SLUG}._train_handled"  # set by the Train callback, read once by the body of the same run
TITLES = {"architecture": {"mlp": "MLP", "cnn": "CNN"},
          "activation": {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "gelu": "GELU"},
          "init": {"default": "PyTorch default", "xavier": "Xavier", "kaiming": "Kaiming",
                   "scaled_0.1": "default x 0.1", "scaled_10": "default x 10"},
          "norm": {"none": "none", "batchnorm": "BatchNorm", "layernorm": "LayerNorm"},
          "optimizer": {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam"}}
DEFAULTS = {**compute.RunSpec().to_dict(), "view": VIEWS[0], "axes": "fixed", "statistic": "grad_norm",
            "at_step": readings.AT_STEPS[0], "heatmap_order": HEATMAP_ORDERS[0], "dist_layers": DISTRIBUTION_LAYERS[0],
            "compare_left": "deep_sigmoid", "compare_right": "all_cures"}


# ----- training ------------------------------------------------------------------------------------

@runs_whole
def start_training(page: ui.LessonPage) -> None:
    """The Train button's callback: stop a live run of this student, store a new one and train it in a
    thread. It never waits: the thread waits for the lesson's warm-up (see jobs.py)."""
    from lessons.gradients import jobs

    st.session_state[TRAIN_HANDLED] = True
    runs = vh.session_runs()
    jobs.stop(runs)
    spec = vh.current_spec(page)
    run = compute.new_run(spec, name=f"#{vh.next_run_id()} {spec.describe()}")
    run_store.add_run(runs, run)
    jobs.start([run], vh.live_data)


@runs_whole
def stop_training() -> None:
    from lessons.gradients import jobs

    jobs.stop(vh.session_runs() + vh.compare_runs())


@runs_whole
def _apply_preset(page: ui.LessonPage, key: str) -> None:
    page.set_values(compute.PRESETS[key].spec.to_dict())


# ----- controls ------------------------------------------------------------------------------------

def preset_buttons(page: ui.LessonPage) -> None:
    label_col, *cols = st.columns([0.8] + [1.1] * len(compute.PRESETS), vertical_alignment="center")
    label_col.markdown("**Presets**")
    for col, preset in zip(cols, compute.PRESETS.values()):
        col.button(preset.short, key=f"{SLUG}._preset.{preset.key}", help=preset.shows, on_click=_apply_preset,
                   args=(page, preset.key), width="stretch")


def controls(page: ui.LessonPage) -> None:
    with st.expander("Network", expanded=True):
        # The activation first: it is the lesson's main control, and it stays in the first screen (a select box
        # near the bottom edge is scrolled into view to be opened, and its list closes on that scroll).
        page.control(st.selectbox, "activation", "Activation", compute.ACTIVATIONS, format_func=TITLES["activation"].get)
        page.control(st.radio, "architecture", "Network", compute.ARCHITECTURES, horizontal=True,
                     format_func=TITLES["architecture"].get,
                     help="MLP on flattened digits, or a CNN of 3x3 convolutions (at most 32 channels).")
        page.control(st.select_slider, "depth", "Depth (hidden layers)", DEPTHS)
        page.control(st.select_slider, "width", "Width (units; CNN: channels, at most 32)", WIDTHS)
        page.control(st.selectbox, "init", "Initialization", compute.INITS, format_func=TITLES["init"].get)
        page.control(st.selectbox, "norm", "Normalization", compute.NORMS, format_func=TITLES["norm"].get)
        page.control(st.toggle, "residual", "Residual connections")
    with st.expander("Training", expanded=True):
        page.control(st.select_slider, "clip", "Gradient clipping (max global norm)", CLIPS,
                     format_func=lambda v: "off" if v == 0 else f"{v:g}")
        page.control(st.selectbox, "optimizer", "Optimizer", compute.OPTIMIZERS, format_func=TITLES["optimizer"].get)
        page.control(st.select_slider, "lr", "Learning rate", LEARNING_RATES, format_func="{:g}".format)
        page.control(st.select_slider, "steps", "Steps (batches of 64)", STEPS)
        page.control(st.number_input, "seed", "Seed", min_value=0, max_value=9999, step=1)


def train_bar(page: ui.LessonPage, spec: compute.RunSpec) -> None:
    live = vh.any_live()
    train_col, stop_col, note_col = st.columns([1, 1, 3], vertical_alignment="center")
    clicked = train_col.button("Train", type="primary", key=f"{SLUG}._train", icon=":material/play_arrow:",
                               width="stretch", on_click=start_training, args=(page,))
    if clicked and not st.session_state.pop(TRAIN_HANDLED, False):
        # The click reached the script but its callback did not run: seen on a fresh server when the
        # student clicks a view right after Train (the two reruns arrive within ~20 ms, and Streamlit
        # delivered the trigger without the callback; CI flake of test_gradients_controls). Start it here.
        start_training(page)
    st.session_state.pop(TRAIN_HANDLED, None)
    stop_col.button("Stop", key=f"{SLUG}._stop", icon=":material/stop:", width="stretch", on_click=stop_training,
                    disabled=not live)
    note_col.caption(f"{spec.describe()}: {spec.steps} steps. Views can be switched while it trains.")


# ----- the view, redrawn while a run trains --------------------------------------------------------

def draw_view(page: ui.LessonPage, view: str) -> None:
    """The chosen view and its "What you see". Reruns by itself every REDRAW_SECONDS while a run trains."""
    spec = vh.current_spec(page)
    run, note = vh.choose_displayed(spec)
    live_runs = [r for r in vh.session_runs() + vh.compare_runs() if r.live]
    for r in live_runs:
        done = min(len(r.steps), len(r.stats))
        st.progress(min(1.0, done / max(1, r.total_steps)), text=f"Training {r.name}: step {done} of {r.total_steps}")
    if note and view != "Compare":
        st.info(note)
    with ui.shown_failure(f"draw the {view.lower()} view"):
        if view == "Compare":
            SECTIONS[view](page, run)
        else:
            vh.run_messages(run)
            if vh.has_data(run):
                SECTIONS[view](page, run)
    with ui.shown_failure("describe this run"):
        page.what_you_see(content.what_you_see(run) if min(len(run.steps), len(run.stats)) else
                          [content.source_sentence(run)])
    page.draw_share_link()  # the view's controls changed the URL: the header's Share link follows
    if st.session_state.get(vh.POLL_KEY) and not live_runs:
        st.session_state[vh.POLL_KEY] = False
        st.rerun(scope="app")  # the run ended: redraw the whole page once (buttons, Try this) and stop polling


def render() -> None:
    page = ui.LessonPage(SLUG, "Gradient plots", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["During training"])
    preset_buttons(page)
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    left, right = st.columns([1, 3], gap="medium")
    with left:
        controls(page)
    spec = vh.current_spec(page)
    with right:
        train_bar(page, spec)
        page.control(st.radio, "axes", "Axes", ("fixed", "autoscaled"), horizontal=True,
                     help="Fixed log axes keep magnitudes comparable across layers, steps and runs.")
        live = vh.any_live()
        st.session_state[vh.POLL_KEY] = live
        st.fragment(draw_view, run_every=vh.REDRAW_SECONDS if live else None)(page, view)
    page.try_this(content.EXPERIMENTS, {"runs": vh.session_runs(), "presets": vh.presets()})
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"), content.DIY_CAPTION)
    page.reading(content.READING)
