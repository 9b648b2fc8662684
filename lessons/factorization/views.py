"""The lesson's five views. Each draws its controls (helpers.control: part of the share link), gets its
result (shipped or live, helpers.py), draws its pictures and charts, stores what the "Try this" checks
read in `result`, and returns the "What you see" sentences. No torch at module level."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lessons import ui
from lessons.factorization import charts, content, drawing, helpers, maps
from lessons.factorization.errors import FactorizationError
from lessons.factorization.helpers import control
from lessons.factorization.settings import FRAMINGS, HEAD, K_MAX, K_MIN, LAYERS, MAX_IMAGES, SWEEP_KS, layer_short

NO_PHOTO = ["Nothing to show until a photo is chosen."]


def _images_row(images: list[np.ndarray], captions: list[str], per_row: int = 5) -> None:
    for start in range(0, len(images), per_row):
        columns = st.columns(per_row)
        for column, image, caption in zip(columns, images[start:start + per_row], captions[start:start + per_row]):
            column.image(image, caption=caption, width="stretch", alt=caption)


def _origin(origin: str) -> str:
    return ("Shown: the shipped factorization (precomputed for the defaults, identical to a live run)."
            if origin == "shipped" else "Shown: your live factorization.")


# --------------------------------------------------------------------------- 1. concepts


def concepts_view(page: ui.LessonPage, result: dict) -> list[str]:
    picked = helpers.choose_photo(page)
    if picked is None:
        return NO_PHOTO
    source, framing, rgb = picked
    controls, picture = st.columns([1, 2.8])
    with controls:
        layer = control(page, st.selectbox, "layer", "Layer", list(LAYERS),
                        help="Concept labels need the head conv: the classifier reads only its 1280 channels.")
        k = control(page, st.slider, "k", "Number of concepts k", K_MIN, K_MAX)
        weight = control(page, st.slider, "image_weight", "Photo weight in the overlay", 0.0, 1.0, step=0.05)
    try:
        data, origin = helpers.concepts_for(page, source, framing, layer, k, rgb)
    except FactorizationError as refusal:
        st.error(str(refusal))
        return [str(refusal)]
    upsampled = maps.scale_and_resize(data["maps"], rgb.shape[:2])  # (k, 224, 224)
    assignment = maps.strongest_concept(upsampled)
    shares = maps.concept_shares(assignment, k)
    names = helpers.concept_names(data, k)
    with picture:
        left, right = st.columns([1.1, 1])
        left.image(drawing.factorization_overlay(rgb, upsampled, weight), width="stretch",
                   alt=f"The photo coloured by its {k} concepts",
                   caption=f"{k} concepts at {layer_short(layer)}: each pixel in the colour of its strongest concept, "
                           "as bright as that concept's map there")
        with right:
            page.chart(charts.legend_chart(names, list(shares), height=page.chart_height(26)),
                       "The legend: each concept's colour, its top label from the classifier head (head layer only) "
                       "and the share of the pixels it wins.", key=f"{page.slug}._legend")
    st.markdown("**Each concept's map** (the NMF coefficients H, scaled to [0, 1] and resized)")
    _images_row([drawing.concept_heatmap(rgb, upsampled[i], i) for i in range(k)], names)
    big, small = int(np.argmax(shares)), int(np.argmin(shares))
    h, w = data["maps"].shape[1:]
    run = f"{helpers.describe(source, framing)}, {layer_short(layer)} with k = {k} ({origin})"
    result.update(run=run, shares=shares, k=k)
    sentences = [
        f"{k} concepts at {layer_short(layer)} ({int(data['channels'])} channels x {h * w} positions): NMF reproduces "
        f"the activations up to a relative error of {float(data['error']):.2f}.",
        content.coverage_sentence(k, assignment.shape),
        f"The largest concept, **{names[big]}**, wins {shares[big]:.0%} of the pixels; the smallest, {names[small]}, "
        f"{shares[small]:.0%}.",
    ]
    if "label_classes" in data:
        from models.catalogue import imagenet_labels

        top = int(data["image_classes"][0])
        same = int((data["label_classes"][:, 0] == top).sum())
        sentences.append(f"For the whole image the model says **{imagenet_labels()[top]}** "
                         f"({float(data['image_scores'][0]):.0%}); {same} of the {k} concepts have it as their top label.")
    else:
        sentences.append(content.no_labels_sentence(layer))
    if source == "photo:cat" and framing == "whole image":
        contrast = helpers.cat_contrast(data, upsampled, names)
        result["cat_contrast"] = contrast
        if contrast and contrast["count"]:
            sentences.append(f"Concept {contrast['name']} is {contrast['best']:.1f} times as strong inside the cat's box "
                             "as outside it.")
    sentences.append(_origin(origin))
    return sentences


# --------------------------------------------------------------------------- 2. concept labels


def labels_view(page: ui.LessonPage, result: dict) -> list[str]:
    from models.catalogue import imagenet_labels

    picked = helpers.choose_photo(page)
    if picked is None:
        return NO_PHOTO
    source, framing, rgb = picked
    k = control(page, st.slider, "k", "Number of concepts k", K_MIN, K_MAX)
    data, origin = helpers.concepts_for(page, source, framing, HEAD, k, rgb)
    labels = imagenet_labels()
    names = helpers.concept_names(data, k)
    rows = [{"concept": names[i], "rank": r + 1, "label": f"{r + 1}. {labels[int(c)]}", "score": float(s)}
            for i in range(k) for r, (c, s) in enumerate(zip(data["label_classes"][i], data["label_scores"][i]))]
    page.chart(charts.labels_chart(pd.DataFrame(rows), names, height=page.chart_height(22)),
               f"Each of the {k} concept vectors of the head conv through the classifier head (softmax over the 1,000 "
               "ImageNet classes): its five best classes. This view always factorizes the head layer.",
               key=f"{page.slug}._labels")
    top_scores = data["label_scores"][:, 0]
    flat = [names[i] for i in range(k) if top_scores[i] < content.FLAT_SCORE]
    result.update(run=f"{helpers.describe(source, framing)}, head conv with k = {k} ({origin})", k=k)
    confident = int(np.argmax(top_scores))
    sentences = [content.head_sentence(),
                 f"The most confident concept is **{names[confident]}** ({top_scores[confident]:.0%}).",
                 (f"{len(flat)} of the {k} concepts get no class above {content.FLAT_SCORE:.0%} ({', '.join(flat)}): "
                  "the head recognises nothing in them, as for a background or a border." if flat else
                  f"Every concept gets a class above {content.FLAT_SCORE:.0%}."),
                 _origin(origin)]
    return sentences


# --------------------------------------------------------------------------- 3. co-segmentation


def cosegmentation_view(page: ui.LessonPage, result: dict) -> list[str]:
    from data import list_images

    a, b, c, d = st.columns([2.4, 1.4, 1.4, 1.2])
    with a:
        chosen = control(page, st.multiselect, "co_images", f"Photos (2 to {MAX_IMAGES})", list_images(),
                         max_selections=MAX_IMAGES)
    with b:
        framing = control(page, st.radio, "framing", "Framing", FRAMINGS)
    with c:
        layer = control(page, st.selectbox, "co_layer", "Layer", list(LAYERS))
    with d:
        k = control(page, st.slider, "co_k", "Concepts k", K_MIN, K_MAX)
    if len(chosen) < 2:
        st.warning("Pick at least two photos to factorize together.")
        return ["Nothing to show until two photos are chosen."]
    page.go_live()
    sources = tuple(f"photo:{name}" for name in chosen)
    rgbs = tuple(helpers.photo(s, framing) for s in sources)
    data = helpers.live_cosegmentation(sources, framing, layer, k, rgbs)
    upsampled = maps.jointly_scale_and_resize(data["maps"], rgbs[0].shape[:2])  # (B, k, 224, 224)
    names = helpers.concept_names(data, k)
    weight = page.value("image_weight")
    columns = st.columns(MAX_IMAGES)
    for column, name, rgb, up in zip(columns, chosen, rgbs, upsampled):
        column.image(drawing.factorization_overlay(rgb, up, weight), caption=name, width="stretch",
                     alt=f"{name} coloured by the shared concepts")
    st.caption("One factorization of all the chosen photos' activations together: the same colour is the same concept "
               "(the same direction in channel space) in every photo. Each concept's maps are scaled over all the "
               "photos at once, so a concept that is weak in a photo stays dark there.")
    shares = np.float32([maps.concept_shares(maps.strongest_concept(up), k) for up in upsampled])  # (B, k)
    frame = pd.DataFrame([{"image": name, "concept": names[i], "share": float(shares[b_, i]), "index": i}
                          for b_, name in enumerate(chosen) for i in range(k)])
    page.chart(charts.shares_by_image_chart(frame, names, height=page.chart_height(30)),
               "Each bar is one photo; each colour the share of its pixels that concept wins.", key=f"{page.slug}._coseg")
    sharing = helpers.concept_sharing(data["maps"], names)
    result.update(run=f"{', '.join(chosen)} ({framing}), {layer_short(layer)} with k = {k}", shared=sharing)
    sentences = [f"{len(chosen)} photos, one set of {k} concepts at {layer_short(layer)} (relative error "
                 f"{float(data['error']):.2f}).",
                 (f"{sharing['count']} of the {k} concepts are present in every photo (in the weakest at least "
                  f"{content.PRESENT:.0%} as strong as in the strongest): "
                  + ", ".join(f"**{n}**" for n in sharing["names"]) + "." if sharing["count"] else
                  f"No concept is present in every photo: the most shared, **{sharing['best_name']}**, is "
                  f"{sharing['best_reach']:.0%} as strong in its weakest photo as in its strongest."),
                 (f"Scaled per photo, as the library returns its maps, concepts that are absent from a photo would "
                  f"still win up to {sharing['painted']:.0%} of its pixels." if sharing["painted"] > 0 else
                  "Scaled per photo, as the library returns its maps, the colours would look the same here.")]
    for b_, name in enumerate(chosen):
        top = int(np.argmax(shares[b_]))
        sentences.append(f"In {name}, {names[top]} wins most ({shares[b_, top]:.0%}).")
    return sentences


# --------------------------------------------------------------------------- 4. choosing k


def _split_layout(data: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Positions of every (k, concept) so that children sit under their parents."""
    slots = {SWEEP_KS[0]: {i: (i + 0.5) / SWEEP_KS[0] for i in range(SWEEP_KS[0])}}
    nodes, edges = [], []
    for k in SWEEP_KS[1:]:
        parents, _ = data[f"parents_{k}"], data[f"similarity_{k}"]
        order = sorted(range(k), key=lambda j: (slots[k - 1][int(parents[j])], j))
        slots[k] = {j: (rank + 0.5) / k for rank, j in enumerate(order)}
        edges += [{"k": k, "slot": slots[k][j], "parent_k": k - 1, "parent_slot": slots[k - 1][int(parents[j])]}
                  for j in range(k)]
    for k, positions in slots.items():
        nodes += [{"k": k, "slot": s, "name": f"k = {k}, concept {j + 1}"} for j, s in positions.items()]
    return pd.DataFrame(nodes), pd.DataFrame(edges)


def split_summary(parents: np.ndarray) -> list[tuple[int, list[int]]]:
    """Concepts of k that became two or more of k + 1: [(parent, [children])], 0-based."""
    children: dict[int, list[int]] = {}
    for child, parent in enumerate(parents):
        children.setdefault(int(parent), []).append(child)
    return [(p, c) for p, c in sorted(children.items()) if len(c) > 1]


def choosing_k_view(page: ui.LessonPage, result: dict) -> list[str]:
    picked = helpers.choose_photo(page)
    if picked is None:
        return NO_PHOTO
    source, framing, rgb = picked
    left, right = st.columns([1.4, 1])
    with left:
        layer = control(page, st.selectbox, "sweep_layer", "Layer", list(LAYERS))
    with right:
        split_k = control(page, st.slider, "split_k", "Show the split from k to k + 1", K_MIN, K_MAX - 1)
    page.go_live()
    data = helpers.live_sweep(source, framing, layer, rgb)
    ks, errors = [int(k) for k in data["ks"]], [float(e) for e in data["errors"]]
    suggested = maps.elbow(ks, errors)
    a, b = st.columns(2)
    with a:
        page.chart(charts.error_chart(pd.DataFrame({"k": ks, "error": errors}), suggested, page.chart_height(260)),
                   f"Relative reconstruction error of NMF for k = {ks[0]} to {ks[-1]} (same initialisation policy: "
                   "random, seed 0). The dashed line marks the elbow: a suggested k.", key=f"{page.slug}._errors")
    with b:
        nodes, edges = _split_layout(data)
        page.chart(charts.splits_chart(nodes, edges, page.chart_height(260)),
                   "Each dot is a concept; its line goes to the concept of k - 1 whose map is most like its own (cosine).",
                   key=f"{page.slug}._splits")
    names_k = _sweep_names(data, split_k)
    names_next = _sweep_names(data, split_k + 1)
    first, second = st.columns(2)
    for column, k, names in ((first, split_k, names_k), (second, split_k + 1, names_next)):
        up = maps.scale_and_resize(data[f"maps_{k}"], rgb.shape[:2])
        column.image(drawing.factorization_overlay(rgb, up, page.value("image_weight")), width="stretch",
                     alt=f"The photo coloured by its {k} concepts",
                     caption=f"k = {k}: " + ", ".join(names))
    splits = split_summary(data[f"parents_{split_k + 1}"])
    result.update(run=f"{helpers.describe(source, framing)}, {layer_short(layer)}", errors=errors, elbow=suggested)
    described = "; ".join(f"concept {names_k[p]} of k = {split_k} became " + " and ".join(names_next[c] for c in ch)
                          for p, ch in splits)
    return [f"Suggested k: **{suggested}**, the elbow of the curve (the point farthest below the straight line from "
            f"k = {ks[0]} to k = {ks[-1]}): after it each extra concept explains less.",
            content.monotone_sentence(errors, ks),
            f"From k = {split_k} to {split_k + 1}: {described}." if splits else
            f"From k = {split_k} to {split_k + 1} no concept splits in two: the concepts are reorganised.",
            "The colours of two values of k are unrelated: concept numbers are NMF's order, not a match."]


def _sweep_names(data: dict, k: int) -> list[str]:
    from models.catalogue import imagenet_labels

    if f"top_{k}" not in data:
        return [str(i + 1) for i in range(k)]
    labels = imagenet_labels()
    return [content.concept_name(i, labels[int(c)]) for i, c in enumerate(data[f"top_{k}"])]


# --------------------------------------------------------------------------- 5. three ways


def three_ways_view(page: ui.LessonPage, result: dict) -> list[str]:
    from sklearn.metrics import adjusted_rand_score

    picked = helpers.choose_photo(page)
    if picked is None:
        return NO_PHOTO
    source, framing, rgb = picked
    a, b, c = st.columns([1.6, 1.4, 1])
    with a:
        layer = control(page, st.selectbox, "layer", "Layer", list(LAYERS))
    with b:
        k = control(page, st.slider, "k", "Number of concepts / clusters k", K_MIN, K_MAX)
    with c:
        seed = control(page, st.number_input, "km_seed", "k-means seed", min_value=0, max_value=999, step=1)
    page.go_live()
    data = helpers.live_three_ways(source, framing, layer, k, int(seed), rgb)
    upsampled = maps.scale_and_resize(data["maps"], rgb.shape[:2])
    low = data["maps"] / (data["maps"].reshape(k, -1).max(axis=1)[:, None, None] + 1e-7)  # each map scaled to [0, 1]
    dff_labels = maps.strongest_concept(low)  # (h, w)
    weight = page.value("image_weight")
    columns = st.columns(3)
    columns[0].image(drawing.factorization_overlay(rgb, upsampled, weight), width="stretch", alt="DFF concepts",
                     caption=f"DFF: {k} non-negative concepts, each with its own map")
    columns[1].image(drawing.heatmap_image(rgb, data["eigencam"]), width="stretch", alt="EigenCAM map",
                     caption="EigenCAM: the first principal component (one map, viridis)")
    columns[2].image(drawing.segments_image(rgb, drawing.nearest(data["segments"], rgb.shape[:2])), width="stretch",
                     alt="k-means segments",
                     caption=f"k-means: {k} clusters of the positions' channel vectors")
    agreement = float(adjusted_rand_score(dff_labels.ravel(), data["segments"].ravel()))
    correlations = [float(np.corrcoef(upsampled[i].ravel(), data["eigencam"].ravel())[0, 1]) for i in range(k)]
    closest = int(np.nanargmax(correlations))
    result.update(run=f"{helpers.describe(source, framing)}, {layer_short(layer)} with k = {k}, seed {int(seed)}",
                  agreement=agreement)
    return [f"DFF's strongest concept per position and k-means' clusters agree with an adjusted Rand index of "
            f"{agreement:.2f} (1 is the same partition, 0 what chance gives).",
            f"EigenCAM's map is most like DFF's concept {closest + 1} (Pearson {correlations[closest]:.2f}): one "
            "principal component is one direction, so it shows one thing and no parts.",
            "k-means gives every position one cluster and no strength; DFF gives every concept a strength at every "
            "position, so concepts can overlap."]


VIEW_FUNCTIONS = {"Concepts": concepts_view, "Concept labels": labels_view, "Co-segmentation": cosegmentation_view,
                  "Choosing k": choosing_k_view, "Three ways": three_ways_view}
