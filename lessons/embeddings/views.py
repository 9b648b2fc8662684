"""The lesson's four views. Each draws its controls (page.control: part of the share link), gets its
result (shipped or live, helpers.py), draws its charts with the trust numbers beside them and
returns the "What you see" sentences; it stores what the "Try this" checks read in `result`.
No torch, scikit-learn or umap at module level."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from lessons import ui
from lessons.embeddings import charts, compute, content, helpers, store
from lessons.embeddings import settings as S
from lessons.embeddings.projection import ProjectionRefused

BOUNDS = ("At most " + ", ".join(f"{v:,} points for {k}" for k, v in S.MAX_POINTS.items()) +
          f"; trust numbers on a seeded sample of at most {S.TRUST_POINTS:,} points, k = {S.TRUST_K}.")


def _trust_panel(data: dict) -> None:
    st.metric("Trustworthiness", f"{float(data['trust_trustworthiness']):.3f}",
              help="scikit-learn's trustworthiness (Venna & Kaski 2001): 1 = no false neighbours in the picture.")
    st.metric(f"Neighbours kept (k = {int(data['trust_k'])})", f"{float(data['trust_kept']):.0%}",
              help="Mean share of each point's k nearest neighbours in the original space that are among its k "
                   "nearest in the picture.")
    st.metric("k-NN accuracy, original space", f"{float(data['trust_knn_original']):.1%}")
    st.metric("k-NN accuracy, in the picture", f"{float(data['trust_knn_projection']):.1%}",
              delta=f"{float(data['trust_knn_projection']) - float(data['trust_knn_original']):+.1%}",
              delta_color="normal")


def _draw(page: ui.LessonPage, data: dict, frame: pd.DataFrame, dims: int, title: str, caption: str, key: str,
          axis_titles=("", "")) -> None:
    height = page.chart_height(460)
    if dims == 3:
        page.chart(charts.scatter_3d(frame, height, title), caption, key=key)
    else:
        page.chart(charts.scatter_2d(frame, height, title, axis_titles), caption, key=key)


def _label_filter(page: ui.LessonPage, labels: list[str]) -> list[str]:
    key = page.key("labels")
    current = st.session_state.get(key, [])
    if any(v not in labels for v in current):  # another source's labels
        st.session_state[key] = [v for v in current if v in labels]
    return page.control(st.multiselect, "labels", "Show only these labels", labels, placeholder="all labels")


def _sort_labels(values) -> list[str]:
    return sorted(set(str(v) for v in values), key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))


# --------------------------------------------------------------------------- 1. projection


def projection_view(page: ui.LessonPage, result: dict) -> list[str]:
    chosen = helpers.data_controls(page)
    method = helpers.method_controls(page)
    helpers.show_notes(chosen["notes"])
    st.caption(BOUNDS)
    data = chosen["data"]
    try:
        proj, source = helpers.projection(page, data, method, chosen["uploads"])
    except ProjectionRefused as refused:
        st.warning(str(refused))
        return [str(refused)]
    labels = _sort_labels(proj["labels"])
    a, b = st.columns([2, 1])
    with a:
        selected = _label_filter(page, labels)
    with b:
        search = page.control(st.text_input, "search", "Search (ring the matches)", max_chars=100,
                              placeholder="a word, or a digit's #number")
    names = [str(n) for n in proj["names"]]
    shown = np.isin(proj["labels"], selected) if selected else np.ones(len(names), bool)
    needle = (search or "").strip().casefold()
    matches = np.array([bool(needle) and needle in n.casefold() for n in names])
    if data["source"] in ("words", "sentences"):
        matches |= np.asarray(proj["labels"]) == "typed by you"
    frame = charts.frame(proj, matches, shown, helpers.digit_images(proj))
    chart_col, trust_col = st.columns([3, 1])
    with chart_col:
        axis = ("PC 1", "PC 2") if method["method"] == "PCA" else ("", "")
        _draw(page, proj, frame, method["dims"], helpers.method_label(method),
              f"{helpers.what_points(data)}, projected by {helpers.method_label(method)}. Colour = label; hover a point "
              "for its name" + (" and image" if "image" in frame else "") + "; ringed = search matches or your items.",
              f"{S.SLUG}._projection", axis)
    with trust_col:
        st.markdown("**How far to trust it**")
        _trust_panel(proj)
    file_name = f"embeddings_{data['source']}_{method['method'].lower().replace('-', '')}_{method['dims']}d.csv"
    st.download_button("Download the coordinates (CSV)", helpers.csv_bytes(proj), file_name=file_name,
                       mime="text/csv", icon=":material/download:", key=f"{S.SLUG}._csv", on_click="ignore")
    result["projection"] = {"data": proj, "source": source, "method": method["method"], "dims": method["dims"]}
    sentences = content.projection_sentences(proj, source, method["method"], method["dims"], helpers.what_points(data))
    if needle:
        sentences.insert(1, f"{int(matches.sum())} point{'s' if matches.sum() != 1 else ''} match your search "
                            "(ringed).")
    if selected:
        sentences.insert(1, f"Showing {int(shown.sum()):,} points of {len(selected)} label"
                            f"{'s' if len(selected) > 1 else ''}; the others are grey.")
    return sentences


# --------------------------------------------------------------------------- 2. neighbours


def neighbours_view(page: ui.LessonPage, result: dict) -> list[str]:
    chosen = helpers.data_controls(page)
    helpers.show_notes(chosen["notes"])
    data = chosen["data"]
    # the projection the neighbours are ringed in: its controls are drawn here too, so a link to this view
    # carries them (a bound widget that is not drawn drops out of the URL)
    with st.expander("The projection the neighbours are ringed in", expanded=not page.at_defaults(
            ("method", "dims", "perplexity", "learning_rate", "iterations", "neighbours", "min_dist", "umap_metric",
             "seed"))):
        method = helpers.method_controls(page)
    nb, nb_source = helpers.neighbours(page, data, chosen["uploads"])
    names = [str(n) for n in nb["names"]]
    labels = [str(v) for v in nb["labels"]]
    typed = [i for i, v in enumerate(labels) if v == "typed by you"]
    options = typed + [i for i in range(len(names)) if i not in set(typed)]
    key = page.key("item")
    if st.session_state.get(key, 0) not in range(len(names)):
        st.session_state[key] = 0
    a, b, c = st.columns([2, 1, 1])
    with a:
        item = page.control(st.selectbox, "item", "Point (type to search)", options,
                            format_func=lambda i: f"{names[i]} ({labels[i]})")
    with b:
        distance = page.control(st.segmented_control, "distance", "Distance", S.DISTANCES, required=True)
    with c:
        k = page.control(st.segmented_control, "k", "Neighbours", S.NEIGHBOUR_COUNTS, required=True)
    index = np.asarray(nb[f"{distance}_index"][item][:k])
    dist = np.asarray(nb[f"{distance}_distance"][item][:k])
    kept = None
    proj = None
    try:
        proj, _ = helpers.projection(page, data, method, chosen["uploads"])
    except ProjectionRefused as refused:
        st.info(f"No projection to highlight them in: {refused}")
    if proj is not None:
        coords = np.asarray(proj["coords"], np.float64)
        gaps = np.linalg.norm(coords - coords[item], axis=1)
        gaps[item] = np.inf
        near_in_picture = set(np.argsort(gaps, kind="stable")[:k].tolist())
        kept = np.array([i in near_in_picture for i in index])
        ring = np.zeros(len(names), bool)
        ring[index] = True
        ring[item] = True
        frame = charts.frame(proj, ring, ring, helpers.digit_images(proj))
        _draw(page, proj, frame, method["dims"], f"{names[item]} and its {k} nearest neighbours",
              f"The {k} nearest neighbours in the original space ({distance} distance) of the chosen point, ringed "
              f"and coloured in the projection of the Projection view ({helpers.method_label(method)}); the rest grey.",
              f"{S.SLUG}._neighbours_chart")
    table = pd.DataFrame({"rank": np.arange(1, k + 1), "neighbour": [names[i] for i in index],
                          "label": [labels[i] for i in index], f"{distance} distance": dist})
    if kept is not None:
        table["also near in the picture"] = kept
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(f"Distances in the original {int(nb['dims_original']):,}-dimensional space"
               + (" (cosine distance = 1 \u2212 cosine similarity)." if distance == "cosine" else "."))
    result["neighbours"] = {"item": item, "index": index, "kept": kept, "source": nb_source}
    sentences = content.neighbour_sentences(names[item], labels[item], [labels[i] for i in index], kept, distance, k,
                                            labels[item] == "typed by you")
    return sentences + [f"Computed on {content.where(nb_source, 'neighbour lists')}."]


# --------------------------------------------------------------------------- 3. small multiples


def multiples_view(page: ui.LessonPage, result: dict) -> list[str]:
    chosen = helpers.data_controls(page)
    helpers.show_notes(chosen["notes"])
    a, b = st.columns([3, 1])
    with a:
        over = page.control(st.segmented_control, "multiple_over", "Vary", S.MULTIPLE_OVER, required=True)
    with b:
        seed = helpers.seed_control(page)
    data = chosen["data"]
    values = compute.multiple_values(over)
    method = "t-SNE" if over.startswith("t-SNE") else "UMAP"
    n = compute.n_points(data)
    try:
        from lessons.embeddings.projection import check

        for v in values:
            check(method, n, 2, float(v), int(v))
    except ProjectionRefused as refused:
        st.warning(str(refused))
        return [str(refused)]
    key = compute.result_key("multiples", data | {"over": over, "seed": seed})
    panels, source = store.shipped(key), "shipped"
    columns = st.columns(len(values))
    slots = [col.empty() for col in columns]
    name = "perplexity" if method == "t-SNE" else "neighbours"
    if panels is None:
        panels, source = helpers.LIVE.get(key), "live"
    drawn = False
    if panels is None:
        page.go_live()
        drawn = True
        bar = st.progress(0.0, text=f"{method} with {name} {values[0]:g}")
        flat = {}
        for i, one in compute.multiples_stream(data, over, seed, chosen["uploads"]):
            flat |= {f"{i}/{k}": v for k, v in one.items()}
            with slots[i].container():
                _panel(page, one, f"{name} {values[i]:g}", f"{S.SLUG}._multiple_{i}")
            if i + 1 < len(values):
                bar.progress((i + 1) / len(values), text=f"{method} with {name} {values[i + 1]:g} "
                                                          f"({i + 1} of {len(values)} done)")
        bar.empty()
        helpers.LIVE.put(key, flat)
        panels = flat
    split = compute.split(panels)
    results = [split[str(i)] for i in range(len(values))]
    for i, one in enumerate(results):
        if not drawn:  # a live run drew its panels as they finished
            with slots[i].container():
                _panel(page, one, f"{name} {values[i]:g}", f"{S.SLUG}._multiple_{i}")
    st.caption(f"{helpers.what_points(data)}: the same points, {method} in 2-D with seed {seed}, one {name} per panel. "
               f"{BOUNDS}")
    result["multiples"] = {"results": results, "values": values, "over": over, "source": source}
    return content.multiples_sentences(values, results, over, source)


def _panel(page: ui.LessonPage, one: dict, title: str, key: str) -> None:
    page.chart(charts.scatter_2d(charts.frame(one), page.chart_height(240), title, point_size=12,
                                  legend=False),
               f"trustworthiness {float(one['trust_trustworthiness']):.3f} \u00b7 kept "
               f"{float(one['trust_kept']):.0%} \u00b7 k-NN {float(one['trust_knn_projection']):.1%}", key=key)


# --------------------------------------------------------------------------- 4. layers


def layers_view(page: ui.LessonPage, result: dict) -> list[str]:
    a, b, c = st.columns([2, 2, 1])
    with a:
        method = page.control(st.segmented_control, "layers_method", "Method", S.METHODS, required=True)
    with b:
        points = page.control(st.selectbox, "points", "Digits", S.DIGIT_COUNTS, format_func="{:,}".format)
    with c:
        seed = helpers.seed_control(page)
    try:
        from lessons.embeddings.projection import check

        check(method, points, 2)
    except ProjectionRefused as refused:
        st.warning(str(refused))
        return [str(refused)]
    key = compute.result_key("layers", {"method": method, "points": points, "seed": seed})
    flat, source = store.shipped(key), "shipped"
    grid = {network: st.columns(len(S.LAYERS)) for network in S.NETWORKS}
    slots = {(network, layer): col.empty() for network, cols in grid.items() for layer, col in zip(S.LAYERS, cols)}
    if flat is None:
        flat, source = helpers.LIVE.get(key), "live"
    drawn = False
    if flat is None:
        page.go_live()
        drawn = True
        total = len(slots)
        bar = st.progress(0.0, text=f"{method}: raw pixels")
        flat = {}
        for done, (network, layer, one) in enumerate(compute.layers_stream(method, points, seed), start=1):
            flat |= {f"{network}.{layer}/{k}": v for k, v in one.items() if k != "names"}
            with slots[network, layer].container():
                _layer_panel(page, one, network, layer)
            bar.progress(done / total, text=f"{method}: {done} of {total} panels done")
        bar.empty()
        helpers.LIVE.put(key, flat)
    panels = compute.split(flat)
    for (network, layer), slot in slots.items():
        if not drawn:  # a live run drew its panels as they finished
            with slot.container():
                _layer_panel(page, panels[f"{network}.{layer}"], network, layer)
    st.caption(f"{points:,} MNIST digits (held-out ones first) as the trained digits CNN (top row) and the same "
               f"architecture with random weights (bottom row) represent them, each projected by {method} in 2-D.")
    rows = pd.DataFrame(content.layer_rows(panels))
    bars = pd.concat([rows.assign(where="original space", accuracy=rows["knn_original"]),
                      rows.assign(where="the picture", accuracy=rows["knn_projection"])])
    bars["layer"] = bars["layer"].map(lambda v: S.LAYERS[v].split(" (")[0])
    page.chart(charts.knn_bars(bars[["network", "layer", "where", "accuracy"]], page.chart_height(150)),
               f"{S.TRUST_K}-NN accuracy of the digit labels in each representation and in its {method} picture "
               f"(on {int(panels['trained.pixels']['trust_points']):,} digits).", key=f"{S.SLUG}._layer_bars")
    result["layers"] = {"panels": panels, "source": source, "method": method}
    return content.layers_sentences(panels, method, source)


def _layer_panel(page: ui.LessonPage, one: dict, network: str, layer: str) -> None:
    one = {**one, "names": np.array([f"digit {v}" for v in one["labels"]])}
    title = f"{S.LAYERS[layer].split(' (')[0]}" + ("" if layer == "pixels" else f", {network}")
    page.chart(charts.scatter_2d(charts.frame(one), page.chart_height(170), title, point_size=8,
                                  legend=False),
               f"trust {float(one['trust_trustworthiness']):.3f} \u00b7 k-NN {float(one['trust_knn_original']):.1%} "
               f"\u2192 {float(one['trust_knn_projection']):.1%}", key=f"{S.SLUG}._layer_{network}_{layer}")


VIEW_FUNCTIONS = {"Projection": projection_view, "Neighbours": neighbours_view, "Small multiples": multiples_view,
                  "Layers": layers_view}
