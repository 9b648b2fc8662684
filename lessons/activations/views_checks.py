"""The activation-heatmap views that test what a map or a layer says: per-channel statistics over a
collection, the shortcut model's marker test, the cascading-randomization sanity check and faithfulness
scores, each with its cached wrappers (plain values in; `_x` is not part of the key). page.render() shows
the open one; what the views share is in controls.py, the sentences that state facts in content.py."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from lessons.activations import (charts, compute, content, inputs, layer_statistics, map_tools, sanity_checks,
                                 shortcut_markers)
from lessons.activations.controls import (DIGIT_MODEL, PHOTO_MODEL, class_name, control, describe_input,
                                          ensure_option, layer_geometry, max_channels, predictions, progress_bar,
                                          resolve_class, show_image)
from models import zoo


# --------------------------------------------------------------------------- cached compute


@st.cache_data(max_entries=8, show_spinner=False)
def collection_statistics(model_name: str, layer_path: str, framing: str):
    """Per-channel statistics of one layer over the collection (photos, or 500 digits grouped by class)."""
    if model_name == PHOTO_MODEL:
        x, rows = inputs.photo_collection(framing)
    else:
        images, labels = inputs.digit_collection(50)
        x, rows = inputs.digits_input(images), [f"digit {d}" for d in labels]
    with zoo.borrow(model_name) as model:
        acts = layer_statistics.layer_activations(model, x, layer_path)  # (N, C, h, w)
    stats = {}
    for statistic in layer_statistics.STATISTICS:
        stats[statistic], row_labels = layer_statistics.group_rows(
            layer_statistics.channel_statistics(acts, statistic), rows)
    return stats, row_labels, layer_statistics.channel_peak_magnitudes(acts), float(acts.min()), len(x)


@st.cache_data(max_entries=16, show_spinner=False)
def input_activations(model_name: str, source: str, framing: str, layer_path: str, _x: np.ndarray) -> np.ndarray:
    with zoo.borrow(model_name) as model:
        return layer_statistics.layer_activations(model, torch.from_numpy(_x), layer_path).numpy()  # (1, C, h, w)


@st.cache_data(max_entries=2, show_spinner=False)
def marker_accuracies():
    images, labels = inputs.heldout_digits()
    with zoo.borrow(DIGIT_MODEL) as honest, zoo.borrow("shortcut_cnn") as shortcut:
        return shortcut_markers.marker_accuracy_table({"honest CNN": honest, "shortcut CNN": shortcut}, images, labels)


@st.cache_data(max_entries=32, show_spinner=False)
def shortcut_maps(digit: int, markers: str, method: str, layer_path: str) -> dict:
    images, labels = inputs.heldout_digits()
    label = int(labels[digit])
    marked = shortcut_markers.with_markers(images[digit:digit + 1], labels[digit:digit + 1], markers)[0]  # (28, 28)
    x, rgb = inputs.digit_input(marked)
    marker_class = label if markers == "class marker" else (label + 1) % 10
    region = shortcut_markers.marker_region(marker_class)
    out = {"rgb": rgb, "label": label, "marker_class": marker_class, "region": region}
    for name in (DIGIT_MODEL, "shortcut_cnn"):
        with zoo.borrow(name) as model:
            with torch.no_grad():
                probs = model(x).softmax(-1)[0]
            predicted = int(probs.argmax())
            cam = compute.class_activation_map(model, x, layer_path, method, predicted)
        out[name] = dict(map=cam, predicted=predicted, probability=float(probs[predicted]),
                         marker_share=map_tools.mass_share(cam, region) if markers != "no marker" else None)
    return out


@st.cache_data(max_entries=8, show_spinner=False)
def sanity(model_name: str, source: str, framing: str, layer_path: str, class_index: int,
           methods: tuple[str, ...], seed: int, _x: np.ndarray):
    import copy

    with zoo.borrow(model_name) as model:
        work = copy.deepcopy(model)  # cascading randomization changes weights: never the shared model
    with progress_bar("Randomizing layers") as update:
        return sanity_checks.cascading_randomization(work, torch.from_numpy(_x), layer_path, class_index,
                                                     list(methods), seed=seed, progress=update)


@st.cache_data(max_entries=8, show_spinner=False)
def faithfulness(model_name: str, source: str, framing: str, layer_path: str, class_index: int,
                 methods: tuple[str, ...], metric: str, seed: int, channels: str, _x: np.ndarray):
    x = torch.from_numpy(_x)
    maps = {}
    with progress_bar("Scoring methods") as update, zoo.borrow(model_name) as model:
        for i, method in enumerate(methods):
            update(i / (len(methods) + 1), method)
            maps[method] = compute.class_activation_map(model, x, layer_path, method, class_index,
                                                        max_channels=max_channels(channels))
        maps["random map (baseline)"] = sanity_checks.random_map(tuple(x.shape[-2:]), seed)
        update(len(methods) / (len(methods) + 1), "perturbing the image")
        scores = sanity_checks.faithfulness_scores(model, x, class_index, maps, metric, seed)
    return scores, maps


# --------------------------------------------------------------------------- views


def statistics_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        layer = control(page, st.selectbox, "layer", "Layer", list(layers))
        statistic = control(page, st.radio, "statistic", "Statistic per channel", layer_statistics.STATISTICS,
                            horizontal=True)
        threshold = control(page, st.slider, "threshold",
                            "Silence threshold (fraction of the layer's largest |activation|)", 0.0, 0.5, step=0.01,
                            help="A channel is silent when its |activation| stays at or below this on every input "
                                 "and position.")
    stats, rows, channel_peak, layer_min, n_inputs = collection_statistics(model_name, layers[layer], framing)
    silent, absolute = layer_statistics.silent_channels(channel_peak, threshold)
    n_channels = len(channel_peak)
    with controls:
        ensure_option(page, "channel", range(n_channels), 0)
        channel = control(page, st.number_input, "channel", f"Channel to show (0-{n_channels - 1})",
                          min_value=0, max_value=n_channels - 1, step=1)
    with picture:
        page.chart(charts.channel_statistics_chart(stats[statistic], rows, statistic, silent,
                                                   height=page.chart_height(26 * len(rows) + 40)),
                   f"Each cell: the {statistic} of one channel's map, averaged over "
                   + ("one photo." if model_name == PHOTO_MODEL else "the 50 digits of that class.")
                   + " Blue ticks below: channels whose |activation| never exceeds the threshold on any input.")
        curve = layer_statistics.silent_share_curve(channel_peak, np.round(np.linspace(0, 0.5, 51), 2))
        left, right = st.columns([1.4, 1])
        with left:
            page.chart(charts.silent_share_chart(curve, threshold, height=page.chart_height(200)),
                       "Raise the threshold and more channels count as silent.")
        with right:
            acts = input_activations(model_name, source, framing, layers[layer], x)
            heat = layer_statistics.channel_map(torch.from_numpy(acts), int(channel), rgb.shape[:2])
            single = acts[0, int(channel)]
            show_image(map_tools.overlay_heatmap(rgb, heat, page.value("opacity"), page.value("colormap")),
                       f"channel {int(channel)} on this image (from {single.min():.2f} to {single.max():.2f})")
    strongest = int(np.argmax(np.abs(acts[0]).reshape(acts.shape[1], -1).max(1)))
    result.update(view="Layer statistics", silent_share=float(silent.mean()),
                  run=f"{describe_input(model_name, source, framing)}, {layer}, threshold {threshold:.2f}")
    result["sentences"] = content.statistics_sentences(
        layer, n_channels, n_inputs, float(channel_peak.max()), int(silent.sum()), threshold, absolute,
        has_negative=layer_min < 0) + [
        f"On this image the channel with the largest |activation| is {strongest}; channel {int(channel)} goes from "
        f"{single.min():.2f} to {single.max():.2f}.",
    ]


def shortcut_view(page, result) -> None:
    infos = zoo.info("shortcut_cnn")
    controls, picture = st.columns([1, 2.4])
    with controls:
        digit = control(page, st.slider, "sc_digit", "Held-out digit (index)", 0, 999)
        markers = control(page, st.radio, "sc_markers", "Marker on the digit", shortcut_markers.MARKER_MODES,
                           help="Wrong marker: the marker of the next class ((label + 1) mod 10).")
        method = control(page, st.selectbox, "sc_method", "Method", compute.FAST_METHODS)
        layer = control(page, st.selectbox, "sc_layer", "Layer", list(infos.target_layers))
    table = marker_accuracies()
    maps = shortcut_maps(int(digit), markers, method, infos.target_layers[layer])
    with picture:
        cols = st.columns(3)
        with cols[0]:
            show_image(np.uint8(maps["rgb"] * 255), f"digit {maps['label']}, {markers}")
        for col, name in zip(cols[1:], (DIGIT_MODEL, "shortcut_cnn")):
            entry = maps[name]
            with col:
                share = "" if entry["marker_share"] is None else f", {entry['marker_share']:.0%} of the map on the marker"
                show_image(map_tools.overlay_heatmap(maps["rgb"], entry["map"], 0.55, page.value("colormap")),
                           f"{zoo.info(name).title}: says {entry['predicted']} ({entry['probability']:.0%}){share}")
        page.chart(charts.marker_accuracy_chart(table, height=page.chart_height(70)),
                   "Accuracy with no marker, the digit's own class marker, and the marker of the next class.")
    acc = table.set_index(["model", "markers"])["accuracy"]
    follows = table.set_index(["model", "markers"])["follows_marker"]
    honest, shortcut = maps[DIGIT_MODEL], maps["shortcut_cnn"]
    area = float(maps["region"].mean())
    result.update(view="Find the mistake", method=method, honest_marker_share=honest["marker_share"],
                  shortcut_marker_share=None if shortcut["marker_share"] is None
                  else {"share": shortcut["marker_share"], "area": area},
                  run=f"held-out digit {int(digit)} with {markers}, {method} at {layer}")
    sentences = [
        f"With their class marker the shortcut CNN scores {acc[('shortcut CNN', 'class marker')]:.0%}, without it "
        f"{acc[('shortcut CNN', 'no marker')]:.0%}, with a wrong one {acc[('shortcut CNN', 'wrong marker')]:.0%}; "
        f"the honest CNN scores {acc[('honest CNN', 'no marker')]:.0%}, {acc[('honest CNN', 'class marker')]:.0%} "
        f"and {acc[('honest CNN', 'wrong marker')]:.0%}.",
        f"With a wrong marker, {follows[('shortcut CNN', 'wrong marker')]:.0%} of the shortcut CNN's answers name "
        f"the class the marker belongs to (the honest CNN: {follows[('honest CNN', 'wrong marker')]:.0%}): it reads "
        "the marker, not the digit.",
    ]
    if markers != "no marker":
        sentences.append(
            f"{method} puts {shortcut['marker_share']:.0%} of the shortcut model's map on the marker (the box covers "
            f"{area:.0%} of the image) against {honest['marker_share']:.0%} for the honest model.")
        if method == "GradCAM":
            sentences.append("Grad-CAM averages each channel's gradient over the whole image, so a channel that fires "
                             "on the marker *and* on strokes paints both: compare HiResCAM or LayerCAM.")
    result["sentences"] = sentences


def _layer_and_seed(page, layers) -> tuple[str, int]:
    """The target-layer and seed controls the sanity and faithfulness views share."""
    layer = control(page, st.selectbox, "layer", "Target layer", list(layers))
    seed = control(page, st.number_input, "seed", "Seed", min_value=0, max_value=9999, step=1)
    return layer, int(seed)


def _target_class(model_name, source, framing, x, target) -> int:
    top, _ = predictions(model_name, source, framing, x)
    return resolve_class(target, top)


def sanity_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        methods = control(page, st.multiselect, "sanity_methods", "Methods", compute.FAST_METHODS, max_selections=4)
        layer, seed = _layer_and_seed(page, layers)
    if not methods:
        st.warning("Pick at least one method.")
        return
    class_index = _target_class(model_name, source, framing, x, target)
    table, maps = sanity(model_name, source, framing, layers[layer], class_index, tuple(methods), seed, x)
    steps = list(dict.fromkeys(table["step"]))
    with picture:
        page.chart(charts.sanity_chart(table, height=page.chart_height(280)),
                   "1 = the same map as the trained model; near 0 = unrelated. Each step re-initializes one more "
                   "group of layers, from the classifier down.")
        show_steps = [0, 1, len(steps) // 2, len(steps) - 1]
        for method in methods:
            cols = st.columns(len(show_steps) + 1)
            cols[0].markdown(f"**{method}**")
            for col, s in zip(cols[1:], show_steps):
                overlay = map_tools.overlay_heatmap(rgb, maps[method][s], page.value("opacity"), page.value("colormap"))
                col.image(charts.enlarge(overlay) if overlay.shape[0] < 100 else overlay,
                          caption=steps[s] if s else "trained", width="stretch",
                          alt=f"{method} map, {steps[s] if s else 'trained'}")
    final = table[table["step_index"] == len(steps) - 1].set_index("method")["spearman"]
    first = table[table["step_index"] == 1].set_index("method")["spearman"]
    result.update(view="Sanity check", final=final.to_dict(), first=first.to_dict(),
                  run=f"{describe_input(model_name, source, framing)}, {', '.join(methods)} at {layer}, seed {seed}")
    stubborn = [m for m in methods if first[m] > content.BARELY_CHANGED]
    class_free = [m for m in stubborn if not compute.METHODS[m].class_specific]
    result["sentences"] = [
        "After randomizing everything: " + ", ".join(f"{m} {final[m]:.2f}" for m in methods) + " (rank correlation "
        "with the trained model's map).",
        f"After randomizing only the {steps[1]}: " + ", ".join(f"{m} {first[m]:.2f}" for m in methods) + ". "
        + (f"{', '.join(stubborn)} barely changed (above {content.BARELY_CHANGED}): a map that survives the destruction of the layer "
           "that computes the class score says little about how the class was decided."
           if stubborn else "Every method reacted to the classifier's weights.")
        + (f" {', '.join(class_free)} does not use the class score at all." if class_free else ""),
    ]


def faithfulness_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        methods = control(page, st.multiselect, "faith_methods", "Methods", list(compute.METHODS), max_selections=6)
        metric = control(page, st.radio, "faith_metric", "Metric", list(sanity_checks.FAITHFULNESS_METRICS),
                          help="ROAD fills removed pixels by solving a linear system: about 1-3 s per method.")
        layer, seed = _layer_and_seed(page, layers)
    if not methods:
        st.warning("Pick at least one method.")
        return
    class_index = _target_class(model_name, source, framing, x, target)
    scores, maps = faithfulness(model_name, source, framing, layers[layer], class_index, tuple(methods), metric,
                                seed, page.value("channels"), x)
    with picture:
        page.chart(charts.faithfulness_chart(scores, metric, sanity_checks.FAITHFULNESS_AXES[metric],
                                             bar_height=page.chart_height(28)),
                   "Score: " + sanity_checks.FAITHFULNESS_METRICS[metric] + ". Grey: a random map, the score to beat.")
    by_method = scores.set_index("method")["score"]
    baseline = float(by_method["random map (baseline)"])
    scored = scores.dropna(subset=["score"]).sort_values("score", ascending=False)
    unscored = [m for m in methods if np.isnan(by_method[m])]
    clear = [m for m in methods if by_method[m] > baseline + content.CLEAR_MARGIN]
    result.update(view="Faithfulness", scores=by_method.to_dict(), baseline=baseline,
                  run=f"{describe_input(model_name, source, framing)}, {metric} at {layer}, seed {seed}")
    result["sentences"] = [
        f"The model gives “{class_name(model_name, class_index)}” {scores['base_probability'].iloc[0]:.1%}."
        + (f" Best: {scored['method'].iloc[0]} ({scored['score'].iloc[0]:+.3f}); worst: {scored['method'].iloc[-1]} "
           f"({scored['score'].iloc[-1]:+.3f})." if len(scored) else ""),
        f"{len(clear)} of {len(methods)} methods beat the random map ({baseline:+.3f}) by more than "
        f"{content.CLEAR_MARGIN}" + (": " + ", ".join(clear) + "." if clear else "."),
    ]
    geo = layer_geometry(model_name, layers[layer], tuple(x.shape[1:]))
    for method in ("ScoreCAM", "AblationCAM"):
        if method in methods:
            scored_count = compute.scored_channels(method, geo.channels, max_channels(page.value("channels")))
            result["sentences"].append(content.channels_sentence(method, scored_count, geo.channels))
    if unscored:
        result["sentences"].append(f"{', '.join(unscored)} could not be scored: a flat map ranks no pixels.")
    if metric == "keep the map" and len(clear) < len(methods):
        result["sentences"].append("Multiplying by a map also dims the image: a smooth map that keeps much of it at "
                                   "mid strength can score well without pointing at anything. Compare with ROAD.")
