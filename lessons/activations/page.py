"""Lesson page: activation heatmaps. Thin: widgets -> cached compute (lessons.activations.compute) -> charts."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from lessons import ui
from lessons.activations import charts, compute
from models import zoo

SLUG = "activations"
PHOTO_MODEL, DIGIT_MODEL = "efficientnet_lite0", "digits_cnn"
MODELS = {PHOTO_MODEL: "EfficientNet-Lite0", DIGIT_MODEL: "Digits CNN"}
VIEWS = ("Heatmap", "TorchCam", "Method grid", "Layer statistics", "Find the mistake", "Sanity check", "Faithfulness")
UPLOAD = "upload your own"
COLORMAPS = ("jet", "turbo", "viridis", "inferno", "magma")
CHANNEL_CHOICES = ("32", "64", "128", "256", "all")
TOP_K = tuple(f"top {k}" for k in range(1, 6))
SLOW_SECONDS = {"ScoreCAM": "2-6 s", "AblationCAM": "3-8 s", "FullGrad": "about 1 s"}
SHORTCUT_LAYER = "block 1 (16 ch, 28 px)"

DEFAULTS = {
    "view": "Heatmap", "model": PHOTO_MODEL, "image": "cat", "framing": "centre crop", "digit": 0,
    "method": "GradCAM", "layer": "head conv (1280 ch, 7 px)", "target": "top 1", "opacity": 0.5,
    "colormap": "jet", "aug_smooth": False, "eigen_smooth": False, "channels": "64",
    "tc_samples": 4, "tc_std": 0.3,
    "grid_methods": ["GradCAM", "GradCAM++", "LayerCAM", "EigenCAM"],
    "grid_layers": ["stage 5 (112 ch, 14 px)", "stage 7 (320 ch, 7 px)", "head conv (1280 ch, 7 px)"],
    "statistic": "mean", "threshold": 0.05, "channel": 0,
    "sc_digit": 0, "sc_markers": "class marker", "sc_method": "HiResCAM", "sc_layer": SHORTCUT_LAYER,
    "sanity_methods": ["GradCAM", "GradCAM++", "EigenCAM"], "faith_methods": ["GradCAM", "HiResCAM", "EigenCAM", "LayerCAM"],
    "faith_metric": "keep the map", "seed": 0,
}

WHY = """A classifier says *tabby cat*: but what in the picture made it say so? **Class activation maps**
weight the feature maps of one layer by how much they matter for a class and paint the sum over the
image. They are how you check, **after training and at inference**, that a model looks at the object
and not at a watermark, a ruler or a hospital's tag. The catch: different methods and layers give
different maps, and some maps do not depend on the model at all. This page lets you compare them,
test them, and catch a model that is right for the wrong reason."""

OBJECTIVES = [
    "Compute a class activation map and read it: which pixels drive which class, at which layer.",
    "Compare methods (gradient-based, gradient-free, class-agnostic) and layers on the same image.",
    "Expose a shortcut: a model that reads a marker instead of the digit.",
    "Test whether a map explains the model at all (cascading randomization) and score its faithfulness.",
]


# --------------------------------------------------------------------------- cached compute


@st.cache_data(max_entries=16, show_spinner=False)
def load_input(source: str, framing: str, _upload: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """source is "photo:<name>", "upload:<hash>" or "digit:<held-out index>". Raises UploadError."""
    from data import load_image

    kind, _, name = source.partition(":")
    if kind == "digit":
        images, _ = compute.heldout_digits()
        x, rgb = compute.digit_input(images[int(name)])
    else:
        image = compute.open_upload(_upload) if kind == "upload" else load_image(name)
        x, rgb = compute.photo_input(image, framing)
    return x.numpy(), rgb


@st.cache_data(max_entries=64, show_spinner=False)
def predictions(model_name: str, source: str, framing: str, _x: np.ndarray):
    """(top-5 DataFrame, every class's probability (classes,))."""
    with zoo.borrow(model_name) as model, torch.no_grad():
        probs = model(torch.from_numpy(_x)).softmax(-1)[0]  # (classes,)
    return compute.top_from_probabilities(probs, zoo.info(model_name).labels, 5), probs.numpy()


def _progress_bar(label: str):
    """A bar drawn inside a cached function (so a cache hit replays it and its removal)."""
    bar = st.progress(0.0, text=label)
    return bar, lambda fraction, text: bar.progress(min(1.0, fraction), text=f"{label}: {text}")


@st.cache_data(max_entries=48, show_spinner=False)
def heatmaps(model_name: str, source: str, framing: str, layer_paths: tuple[str, ...], method: str,
             class_index: int, aug_smooth: bool, eigen_smooth: bool, channels: str, _x: np.ndarray):
    bar, update = _progress_bar(f"{method} ({SLOW_SECONDS[method]})") if method in SLOW_SECONDS else (None, None)
    start = time.perf_counter()
    with zoo.borrow(model_name) as model:
        maps = compute.class_activation_maps(
            model, torch.from_numpy(_x), list(layer_paths), method, class_index, aug_smooth=aug_smooth,
            eigen_smooth=eigen_smooth, max_channels=None if channels == "all" else int(channels), progress=update)
    if bar is not None:
        bar.empty()
    return maps, time.perf_counter() - start


@st.cache_data(max_entries=16, show_spinner=False)
def grid(model_name: str, source: str, framing: str, methods: tuple[str, ...], layer_paths: tuple[str, ...],
         class_index: int, channels: str, _x: np.ndarray):
    bar, update = _progress_bar("Method grid")
    start = time.perf_counter()
    with zoo.borrow(model_name) as model:
        maps = compute.method_layer_grid(model, torch.from_numpy(_x), list(methods), list(layer_paths), class_index,
                                         progress=update, max_channels=None if channels == "all" else int(channels))
    bar.empty()
    return maps, time.perf_counter() - start


@st.cache_data(max_entries=16, show_spinner=False)
def torchcam_view(model_name: str, source: str, framing: str, layer_paths: tuple[str, ...], class_index: int,
                  samples: int, std: float, seed: int, _x: np.ndarray):
    x = torch.from_numpy(_x)
    with zoo.borrow(model_name) as model:
        maps = compute.torchcam_maps(model, x, layer_paths, class_index, num_samples=samples, std=std, seed=seed)
        agreement = compute.gradcam_agreement(model, x, layer_paths, class_index)
    return maps, agreement


@st.cache_data(max_entries=8, show_spinner=False)
def collection_statistics(model_name: str, layer_path: str, framing: str):
    """Per-channel statistics of one layer over the collection (photos, or 500 digits grouped by class)."""
    if model_name == PHOTO_MODEL:
        x, rows = compute.photo_collection(framing)
    else:
        images, labels = compute.digit_collection(50)
        x, rows = compute.digits_input(images), [f"digit {d}" for d in labels]
    with zoo.borrow(model_name) as model:
        acts = compute.layer_activations(model, x, layer_path)  # (N, C, h, w)
    stats = {}
    for statistic in compute.STATISTICS:
        stats[statistic], row_labels = compute.group_rows(compute.channel_statistics(acts, statistic), rows)
    return stats, row_labels, compute.channel_maxima(acts), len(x)


@st.cache_data(max_entries=16, show_spinner=False)
def input_activations(model_name: str, source: str, framing: str, layer_path: str, _x: np.ndarray) -> np.ndarray:
    with zoo.borrow(model_name) as model:
        return compute.layer_activations(model, torch.from_numpy(_x), layer_path).numpy()  # (1, C, h, w)


@st.cache_data(max_entries=2, show_spinner=False)
def marker_accuracies():
    images, labels = compute.heldout_digits()
    with zoo.borrow(DIGIT_MODEL) as honest, zoo.borrow("shortcut_cnn") as shortcut:
        return compute.marker_accuracy_table({"honest CNN": honest, "shortcut CNN": shortcut}, images, labels)


@st.cache_data(max_entries=32, show_spinner=False)
def shortcut_maps(digit: int, markers: str, method: str, layer_path: str) -> dict:
    images, labels = compute.heldout_digits()
    label = int(labels[digit])
    marked = compute.with_markers(images[digit:digit + 1], labels[digit:digit + 1], markers)[0]  # (28, 28)
    x, rgb = compute.digit_input(marked)
    marker_class = label if markers == "class marker" else (label + 1) % 10
    region = compute.marker_region(marker_class)
    out = {"rgb": rgb, "label": label, "marker_class": marker_class, "region": region}
    for name in (DIGIT_MODEL, "shortcut_cnn"):
        with zoo.borrow(name) as model:
            with torch.no_grad():
                probs = model(x).softmax(-1)[0]
            predicted = int(probs.argmax())
            cam = compute.class_activation_map(model, x, layer_path, method, predicted)
        out[name] = dict(map=cam, predicted=predicted, probability=float(probs[predicted]),
                         marker_share=compute.mass_share(cam, region) if markers != "no marker" else None)
    return out


@st.cache_data(max_entries=8, show_spinner=False)
def sanity(model_name: str, source: str, framing: str, layer_path: str, class_index: int,
           methods: tuple[str, ...], seed: int, _x: np.ndarray):
    bar, update = _progress_bar("Randomizing layers")
    with zoo.borrow(model_name) as model:
        import copy
        work = copy.deepcopy(model)  # cascading randomization changes weights: never the shared model
    table, maps = compute.cascading_randomization(work, torch.from_numpy(_x), layer_path, class_index, list(methods),
                                                  seed=seed, progress=update)
    bar.empty()
    return table, maps


@st.cache_data(max_entries=8, show_spinner=False)
def faithfulness(model_name: str, source: str, framing: str, layer_path: str, class_index: int,
                 methods: tuple[str, ...], metric: str, seed: int, channels: str, _x: np.ndarray):
    bar, update = _progress_bar("Scoring methods")
    x = torch.from_numpy(_x)
    maps = {}
    with zoo.borrow(model_name) as model:
        for i, method in enumerate(methods):
            update(i / (len(methods) + 1), method)
            maps[method] = compute.class_activation_map(model, x, layer_path, method, class_index,
                                                        max_channels=None if channels == "all" else int(channels))
        maps["random map (baseline)"] = compute.random_map(tuple(x.shape[-2:]), seed)
        update(len(methods) / (len(methods) + 1), "perturbing the image")
        scores = compute.faithfulness_scores(model, x, class_index, maps, metric, seed)
    bar.empty()
    return scores, maps


# --------------------------------------------------------------------------- controls


def _ensure_option(page: ui.LessonPage, name: str, options, fallback) -> None:
    """A value from another model (or a stale link) that is not an option here falls back."""
    value = page.value(name)
    valid = all(v in options for v in value) if isinstance(value, list) else value in options
    if not valid:
        page.set_values({name: fallback})


def _control(page: ui.LessonPage, widget, name: str, *args, **kwargs):
    """A control that keeps its value while another view is shown."""
    return page.control(widget, name, *args, persist_state="page", **kwargs)


def class_options(labels) -> list[str]:
    return list(TOP_K) + [f"{i}: {label}" if len(labels) > 10 else f"digit {label}" for i, label in enumerate(labels)]


def choose_input(page: ui.LessonPage, model_name: str):
    """Draw the input controls; return (source key, framing, x, rgb) or None (with a message shown)."""
    from data import list_images

    if model_name == DIGIT_MODEL:
        digit = _control(page, st.slider, "digit", "Held-out digit (index)", 0, 999)
        x, rgb = load_input(f"digit:{digit}", "none")
        return f"digit:{digit}", "none", x, rgb
    left, right = st.columns(2)
    with left:
        image = _control(page, st.selectbox, "image", "Photo", list_images() + [UPLOAD])
    with right:
        framing = _control(page, st.radio, "framing", "Framing", compute.FRAMINGS, horizontal=True,
                           help="Centre crop is how the model was evaluated on ImageNet; whole image pads the "
                                "photo with grey so nothing is cut off.")
    if image != UPLOAD:
        x, rgb = load_input(f"photo:{image}", framing)
        return f"photo:{image}", framing, x, rgb
    uploaded = st.file_uploader("A JPEG, PNG or WebP photo (at most 10 MB)", type=["jpg", "jpeg", "png", "webp"],
                                key=f"{SLUG}._upload", max_upload_size=10)
    if uploaded is None:
        st.info("Upload a photo to see its heatmaps (it stays in your session and is not stored).")
        return None
    data = uploaded.getvalue()
    try:
        x, rgb = load_input(f"upload:{compute.bytes_key(data)}", framing, data)
    except compute.UploadError as error:
        st.error(f"This upload cannot be used: {error}")
        return None
    return f"upload:{compute.bytes_key(data)}", framing, x, rgb


def resolve_class(target: str, top) -> int:
    if target in TOP_K:
        return int(top["class_index"].iloc[TOP_K.index(target)])
    return (int(target.split(":")[0]) if ":" in target else int(target.split()[-1]))


def class_name(model_name: str, index: int) -> str:
    return zoo.info(model_name).labels[index]


def show_image(image: np.ndarray, caption: str, width: int = 320) -> None:
    st.image(charts.enlarge(image) if image.shape[0] < 100 else image, caption=caption,
             width=int(width * (1.4 if ui.presenter_mode() else 1)))


# --------------------------------------------------------------------------- views


def heatmap_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        method = _control(page, st.selectbox, "method", "Method", list(compute.METHODS),
                          help="Slow methods run one forward pass per channel: " + ", ".join(
                              f"{m} {t}" for m, t in SLOW_SECONDS.items()))
        layer = _control(page, st.selectbox, "layer", "Target layer", list(layers))
        opacity = _control(page, st.slider, "opacity", "Heatmap opacity", 0.0, 1.0, step=0.05)
        colormap = _control(page, st.selectbox, "colormap", "Colormap", COLORMAPS)
        aug = _control(page, st.toggle, "aug_smooth", "Augmentation smoothing (6 passes)",
                       help="Average the map over flipped and brightened copies of the image.")
        eigen = _control(page, st.toggle, "eigen_smooth", "Eigen smoothing (first principal component)")
        channels = _control(page, st.select_slider, "channels", "Channels scored (ScoreCAM, AblationCAM)",
                            CHANNEL_CHOICES, disabled=method not in ("ScoreCAM", "AblationCAM"))
    top, probs = predictions(model_name, source, framing, x)
    class_index = resolve_class(target, top)
    maps, seconds = heatmaps(model_name, source, framing, (layers[layer],), method, class_index, aug, eigen,
                             channels, x)
    heat = maps[0]
    with picture:
        left, right = st.columns([1.2, 1])
        with left:
            show_image(compute.overlay_heatmap(rgb, heat, opacity, colormap),
                       f"{method} for “{class_name(model_name, class_index)}” at {layer}")
        with right:
            page.chart(charts.top_predictions_chart(top, class_index, bar_height=page.chart_height(34)),
                       "The class being explained is red. Change it with “Class to explain” above.")
            st.caption(f"Computed in {seconds:.2f} s on the server's CPU.")
    hot = heat >= 0.5
    result.update(view="Heatmap", method=method, layer=layer, class_index=class_index, seconds=seconds,
                  hot_share=float(hot.mean()), top1=top["label"].iloc[0], top1_p=float(top["probability"].iloc[0]))
    rows, cols = np.nonzero(hot)
    where = _where(rows.mean() / heat.shape[0], cols.mean() / heat.shape[1]) if hot.any() else "nowhere"
    grid_size = _grid_size(layer) or heat.shape[0]
    result["sentences"] = [
        f"The model's top guess is **{top['label'].iloc[0]}** ({top['probability'].iloc[0]:.0%}); the map explains "
        f"**{class_name(model_name, class_index)}**, which gets {probs[class_index]:.1%}.",
        f"{hot.mean():.0%} of the image is at least half as hot as the hottest pixel; the middle of that hot "
        f"area lies {where}.",
        f"The map comes from a {grid_size} x {grid_size} grid at {layer.split(' (')[0]}, so each cell covers "
        f"{heat.shape[0] / grid_size:.0f} x {heat.shape[1] / grid_size:.0f} input pixels before upsampling.",
    ]


def _grid_size(layer: str) -> int:
    digits = [int(tok) for tok in layer.replace("(", " ").replace(")", " ").replace(",", " ").split()
              if tok.isdigit()]
    return digits[-1] if digits else 0


def _where(row: float, col: float) -> str:
    vertical = "top" if row < 0.36 else "bottom" if row > 0.64 else "middle"
    horizontal = "left" if col < 0.36 else "right" if col > 0.64 else "centre"
    return "in the centre" if (vertical, horizontal) == ("middle", "centre") else f"at the {vertical} {horizontal}"


def torchcam_view_section(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        samples = _control(page, st.slider, "tc_samples", "Noisy samples", 1, 16,
                           help="SmoothGradCAM++ averages gradients over this many noisy copies.")
        std = _control(page, st.slider, "tc_std", "Noise (std)", 0.0, 1.0, step=0.05)
        seed = _control(page, st.number_input, "seed", "Seed", min_value=0, max_value=9999, step=1)
        opacity = _control(page, st.slider, "opacity", "Heatmap opacity", 0.0, 1.0, step=0.05)
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
                overlay = compute.torchcam_overlay(rgb, heat, alpha=1 - opacity)
                st.image(charts.enlarge(overlay) if overlay.shape[0] < 100 else overlay,
                         caption=f"{name.split(' (')[0]} · {heat.shape[0]}x{heat.shape[1]}", width="stretch")
        page.chart(charts.agreement_chart(agreement, height=page.chart_height(40 + 24 * len(paths))),
                   "Both libraries' Grad-CAM on the same layer, compared pixel by pixel after upsampling.")
    worst = agreement.loc[agreement["pearson"].idxmin()]
    result.update(view="TorchCam", agreement_min=float(worst["pearson"]))
    result["sentences"] = [
        f"The two libraries' Grad-CAM maps agree with a Pearson correlation of at least {agreement['pearson'].min():.3f} "
        f"on all {len(paths)} layers (lowest at {worst['layer']}): same method, two implementations.",
        f"SmoothGradCAM++ averaged {samples} noisy copies (noise std {std}); the maps go from "
        f"{maps[0].shape[0]} x {maps[0].shape[1]} cells at the first layer to {maps[-1].shape[0]} x "
        f"{maps[-1].shape[1]} at the last.",
    ]


def grid_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    methods = _control(page, st.multiselect, "grid_methods", "Methods (rows)", list(compute.METHODS),
                       max_selections=5)
    valid_default = [name for name in DEFAULTS["grid_layers"] if name in layers] or list(layers)[-3:]
    chosen = _control(page, st.multiselect, "grid_layers", "Layers (columns)", list(layers), max_selections=4,
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
            overlay = compute.overlay_heatmap(rgb, maps[i, j], opacity, colormap)
            row[j + 1].image(charts.enlarge(overlay) if overlay.shape[0] < 100 else overlay, width="stretch")
    st.caption(f"{len(methods)} x {len(chosen)} maps for “{class_name(model_name, class_index)}” in {seconds:.2f} s."
               + (" FullGrad uses every layer at once, so its row repeats." if "FullGrad" in methods else ""))
    same_layer = [compute.pearson_correlation(maps[i, j], maps[k, j])
                  for j in range(len(chosen)) for i in range(len(methods)) for k in range(i + 1, len(methods))]
    across_layers = [compute.pearson_correlation(maps[i, 0], maps[i, -1]) for i in range(len(methods))]
    result.update(view="Method grid", seconds=seconds)
    sentences = []
    if same_layer:
        sentences.append(f"On the same layer, two methods' maps correlate by {np.mean(same_layer):.2f} on average "
                         f"(Pearson, from {np.min(same_layer):.2f} to {np.max(same_layer):.2f}).")
    if len(chosen) > 1:
        sentences.append(f"One method at {chosen[0].split(' (')[0]} and at {chosen[-1].split(' (')[0]}: correlation "
                         f"{np.mean(across_layers):.2f} on average" + (
                             ", so here the layer changes the picture more than the method does."
                             if same_layer and np.mean(across_layers) < np.mean(same_layer)
                             else "." if not same_layer else ", so here the method matters more than the layer."))
    result["sentences"] = sentences or ["Add a second method or layer to compare."]


def statistics_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        layer = _control(page, st.selectbox, "layer", "Layer", list(layers))
        statistic = _control(page, st.radio, "statistic", "Statistic per channel", compute.STATISTICS, horizontal=True)
        threshold = _control(page, st.slider, "threshold", "Silence threshold (fraction of the layer's maximum)",
                             0.0, 0.5, step=0.01)
    stats, rows, channel_max, n_inputs = collection_statistics(model_name, layers[layer], framing)
    silent, absolute = compute.silent_channels(channel_max, threshold)
    n_channels = len(channel_max)
    with controls:
        _ensure_option(page, "channel", range(n_channels), 0)
        channel = _control(page, st.number_input, "channel", f"Channel to show (0-{n_channels - 1})",
                           min_value=0, max_value=n_channels - 1, step=1)
    with picture:
        page.chart(charts.channel_statistics_chart(stats[statistic], rows, statistic, silent,
                                                   height=page.chart_height(26 * len(rows) + 40)),
                   f"Each cell: the {statistic} of one channel's map, averaged over "
                   + ("one photo." if model_name == PHOTO_MODEL else "the 50 digits of that class.")
                   + " Blue ticks below: channels that never exceed the threshold on any input.")
        curve = compute.silent_share_curve(channel_max, np.round(np.linspace(0, 0.5, 51), 2))
        left, right = st.columns([1.4, 1])
        with left:
            page.chart(charts.silent_share_chart(curve, threshold, height=page.chart_height(200)),
                       "Raise the threshold and more channels count as silent.")
        with right:
            acts = input_activations(model_name, source, framing, layers[layer], x)
            heat = compute.channel_map(torch.from_numpy(acts), int(channel), rgb.shape[:2])
            show_image(compute.overlay_heatmap(rgb, heat, page.value("opacity"), page.value("colormap")),
                       f"channel {int(channel)} on this image (max {acts[0, int(channel)].max():.2f})", width=240)
    strongest = int(np.argmax(acts[0].reshape(acts.shape[1], -1).max(1)))
    result.update(view="Layer statistics", silent_share=float(silent.mean()))
    result["sentences"] = [
        f"{layer}: {n_channels} channels over {n_inputs} inputs; the largest activation is {channel_max.max():.2f}.",
        f"{silent.sum()} channels ({silent.mean():.0%}) never exceed {threshold:.2f} x that = {absolute:.3f} on any "
        f"input: candidates for pruning, each contributes at most {absolute:.3f} per position to the next layer.",
        f"On this image the strongest channel is {strongest}; channel {int(channel)} peaks at "
        f"{acts[0, int(channel)].max():.2f}.",
    ]


def shortcut_view(page, result) -> None:
    infos = zoo.info("shortcut_cnn")
    controls, picture = st.columns([1, 2.4])
    with controls:
        digit = _control(page, st.slider, "sc_digit", "Held-out digit (index)", 0, 999)
        markers = _control(page, st.radio, "sc_markers", "Marker on the digit", compute.MARKER_MODES,
                           help="Wrong marker: the marker of the next class ((label + 1) mod 10).")
        method = _control(page, st.selectbox, "sc_method", "Method", compute.FAST_METHODS)
        layer = _control(page, st.selectbox, "sc_layer", "Layer", list(infos.target_layers))
    table = marker_accuracies()
    maps = shortcut_maps(int(digit), markers, method, infos.target_layers[layer])
    with picture:
        cols = st.columns(3)
        with cols[0]:
            show_image(np.uint8(maps["rgb"] * 255), f"digit {maps['label']}, {markers}", width=200)
        for col, name in zip(cols[1:], (DIGIT_MODEL, "shortcut_cnn")):
            entry = maps[name]
            with col:
                share = "" if entry["marker_share"] is None else f", {entry['marker_share']:.0%} of the map on the marker"
                show_image(compute.overlay_heatmap(maps["rgb"], entry["map"], 0.55, "jet"),
                           f"{zoo.info(name).title}: says {entry['predicted']} ({entry['probability']:.0%}){share}",
                           width=200)
        page.chart(charts.marker_accuracy_chart(table, height=page.chart_height(70)),
                   "The shortcut model is perfect with the right marker and follows a wrong one.")
    acc = table.set_index(["model", "markers"])["accuracy"]
    honest, shortcut = maps[DIGIT_MODEL], maps["shortcut_cnn"]
    result.update(view="Find the mistake", method=method,
                  honest_marker_share=honest["marker_share"], shortcut_marker_share=shortcut["marker_share"])
    sentences = [
        f"With their class marker the shortcut CNN scores {acc[('shortcut CNN', 'class marker')]:.0%}, without it "
        f"{acc[('shortcut CNN', 'no marker')]:.0%}, with a wrong one {acc[('shortcut CNN', 'wrong marker')]:.0%}; "
        f"the honest CNN scores {acc[('honest CNN', 'no marker')]:.0%}, {acc[('honest CNN', 'class marker')]:.0%} "
        f"and {acc[('honest CNN', 'wrong marker')]:.0%}.",
    ]
    if markers != "no marker":
        area = maps["region"].mean()
        sentences.append(
            f"{method} puts {shortcut['marker_share']:.0%} of the shortcut model's map on the marker (the box covers "
            f"{area:.0%} of the image) against {honest['marker_share']:.0%} for the honest model.")
        if method == "GradCAM":
            sentences.append("Grad-CAM averages each channel's gradient over the whole image, so a channel that fires "
                             "on the marker *and* on strokes paints both: compare HiResCAM or LayerCAM.")
    result["sentences"] = sentences


def sanity_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        methods = _control(page, st.multiselect, "sanity_methods", "Methods", compute.FAST_METHODS, max_selections=4)
        layer = _control(page, st.selectbox, "layer", "Target layer", list(layers))
        seed = _control(page, st.number_input, "seed", "Seed", min_value=0, max_value=9999, step=1)
    if not methods:
        st.warning("Pick at least one method.")
        return
    top, probs = predictions(model_name, source, framing, x)
    class_index = resolve_class(target, top)
    table, maps = sanity(model_name, source, framing, layers[layer], class_index, tuple(methods), int(seed), x)
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
                overlay = compute.overlay_heatmap(rgb, maps[method][s], page.value("opacity"), page.value("colormap"))
                col.image(charts.enlarge(overlay) if overlay.shape[0] < 100 else overlay,
                          caption=steps[s] if s else "trained", width="stretch")
    final = table[table["step_index"] == len(steps) - 1].set_index("method")["spearman"]
    first = table[table["step_index"] == 1].set_index("method")["spearman"]
    result.update(view="Sanity check", final=final.to_dict(), first=first.to_dict())
    stubborn = [m for m in methods if first[m] > 0.9]
    class_free = [m for m in stubborn if not compute.METHODS[m].class_specific]
    result["sentences"] = [
        "After randomizing everything: " + ", ".join(f"{m} {final[m]:.2f}" for m in methods) + " (rank correlation "
        "with the trained model's map).",
        f"After randomizing only the {steps[1]}: " + ", ".join(f"{m} {first[m]:.2f}" for m in methods) + ". "
        + (f"{', '.join(stubborn)} barely changed (above 0.9): a map that survives the destruction of the layer "
           "that computes the class score says little about how the class was decided."
           if stubborn else "Every method reacted to the classifier's weights.")
        + (f" {', '.join(class_free)} does not use the class score at all." if class_free else ""),
    ]


def faithfulness_view(page, model_name, inp, layers, target, result) -> None:
    source, framing, x, rgb = inp
    controls, picture = st.columns([1, 2.4])
    with controls:
        methods = _control(page, st.multiselect, "faith_methods", "Methods", list(compute.METHODS), max_selections=6)
        metric = _control(page, st.radio, "faith_metric", "Metric", list(compute.FAITHFULNESS_METRICS),
                          help="ROAD fills removed pixels by solving a linear system: about 1-3 s per method.")
        layer = _control(page, st.selectbox, "layer", "Target layer", list(layers))
        seed = _control(page, st.number_input, "seed", "Seed", min_value=0, max_value=9999, step=1)
    if not methods:
        st.warning("Pick at least one method.")
        return
    top, probs = predictions(model_name, source, framing, x)
    class_index = resolve_class(target, top)
    scores, maps = faithfulness(model_name, source, framing, layers[layer], class_index, tuple(methods), metric,
                                int(seed), page.value("channels"), x)
    with picture:
        page.chart(charts.faithfulness_chart(scores, metric, height=page.chart_height(40 + 30 * len(scores))),
                   compute.FAITHFULNESS_METRICS[metric] + ". Grey: a random map, the score to beat.")
    ranked = scores.sort_values("score", ascending=False)
    baseline = float(scores.set_index("method")["score"]["random map (baseline)"])
    beaten = [m for m in methods if float(scores.set_index("method")["score"][m]) > baseline]
    result.update(view="Faithfulness", scores=scores.set_index("method")["score"].to_dict(), baseline=baseline)
    result["sentences"] = [
        f"The model gives “{class_name(model_name, class_index)}” {scores['base_probability'].iloc[0]:.1%}. "
        f"Best: {ranked['method'].iloc[0]} ({ranked['score'].iloc[0]:+.3f}); worst: {ranked['method'].iloc[-1]} "
        f"({ranked['score'].iloc[-1]:+.3f}).",
        f"{len(beaten)} of {len(methods)} methods beat the random map ({baseline:+.3f})"
        + (": " + ", ".join(beaten) + "." if beaten else "."),
    ]
    if metric == "keep the map" and len(beaten) < len(methods):
        result["sentences"].append("Multiplying by a map also dims the image: a smooth map that keeps much of it at "
                                   "mid strength can score well without pointing at anything. Compare with ROAD.")


# --------------------------------------------------------------------------- the page


def render() -> None:
    page = ui.LessonPage(SLUG, "Activation heatmaps", DEFAULTS)
    page.header(WHY, OBJECTIVES, phases=["After training", "At inference"])
    view = page.control(st.segmented_control, "view", "View", VIEWS, required=True)
    result: dict = {"view": view}
    st.session_state[FULL_RUN] = True  # read by the fragment: this run draws the whole page
    if view == "Find the mistake":
        view_fragment(page, shortcut_view, (), result)
    else:
        top_row = st.columns([1.1, 2.6, 1.6])
        with top_row[0]:
            model_name = page.control(st.selectbox, "model", "Model", list(MODELS), format_func=MODELS.get,
                                      help="EfficientNet-Lite0 classifies photos into 1,000 ImageNet classes; the "
                                           "digits CNN classifies 28 x 28 handwritten digits.")
        info = zoo.info(model_name)
        layers = info.target_layers
        _ensure_option(page, "layer", layers, list(layers)[-1])
        _ensure_option(page, "grid_layers", layers, list(layers)[-3:])
        with top_row[1]:
            inp = choose_input(page, model_name)
        if inp is None:
            st.session_state.pop(FULL_RUN, None)
            finish(page, None)
            return
        options = class_options(info.labels)
        _ensure_option(page, "target", options, "top 1")
        with top_row[2]:
            top, _ = predictions(model_name, inp[0], inp[1], inp[2])
            target = page.control(st.selectbox, "target", "Class to explain", options,
                                  format_func=lambda o: _format_target(o, top))
        section = {"Heatmap": heatmap_view, "TorchCam": torchcam_view_section, "Method grid": grid_view,
                   "Layer statistics": statistics_view, "Sanity check": sanity_view,
                   "Faithfulness": faithfulness_view}[view]
        view_fragment(page, section, (model_name, inp, layers, target), result)
    finish(page, result)


FULL_RUN = f"{SLUG}._full_run"


@st.fragment
def view_fragment(page: ui.LessonPage, section, args: tuple, result: dict) -> None:
    """The view and its "What you see": a control of the view reruns only this part of the page
    (the header, the try-this cards, the quiz and the code are not sent again)."""
    section(page, *args, result)
    page.what_you_see(result.get("sentences", []))
    whole_page = st.session_state.pop(FULL_RUN, False)
    if not whole_page and st.session_state.get(f"{SLUG}._experiment"):
        st.rerun(scope="app")  # an experiment card below checks this result: redraw it too


def _format_target(option: str, top) -> str:
    if option in TOP_K:
        row = top.iloc[TOP_K.index(option)]
        return f"{option}: {row['label']} ({row['probability']:.0%})"
    return option


def finish(page: ui.LessonPage, result: dict | None) -> None:
    if result is None:  # otherwise the view's fragment has shown "What you see"
        page.what_you_see(["Nothing to show until a photo is chosen."])
    page.try_this(EXPERIMENTS, result)
    page.quiz(QUIZ)
    page.do_it_yourself(Path(__file__).with_name("diy.py"),
                        "Grad-CAM on the cat photo with pytorch-grad-cam, in a dozen lines. It prints the top class "
                        "and saves the overlay as `gradcam_cat.png`.")
    page.reading(READING)


def _check(key: str, test, message) -> callable:
    def check(result):
        if not result or result.get(key) is None:
            return False, "Run the experiment's view first."
        return bool(test(result[key])), message(result[key])
    return check


EXPERIMENTS = [
    ui.Experiment(
        "shortcut", "Right for the wrong reason",
        {"view": "Find the mistake", "sc_markers": "class marker", "sc_method": "HiResCAM", "sc_layer": SHORTCUT_LAYER},
        "The shortcut CNN scores 100% on digits that carry their class marker. Where will its HiResCAM map put "
        "most of its mass?", ("on the digit's strokes", "on the small marker square"), 1,
        _check("shortcut_marker_share", lambda s: s > 0.4,
               lambda s: f"{s:.0%} of the shortcut model's map lies on the marker box, which covers 3% of the image.")),
    ui.Experiment(
        "gradcam_hides", "Grad-CAM can hide the shortcut",
        {"view": "Find the mistake", "sc_markers": "class marker", "sc_method": "GradCAM", "sc_layer": SHORTCUT_LAYER},
        "Same model, same digit, but Grad-CAM instead of HiResCAM. Will the marker still take most of the map?",
        ("yes, the marker still dominates", "no, the map spreads over the digit"), 1,
        _check("shortcut_marker_share", lambda s: s < 0.3,
               lambda s: f"Grad-CAM puts {s:.0%} of the shortcut model's map on the marker.")),
    ui.Experiment(
        "sanity", "Which map ignores the classifier?",
        {"view": "Sanity check", "model": PHOTO_MODEL, "layer": "head conv (1280 ch, 7 px)",
         "sanity_methods": ["GradCAM", "EigenCAM"]},
        "Randomize only the final classifier layer. Which method's map stays the same?",
        ("Grad-CAM", "EigenCAM", "both change"), 1,
        _check("first", lambda f: f.get("EigenCAM", 0) > 0.95 and f.get("GradCAM", 1) < 0.8,
               lambda f: "rank correlation after randomizing the classifier: "
                         + ", ".join(f"{m} {v:.2f}" for m, v in f.items()) + ".")),
    ui.Experiment(
        "faithful", "Does Grad-CAM beat a random map?",
        {"view": "Faithfulness", "model": PHOTO_MODEL, "image": "coffee", "framing": "centre crop", "target": "top 1",
         "faith_metric": "ROAD", "layer": "head conv (1280 ch, 7 px)", "faith_methods": ["GradCAM", "EigenCAM"]},
        "ROAD removes the pixels a map calls most relevant (and, separately, least relevant) from the coffee photo "
        "and measures the drop in probability. Does Grad-CAM score higher than a random map?",
        ("yes, clearly", "no, about the same as random"), 0,
        _check("scores", lambda s: s["GradCAM"] > s["random map (baseline)"],
               lambda s: f"Grad-CAM {s['GradCAM']:+.3f} vs random {s['random map (baseline)']:+.3f}.")),
]

QUIZ = [
    ui.QuizQuestion(
        "How does Grad-CAM weight each feature map of the target layer?",
        ("By the map's largest activation", "By the spatial average of the class score's gradient over that map",
         "By the first principal component of all the maps"), 1,
        "Grad-CAM (Selvaraju et al. 2017) averages the gradient over the map's positions; HiResCAM multiplies "
        "gradient and activation position by position instead; EigenCAM uses the principal component and no class."),
    ui.QuizQuestion(
        "You randomize a model's top layers and a method's heatmap barely changes. What does that tell you?",
        ("The method is robust: a good sign", "The map does not depend on what the model learned for the class, so "
         "it cannot explain the model's decision", "The model was undertrained"), 1,
        "That is the sanity check of Adebayo et al. (2018): an explanation must change when the model it explains "
        "is destroyed. A map that survives shows properties of the image (edges, the object outline)."),
    ui.QuizQuestion(
        "A chest X-ray model is 95% accurate at one hospital and 70% at another. Its heatmaps light up a corner "
        "where the first hospital prints a metal token. What is the best next step?",
        ("Ship it: 95% is good", "Test it on images with the token removed or moved, and retrain without the "
         "shortcut", "Use a different heatmap method until the corner disappears"), 1,
        "Like the shortcut CNN here, the model may read the token rather than the lungs (Zech et al. 2018). "
        "Changing the explanation method does not change the model: test the hypothesis on controlled inputs."),
]

READING = [
    ui.Reading("Grad-CAM: Visual explanations from deep networks via gradient-based localization",
               "https://arxiv.org/abs/1610.02391", "Selvaraju et al., ICCV 2017"),
    ui.Reading("Sanity checks for saliency maps", "https://arxiv.org/abs/1810.03292",
               "Adebayo et al., NeurIPS 2018: cascading randomization"),
    ui.Reading("Shortcut learning in deep neural networks", "https://arxiv.org/abs/2004.07780",
               "Geirhos et al., Nature Machine Intelligence 2020"),
    ui.Reading("Variable generalization performance of a deep learning model to detect pneumonia in chest "
               "radiographs", "https://doi.org/10.1371/journal.pmed.1002683",
               "Zech et al., PLOS Medicine 2018: a model that learned the hospital"),
    ui.Reading("Use HiResCAM instead of Grad-CAM for faithful explanations", "https://arxiv.org/abs/2011.08891",
               "Draelos & Carin 2020"),
    ui.Reading("A consistent and efficient evaluation strategy for attribution methods (ROAD)",
               "https://arxiv.org/abs/2202.00449", "Rong et al., ICML 2022"),
    ui.Reading("pytorch-grad-cam", "https://github.com/jacobgil/pytorch-grad-cam",
               "the methods and metrics used on this page, with a tutorial book"),
    ui.Reading("TorchCam", "https://github.com/frgfm/torch-cam", "SmoothGradCAM++ and overlay_mask"),
]
