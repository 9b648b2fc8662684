"""Each view's computation as one function of plain values -> a dict of numpy arrays, and the key
that names it. precompute.py runs them for the defaults and ships the arrays (store.py); the page
draws a shipped result when there is one and calls these live otherwise. No streamlit.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping

import numpy as np

from lessons.embeddings import points as P
from lessons.embeddings import projection, trust
from lessons.embeddings.settings import (DEFAULTS, LAYERS, MULTIPLE_NEIGHBOURS, MULTIPLE_PERPLEXITIES, NEIGHBOURS,
                                         NETWORKS, NEIGHBOUR_COUNTS)

MAX_NEIGHBOURS = max(NEIGHBOUR_COUNTS)
GRAPH_ENTRIES = 4  # neighbour graphs kept per process (5,000 points x 100 neighbours: 6 MB each)


# --------------------------------------------------------------------------- names of computations


def data_params(values: Mapping) -> dict:
    """The plain values that choose the points (the rest of `values` is ignored)."""
    source = values["source"]
    if source == "digits":
        return {"source": "digits", "layer": values["layer"], "network": values["network"],
                "points": int(values["points"])}
    if source in ("words", "sentences"):
        return {"source": source, "typed": tuple(values.get("typed_items", ()))}
    return {"source": "photos", "uploads": tuple(values.get("upload_keys", ()))}


def method_params(values: Mapping) -> dict:
    """The plain values that choose the projection (only those the method reads)."""
    method = values["method"]
    out = {"method": method, "dims": int(values["dims"])}
    if method == "t-SNE":
        lr = values["learning_rate"]
        out |= {"perplexity": float(values["perplexity"]), "learning_rate": lr if lr == "auto" else float(lr),
                "iterations": int(values["iterations"]), "seed": int(values["seed"])}
    elif method == "UMAP":
        out |= {"neighbours": int(values["neighbours"]), "min_dist": float(values["min_dist"]),
                "umap_metric": values["umap_metric"], "seed": int(values["seed"])}
    return out


def result_key(kind: str, params: Mapping) -> str:
    """A canonical name: "projection|dims=2|layer=penultimate|...". """
    return "|".join([kind] + [f"{k}={params[k]!r}" for k in sorted(params)])


def n_points(data: Mapping) -> int:
    """How many points a data choice gives, without computing them (bundled items + typed or uploads)."""
    if data["source"] == "digits":
        return int(data["points"])
    if data["source"] in ("words", "sentences"):
        return len(P.bundled_items(data["source"])[0]) + len(data["typed"])
    return 12 * (7 + len(data["uploads"]))


# --------------------------------------------------------------------------- the points


def load_points(data: Mapping, uploads: tuple[tuple[str, bytes], ...] = ()) -> P.Points:
    if data["source"] == "digits":
        return P.digits(data["layer"], data["network"], data["points"])
    if data["source"] in ("words", "sentences"):
        return P.texts(data["source"], tuple(data["typed"]))
    return P.photos(uploads)


def _described(points: P.Points) -> dict[str, np.ndarray]:
    out = {"labels": points.labels, "names": points.names, "dims_original": np.int64(points.features.shape[1])}
    if points.digit_index is not None:
        out["digit_index"] = points.digit_index
    return out


# --------------------------------------------------------------------------- the views' results


class _Graphs:
    """UMAP's exact nearest-neighbour graphs, process-wide and bounded (least recently used first
    out), keyed by the plain values that name the points and the metric. Each holds the most
    neighbours the page offers, so changing the number of neighbours, the minimum distance, the
    dimensions or the seed reuses it."""

    def __init__(self, size: int):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, data: Mapping, metric: str, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = result_key("graph", dict(data) | {"metric": metric})
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        graph = projection.nearest_neighbour_graph(features, min(max(NEIGHBOURS), len(features) - 1), metric)
        with self._lock:
            self._items[key] = graph
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return graph

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


GRAPHS = _Graphs(GRAPH_ENTRIES)


def projection_result(data: Mapping, method: Mapping, uploads=(), on_progress=None) -> dict[str, np.ndarray]:
    """Coordinates, labels, names, PCA's explained variance and the trust numbers of one projection."""
    projection.check(method["method"], n_points(data), method["dims"], method.get("perplexity", 30.0),
                     method.get("neighbours", 15))
    pts = load_points(data, uploads)
    extra = {}
    if method["method"] == "UMAP":
        if on_progress is not None:
            on_progress(0.02, f"UMAP: each of the {len(pts.features):,} points' nearest neighbours "
                              f"({method['umap_metric']}; kept for the next change of neighbours or minimum distance)")
        extra = {"metric": method["umap_metric"], "graph": GRAPHS.get(data, method["umap_metric"], pts.features)}
    fitted = projection.project(pts.features, method["method"], method["dims"], on_progress=on_progress,
                                **{k: v for k, v in method.items() if k not in ("method", "dims", "umap_metric")},
                                **extra)
    numbers = trust.trust_numbers(pts.features, fitted.coords, pts.labels)
    release_freed_memory()  # the fit's and the trust numbers' (N, N) buffers
    if method["method"] == "t-SNE":
        extra = {"tsne_iterations": np.int64(fitted.iterations)}  # it stops early once the KL divergence levels off
    else:
        extra = {}
    return {"coords": fitted.coords, "explained": fitted.explained, **_described(pts), **extra,
            **{f"trust_{k}": np.float64(v) for k, v in numbers.items()}}


def neighbours_result(data: Mapping, uploads=()) -> dict[str, np.ndarray]:
    """Every point's MAX_NEIGHBOURS nearest neighbours in the original space, for both distances."""
    pts = load_points(data, uploads)
    out = _described(pts)
    x64 = pts.features.astype(np.float64)  # (N, D) once: query_neighbours copied the whole matrix for every row
    for distance in ("cosine", "euclidean"):
        rows = [trust.query_neighbours(x64, x64[i], MAX_NEIGHBOURS, distance, exclude=i) for i in range(len(x64))]
        out[f"{distance}_index"] = np.stack([r[0] for r in rows]).astype(np.int32)  # (N, K)
        out[f"{distance}_distance"] = np.stack([r[1] for r in rows]).astype(np.float32)  # (N, K)
    del x64, rows
    release_freed_memory()
    return out


def release_freed_memory() -> None:
    """Hand the heap memory a big computation freed back to the system (glibc's malloc_trim; a no-op
    elsewhere). Without it the process kept the peak of every large neighbour search or fit: a process
    with the libraries, the three models and the warm-up (927 MB) held 1,217 MB after the views' live
    computations (default digits, untrained, t-SNE, layers, UMAP and neighbours on 5,000 digits, words,
    photos; 1,345 MB at the 5,000-digit neighbour search) and 970 MB with it (953 MB at that search)."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None


def multiple_values(over: str) -> tuple:
    return MULTIPLE_PERPLEXITIES if over == "t-SNE perplexity" else MULTIPLE_NEIGHBOURS


def multiples_stream(data: Mapping, over: str, seed: int, uploads=()) -> Iterator[tuple[int, dict]]:
    """The same points projected with each perplexity (t-SNE) or number of neighbours (UMAP), in 2D:
    yields (position, result) as each panel is done."""
    for i, value in enumerate(multiple_values(over)):
        if over == "t-SNE perplexity":
            method = {"method": "t-SNE", "dims": 2, "perplexity": float(value), "learning_rate": "auto",
                      "iterations": DEFAULTS["iterations"], "seed": seed}
        else:
            method = {"method": "UMAP", "dims": 2, "neighbours": int(value), "min_dist": 0.1,
                      "umap_metric": "euclidean", "seed": seed}
        yield i, projection_result(data, method, uploads)


def multiples_result(data: Mapping, over: str, seed: int, uploads=()) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i, one in multiples_stream(data, over, seed, uploads):
        out |= {f"{i}/{k}": v for k, v in one.items()}
    return out


def layers_stream(method: str, points: int, seed: int) -> Iterator[tuple[str, str, dict]]:
    """Every digit representation (raw pixels, block 1, block 2, penultimate) of the trained and the
    untrained CNN, projected to 2D: yields (network, layer, result) as each panel is done."""
    params = {"method": method, "dims": 2}
    if method == "t-SNE":
        params |= {"perplexity": 30.0, "learning_rate": "auto", "iterations": DEFAULTS["iterations"], "seed": seed}
    elif method == "UMAP":
        params |= {"neighbours": 15, "min_dist": 0.1, "umap_metric": "euclidean", "seed": seed}
    pixels = None
    for network in NETWORKS:
        for layer in LAYERS:
            if layer == "pixels" and pixels is not None:
                yield network, layer, pixels  # raw pixels do not depend on the network
                continue
            data = {"source": "digits", "layer": layer, "network": network, "points": points}
            result = projection_result(data, params)
            if layer == "pixels":
                pixels = result
            yield network, layer, result


def layers_result(method: str, points: int, seed: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for network, layer, one in layers_stream(method, points, seed):
        out |= {f"{network}.{layer}/{k}": v for k, v in one.items() if k not in ("names",)}
    return out


def split(result: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """{"0/coords": ...} -> {"0": {"coords": ...}}: the panels of a multiples or layers result."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, value in result.items():
        panel, _, field = name.partition("/")
        out.setdefault(panel, {})[field] = value
    return out


def warm_up() -> None:
    """One tiny UMAP fit through the page's path (exact graph, precomputed_knn, progress through
    tqdm): numba compiles (or loads from its on-disk cache) umap's functions now, in the background
    warm-up, not when a student first asks for UMAP. Also one tiny openTSNE fit and scikit-learn's
    trustworthiness."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8)).astype(np.float32)
    projection.umap(x, 2, 5, 0.1, "euclidean", 0, on_progress=lambda share, text: None)
    projection.tsne(x, 2, 5.0, "auto", 260, 0, on_progress=lambda share, text: None)
    trust.trustworthiness(x, x[:, :2], 5)
