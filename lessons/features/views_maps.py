"""The Feature maps view (the most active channels of each chosen stage for one input, a channel
enlarged, the first convolution's filters) and the Dataset examples view (the crops of the bundled
photos or held-out digits that excite one channel most, beside its optimised image)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lessons import ui
from lessons.features import charts, content
from lessons.features.helpers import (DIGIT_MODEL, MODELS, PER_STAGE, PHOTO_MODEL, UPLOAD, channel_examples,
                                      channels_of, collection, control, enlarge, ensure_option, feature_maps,
                                      gallery, image_peak, load_input, optimized_channel, shipped_image, to_heat)
from lessons.features.precompute import default_settings
from models.catalogue import info


def model_control(page: ui.LessonPage) -> str:
    return control(page, st.selectbox, "model", "Model", list(MODELS), format_func=MODELS.get,
                   help="EfficientNet-Lite0 on photos (224 px); the digits CNN on 28 x 28 handwritten digits.")


def choose_input(page: ui.LessonPage, model_name: str):
    """The input controls; (source, x, rgb) or None with a message shown."""
    from data import list_images
    from data.uploads import UploadError, bytes_key

    if model_name == DIGIT_MODEL:
        digit = control(page, st.slider, "digit", "Held-out digit (index)", 0, 999)
        x, rgb = load_input(f"digit:{digit}")
        return f"digit:{digit}", x, rgb
    image = control(page, st.selectbox, "image", "Photo", list_images() + [UPLOAD])
    if image != UPLOAD:
        x, rgb = load_input(f"photo:{image}")
        return f"photo:{image}", x, rgb
    uploaded = st.file_uploader("A JPEG, PNG or WebP photo (at most 10 MB)", type=["jpg", "jpeg", "png", "webp"],
                                key="features._upload", max_upload_size=10)
    if uploaded is None:
        st.info("Upload a photo to see its feature maps (it stays in your session and is not stored).")
        return None
    data = uploaded.getvalue()
    try:
        x, rgb = load_input(f"upload:{bytes_key(data)}", data)
    except UploadError as error:
        st.error(f"This upload cannot be used: {error}")
        return None
    return f"upload:{bytes_key(data)}", x, rgb


def feature_maps_view(page: ui.LessonPage, result: dict) -> None:
    page.go_live()
    left, right = st.columns([1, 2.6], gap="medium")
    with left:
        model_name = model_control(page)
        layers = info(model_name).target_layers
        valid_default = [n for n in layers if n in page.defaults["stages"]] or list(layers)
        ensure_option(page, "stages", layers, valid_default)
        inp = choose_input(page, model_name)
        chosen = control(page, st.multiselect, "stages", "Stages (early to late)", list(layers), max_selections=5,
                         default=valid_default)  # the digits CNN has other layers than the lesson default
        count = control(page, st.select_slider, "per_stage", "Channels per stage", PER_STAGE)
    if inp is None:
        result.update(view="Feature maps", sentences=["Nothing to show until a photo is chosen."])
        return
    if not chosen:
        right.warning("Pick at least one stage.")
        result.update(view="Feature maps", sentences=["Pick at least one stage to see its feature maps."])
        return
    source, x, rgb = inp
    chosen = [name for name in layers if name in chosen]  # network order
    maps, filters = feature_maps(model_name, source, tuple(layers[c] for c in chosen), x)
    tops = {}
    from lessons.features.compute import top_channels

    options = []
    for stage in chosen:
        tops[stage] = top_channels(maps[layers[stage]], count)
        options += [f"{stage.split(' (')[0]} · channel {c}" for c in tops[stage]]
    with left:
        ensure_option(page, "enlarge", options, options[0])
        picked = control(page, st.selectbox, "enlarge", "Enlarge a channel", options)
    with right:
        for stage in chosen:
            activation = maps[layers[stage]]
            st.markdown(f"**{stage}**: the {count} most active of {activation.shape[0]} channels "
                        f"({activation.shape[1]} x {activation.shape[2]} cells each)")
            cols = st.columns(8)
            for i, c in enumerate(tops[stage]):
                cols[i % 8].image(to_heat(activation[c], 64), width="stretch", alt=f"Feature map of channel {c}",
                                  caption=f"ch {c} · {activation[c].mean():.2f}")
        st.caption("Each map is coloured by itself (dark: its lowest value, yellow: its highest); the number is "
                   "the channel's mean activation, by which the channels are ranked.")
        stage_name, channel = picked.split(" · channel ")
        stage = next(s for s in chosen if s.startswith(stage_name + " ("))
        big = maps[layers[stage]][int(channel)]
        a, b, c = st.columns(3)
        a.image(rgb, width="stretch", caption="The input as the model sees it", alt="The input image")
        b.image(to_heat(big, 224), width="stretch", alt=f"Feature map of {picked}", caption=f"{picked}, {big.shape[0]} x {big.shape[1]} cells, "
                                                           f"from {big.min():.2f} to {big.max():.2f}")
        patches = [enlarge(f if f.shape[-1] == 3 else np.repeat(f, 3, axis=-1), 8) for f in filters]
        patches = [(p * 255).round().astype(np.uint8) for p in patches]
        with c:
            st.image(patches[:32], width=36, alt=[f"Receptive field {i + 1}" for i in range(len(patches[:32]))])
            st.caption(f"The first convolution's {len(filters)} filters ({filters.shape[1]} x {filters.shape[2]}"
                       f"{' RGB' if filters.shape[-1] == 3 else ''}; grey = 0).")
    result.update(view="Feature maps", run=f"{MODELS[model_name]}, {source.split(':', 1)[1] if 'upload' not in source else 'your upload'}")
    result["sentences"] = content.feature_map_sentences(
        {stage: maps[layers[stage]] for stage in chosen}, tops, picked, big)


def _optimised_for(model_name: str, layer: str, channel: int) -> tuple[np.ndarray, float, str]:
    """The channel's optimised image: shipped if the gallery has it, otherwise computed (cached)."""
    if model_name == PHOTO_MODEL:
        for entry in gallery()["gallery"]:
            if entry["layer"] == layer and entry["channel"] == channel:
                return shipped_image(entry["file"]), entry["activation"], "shipped gallery picture"
        settings = default_settings(layer, channel)
        image, value = optimized_channel(model_name, layer, channel, settings.steps, settings.size, settings.seed)
        return image, value, f"optimised now ({settings.steps} steps at {settings.size} px, the full recipe)"
    image, value = optimized_channel(model_name, layer, channel, 128, 28, 0)
    return image, value, "optimised now (128 steps, 28 px grey pixels, jitter)"


def dataset_examples_view(page: ui.LessonPage, result: dict) -> None:
    page.go_live()
    left, right = st.columns([1, 2.6], gap="medium")
    with left:
        model_name = model_control(page)
        layers = dict(info(model_name).target_layers)
        if model_name == PHOTO_MODEL:
            layers = {n: p for n, p in layers.items() if p.startswith("_blocks")}
        ensure_option(page, "stage", layers, list(layers)[min(2, len(layers) - 1)])
        stage = control(page, st.selectbox, "stage", "Layer", list(layers))
        top = channels_of(stage) - 1
        if not 0 <= int(page.value("channel")) <= top:
            page.set_values({"channel": min(max(0, int(page.value("channel"))), top)})
        channel = int(control(page, st.number_input, "channel", f"Channel (0 to {top})", min_value=0,
                              max_value=top, step=1))
    layer = layers[stage]
    examples, geometry, best_image_mean, best_image = channel_examples(model_name, layer, channel)
    _, rgb, names = collection(model_name)
    image, value, how = _optimised_for(model_name, layer, channel)
    peak = image_peak(model_name, layer, channel, f"{how}:{layer}:{channel}", image)
    with right:
        a, b = st.columns([1, 2.2])
        a.image(image, width="stretch", alt=f"Image optimised for channel {channel}", caption=f"Optimised for channel {channel} ({how}): mean activation "
                                                f"{value:.2f}, {peak:.2f} at its strongest position")
        with b:
            cols = st.columns(4)
            crops = []
            for i, ex in enumerate(examples):
                top_, left_, bottom, right_ = ex.box
                crop = rgb[ex.image_index, top_:bottom, left_:right_]
                factor = max(1, 96 // max(crop.shape[:2]))
                crops.append(crop)
                cols[i % 4].image(enlarge(crop, factor), width="stretch", alt=f"Crop of {names[ex.image_index]}",
                                  caption=f"{names[ex.image_index]} · {ex.activation:.2f}")
            where = "bundled photos (one crop per photo)" if model_name == PHOTO_MODEL else "1,000 held-out digits"
            st.caption(f"The {len(examples)} positions of the {where} where channel {channel} fires most, each cut "
                       f"out as its receptive field ({geometry.receptive_field} px, clipped to the image).")
        frame = pd.DataFrame([{"example": "optimised image (strongest position)", "activation": peak,
                               "kind": "optimised"}] +
                             [{"example": f"{i + 1}. {names[ex.image_index]}", "activation": ex.activation,
                               "kind": "dataset"} for i, ex in enumerate(examples)])
        page.chart(charts.activation_bars(frame, page.chart_height(240)),
                   "The channel's activation at one position: the optimised image's strongest (red), each dataset "
                   "example's (blue).", key="features._examples")
    best = examples[0].activation if examples else float("nan")
    result.update(view="Dataset examples", optimised=peak, best_example=best,
                  run=f"{MODELS[model_name]}, channel {channel} of {stage.split(' (')[0]} ({how})")
    result["sentences"] = content.example_sentences(stage, channel, peak, value, examples, names, geometry,
                                                    best_image_mean, names[best_image])
