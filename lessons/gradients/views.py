"""The gradient lesson's seven views. Each draws its controls, its chart(s) and returns nothing; the
page wraps each in a fragment (redrawn up to 4 times a second while a run trains) and in
ui.shown_failure, so one failing view shows a short message and the rest of the page works."""
from __future__ import annotations

import streamlit as st

from lessons import ui
from lessons.gradients import charts, compute, diagnosis, readings
from lessons.gradients import view_helpers as vh
from lessons.callbacks import runs_whole

VIEWS = ("Norms", "Gradient flow", "Heatmap", "Distributions", "Updates and activations", "Diagnosis", "Compare")
HEATMAP_ORDERS = ("layer order", "largest value")
DISTRIBUTION_LAYERS = ("first, middle, last", "all layers")


def _marker(run: compute.Run) -> int | None:
    return run.diverged["step"] if run.diverged else None


def _at_step(page: ui.LessonPage, run: compute.Run) -> int:
    at = page.control(st.radio, "at_step", "Step", readings.AT_STEPS, horizontal=True,
                      help="The first step shows what the initialization does; the latest what training made of it.")
    return readings.step_index(run, at)


def norms_view(page: ui.LessonPage, run: compute.Run) -> None:
    statistic = page.control(st.radio, "statistic", "Statistic", tuple(readings.STATISTICS), horizontal=True,
                             format_func=readings.STATISTICS.get)
    frame = readings.series_frame(run, statistic)
    labels = readings.layer_labels(run)
    page.chart(charts.norms_spec(frame, labels, statistic, vh.fixed_axes(page), page.chart_height(340),
                                   _marker(run)),
                 f"Each layer's weight {readings.STATISTICS[statistic]} per step, log scale, input layers dark, output "
                 f"light. Fixed axis {readings.GRAD_DOMAIN[0]:g} to {readings.GRAD_DOMAIN[1]:g}; exact zeros sit on "
                 "the bottom edge." + vh.axes_note(page), key=f"{vh.SLUG}._norms_chart")


def flow_view(page: ui.LessonPage, run: compute.Run) -> None:
    index = _at_step(page, run)
    frame = readings.flow_frame(run, index)
    page.chart(charts.flow_spec(frame, vh.fixed_axes(page), page.chart_height(320)),
                 f"Gradient flow at step {readings.snapshot(run)[0][index]}: mean |g| (dark) and max |g| (light) of "
                 "each layer's weights, input on the left, as the PyTorch forum's plot draws them, on a log axis."
                 + vh.axes_note(page), key=f"{vh.SLUG}._flow_chart")


def heatmap_view(page: ui.LessonPage, run: compute.Run) -> None:
    order = page.control(st.radio, "heatmap_order", "Rows", HEATMAP_ORDERS, horizontal=True,
                         help="Largest value puts the layers whose gradient peaked highest on top.")
    frame, rows = readings.heatmap_frame(run, order)
    page.chart(charts.heatmap_spec(frame, rows, vh.fixed_axes(page), page.chart_height(320)),
                 "log10 of each layer's gradient norm (colour) per step (columns); rows "
                 + ("from the output (top) to the input (bottom)." if order == "layer order"
                    else "sorted by the largest value each layer reached.") + vh.axes_note(page),
                 key=f"{vh.SLUG}._heatmap_chart")


def distributions_view(page: ui.LessonPage, run: compute.Run) -> None:
    which = page.control(st.radio, "dist_layers", "Layers", DISTRIBUTION_LAYERS, horizontal=True)
    layers = readings.distribution_layers(run, which)
    frame = readings.distribution_frame(run, layers)
    page.chart(charts.distribution_spec(frame, layers, vh.fixed_axes(page), page.chart_height(180)),
                 "Percentiles of |g| over each layer's weights per step, as TensorBoard's distributions: light band "
                 "5th to 95th, darker 25th to 75th, line the median. "
                 + ("One shared fixed axis for every panel." if vh.fixed_axes(page)
                    else "Each panel autoscaled to its own data: compare the axis labels, not the shapes."),
                 key=f"{vh.SLUG}._dist_chart")


def updates_view(page: ui.LessonPage, run: compute.Run) -> None:
    frame = readings.series_frame(run, "update_ratio", floor=readings.UPDATE_DOMAIN[0])
    lo, hi = diagnosis.HEALTHY_UPDATE
    page.chart(charts.update_ratio_spec(frame, readings.layer_labels(run), vh.fixed_axes(page),
                                          diagnosis.HEALTHY_UPDATE, page.chart_height(280)),
                 f"Update-to-weight ratio |Δw| / |w| of each layer per step; green band {lo:g} to {hi:g}, dashed line "
                 "1e-3, the rule of thumb of the CS231n notes. Far below, a layer barely changes; far above, it is "
                 "thrown around."
                 + vh.axes_note(page), key=f"{vh.SLUG}._updates_chart")
    index = _at_step(page, run)
    page.chart(charts.activation_spec(readings.activation_frame(run, index), vh.fixed_axes(page),
                                        page.chart_height(220)),
                 "Activations of each block at that step: their standard deviation (left, log) and the share of units "
                 "saturated (sigmoid outside 0.05-0.95, |tanh| > 0.95) or dead (ReLU input negative on the "
                 "whole batch; GELU units counted the same way still pass a small gradient).", key=f"{vh.SLUG}._acts_chart")


def diagnosis_view(page: ui.LessonPage, run: compute.Run) -> None:
    index = _at_step(page, run)
    verdict = diagnosis.diagnose(run, index)
    box = {"healthy": st.success, "vanishing": st.warning, "exploding": st.error, "overflowed": st.error}.get(
        verdict["verdict"], st.info)
    box(verdict["sentence"])
    st.caption(diagnosis.thresholds_sentence())
    page.chart(charts.depth_profile_spec(readings.flow_frame(run, index), {"norm": diagnosis.EXPLODING_NORM},
                                           vh.fixed_axes(page), page.chart_height(280)),
                 "Per layer at that step: the weight gradient's norm and the norm of the gradient backpropagated to the "
                 "layer's output; red dashed: the exploding threshold." + vh.axes_note(page),
                 key=f"{vh.SLUG}._diagnosis_chart")
    st.info(diagnosis.AUTOSCALE_HIDES, icon=":material/straighten:")


def compare_view(page: ui.LessonPage, run: compute.Run) -> None:
    """Two configurations side by side, synced axes, trained on the same batches."""
    options = (vh.CURRENT, *compute.PRESETS)
    titles = {vh.CURRENT: "Your current settings", **{k: p.title for k, p in compute.PRESETS.items()}}
    left, right, button = st.columns([2, 2, 1], vertical_alignment="bottom")
    with left:
        a = page.control(st.selectbox, "compare_left", "Left", options, format_func=titles.get)
    with right:
        b = page.control(st.selectbox, "compare_right", "Right", options, format_func=titles.get)
    specs = compare_specs(page, a, b)
    pair = displayed_pair(specs)
    with button:
        st.button("Train both", key=f"{vh.SLUG}._train_both", icon=":material/play_arrow:", width="stretch",
                  on_click=start_compare, args=(page, a, b), disabled=vh.any_live())
    if pair is None:
        st.info("Press Train both: the two runs train side by side on the same batches.")
        return
    source = ("the shipped precomputed runs" if pair[0].source == "precomputed" else "your runs")
    for r in pair:
        vh.run_messages(r)
    frames = []
    for r in pair:
        frame = readings.series_frame(r, "grad_norm")
        depth = max(1, len(r.layers) - 1)
        frames.append(frame.assign(run=r.name, position=frame.depth / depth))
    import pandas as pd

    frame = pd.concat(frames, ignore_index=True)
    page.chart(charts.compare_spec(frame, [r.name for r in pair], {}, vh.fixed_axes(page), page.chart_height(280)),
                 f"Gradient norm per layer (input dark, output light) of {source}, same seed and batches, one shared y and "
                 "x axis so the two panels compare directly." + vh.axes_note(page), key=f"{vh.SLUG}._compare_chart")
    for r in pair:
        if min(len(r.stats), len(r.steps)):
            st.markdown(f"**{r.name}**: " + diagnosis.diagnose(r, 0)["sentence"])


def compare_specs(page: ui.LessonPage, a: str, b: str) -> tuple[compute.RunSpec, compute.RunSpec]:
    """The two specs; the right one takes the left one's seed and steps, so both see the same batches."""
    from dataclasses import replace

    def spec_of(choice: str) -> compute.RunSpec:
        return vh.current_spec(page) if choice == vh.CURRENT else compute.PRESETS[choice].spec

    left = spec_of(a)
    return left, replace(spec_of(b), seed=left.seed, steps=left.steps)


def displayed_pair(specs) -> tuple[compute.Run, compute.Run] | None:
    pair = vh.compare_runs()
    if len(pair) == 2 and (pair[0].spec, pair[1].spec) == specs:
        return pair[0], pair[1]
    keys = [compute.matching_shipped(s) for s in specs]
    if None not in keys:
        shipped = vh.presets()
        return shipped[keys[0]], shipped[keys[1]]
    return None


@runs_whole
def start_compare(page: ui.LessonPage, a: str, b: str) -> None:
    from lessons.gradients import jobs

    specs = compare_specs(page, a, b)
    runs = [compute.new_run(s, name=f"#{vh.next_run_id()} {s.describe()}") for s in specs]
    st.session_state[vh.COMPARE_KEY] = runs
    jobs.start(runs, vh.live_data)  # the thread waits for the warm-up, never this callback (jobs.py)


SECTIONS = {"Norms": norms_view, "Gradient flow": flow_view, "Heatmap": heatmap_view,
            "Distributions": distributions_view, "Updates and activations": updates_view,
            "Diagnosis": diagnosis_view, "Compare": compare_view}
