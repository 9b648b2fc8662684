"""Training curves: train a real model in the page and read its loss and accuracy as they grow.

Thin page: widgets -> compute.train_run (streamed, chart redrawn at most 4 times a second) ->
charts -> st.*. The session's runs (at most 8) live in st.session_state["training.runs"].
The lesson's text (what you see, try this, quiz, reading) is in content.py; the computation in
compute.py, curves.py, evaluation.py and run_store.py.

The curves, their view controls (smoothing, x axis, log scale, patience) and the text that reads
them form a fragment: moving a view control redraws only that part of the page. Nothing at the first
render imports torch or scikit-learn. torch._dynamo, which the first optimizer step imports (about a
second), is paid by `compute.warm_up()` in the server's background warm-up (lessons/warmup.py), so
the first point after Train arrives in well under a second; without it, the first run pays it once.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import streamlit as st

from lessons import ui
from lessons.training import charts, compute, content, curves, evaluation, run_store
from lessons.training.precompute import PRESET_FILE
from lessons.callbacks import runs_whole

SLUG = "training"
RUNS_KEY = f"{SLUG}.runs"  # not "_"-prefixed: Reset puts controls back but keeps the runs
NEXT_ID_KEY = f"{SLUG}.next_run_id"
TRAIN_KEY = f"{SLUG}._train"
STOP_KEY = f"{SLUG}._stop"  # any click reruns the script, which interrupts a run; this one says so
REDRAW_SECONDS = 0.25  # at most 4 chart updates per second while training
TRAIN_SIZES = (100, 200, 500, 1000, 2000, 4000)
LABEL_NOISE = (0.0, 0.1, 0.2, 0.4, 0.6, 0.8)
WIDTHS = (4, 8, 16, 32, 64, 128, 256, 512)
DROPOUTS = (0.0, 0.1, 0.25, 0.5, 0.75)
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (16, 32, 64, 128, 256)
WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)
METRICS = {"val_loss": "validation loss", "val_acc": "validation accuracy", "train_loss": "training loss",
           "train_acc": "training accuracy"}
RUN_CONTROLS = tuple(compute.RunSpec().to_dict())
AFTER_VIEWS = ("Confusion matrix", "ROC curves", "Misclassified")
DEFAULTS = {**compute.RunSpec().to_dict(), "x_axis": "step", "smoothing": 0.6, "log_scale": False,
            "patience": 3, "compare_metric": "val_loss", "after_view": AFTER_VIEWS[0]}


# ----- cached wrappers (plain values in) -----------------------------------------------------------

@st.cache_data(max_entries=4, show_spinner=False)
def cached_data(dataset: str, train_size: int, seed: int) -> compute.DigitsData:
    return compute.load_data(dataset, train_size, seed)


@st.cache_data(max_entries=1, show_spinner=False)
def cached_presets() -> dict[str, compute.Run]:
    return run_store.load_presets(PRESET_FILE)


@st.cache_data(max_entries=2, show_spinner=False)
def cached_validation_pixels(dataset: str):
    return compute.validation_pixels(dataset)


# ----- session runs ----------------------------------------------------------------------------------

def session_runs() -> list[compute.Run]:
    runs = st.session_state.setdefault(RUNS_KEY, [])
    for run in runs:  # a run interrupted by a click (Stop, or any control) keeps what it measured
        if run.status == "running":
            run.status = "stopped"
    return runs


@runs_whole
def _rename(run: compute.Run, key: str) -> None:
    run.name = (st.session_state.get(key) or "").strip()[:60] or run.spec.describe()


@runs_whole
def _delete(run_id: int) -> None:
    runs = st.session_state.get(RUNS_KEY, [])
    runs[:] = [r for r in runs if r.run_id != run_id]


@runs_whole
def _apply_preset(page: ui.LessonPage, key: str) -> None:
    page.set_values(compute.PRESETS[key].spec.to_dict())


# ----- the live training loop ------------------------------------------------------------------------

def draw_curves(page: ui.LessonPage, slot, run: compute.Run, view: dict, caption: str) -> None:
    frame = curves.curve_frame(run, view["x_axis"], view["smoothing"])
    marks = curves.annotations(run, view["x_axis"], view["patience"])
    height = page.chart_height(300)
    with slot.container():
        loss_col, acc_col = st.columns(2)
        with loss_col:
            page.chart(charts.curves_spec(frame, marks, "loss", view["x_axis"], view["log_scale"], height),
                      caption)
        with acc_col:
            page.chart(charts.curves_spec(frame, marks, "accuracy", view["x_axis"], False, height),
                      "Accuracy: the share of digits classified correctly (1.0 = all).")


def train_live(page: ui.LessonPage, spec: compute.RunSpec, runs: list, slots: dict, view: dict) -> compute.Run:
    """Train `spec`, redrawing the chart and the progress bar at most 4 times a second."""
    page.go_live()  # this lesson's warm-up (torch, the first optimizer step) before the first step
    run_id = st.session_state.get(NEXT_ID_KEY, 1)
    st.session_state[NEXT_ID_KEY] = run_id + 1
    run = compute.new_run(spec, name=f"#{run_id} {spec.describe()}", run_id=run_id)
    run_store.add_run(runs, run)
    data = cached_data(spec.dataset, spec.train_size, spec.seed)
    compute.warm_up_autograd()  # a no-op once the server's warm-up has run (see the module docstring)
    last_draw, pause = 0.0, REDRAW_SECONDS
    for _event in compute.train_run(run, data):
        now = time.perf_counter()
        if now - last_draw < pause and run.diverged is None:
            continue
        done = len(run.steps) / max(1, run.total_steps)
        slots["progress"].progress(min(done, 1.0), text=f"Training: step {len(run.steps)} of "
                                   f"{run.total_steps}, {run.seconds:.1f} s")
        draw_curves(page, slots["chart"], run, view, "Training… the curves grow as the model learns.")
        last_draw = time.perf_counter()
        pause = max(REDRAW_SECONDS, 2 * (last_draw - now))  # drawing never takes over a third of the time
    slots["progress"].empty()
    return run


def stop_button(slot, training: bool) -> None:
    """Stop: enabled only while this script run trains. Its click reruns the page, which interrupts
    the training loop; the next run marks the run "stopped" (session_runs) and keeps its curves."""
    slot.button("Stop", key=STOP_KEY if training else f"{STOP_KEY}_idle", icon=":material/stop:",
                disabled=not training, width="stretch",
                help="Stop the run; what it measured so far stays." if training else "Nothing is training.")


# ----- the page ------------------------------------------------------------------------------------

def preset_buttons(page: ui.LessonPage) -> None:
    label_col, *cols = st.columns([0.8] + [1.3] * len(compute.PRESETS), vertical_alignment="center")
    label_col.markdown("**Presets**")
    for col, preset in zip(cols, compute.PRESETS.values()):
        col.button(preset.short, key=f"{SLUG}._preset.{preset.key}", help=preset.shows,
                   on_click=_apply_preset, args=(page, preset.key), width="stretch")


def controls(page: ui.LessonPage) -> None:
    with st.expander("Data", expanded=True):
        page.control(st.selectbox, "dataset", "Dataset", compute.DATASETS,
                     format_func=compute.DATASET_TITLES.get)
        page.control(st.select_slider, "train_size", "Training images", TRAIN_SIZES,
                     help="Few images provoke overfitting. scikit-learn digits offer at most 1,437.")
        page.control(st.select_slider, "label_noise", "Label noise", LABEL_NOISE,
                     format_func=lambda v: f"{v:.0%}", help="Fraction of training labels replaced by a wrong class.")
        page.control(st.toggle, "augment", "Augmentation (random shifts)",
                     help=f"Each training image gets its own random shift of up to {compute.max_shift(28)} pixels "
                          f"in each direction ({compute.max_shift(8)} on 8x8 digits) every time it is drawn, edge "
                          "pixels repeated. Only the position changes: brightness and contrast stay as they are.")
    with st.expander("Model", expanded=True):
        page.control(st.radio, "model", "Model", compute.MODELS, horizontal=True,
                     format_func={"cnn": "CNN", "mlp": "MLP"}.get)
        page.control(st.select_slider, "width", "Width", WIDTHS,
                     help="MLP: units per hidden layer. CNN: channels of the first conv block (doubling).")
        page.control(st.slider, "depth", "Depth", 1, 3, help="MLP: hidden layers. CNN: conv blocks.")
        page.control(st.select_slider, "dropout", "Dropout", DROPOUTS)
    with st.expander("Optimizer", expanded=True):
        page.control(st.selectbox, "optimizer", "Optimizer", compute.OPTIMIZERS,
                     format_func=compute.OPTIMIZER_TITLES.get)
        page.control(st.select_slider, "lr", "Learning rate (log scale)", LEARNING_RATES, format_func="{:g}".format)
        page.control(st.select_slider, "batch_size", "Batch size", BATCH_SIZES)
        page.control(st.select_slider, "weight_decay", "Weight decay", WEIGHT_DECAYS, format_func="{:g}".format)
        page.control(st.slider, "epochs", "Epochs", 1, 100)
        page.control(st.number_input, "seed", "Seed", min_value=0, max_value=9999, step=1)


def view_controls(page: ui.LessonPage) -> dict:
    a, b, c, d = st.columns([1.2, 1.4, 0.9, 1.4], vertical_alignment="bottom")
    with a:
        page.control(st.radio, "x_axis", "Curves per", ("step", "epoch"), horizontal=True)
    with b:
        page.control(st.slider, "smoothing", "Smoothing (EMA weight; 0 = raw)", 0.0, 0.99, step=0.01,
                     help="Exponential moving average with bias correction, as in TensorBoard. Per-step view only.")
    with c:
        page.control(st.toggle, "log_scale", "Log loss")
    with d:
        page.control(st.slider, "patience", "Early-stopping patience (epochs)", 1, 20)
    return {name: page.value(name) for name in ("x_axis", "smoothing", "log_scale", "patience")}


def choose_displayed(spec: compute.RunSpec, runs: list, presets: dict) -> tuple[compute.Run, str | None]:
    """The run the chart shows, and a note when it is not a run of the current controls."""
    latest = runs[-1] if runs else None
    if latest is not None and latest.spec == spec:
        return latest, None
    preset_key = compute.matching_preset(spec)
    if preset_key is not None:
        return presets[preset_key], (f"Showing the precomputed curves of the {compute.PRESETS[preset_key].title} "
                                     "preset: press Train to train it yourself.")
    if latest is not None:
        return latest, "Showing your latest run: the controls have changed since, press Train to run them."
    return presets["healthy"], ("Showing the precomputed curves of the Healthy preset: press Train to train "
                                "with your settings.")


def runs_section(page: ui.LessonPage, runs: list, presets: dict) -> None:
    st.subheader("Runs")
    shown = [r for r in runs if r.epochs]
    metric = page.control(st.selectbox, "compare_metric", "Compare", tuple(METRICS), format_func=METRICS.get)
    if shown:
        frame = run_store.runs_frame(shown)
        page.chart(charts.runs_spec(frame, metric, page.chart_height(280)),
                   f"{METRICS[metric].capitalize()} per epoch for this session's runs (at most "
                   f"{run_store.MAX_RUNS}; the oldest is dropped).", key=f"{SLUG}._runs_chart")
    else:
        frame = run_store.runs_frame(list(presets.values()))
        page.chart(charts.runs_spec(frame, metric, page.chart_height(280)),
                   f"{METRICS[metric].capitalize()} of the precomputed presets. Your runs will appear here "
                   "once you train.", key=f"{SLUG}._runs_chart")
    if not runs:
        return
    for run in reversed(runs):
        name_col, info_col, delete_col = st.columns([3, 3, 1], vertical_alignment="bottom")
        key = f"{SLUG}._name.{run.run_id}"
        st.session_state.setdefault(key, run.name)
        name_col.text_input("Run name", key=key, on_change=_rename, args=(run, key), label_visibility="collapsed")
        last = run.epochs[-1] if run.epochs else None
        info_col.caption(f"{run.status}, {len(run.steps)} steps, {run.seconds:.1f} s"
                         + (f", val acc {last['val_acc']:.1%}" if last else ""))
        delete_col.button("Delete", key=f"{SLUG}._delete.{run.run_id}", on_click=_delete, args=(run.run_id,),
                          icon=":material/delete:")
    st.download_button("Download the runs' metrics (CSV)", run_store.runs_csv(runs), file_name="training_runs.csv",
                       mime="text/csv", key=f"{SLUG}._download", icon=":material/download:")


def after_training(page: ui.LessonPage, run: compute.Run) -> None:
    st.subheader("After training")
    if run.val_probs is None:
        st.info("Finish a run (without divergence) to see its confusion matrix, ROC curves and mistakes.")
        return
    accuracy = float((run.val_probs.argmax(1) == run.val_labels).mean())
    # Only the chosen view is computed (st.tabs would compute all three on every rerun).
    view = page.control(st.segmented_control, "after_view", "Show", AFTER_VIEWS, label_visibility="collapsed")
    if view == "ROC curves":
        page.go_live()  # scikit-learn's metrics come with this lesson's warm-up
        roc = evaluation.roc_curves(run)
        aucs = roc.groupby("digit").auc.first()
        page.chart(charts.roc_chart(roc, page.chart_height(320)),
                   f"One digit against the rest. Lowest AUC: digit {aucs.idxmin()} ({aucs.min():.3f}); "
                   f"highest: digit {aucs.idxmax()} ({aucs.max():.3f}).", key=f"{SLUG}._roc")
    elif view == "Misclassified":
        wrong = evaluation.misclassified(run)
        if wrong.empty:
            st.success("No validation digit is misclassified.")
        else:
            pixels = cached_validation_pixels(run.spec.dataset)
            images = [evaluation.upscale(pixels[i]) for i in wrong["index"]]
            captions = [f"{t} → {p} ({c:.0%})" for t, p, c in zip(wrong.true, wrong.predicted, wrong.confidence)]
            st.image(images, caption=captions, width=72,
                     alt=[f"Misclassified digit: {c}" for c in captions])
            st.caption(f"The {len(wrong)} most confident mistakes of {int((run.val_probs.argmax(1) != run.val_labels).sum())}"
                       " (true → predicted, confidence).")
    else:  # the confusion matrix, also when the student unselects every view
        matrix = evaluation.confusion(run)
        off = matrix.copy()
        off[range(10), range(10)] = 0
        t, p = divmod(int(off.argmax()), 10)
        page.chart(charts.confusion_chart(matrix, page.chart_height(320)),
                   f"Rows: true digit, columns: prediction, on {len(run.val_labels)} validation digits "
                   f"(final weights, accuracy {accuracy:.1%}). The most frequent confusion: {t} read as {p} "
                   f"({off[t, p]} times).", key=f"{SLUG}._confusion")


@st.fragment
def curves_section(page: ui.LessonPage, spec: compute.RunSpec, runs: list, presets: dict, stop_slot) -> None:
    """The view controls, the (live) curves and what they show. A fragment: a view control reruns
    only this function, with the arguments of the last full run (a control that changes `spec`
    reruns the whole page). Trains only in the run the Train button started."""
    view = view_controls(page)
    page.draw_share_link()  # after the view controls, before a training run streams: the header's link follows
    slots = {"progress": st.empty(), "chart": st.empty()}
    if st.session_state.get(TRAIN_KEY):  # True only in the run the click started, never in a fragment rerun
        train_live(page, spec, runs, slots, view)
        stop_button(stop_slot, training=False)
    displayed, note = choose_displayed(spec, runs, presets)
    caption = ("Training batch loss per step (light: raw; dark: smoothed) and validation at regular checks. "
               if view["x_axis"] == "step" else "Epoch means of the training batches (train mode, weights still "
               "moving) and validation at each epoch end (eval mode). ")
    caption += "Dashed lines: the checkpoint early stopping keeps, where it stops, the onset of overfitting, divergence."
    draw_curves(page, slots["chart"], displayed, view, caption)
    if note:
        st.info(note)
    if displayed.diverged is not None:
        d = displayed.diverged
        st.error(f"Training diverged at step {d['step']}: the loss became {d['loss']:.3g} "
                 f"(NaN, infinite or above {compute.divergence_threshold():g}), so the run stopped and the chart "
                 "marks the step.")
    page.what_you_see(content.what_you_see(displayed, view["patience"]))


def render() -> None:
    page = ui.LessonPage(SLUG, "Training curves", DEFAULTS)
    page.header(content.WHY, content.OBJECTIVES, phases=["During training"])
    presets = cached_presets()
    runs = session_runs()
    preset_buttons(page)
    left, right = st.columns([1, 3], gap="medium")
    with left:
        controls(page)
    spec = compute.RunSpec.from_values({name: page.value(name) for name in RUN_CONTROLS})
    with right:
        train_col, stop_col, note_col = st.columns([1, 1, 3], vertical_alignment="center")
        train_col.button("Train", type="primary", key=TRAIN_KEY, icon=":material/play_arrow:", width="stretch")
        stop_slot = stop_col.empty()
        stop_button(stop_slot, training=bool(st.session_state.get(TRAIN_KEY)))
        steps = math.ceil(min(spec.train_size, compute.dataset_train_pool(spec.dataset)) / spec.batch_size) * spec.epochs
        note_col.caption(f"{spec.describe()}: {steps} steps. Stop, or changing a data, model or optimizer control "
                         "while it trains, stops the run.")
        curves_section(page, spec, runs, presets, stop_slot)
    displayed, _ = choose_displayed(spec, runs, presets)  # after training: the run just trained
    runs_section(page, runs, presets)
    after_training(page, displayed)
    latest = runs[-1] if runs else None
    page.try_this(content.EXPERIMENTS, {"latest": latest, "presets": presets})
    page.quiz(content.QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"), content.DIY_CAPTION)
    page.reading(content.READING)
