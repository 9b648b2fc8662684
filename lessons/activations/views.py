"""The activation-heatmap views that draw maps: one heatmap with the top-5 predictions, TorchCam's maps
beside pytorch-grad-cam's, and the method x layer grid, each with its cached wrapper (plain values in;
`_x` is not part of the key). page.render() shows the open one; what the views share is in controls.py,
the sentences that state facts in content.py.

No torch at import: at the lesson's defaults the Heatmap view draws the result shipped in the repository
(shipped.py, written by precompute.py) before torch is loaded. Everything else is the live path: it calls
`page.go_live()` (which waits for the lesson's warm-up) and imports torch, compute and models.zoo in the
functions that use them.
"""
from __future__ import annotations

import time
from contextlib import nullcontext

import numpy as np
import streamlit as st

from lessons import colours, ui
from lessons.activations import charts, content, map_tools, shipped
from lessons.activations.content import AUG_SMOOTH_HELP
from lessons.activations.controls import (CHANNEL_CHOICES, COLORMAPS, DEFAULTS, SLOW_SECONDS, class_name, control,
                                          describe_input, layer_geometry, load_input, max_channels, predictions,
                                          progress_bar, resolve_class, show_image)
from lessons.activations.methods import METHODS


# --------------------------------------------------------------------------- cached compute


@st.cache_data(max_entries=48, show_spinner=False)
def heatmaps(model_name: str, source: str, framing: str, layer_paths: tuple[str, ...], method: str,
             class_index: int, aug_smooth: bool, eigen_smooth: bool, channels: str, _x: np.ndarray):
    import torch

    from lessons.activations import compute
    from models import zoo

    start = time.perf_counter()
    slow = method in SLOW_SECONDS
    with progress_bar(f"{method} ({SLOW_SECONDS[method]})") if slow else nullcontext() as update, \
            zoo.borrow(model_name) as model:
        maps = compute.class_activation_maps(
            model, torch.from_numpy(_x), list(layer_paths), method, class_index, aug_smooth=aug_smooth,
            eigen_smooth=eigen_smooth, max_channels=max_channels(channels), progress=update)
    return maps, time.perf_counter() - start


@st.cache_data(max_entries=16, show_spinner=False)
def grid(model_name: str, source: str, framing: str, methods: tuple[str, ...], layer_paths: tuple[str, ...],
         class_index: int, channels: str, _x: np.ndarray):
    import torch

    from lessons.activations import compute
    from models import zoo

    start = time.perf_counter()
    with progress_bar("Method grid") as update, zoo.borrow(model_name) as model:
        maps = compute.method_layer_grid(model, torch.from_numpy(_x), list(methods), list(layer_paths), class_index,
                                         progress=update, max_channels=max_channels(channels))
    return maps, time.perf_counter() - start


@st.cache_data(max_entries=16, show_spinner=False)
def torchcam_view(model_name: str, source: str, framing: str, layer_paths: tuple[str, ...], class_index: int,
                  samples: int, std: float, seed: int, _x: np.ndarray):
    import torch

    from lessons.activations import torchcam_compare
    from models import zoo

    x = torch.from_numpy(_x)
    with zoo.borrow(model_name) as model:
        maps = torchcam_compare.torchcam_maps(model, x, layer_paths, class_index, num_samples=samples, std=std,
                                              seed=seed)
        agreement = torchcam_compare.gradcam_agreement(model, x, layer_paths, class_index)
    return maps, agreement


# --------------------------------------------------------------------------- views


HEATMAP_CONTROLS = ("view", "model", "image", "framing", "target", "method", "layer", "opacity", "colormap",
                    "aug_smooth", "eigen_smooth", "channels")  # at their defaults, the shipped result is drawn


def shipped_controls() -> dict:
    """The controls the shipped Heatmap result was computed for: the lesson's defaults."""
    return {name: DEFAULTS[name] for name in HEATMAP_CONTROLS}


def heatmap_view(page, model_name, inp, layers, target, result) -> None:
    controls, picture = st.columns([1, 2.4])
    with controls:
        method = control(page, st.selectbox, "method", "Method", list(METHODS),
                          help="Slow methods run one forward pass per channel: " + ", ".join(
                              f"{m} {t}" for m, t in SLOW_SECONDS.items()))
        layer = control(page, st.selectbox, "layer", "Target layer", list(layers))
        opacity = control(page, st.slider, "opacity", "Heatmap opacity", 0.0, 1.0, step=0.05)
        colormap = control(page, st.selectbox, "colormap", "Colormap", COLORMAPS, help=content.COLORMAP_HELP)
        if colormap in colours.RAINBOW_COLORMAPS:
            st.caption(content.rainbow_note(colormap))
        aug = control(page, st.toggle, "aug_smooth", "Augmentation smoothing (6 passes)",
                       help=AUG_SMOOTH_HELP)
        eigen = control(page, st.toggle, "eigen_smooth", "Eigen smoothing (first principal component)")
        channels = control(page, st.select_slider, "channels", "Channels scored (ScoreCAM, AblationCAM)",
                           CHANNEL_CHOICES, disabled=method not in ("ScoreCAM", "AblationCAM"),
                           help="ScoreCAM scores this many channels (those with the largest mean activation), "
                                "AblationCAM ablates this many; every other channel gets weight 0.")
    drawn = shipped.heatmap(shipped_controls()) if page.at_defaults(HEATMAP_CONTROLS) else None
    if drawn is None:  # the student left the defaults (or nothing is shipped): compute live
        page.go_live()
        source, framing, x, rgb = inp
        if x is None:  # the page drew the shipped input's controls without loading it
            x, rgb = load_input(source, framing)
        drawn = heatmap_result(model_name, (source, framing, x, rgb), layers, target, method, layer, opacity,
                               colormap, aug, eigen, channels)
    with picture:
        left, right = st.columns([1.6, 1] if ui.presenter_mode() else [1.2, 1])
        with left:
            show_image(drawn["overlay"], drawn["caption"])
        with right:
            page.chart(charts.top_predictions_chart(drawn["top"], drawn["result"]["class_index"],
                                                    bar_height=page.chart_height(34)),
                       "The class being explained is red. Change it with “Class to explain” above.")
            st.caption(drawn["timing"])
    result.update(drawn["result"])
    result["sentences"] = list(drawn["sentences"])


def heatmap_result(model_name, inp, layers, target, method, layer, opacity, colormap, aug, eigen, channels) -> dict:
    """The Heatmap view's picture and text, computed live (the shipped default is this function's output at
    the lesson's defaults, see precompute.py): {overlay (H, W, 3) uint8, caption, top (the top-5 DataFrame),
    timing, sentences, result (the numbers "Try this" may judge)}."""
    from lessons.activations import compute

    source, framing, x, rgb = inp
    top, probs = predictions(model_name, source, framing, x)
    class_index = resolve_class(target, top)
    geo = layer_geometry(model_name, layers[layer], tuple(x.shape[1:]))
    maps, seconds = heatmaps(model_name, source, framing, (layers[layer],), method, class_index, aug, eigen,
                             channels, x)
    heat = maps[0]
    smoothing = " and ".join(name for name, on in (("augmentation", aug), ("eigen", eigen)) if on)
    where_from = "every bias layer" if method == "FullGrad" else layer
    hot = heat >= 0.5
    rows, cols = np.nonzero(hot)
    where = _where(rows.mean() / heat.shape[0], cols.mean() / heat.shape[1]) if hot.any() else "nowhere"
    sentences = [
        f"The model's top guess is **{top['label'].iloc[0]}** ({top['probability'].iloc[0]:.0%}); the map explains "
        f"**{class_name(model_name, class_index)}**, which gets {probs[class_index]:.1%}.",
        f"{hot.mean():.0%} of the image is at least half as hot as the hottest pixel; the middle of that hot "
        f"area lies {where}.",
        content.geometry_sentence(method, layer, geo),
    ]
    if method in ("ScoreCAM", "AblationCAM"):
        scored = compute.scored_channels(method, geo.channels, max_channels(channels))
        sentences.append(content.channels_sentence(method, scored, geo.channels))
    if eigen and method in ("EigenCAM", "EigenGradCAM"):
        sentences.append(f"{method} is already a first principal component: eigen smoothing changes nothing.")
    return {
        "overlay": map_tools.overlay_heatmap(rgb, heat, opacity, colormap),
        "caption": f"{method}" + (f" with {smoothing} smoothing" if smoothing else "")
                   + f" for “{class_name(model_name, class_index)}” at {where_from}",
        "top": top, "timing": f"Computed in {seconds:.2f} s on the server's CPU.", "sentences": sentences,
        "result": dict(view="Heatmap", method=method, layer=layer, class_index=class_index, seconds=seconds,
                       hot_share=float(hot.mean()), top1=str(top["label"].iloc[0]),
                       top1_p=float(top["probability"].iloc[0]),
                       run=f"{describe_input(model_name, source, framing)}, {method} at {layer}"
                           + (f" with {smoothing} smoothing" if smoothing else "")),
    }


def _where(row: float, col: float) -> str:
    vertical = "top" if row < 0.36 else "bottom" if row > 0.64 else "middle"
    horizontal = "left" if col < 0.36 else "right" if col > 0.64 else "centre"
    return "in the centre" if (vertical, horizontal) == ("middle", "centre") else f"at the {vertical} {horizontal}"


def torchcam_view_section(page, model_name, inp, layers, target, result) -> None:
    from lessons.activations.torchcam_compare import torchcam_overlay

    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        samples = control(page, st.slider, "tc_samples", "Noisy samples", 1, 16,
                           help="SmoothGradCAM++ averages gradients over this many noisy copies.")
        std = control(page, st.slider, "tc_std", "Noise (std)", 0.05, 1.0, step=0.05,
                      help="The standard deviation of the noise added to each copy. It starts above 0: "
                           "TorchCam's sampler refuses a noise of 0 (that would be plain Grad-CAM++).")
        seed = control(page, st.number_input, "seed", "Seed", min_value=0, max_value=9999, step=1)
        opacity = control(page, st.slider, "opacity", "Heatmap opacity", 0.0, 1.0, step=0.05)
    top, probs = predictions(model_name, source, framing, x)
    class_index = resolve_class(target, top)
    paths = tuple(layers.values())
    maps, agreement = torchcam_view(model_name, source, framing, paths, class_index, samples, std, int(seed), x)
    agreement = agreement.assign(layer=[name.split(" (")[0] for name in layers])
    with picture:
        st.markdown(f"**TorchCam SmoothGradCAM++ for “{class_name(model_name, class_index)}”, layer by layer** "
                    "(`overlay_mask`)")
        columns = st.columns(min(5, len(paths)))
        for i, (name, heat) in enumerate(zip(layers, maps)):
            with columns[i % len(columns)]:
                overlay = torchcam_overlay(rgb, heat, alpha=1 - opacity, colormap=page.value("colormap"))
                st.image(charts.enlarge(overlay) if overlay.shape[0] < 100 else overlay,
                         caption=f"{name.split(' (')[0]} · {heat.shape[0]}x{heat.shape[1]}", width="stretch",
                         alt=f"Grad-CAM map at {name}")
        page.chart(charts.agreement_chart(agreement, height=page.chart_height(40 + 24 * len(paths))),
                   "Both libraries' Grad-CAM on the same layer, compared pixel by pixel after upsampling.")
    worst = agreement.loc[agreement["pearson"].idxmin()]
    result.update(view="TorchCam", agreement_min=float(worst["pearson"]),
                  run=f"{describe_input(model_name, source, framing)}, {samples} samples, std {std}, seed {int(seed)}")
    result["sentences"] = [
        f"The two libraries' Grad-CAM maps agree with a Pearson correlation of at least {agreement['pearson'].min():.3f} "
        f"on all {len(paths)} layers (lowest at {worst['layer']}): same method, two implementations.",
        f"SmoothGradCAM++ averaged {samples} noisy copies (noise std {std}); the maps go from "
        f"{maps[0].shape[0]} x {maps[0].shape[1]} cells at the first layer to {maps[-1].shape[0]} x "
        f"{maps[-1].shape[1]} at the last.",
    ]


def grid_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    methods = control(page, st.multiselect, "grid_methods", "Methods (rows)", list(METHODS),
                       max_selections=5)
    valid_default = [name for name in DEFAULTS["grid_layers"] if name in layers] or list(layers)[-3:]
    chosen = control(page, st.multiselect, "grid_layers", "Layers (columns)", list(layers), max_selections=4,
                      default=valid_default)  # the digits CNN has other layers than the lesson default
    if not methods or not chosen:
        st.warning("Pick at least one method and one layer.")
        return
    opacity, colormap = page.value("opacity"), page.value("colormap")
    top, probs = predictions(model_name, source, framing, x)
    class_index = resolve_class(target, top)
    chosen = [name for name in layers if name in chosen]  # network order
    maps, seconds = grid(model_name, source, framing, tuple(methods), tuple(layers[c] for c in chosen), class_index,
                         page.value("channels"), x)
    widths = [0.8] + [1] * len(chosen) + [0.2 + 4 - len(chosen)]  # the spare column keeps images small
    header = st.columns(widths)
    for j, name in enumerate(chosen):
        header[j + 1].markdown(f"**{name}**")
    for i, method in enumerate(methods):
        row = st.columns(widths)
        row[0].markdown(f"**{method}**")
        for j in range(len(chosen)):
            overlay = map_tools.overlay_heatmap(rgb, maps[i, j], opacity, colormap)
            row[j + 1].image(charts.enlarge(overlay) if overlay.shape[0] < 100 else overlay, width="stretch",
                             alt=f"{method} map")
    st.caption(f"{len(methods)} x {len(chosen)} maps for “{class_name(model_name, class_index)}” in {seconds:.2f} s, "
               "without smoothing: each is the map the Heatmap view shows for that method and layer with both "
               "smoothing toggles off." + (" FullGrad uses no single layer, so its row repeats." if "FullGrad" in methods
                                           else ""))
    same_layer = [map_tools.pearson_correlation(maps[i, j], maps[k, j])
                  for j in range(len(chosen)) for i in range(len(methods)) for k in range(i + 1, len(methods))]
    across_layers = [map_tools.pearson_correlation(maps[i, 0], maps[i, -1]) for i, m in enumerate(methods)
                     if m != "FullGrad"]  # FullGrad's row repeats: it would count as a perfect match
    result.update(view="Method grid", seconds=seconds,
                  run=f"{describe_input(model_name, source, framing)}, {', '.join(methods)} at "
                      f"{', '.join(c.split(' (')[0] for c in chosen)}")
    sentences = []
    from lessons.activations import compute

    for method in ("ScoreCAM", "AblationCAM"):
        if method in methods:
            paths = [layers[c] for c in chosen]
            geos = [layer_geometry(model_name, p, tuple(x.shape[1:])) for p in paths]
            counts = {(compute.scored_channels(method, g.channels, max_channels(page.value("channels"))), g.channels)
                      for g in geos}
            sentences.append(f"{method} scored " + ", ".join(f"{k} of {c}" for k, c in sorted(counts))
                             + " channels per layer; the other channels get weight 0.")
    if same_layer:
        sentences.append(f"On the same layer, two methods' maps correlate by {np.mean(same_layer):.2f} on average "
                         f"(Pearson, from {np.min(same_layer):.2f} to {np.max(same_layer):.2f}).")
    if len(chosen) > 1 and across_layers:
        sentences.append(f"One method at {chosen[0].split(' (')[0]} and at {chosen[-1].split(' (')[0]}: correlation "
                         f"{np.mean(across_layers):.2f} on average" + (
                             ", so here the layer changes the picture more than the method does."
                             if same_layer and np.mean(across_layers) < np.mean(same_layer)
                             else "." if not same_layer else ", so here the method matters more than the layer."))
    result["sentences"] = sentences or ["Add a second method or layer to compare."]
