"""PCA, t-SNE and UMAP: (N, D) float32 -> (N, 2 or 3) coordinates. No streamlit; scikit-learn,
openTSNE and umap-learn are imported inside the functions.

- PCA: Pearson, "On lines and planes of closest fit", 1901; scikit-learn's `PCA` (exact SVD here).
- t-SNE: van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 2008, with the Barnes-Hut
  gradient (van der Maaten, JMLR 2014), from openTSNE (Policar, Strazar & Zupan, JSS 2024): exact
  affinities, PCA initialisation, 250 early-exaggeration iterations then the rest, learning rate
  "auto" = N / exaggeration (Belkina et al. 2019). openTSNE calls back during the optimisation, so
  the page shows each phase's progress (scikit-learn's TSNE cannot).
- UMAP: McInnes, Healy & Melville, "UMAP: Uniform Manifold Approximation and Projection for
  Dimension Reduction", 2018 (arXiv:1802.03426); umap-learn's `UMAP`, seeded (which also makes it
  single-threaded and reproducible), on an exact nearest-neighbour graph computed here with
  scikit-learn (`precomputed_knn`): the graph of the most neighbours the page offers is kept and
  reused when only the number of neighbours, the minimum distance or the seed change.
"""
from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lessons.embeddings.settings import (MAX_POINTS, TSNE_EXAGGERATION_ITERATIONS, TSNE_MIN_ITERATIONS,
                                         TSNE_PROGRESS_EVERY, TSNE_STOP, TSNE_STOP_WINDOW, TSNE_THETA, UMAP_EPOCHS)

Progress = Callable[[float, str], None]  # (share done 0..1, text)


class ProjectionRefused(ValueError):
    """Parameters the page refuses (too many points for the method, perplexity too large), with a message."""


@dataclass(frozen=True)
class Projection:
    coords: np.ndarray  # (N, dims) float32
    explained: np.ndarray  # PCA: share of variance of each component; empty for t-SNE and UMAP
    iterations: int = 0  # t-SNE: the iterations it ran (it stops early when the KL divergence levels off)


def check(method: str, n: int, dims: int, perplexity: float = 30.0, neighbours: int = 15) -> None:
    """Raise ProjectionRefused with a sentence for the student when the request cannot run here."""
    if n > MAX_POINTS[method]:
        raise ProjectionRefused(f"{method} here projects at most {MAX_POINTS[method]:,} points and you asked for "
                                f"{n:,}: choose fewer points or another method.")
    if n <= dims + 1:
        raise ProjectionRefused(f"{n} points are too few to project to {dims} dimensions.")
    if method == "t-SNE" and perplexity >= n:
        raise ProjectionRefused(f"The perplexity ({perplexity:g}) must be smaller than the number of points ({n}): "
                                "it is roughly how many neighbours each point listens to.")
    if method == "UMAP" and neighbours >= n:
        raise ProjectionRefused(f"UMAP's number of neighbours ({neighbours}) must be smaller than the number of "
                                f"points ({n}).")


def pca(x: np.ndarray, dims: int) -> Projection:
    from sklearn.decomposition import PCA

    fitted = PCA(n_components=dims, svd_solver="full")
    coords = fitted.fit_transform(x.astype(np.float64))  # (N, dims)
    return Projection(coords.astype(np.float32), fitted.explained_variance_ratio_.astype(np.float32))


def tsne(x: np.ndarray, dims: int, perplexity: float, learning_rate, iterations: int, seed: int,
         on_progress: Progress | None = None) -> Projection:
    """openTSNE's standard schedule in two calls, so each phase reports its progress: `iterations`
    counts both phases, as scikit-learn's max_iter does (250 = early exaggeration only), and is a
    maximum: a phase stops once its KL divergence fell by less than TSNE_STOP (relative) over the
    last TSNE_STOP_WINDOW iterations (settings.py has the measurements)."""
    from openTSNE import TSNE

    exaggerated = min(TSNE_EXAGGERATION_ITERATIONS, iterations)
    fitter = TSNE(n_components=dims, perplexity=perplexity, learning_rate=learning_rate, neighbors="exact",
                  negative_gradient_method="bh", theta=TSNE_THETA, initialization="pca", random_state=seed,
                  n_jobs=1, verbose=False)
    report = on_progress or (lambda share, text: None)
    report(0.02, f"t-SNE: the affinities of {len(x):,} points (each point's {min(len(x) - 1, int(3 * perplexity))} "
                 "nearest neighbours, weighted to the perplexity)")
    embedding = fitter.prepare_initial(x)  # (N, dims): PCA start, affinities computed
    ran = [0, 0]  # iterations of each phase

    def phase(number: int, first: int, text: str, tolerance: float):
        errors: list[float] = []
        back = TSNE_STOP_WINDOW // TSNE_PROGRESS_EVERY

        def callback(iteration: int, error: float, _embedding) -> bool:
            ran[number] = iteration
            errors.append(float(error))
            done = first + iteration
            report(0.05 + 0.95 * done / iterations, f"t-SNE: iteration {done} of at most {iterations}, {text} "
                                                   f"(KL divergence {error:.3f})")
            return (iteration >= TSNE_MIN_ITERATIONS and len(errors) > back
                    and errors[-1 - back] - errors[-1] < tolerance * errors[-1])  # levelled off: stop
        return {"callbacks": [callback], "callbacks_every_iters": TSNE_PROGRESS_EVERY}

    embedding = embedding.optimize(exaggerated, exaggeration=fitter.early_exaggeration,
                                   momentum=fitter.initial_momentum, inplace=True,
                                   **phase(0, 0, "early exaggeration: clusters are pulled tight and move past each "
                                                 "other", TSNE_STOP["exaggeration"]))
    if iterations > exaggerated:
        first = ran[0]
        embedding = embedding.optimize(iterations - exaggerated, exaggeration=None, momentum=fitter.final_momentum,
                                       inplace=True,
                                       **phase(1, first, "points settle beside their neighbours", TSNE_STOP["settle"]))
    report(1.0, f"t-SNE: done after {sum(ran)} iterations (the KL divergence had levelled off)"
           if sum(ran) < iterations else f"t-SNE: done after {iterations} iterations")
    return Projection(np.asarray(embedding, dtype=np.float32), np.zeros(0, np.float32), sum(ran))


def nearest_neighbour_graph(x: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Each point's k nearest points in x (N, D), itself included (distance 0), exact, with
    scikit-learn's brute-force search: (indices (N, k) int64, distances (N, k) float32). The graph
    UMAP builds its fuzzy set from; cosine distance is 1 - cosine similarity, as in umap-learn."""
    from sklearn.neighbors import NearestNeighbors

    found = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=metric, n_jobs=1).fit(x)
    distances, indices = found.kneighbors(x)  # (N, k) each, nearest first
    return indices.astype(np.int64), np.maximum(distances, 0.0).astype(np.float32)


_UMAP_READY = threading.Lock()
_umap_module = None


def umap_library():
    """umap-learn, imported once per process with numba's on-disk cache switched on for its
    compiled functions: umap-learn compiles them without `cache=True`, so every new server paid
    20-50 s of compilation; with the cache (NUMBA_CACHE_DIR, lessons/process_settings.py) that is
    paid once per installation. Also silences the warning that a precomputed graph without a
    search index cannot `transform` new points (the lesson never calls transform)."""
    global _umap_module
    with _UMAP_READY:
        if _umap_module is None:
            import umap as umap_learn
            import umap.distances
            import umap.layouts
            import umap.sparse
            import umap.spectral
            import umap.umap_
            import umap.utils
            from numba.core.caching import NullCache
            from numba.core.dispatcher import Dispatcher

            for module in (umap.umap_, umap.layouts, umap.utils, umap.spectral, umap.distances, umap.sparse):
                for value in vars(module).values():
                    if isinstance(value, Dispatcher) and isinstance(value._cache, NullCache):
                        value.enable_caching()
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
            _umap_module = umap_learn
    return _umap_module


class _EpochWriter:
    """A file for tqdm: umap-learn reports its optimisation epochs through tqdm; this turns each
    "n/total" it writes into a progress call."""

    def __init__(self, on_progress: Progress, start: float, share: float):
        self.on_progress, self.start, self.share = on_progress, start, share

    def write(self, text: str) -> None:
        match = re.search(r"(\d+)/(\d+)", text)
        if match and int(match.group(2)):
            done, total = int(match.group(1)), int(match.group(2))
            self.on_progress(self.start + self.share * done / total,
                             f"UMAP: epoch {done} of {total}: points are pulled toward their graph neighbours and "
                             "pushed away from random others")

    def flush(self) -> None:
        pass


def umap(x: np.ndarray, dims: int, neighbours: int, min_dist: float, metric: str, seed: int,
         on_progress: Progress | None = None, graph: tuple[np.ndarray, np.ndarray] | None = None) -> Projection:
    """UMAP with UMAP_EPOCHS epochs on the exact neighbour graph (`graph`: a nearest_neighbour_graph of
    x with at least `neighbours` columns, or None to compute it)."""
    umap_learn = umap_library()
    report = on_progress or (lambda share, text: None)
    tqdm_kwds = {"disable": True}
    if graph is None:
        report(0.02, f"UMAP: finding each point's {neighbours} nearest neighbours ({metric})")
        graph = nearest_neighbour_graph(x, neighbours, metric)
    report(0.08, f"UMAP: the fuzzy graph of each point's {neighbours} neighbours, and a spectral start")
    if on_progress is not None:
        tqdm_kwds = {"disable": False, "file": _EpochWriter(on_progress, 0.1, 0.9), "bar_format": "{n}/{total}",
                     "mininterval": 0.2}
    indices, distances = graph[0][:, :neighbours], graph[1][:, :neighbours]  # umap reads every column it is given
    fitted = umap_learn.UMAP(n_components=dims, n_neighbors=neighbours, min_dist=min_dist, metric=metric,
                             n_epochs=UMAP_EPOCHS, random_state=seed, n_jobs=1, tqdm_kwds=tqdm_kwds,
                             precomputed_knn=(np.ascontiguousarray(indices), np.ascontiguousarray(distances)))
    return Projection(fitted.fit_transform(x).astype(np.float32), np.zeros(0, np.float32))


def project(x: np.ndarray, method: str, dims: int, *, perplexity: float = 30.0, learning_rate="auto",
            iterations: int = 750, neighbours: int = 15, min_dist: float = 0.1, metric: str = "euclidean",
            seed: int = 0, on_progress: Progress | None = None, graph=None) -> Projection:
    """Project x (N, D) with `method` after checking the request (ProjectionRefused). `graph` (UMAP
    only): a nearest_neighbour_graph of x to reuse."""
    check(method, len(x), dims, perplexity, neighbours)
    if method == "PCA":
        return pca(x, dims)
    if method == "t-SNE":
        return tsne(x, dims, perplexity, learning_rate, iterations, seed, on_progress)
    if method == "UMAP":
        return umap(x, dims, neighbours, min_dist, metric, seed, on_progress, graph)
    raise ValueError(f"unknown method {method!r}")
