"""The lesson's six views. Each draws its controls (page.control: part of the share link), gets its
result (shipped or live, helpers.py), draws its charts and returns the "What you see" sentences;
it stores what the "Try this" checks read in `result`. No torch at module level."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from lessons import ui
from lessons.landscapes import charts, content, helpers, measures, store, toy
from lessons.landscapes import settings as S

REDRAW_SECONDS = 0.25


def _samples(page: ui.LessonPage) -> int:
    """The "Evaluation digits" control, drawn by the page beside the view picker (page.samples_control)."""
    return int(page.value("samples"))


# --------------------------------------------------------------------------- 1. interpolation


def interpolation_view(page: ui.LessonPage, result: dict) -> list[str]:
    left, _ = st.columns(2)
    with left:
        reach = page.control(st.select_slider, "reach", "Beyond the ends (\u03b1 from \u2212r to 1 + r)", S.REACHES)
    samples = _samples(page)
    from lessons.landscapes import results_keys as keys
    data, source = helpers.shipped_or(page, keys.interpolation_key(samples, reach), helpers.live_interpolation,
                                      samples, reach)
    frame = pd.concat([
        pd.DataFrame({"alpha": data["alpha"], "loss": data["init_loss"], "accuracy": data["init_acc"],
                      "path": "initial \u2192 trained (seed 0)"}),
        pd.DataFrame({"alpha": data["alpha"], "loss": data["seed_loss"], "accuracy": data["seed_acc"],
                      "path": "solution seed 0 \u2192 solution seed 1"})])
    height = page.chart_height(300)
    a, b = st.columns(2)
    with a:
        page.chart(charts.lines(frame, "alpha", "loss", "path", height, "\u03b1", "loss (log scale)", log_y=True,
                                rules=(0, 1)),
                   "Loss along the straight line (1 \u2212 \u03b1)\u00b7\u03b8\u2080 + \u03b1\u00b7\u03b8\u2081 in weight "
                   "space; the dashed lines mark the two ends.", key=f"{S.SLUG}._interp_loss")
    with b:
        page.chart(charts.lines(frame, "alpha", "accuracy", "path", height, "\u03b1", "accuracy", rules=(0, 1)),
                   "Accuracy on the same digits along the same paths.", key=f"{S.SLUG}._interp_acc")
    result["interpolation"] = {"data": data, "source": source}
    return content.interpolation_sentences(data, source, samples)


# --------------------------------------------------------------------------- 2. slices


def slices_view(page: ui.LessonPage, result: dict) -> list[str]:
    a, b, _ = st.columns(3)
    with a:
        seed = page.control(st.selectbox, "slice_seed", "Direction seed", S.SEEDS)
    with b:
        span = page.control(st.select_slider, "slice_span", "Range (\u00b1 distance)", S.SPANS)
    samples = _samples(page)
    from lessons.landscapes import results_keys as keys
    data, source = helpers.shipped_or(page, keys.slices_key("digits_mlp", seed, span, samples), helpers.live_slices,
                                      "digits_mlp", seed, span, samples)
    titles = {"filter": "filter-normalised", "layer": "layer-normalised", "none": "not normalised"}
    frame = pd.concat([pd.DataFrame({"alpha": data["alpha"], "loss": data[f"loss_{n}"], "direction": titles[n]})
                       for n in ("filter", "layer", "none")])
    page.chart(charts.lines(frame, "alpha", "loss", "direction", page.chart_height(280), "\u03b1 (step along the "
                            "direction)", "loss (log scale)", log_y=True, rules=(0,)),
               "1-D slices of the digits MLP's training loss through its trained weights (\u03b1 = 0) along one random "
               "direction, scaled three ways.", key=f"{S.SLUG}._slices_1d")
    cols = st.columns(3)
    for col, norm in zip(cols, ("filter", "layer", "none")):
        with col:
            frame2 = charts.grid_frame(data["axis"], data[f"surface_{norm}"])
            page.chart(charts.contour(frame2, True, page.chart_height(230), title=titles[norm]),
                       f"2-D slice, {titles[norm]} directions (log10 of the loss).", key=f"{S.SLUG}._slices_2d_{norm}")
    result["slices"] = {"data": data, "source": source}
    return content.slices_sentences(data, source, samples)


# --------------------------------------------------------------------------- 3. surface


def _draw_surface(page, slot, axis, loss, log_scale: bool, plot: str, caption: str, draw: int) -> None:
    """Draw (or redraw, while a live grid is refined) the surface in `slot`; `draw` numbers the redraws so
    that the same picture drawn twice in one run (the last refinement, then the final) gets its own key."""
    height = page.chart_height(420)
    key = f"{S.SLUG}._surface_{draw}"
    with slot.container():
        if plot == "3D surface":
            page.chart(charts.surface_3d(axis, loss, log_scale, height), caption, key=key)
        else:
            page.chart(charts.contour(charts.grid_frame(axis, loss), log_scale, height), caption, key=key)


def surface_view(page: ui.LessonPage, result: dict) -> list[str]:
    a, b, c, d = st.columns([1.4, 1, 1.2, 1.2])
    with a:
        model = page.control(st.selectbox, "model", "Model", list(S.MODELS), format_func=S.MODELS.get)
    with b:
        seed = page.control(st.selectbox, "seed", "Direction seed", S.SEEDS,
                            help="New directions: another seed draws two other random filter-normalised directions.")
    with c:
        span = page.control(st.select_slider, "span", "Range (\u00b1)", S.SPANS)
    with d:
        resolution = page.control(st.select_slider, "resolution", "Resolution", S.RESOLUTIONS,
                                  format_func=lambda r: f"{r} x {r}")
    samples = _samples(page)
    f, g, h = st.columns([1.4, 1, 1.4], vertical_alignment="bottom")
    with f:
        plot = page.control(st.segmented_control, "plot", "Plot", S.PLOTS, required=True)
    with g:
        log_scale = page.control(st.toggle, "log_scale", "Log scale")
    with h:
        multiples = page.control(st.toggle, "multiples", "Compare 4 direction seeds")
    from lessons.landscapes import results_keys as keys
    key = keys.surface_key(model, seed, span, resolution, samples)
    data, source = store.shipped(key), "shipped"
    progress, slot = st.empty(), st.empty()
    draws = 0
    if data is None:
        data, source = helpers.remembered_surface(key), "live"
    if data is None:
        page.go_live()
        from lessons.landscapes import results
        last_draw = 0.0
        for update in results.surface_stream(model, seed, span, resolution, samples):
            progress.progress(update.done / update.total, text=f"Computing: {update.done} of {update.total} grid "
                              f"points ({update.level} x {update.level} so far)")
            if time.perf_counter() - last_draw > REDRAW_SECONDS or update.done == update.total:
                draws += 1
                _draw_surface(page, slot, update.axis, update.loss, log_scale, plot,
                              f"Coarse {update.level} x {update.level} grid, refined while you watch.", draws)
                last_draw = time.perf_counter()
        progress.empty()
        data = {"axis": update.axis, "loss": update.loss, "acc": update.acc}
        helpers.remember_surface(key, data)
    _draw_surface(page, slot, data["axis"], data["loss"], log_scale, plot,
                  f"Training loss of the {S.MODELS[model]} at \u03b8 + \u03b1\u00b7d\u2081 + \u03b2\u00b7d\u2082 "
                  f"(filter-normalised d\u2081, d\u2082 of seed {seed}; {resolution} x {resolution} points; "
                  f"{samples} training digits). + marks the trained weights.", draws + 1)
    sentences = content.surface_sentences(data, source, model, samples)
    result["surface"] = {"data": data, "source": source}
    if multiples:
        many, many_source = helpers.shipped_or(page, keys.multiples_key(model, span, samples), helpers.live_multiples,
                                               model, span, samples)
        low = min(float(np.nanmin(many[f"loss_{s}"])) for s in S.SMALL_SEEDS)
        high = max(float(np.nanmax(many[f"loss_{s}"])) for s in S.SMALL_SEEDS)
        domain = (np.log10(low), np.log10(high)) if log_scale else (low, high)
        cols = st.columns(len(S.SMALL_SEEDS))
        for col, s in zip(cols, S.SMALL_SEEDS):
            with col:
                page.chart(charts.contour(charts.grid_frame(many["axis"], many[f"loss_{s}"]), log_scale,
                                          page.chart_height(255), title=f"seed {s}", domain=domain),
                           f"Directions of seed {s}, 17 x 17.", key=f"{S.SLUG}._multiple_{s}")
        sentences += content.multiples_sentences(many, many_source, span)
    return sentences


# --------------------------------------------------------------------------- 4. trajectory


def _trajectory_chart(page, data, height, title=""):
    frame = charts.grid_frame(data["axis"], data["loss"])
    path = pd.DataFrame({"pc1": data["coords"][:, 0], "pc2": data["coords"][:, 1], "loss": data["path_loss"],
                         "step": np.arange(len(data["coords"]))})
    return charts.trajectory(frame, path, False, height, data["explained"]).properties(title=title)


def trajectory_view(page: ui.LessonPage, result: dict) -> list[str]:
    a, b, c = st.columns(3)
    with a:
        optimizer = page.control(st.selectbox, "optimizer", "Optimizer", list(S.OPTIMIZERS), format_func=S.OPTIMIZERS.get)
    with b:
        seed = page.control(st.selectbox, "traj_seed", "Training seed", S.TRAJECTORY_SEEDS)
    with c:
        resolution = page.control(st.select_slider, "traj_resolution", "Resolution", S.TRAJECTORY_RESOLUTIONS,
                                  format_func=lambda r: f"{r} x {r}")
    samples = _samples(page)
    from lessons.landscapes import results_keys as keys
    data, source = helpers.shipped_or(page, keys.trajectory_key(optimizer, seed, resolution, samples),
                                      helpers.live_trajectory, optimizer, seed, resolution, samples)
    page.chart(_trajectory_chart(page, data, page.chart_height(420)),
               f"The MLP's checkpoints in red, every 25 steps and at each epoch end of 10 epochs of "
               f"{S.OPTIMIZERS[optimizer]}, projected on the plane of their first two principal components, over the "
               "loss on that plane (centred on the final weights).", key=f"{S.SLUG}._trajectory")
    result["trajectory"] = {"data": data, "source": source, "optimizer": optimizer}
    return content.trajectory_sentences(data, source, optimizer)


# --------------------------------------------------------------------------- 5. comparisons


def comparisons_view(page: ui.LessonPage, result: dict) -> list[str]:
    comparison = page.control(st.segmented_control, "comparison", "Compare", S.COMPARISONS, required=True)
    samples = _samples(page)
    from lessons.landscapes import results_keys as keys
    height = page.chart_height(320)
    if comparison == "Batch size":
        data, source = helpers.shipped_or(page, keys.batch_key(samples), helpers.live_batch, samples)
        rows = []
        for name, label in (("mlp_batch32", "batch 32"), ("mlp_batch4000", "batch 4,000 (full)")):
            for k, curve in enumerate(data[f"loss_{name}"]):
                rows.append(pd.DataFrame({"alpha": data["alpha"], "loss": curve, "solution": label, "direction": k}))
        page.chart(charts.lines(pd.concat(rows), "alpha", "loss", "solution", height, "\u03b1 (filter-normalised)",
                                "loss (log scale)", log_y=True,
                                rules=(-measures.SHARPNESS_DISTANCE, -measures.SHARPNESS_NEAR, measures.SHARPNESS_NEAR,
                                       measures.SHARPNESS_DISTANCE), detail="direction"),
                   "The same MLP trained from the same initial weights with batches of 32 and with the whole training "
                   f"set per step; five 1-D filter-normalised slices each. Dashed: \u00b1{measures.SHARPNESS_NEAR:g} and "
                   f"\u00b1{measures.SHARPNESS_DISTANCE:g}, where sharpness is read.", key=f"{S.SLUG}._batch")
        result["batch"] = {"data": data, "source": source}
        return content.batch_sentences(data, source)
    if comparison == "Optimizer":
        figures = {}
        cols = st.columns(2)
        for col, optimizer in zip(cols, ("sgd", "adam")):
            data, source = helpers.shipped_or(page, keys.trajectory_key(optimizer, 0, 25, samples),
                                              helpers.live_trajectory, optimizer, 0, 25, samples)
            figures[optimizer] = (data, source)
            with col:
                page.chart(_trajectory_chart(page, data, page.chart_height(320), S.OPTIMIZERS[optimizer]),
                           f"{S.OPTIMIZERS[optimizer]}: checkpoints on their own PCA plane.", key=f"{S.SLUG}._cmp_{optimizer}")
        result["optimizers"] = figures
        return content.optimizer_sentences(figures)
    seed = page.control(st.selectbox, "cmp_seed", "Direction seed", S.SEEDS)
    data, source = helpers.shipped_or(page, keys.skips_key(samples, seed), helpers.live_skips, samples, seed)
    low = min(float(data[f"loss_{n}"].min()) for n in ("resmlp_skips", "resmlp_noskips"))
    high = max(float(data[f"loss_{n}"].max()) for n in ("resmlp_skips", "resmlp_noskips"))
    cols = st.columns(2)
    for col, name, title in zip(cols, ("resmlp_skips", "resmlp_noskips"), ("with skip connections", "without skips")):
        with col:
            page.chart(charts.contour(charts.grid_frame(data["axis"], data[f"loss_{name}"]), True, height, title=title,
                                      domain=(np.log10(low), np.log10(high)), square=measures.NEAR_DISTANCE),
                       f"Residual MLP (4 blocks of 2 linear layers with BatchNorm, width 32) {title}: 2-D "
                       "filter-normalised slice, log10 of the loss, the same colour scale on both; the dashed square "
                       f"is the \u00b1{measures.NEAR_DISTANCE:g} region where roughness is read.", key=f"{S.SLUG}._skips_{name}")
    result["skips"] = {"data": data, "source": source}
    return content.skips_sentences(data, source)


# --------------------------------------------------------------------------- 6. toy surfaces


def toy_view(page: ui.LessonPage, result: dict) -> list[str]:
    a, b, c = st.columns(3)
    with a:
        surface = page.control(st.segmented_control, "toy_surface", "Surface", list(S.TOY_SURFACES),
                               format_func=S.TOY_SURFACES.get, required=True)
    with b:
        lr = page.control(st.select_slider, "toy_lr", "Learning rate", S.TOY_RATES, format_func="{:g}".format)
    with c:
        steps = page.control(st.slider, "toy_steps", "Steps", 10, 300, step=10)
    page.chart(charts.toy_animation(surface, lr, steps, page.chart_height(460)),
               f"{toy.SURFACES[surface].note}. SGD, SGD with momentum and Adam from the same start with learning rate "
               f"{lr:g}; press Play to watch them step by step, or drag the step slider.", key=f"{S.SLUG}._toy")
    summary = toy.summary(surface, lr, steps)
    result["toy"] = {"surface": surface, "lr": lr, "steps": steps, "summary": summary}
    return content.toy_sentences(surface, lr, steps, summary)


VIEW_FUNCTIONS = {"Interpolation": interpolation_view, "Slices": slices_view, "Surface": surface_view,
                  "Trajectory": trajectory_view, "Comparisons": comparisons_view, "Toy surfaces": toy_view}
