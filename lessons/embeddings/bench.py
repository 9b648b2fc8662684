"""Benchmark figures for the embeddings lesson (compute only; the lead's benchmark adds the browser).

Rows: the default view drawn from the shipped file (projection, trust numbers, tooltip images and
the Altair spec); a parameter change on scikit-learn's 1,797 digits for t-SNE and UMAP once warm,
at the page's settings (openTSNE, at most 750 iterations, each phase stopping once its KL divergence levels
off; UMAP 200 epochs; the issue's budget: 3 s each);
UMAP on all 5,000 MNIST digits' penultimate features through the page's path (the exact neighbour
graph, then the fit, budget 15 s), with the longest pause between its progress reports and a
change of minimum distance that reuses the graph; t-SNE on 2,000 digits (its bound) with the
longest pause between progress reports; the trust numbers on 1,000 points; and the digits CNN's
feature pass over 5,000 digits as a "<kernel> flops" + "<kernel> seconds" pair (the benchmark turns it
into achieved FLOP/s as a share of the matmul rate it measures in the same run).
"""
from __future__ import annotations

import time


def _row(name, value, unit, budget=None, better="lower"):
    return {"name": name, "value": float(value), "unit": unit, "budget": budget, "better": better}


def _seconds(job) -> float:
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


class _Pauses:
    """An on_progress callback that records the longest time between two reports."""

    def __init__(self):
        self.last, self.gaps = time.perf_counter(), [0.0]

    def __call__(self, share: float, text: str) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def longest(self) -> float:
        return max(self.gaps)


def compute_figures() -> list[dict]:
    import numpy as np

    from data import load_sklearn_digits
    from lessons.embeddings import charts, compute, points, precompute, projection, settings, store, thumbnails, trust

    rows = []

    def default_view():
        store.RESULTS.reload()
        result = store.shipped(precompute.default_projection_key())
        frame = charts.frame(result, images=thumbnails.digit_urls(result["digit_index"]))
        charts.scatter_2d(frame, 460).to_dict()

    thumbnails.digit_urls([0])  # encoded once per process (the page does the same)
    rows.append(_row("default view from the shipped file (1,000 digits, UMAP, trust numbers, tooltip images)",
                     _seconds(default_view), "s", 1.0))
    compute.warm_up()  # numba's compilation or cache load, as the lesson's warm-up does in the background
    images, _ = load_sklearn_digits(normalize=True)
    x = images.reshape(len(images), -1)  # (1797, 64)
    iterations = settings.DEFAULTS["iterations"]
    rows.append(_row(f"t-SNE parameter change, 1,797 digits (perplexity 50, {iterations} iterations, warm)",
                     _seconds(lambda: projection.tsne(x, 2, 50.0, "auto", iterations, 1)), "s", 3.0))
    rows.append(_row(f"UMAP parameter change, 1,797 digits (30 neighbours, {settings.UMAP_EPOCHS} epochs, warm)",
                     _seconds(lambda: projection.umap(x, 2, 30, 0.1, "euclidean", 1)), "s", 3.0))
    data = {"source": "digits", "layer": "penultimate", "network": "trained", "points": 5000}
    method = {"method": "UMAP", "dims": 2, "neighbours": 15, "min_dist": 0.1, "umap_metric": "euclidean", "seed": 0}
    compute.GRAPHS.clear()
    points.digits("penultimate", "trained", 5000)  # the features are cached by the page too (points.py)
    progress = _Pauses()
    rows.append(_row("UMAP on 5,000 MNIST digits (penultimate features, neighbour graph + fit, with progress)",
                     _seconds(lambda: compute.projection_result(data, method, on_progress=progress)), "s", 15.0))
    rows.append(_row("UMAP on 5,000 digits: longest pause between progress reports", progress.longest(), "s", 2.0))
    rows.append(_row("UMAP on 5,000 digits: minimum distance changed (the neighbour graph reused)",
                     _seconds(lambda: compute.projection_result(data, method | {"min_dist": 0.5})), "s", 3.0))
    tsne_data = data | {"points": settings.MAX_POINTS["t-SNE"]}
    tsne_method = {"method": "t-SNE", "dims": 2, "perplexity": 30.0, "learning_rate": "auto",
                   "iterations": iterations, "seed": 0}
    progress = _Pauses()
    rows.append(_row(f"t-SNE on {settings.MAX_POINTS['t-SNE']:,} MNIST digits (its bound; penultimate features, "
                     "with progress)", _seconds(lambda: compute.projection_result(tsne_data, tsne_method,
                                                                                  on_progress=progress)), "s", 15.0))
    rows.append(_row("t-SNE: longest pause between progress reports", progress.longest(), "s", 2.0))
    features = points.digits("penultimate", "trained", 5000).features
    coords = features[:, :2].copy()
    labels = np.zeros(len(features))
    rows.append(_row("trust numbers (trustworthiness, neighbours kept, 2 k-NN votes) on 1,000 points",
                     _seconds(lambda: trust.trust_numbers(features, coords, labels)), "s", 1.0))
    rows += _feature_pair()
    return rows


def _feature_pair() -> list[dict]:
    from torch.utils.flop_counter import FlopCounterMode

    from lessons.embeddings import points
    from models import zoo

    images, _ = points._mnist()
    chosen = images[points.digit_subset(5000)]
    with zoo.borrow("digits_cnn") as model:
        with FlopCounterMode(display=False) as counter:
            points.cnn_features(model, chosen, "penultimate")
        seconds = _seconds(lambda: points.cnn_features(model, chosen, "penultimate"))
    name = "digits CNN penultimate features (5,000 digits, batches of 500)"
    return [_row(f"{name} flops", counter.get_total_flops(), "flop"), _row(f"{name} seconds", seconds, "s")]


if __name__ == "__main__":
    from lessons import process_settings

    process_settings.apply()
    for row in compute_figures():
        print(row)

# The control the benchmark changes in the browser (tests/benchmark): trained <-> untrained network on the
# default view (the untrained one is computed live once, then cached).
MAIN_CONTROL = {"kind": "select", "label": "Network", "choices": [1, 0]}
