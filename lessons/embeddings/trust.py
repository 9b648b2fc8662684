"""How far to trust a projection: numbers that compare each point's neighbourhood in the original
space with its neighbourhood in the picture (numpy; scikit-learn for trustworthiness).

- trustworthiness: Venna & Kaski, "Neighborhood preservation in nonlinear projection methods: an
  experimental study", ICANN 2001; scikit-learn's `sklearn.manifold.trustworthiness` (1 = no point
  in the picture has a neighbour that was not near it in the original space).
- neighbours kept: the share of each point's k nearest neighbours in the original space that are
  also among its k nearest in the picture (Q_NX(k) of Lee & Verleysen, "Quality assessment of
  dimensionality reduction: rank-based criteria", Neurocomputing 2009).
- k-NN accuracy: leave-one-out k-nearest-neighbour classification of the labels, in the original
  space and in the picture: do the classes stay apart, or does the picture only look separated?
All three use euclidean distance and are computed on the same seeded sample of at most
TRUST_POINTS points.
"""
from __future__ import annotations

import numpy as np

from lessons.embeddings.settings import SEED, TRUST_K, TRUST_POINTS


def sample(n: int, limit: int = TRUST_POINTS, seed: int = SEED) -> np.ndarray:
    """Which points the trust numbers use: all when n <= limit, else a seeded sample (sorted)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def squared_distances(x: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, N) squared euclidean distances, float64, the diagonal set to +inf."""
    x = x.astype(np.float64)
    sq = (x * x).sum(1)
    d = sq[:, None] + sq[None, :] - 2.0 * x @ x.T  # (N, N)
    np.maximum(d, 0.0, out=d)
    np.fill_diagonal(d, np.inf)
    return d


def nearest(x: np.ndarray, k: int) -> np.ndarray:
    """(N, D) -> (N, k) indices of each point's k nearest other points, nearest first."""
    d = squared_distances(x)
    part = np.argpartition(d, k, axis=1)[:, :k]  # (N, k) unordered
    order = np.take_along_axis(d, part, 1).argsort(1, kind="stable")
    return np.take_along_axis(part, order, 1)


def neighbours_kept(x: np.ndarray, y: np.ndarray, k: int = TRUST_K) -> float:
    """Mean share of each point's k nearest neighbours in x that are among its k nearest in y."""
    nx, ny = nearest(x, k), nearest(y, k)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(nx, ny)]))


def knn_accuracy(x: np.ndarray, labels: np.ndarray, k: int = TRUST_K) -> float:
    """Leave-one-out accuracy of a k-nearest-neighbour majority vote (ties go to the nearer label)."""
    neighbour_labels = np.asarray(labels)[nearest(x, k)]  # (N, k) nearest first
    hits = 0
    for own, row in zip(labels, neighbour_labels):
        values, counts = np.unique(row, return_counts=True)
        tied = set(values[counts == counts.max()])
        vote = next(label for label in row if label in tied)  # the nearest of the tied labels
        hits += vote == own
    return hits / len(labels)


def trustworthiness(x: np.ndarray, y: np.ndarray, k: int = TRUST_K) -> float:
    from sklearn.manifold import trustworthiness as sklearn_trustworthiness

    return float(sklearn_trustworthiness(x, y, n_neighbors=k))


def trust_numbers(x: np.ndarray, coords: np.ndarray, labels: np.ndarray, k: int = TRUST_K) -> dict[str, float]:
    """Trustworthiness, neighbours kept, and k-NN accuracy in x and in the picture, on sample(len(x))."""
    chosen = sample(len(x))
    xs, ys, ls = x[chosen], coords[chosen], np.asarray(labels)[chosen]
    k = min(k, len(chosen) // 2 - 1)  # sklearn's trustworthiness needs k < n / 2
    return {"trustworthiness": trustworthiness(xs, ys, k), "kept": neighbours_kept(xs, ys, k),
            "knn_original": knn_accuracy(xs, ls, k), "knn_projection": knn_accuracy(ys, ls, k),
            "points": float(len(chosen)), "k": float(k)}


def query_neighbours(x: np.ndarray, query: np.ndarray, k: int, distance: str, exclude: int | None = None):
    """The k points of x (N, D) nearest to query (D,) in the original space: (indices, distances).

    distance "cosine": 1 - cosine similarity; "euclidean": the L2 distance. `exclude` leaves the
    query's own row out."""
    x64, q = np.asarray(x, np.float64), np.asarray(query, np.float64)  # no copy when x is float64 already
    if distance == "cosine":
        norms = np.linalg.norm(x64, axis=1) * np.linalg.norm(q)
        d = 1.0 - (x64 @ q) / np.where(norms > 0, norms, 1.0)  # (N,)
    elif distance == "euclidean":
        d = np.linalg.norm(x64 - q, axis=1)  # (N,)
    else:
        raise ValueError(f"unknown distance {distance!r}")
    if exclude is not None:
        d[exclude] = np.inf
    order = np.argsort(d, kind="stable")[:k]
    return order, d[order]
