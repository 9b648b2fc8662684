"""PCA, t-SNE and UMAP: (N, D) float32 -> (N, 2 or 3) coordinates. No streamlit; scikit-learn and
umap-learn are imported inside the functions.

- PCA: Pearson, "On lines and planes of closest fit", 1901; scikit-learn's `PCA` (exact SVD here).
- t-SNE: van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 2008; Barnes-Hut version
  (van der Maaten, JMLR 2014) in scikit-learn's `TSNE`, PCA initialisation.
- UMAP: McInnes, Healy & Melville, "UMAP: Uniform Manifold Approximation and Projection for
  Dimension Reduction", 2018 (arXiv:1802.03426); umap-learn's `UMAP`, seeded (which also makes it
  single-threaded and reproducible).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lessons.embeddings.settings import MAX_POINTS

Progress = Callable[[float, str], None]  # (share done 0..1, text)


class ProjectionRefused(ValueError):
    """Parameters the page refuses (too many points for the method, perplexity too large), with a message."""


@dataclass(frozen=True)
class Projection:
    coords: np.ndarray  # (N, dims) float32
    explained: np.ndarray  # PCA: share of variance of each component; empty for t-SNE and UMAP


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


def tsne(x: np.ndarray, dims: int, perplexity: float, learning_rate, iterations: int, seed: int) -> Projection:
    from sklearn.manifold import TSNE

    fitted = TSNE(n_components=dims, perplexity=perplexity, learning_rate=learning_rate, max_iter=iterations,
                  init="pca", random_state=seed, n_jobs=1)
    return Projection(fitted.fit_transform(x).astype(np.float32), np.zeros(0, np.float32))


class _EpochWriter:
    """A file for tqdm: umap-learn reports its optimisation epochs through tqdm; this turns each
    "n/total" it writes into a progress call."""

    def __init__(self, on_progress: Progress, start: float, share: float):
        self.on_progress, self.start, self.share = on_progress, start, share

    def write(self, text: str) -> None:
        match = re.search(r"(\d+)/(\d+)", text)
        if match and int(match.group(2)):
            done, total = int(match.group(1)), int(match.group(2))
            self.on_progress(self.start + self.share * done / total, f"UMAP: epoch {done} of {total}")

    def flush(self) -> None:
        pass


def umap(x: np.ndarray, dims: int, neighbours: int, min_dist: float, metric: str, seed: int,
         on_progress: Progress | None = None) -> Projection:
    import umap as umap_learn

    tqdm_kwds = {"disable": True}
    if on_progress is not None:
        on_progress(0.05, f"UMAP: finding each point's {neighbours} nearest neighbours")
        tqdm_kwds = {"disable": False, "file": _EpochWriter(on_progress, 0.1, 0.9), "bar_format": "{n}/{total}",
                     "mininterval": 0.2}
    fitted = umap_learn.UMAP(n_components=dims, n_neighbors=neighbours, min_dist=min_dist, metric=metric,
                             random_state=seed, n_jobs=1, tqdm_kwds=tqdm_kwds)
    return Projection(fitted.fit_transform(x).astype(np.float32), np.zeros(0, np.float32))


def project(x: np.ndarray, method: str, dims: int, *, perplexity: float = 30.0, learning_rate="auto",
            iterations: int = 1000, neighbours: int = 15, min_dist: float = 0.1, metric: str = "euclidean",
            seed: int = 0, on_progress: Progress | None = None) -> Projection:
    """Project x (N, D) with `method` after checking the request (ProjectionRefused)."""
    check(method, len(x), dims, perplexity, neighbours)
    if method == "PCA":
        return pca(x, dims)
    if method == "t-SNE":
        if on_progress is not None:
            on_progress(0.0, f"t-SNE on {len(x):,} points, {iterations} iterations (scikit-learn reports no "
                             "progress while it runs)")
        return tsne(x, dims, perplexity, learning_rate, iterations, seed)
    if method == "UMAP":
        return umap(x, dims, neighbours, min_dist, metric, seed, on_progress)
    raise ValueError(f"unknown method {method!r}")
