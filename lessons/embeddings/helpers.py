"""What the views share: the data controls (source, layer, network, points, typed items, uploads),
the method controls, the shipped-or-live lookup with streamed progress, the bounded caches, the CSV.

A result is shipped (precomputed for the defaults and the untrained network, drawn without torch,
scikit-learn or umap) or computed live after page.go_live(). Live results are small (coordinates and trust numbers) and kept
in one process-wide cache of at most LIVE_ENTRIES results (st.cache_data cannot stream progress out
of a cached function); the big feature arrays stay in points.py's small lru caches, never per student.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import streamlit as st

from lessons import ui
from lessons.embeddings import compute, content, points, store
from lessons.embeddings import settings as S

LIVE_ENTRIES = 24
UPLOADS_KEY = f"{S.SLUG}._uploads"


class _Results:
    """A thread-safe, bounded, least-recently-used cache of live results (process-wide, plain keys)."""

    def __init__(self, size: int):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


LIVE = _Results(LIVE_ENTRIES)
WITHOUT_UMAP = "openTSNE"  # the last warm-up step before umap (lessons/registry.py)


def computed(page: ui.LessonPage, key: str, job, *args, what: str = "Computing", needs_umap: bool = True):
    """(result, "shipped" | "live"): the shipped result for `key`, else a cached live one, else
    job(*args, on_progress=...) with a progress bar, after waiting for the lesson's warm-up (without
    UMAP's import and compilation unless `needs_umap`)."""
    hit = store.shipped(key)
    if hit is not None:
        return hit, "shipped"
    hit = LIVE.get(key)
    if hit is not None:
        return hit, "live"
    page.go_live(None if needs_umap else WITHOUT_UMAP)
    bar = st.progress(0.0, text=what)
    try:
        result = job(*args, on_progress=lambda share, text: bar.progress(min(max(share, 0.0), 1.0), text=text))
    finally:
        bar.empty()
    LIVE.put(key, result)
    return result, "live"


# --------------------------------------------------------------------------- data controls


def data_controls(page: ui.LessonPage) -> dict:
    """The source and what it needs (layer, network, points; typed items; uploads). Returns the plain
    values that name the points, plus "notes" for the page and "uploads" (name, bytes) pairs."""
    a, b, c, d = st.columns([1.6, 1.4, 1.2, 1])
    with a:
        source = page.control(st.selectbox, "source", "Points", list(S.SOURCES), format_func=S.SOURCES.get)
    values = {"source": source}
    notes: list[str] = []
    uploads: tuple = ()
    if source == "digits":
        with b:
            values["layer"] = page.control(st.selectbox, "layer", "Representation", list(S.LAYERS),
                                           format_func=S.LAYERS.get)
        with c:
            values["network"] = page.control(st.selectbox, "network", "Network", list(S.NETWORKS),
                                             format_func=S.NETWORKS.get, disabled=values["layer"] == "pixels")
        with d:
            values["points"] = page.control(st.selectbox, "points", "Digits", S.DIGIT_COUNTS,
                                            format_func="{:,}".format,
                                            help="The first 1,000 are the held-out digits the CNN never trained on; "
                                                 "more adds training digits.")
    elif source in ("words", "sentences"):
        with b:
            typed = page.control(st.text_area, "typed", "Add your own (one per line or comma)", height=68,
                                 max_chars=S.MAX_TYPED_CHARS,
                                 help=f"Up to {S.MAX_TYPED_ITEMS} words or sentences; each is embedded by MiniLM "
                                      "and drawn as 'typed by you'.")
        bundled, _ = points.bundled_items(source)
        try:
            items, notes = points.parse_typed(typed or "", bundled)
        except points.TypedTextError as error:
            items, notes = [], [f"{error} Your text was not added."]
        values["typed_items"] = tuple(items)
    else:
        with b:
            files = st.file_uploader("Add photos (JPEG, PNG or WebP)", type=["jpg", "jpeg", "png", "webp"],
                                     accept_multiple_files=True, key=UPLOADS_KEY)
        uploads, notes = _checked_uploads(files or [])
        values["upload_keys"] = tuple(key for key, _, _ in uploads)
        uploads = tuple((name, data) for _, name, data in uploads)
    data = compute.data_params(values)
    return {"data": data, "notes": notes, "uploads": uploads}


def _checked_uploads(files) -> tuple[list, list[str]]:
    from data.uploads import UploadError, bytes_key, open_upload

    kept, notes = [], []
    if len(files) > S.MAX_UPLOADS:
        notes.append(f"{len(files)} files uploaded: the page adds the first {S.MAX_UPLOADS}.")
    for file in files[:S.MAX_UPLOADS]:
        data = file.getvalue()
        try:
            open_upload(data)
        except UploadError as error:
            notes.append(f"{content.md(file.name)}: {error}")
            continue
        kept.append((bytes_key(data), file.name, data))
    return kept, notes


def show_notes(notes: list[str]) -> None:
    """Warnings about the input (st.warning renders Markdown: notes carry counts, and file names escaped)."""
    for note in notes:
        st.warning(note)


def method_controls(page: ui.LessonPage) -> dict:
    """The method, the dimensions and the method's own parameters; returns compute.method_params."""
    a, b, c, d, e, f = st.columns([1.3, 0.8, 1, 1, 1, 0.7])
    with a:
        method = page.control(st.segmented_control, "method", "Method", S.METHODS, required=True)
    with b:
        dims = page.control(st.segmented_control, "dims", "Dimensions", S.DIMENSIONS, required=True,
                            format_func=lambda v: f"{v}-D")
    if method == "t-SNE":
        with c:
            page.control(st.select_slider, "perplexity", "Perplexity", S.PERPLEXITIES,
                         help="Roughly how many neighbours each point listens to; must be below the number of points.")
        with d:
            page.control(st.selectbox, "learning_rate", "Learning rate", S.LEARNING_RATES,
                         format_func=lambda v: "auto (N / exaggeration)" if v == "auto" else f"{v:g}",
                         help="openTSNE's learning rate: 'auto' is the number of points divided by the exaggeration "
                              "(12 during the first 250 iterations, then 1).")
        with e:
            page.control(st.selectbox, "iterations", "Iterations (at most)", S.ITERATIONS,
                         help=f"The first {S.TSNE_EXAGGERATION_ITERATIONS} at most are early exaggeration (clusters "
                              "pulled tight so they can pass each other); the rest let points settle beside their "
                              "neighbours. Each phase stops early once its KL divergence has levelled off.")
    elif method == "UMAP":
        with c:
            page.control(st.select_slider, "neighbours", "Neighbours", S.NEIGHBOURS)
        with d:
            page.control(st.select_slider, "min_dist", "Minimum distance", S.MIN_DISTS)
        with e:
            page.control(st.selectbox, "umap_metric", "Metric", S.UMAP_METRICS)
    if method != "PCA":
        with f:
            seed_control(page)
    return compute.method_params({name: page.value(name) for name in S.DEFAULTS} | {"method": method, "dims": dims})


def seed_control(page: ui.LessonPage) -> int:
    """The seed of t-SNE and UMAP (URL-bound: each view that draws a seeded picture draws it)."""
    return int(page.control(st.number_input, "seed", "Seed", min_value=0, max_value=99, step=1))


def method_label(method: dict) -> str:
    if method["method"] == "t-SNE":
        return f"t-SNE (perplexity {method['perplexity']:g}, at most {method['iterations']} iterations)"
    if method["method"] == "UMAP":
        return f"UMAP ({method['neighbours']} neighbours, minimum distance {method['min_dist']:g}, {method['umap_metric']})"
    return "PCA"


def what_points(data: dict) -> str:
    if data["source"] == "digits":
        layer = S.LAYERS[data["layer"]].split(" (")[0]
        network = "" if data["layer"] == "pixels" else f" of the {data['network']} CNN"
        return f"{data['points']:,} MNIST digits, {layer}{network}"
    if data["source"] in ("words", "sentences"):
        extra = f" + {len(data['typed'])} typed by you" if data["typed"] else ""
        return f"the bundled {data['source']}{extra}, MiniLM embeddings"
    extra = f" + {len(data['uploads'])} uploads" if data["uploads"] else ""
    return f"12 crops of each of the 7 bundled photos{extra}, EfficientNet-Lite0 features"


def projection(page: ui.LessonPage, data: dict, method: dict, uploads=()) -> tuple[dict, str]:
    """The projection of these points (shipped or live, with progress); raises ProjectionRefused."""
    from lessons.embeddings import projection as P

    P.check(method["method"], compute.n_points(data), method["dims"], method.get("perplexity", 30.0),
            method.get("neighbours", 15))
    key = compute.result_key("projection", data | method)
    return computed(page, key, compute.projection_result, data, method, uploads,
                    what=f"{method['method']}: preparing {compute.n_points(data):,} points",
                    needs_umap=method["method"] == "UMAP")


def neighbours(page: ui.LessonPage, data: dict, uploads=()) -> tuple[dict, str]:
    key = compute.result_key("neighbours", data)

    def job(on_progress):
        on_progress(0.1, "Finding every point's nearest neighbours in the original space")
        return compute.neighbours_result(data, uploads)

    return computed(page, key, job, what="Nearest neighbours", needs_umap=False)


def digit_images(result: dict) -> list[str] | None:
    """Tooltip images for digits (only up to IMAGE_TOOLTIP_POINTS points)."""
    if "digit_index" not in result or len(result["digit_index"]) > S.IMAGE_TOOLTIP_POINTS:
        return None
    from lessons.embeddings import thumbnails

    return thumbnails.digit_urls(result["digit_index"])


def csv_bytes(result: dict) -> bytes:
    """The coordinates with each point's label and name, as CSV. Text cells that a spreadsheet would
    read as a formula (starting with = + - @) get a leading apostrophe."""
    coords = np.asarray(result["coords"])
    table = pd.DataFrame({"name": [str(n) for n in result["names"]], "label": [str(v) for v in result["labels"]]})
    for i, axis in enumerate("xyz"[:coords.shape[1]]):
        table[axis] = coords[:, i]
    if "digit_index" in result:
        table["mnist5k_index"] = result["digit_index"]
    for column in ("name", "label"):
        table[column] = [("'" + v) if v[:1] in ("=", "+", "-", "@") else v for v in table[column]]
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")
