"""Compute-only figures for the benchmark (the lead's benchmark adds the browser side).

Reference measured in the same call: pytorch-grad-cam's own DeepFeatureFactorization on the same
image, layer and k (the issue's anchor). Budgets from the issue: DFF with k = 5 on one 224 px image
under 1 s warm; the k sweep (2 to 10) under 3 s; co-segmentation of 4 images under 3 s.
"""
from __future__ import annotations

import statistics
import time


def _median_seconds(fn, repeats: int = 5) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compute_figures() -> list[dict]:
    import torch
    from pytorch_grad_cam import DeepFeatureFactorization
    from sklearn.decomposition import NMF
    from threadpoolctl import threadpool_limits

    from lessons.factorization import compute, inputs, results
    from lessons.factorization.settings import HEAD, LAYERS, MODEL
    from models import zoo

    cat = inputs.bundled_rgb("cat", "whole image")
    photos = [inputs.bundled_rgb(name, "whole image") for name in ("cat", "coffee", "astronaut", "grace_hopper")]
    rows = []

    def row(label, value, unit="s", budget=None, better="lower"):
        rows.append({"name": label, "value": float(value), "unit": unit, "budget": budget, "better": better})

    ours = _median_seconds(lambda: results.concepts(cat, HEAD, 5))
    row("factorization: DFF k = 5, 224 px, warm", ours, budget=1.0)

    def library():
        with zoo.borrow(MODEL) as model:
            dff = DeepFeatureFactorization(model, model._head_act, computation_on_concepts=model._fc)
            dff(compute.image_tensor(cat), n_components=5)
            dff.activations_and_grads.release()

    row("factorization: speed-up over the library's DeepFeatureFactorization", _median_seconds(library) / ours,
        unit="ratio", better="higher")
    row("factorization: k sweep 2 to 10, head, uncached", _median_seconds(lambda: results.sweep(cat, HEAD), 3), budget=3.0)
    row("factorization: co-segmentation of 4 images, head, k = 4",
        _median_seconds(lambda: results.cosegmentation(photos, HEAD, 4), 3), budget=3.0)
    with zoo.borrow(MODEL) as model:
        acts = compute.layer_activations(model, compute.image_tensor(cat), LAYERS[HEAD])
    matrix = acts[0].reshape(acts.shape[1], -1)  # (1280, 49)

    def nmf():
        with threadpool_limits(1):
            model = NMF(n_components=5, init="random", random_state=0, max_iter=200, tol=0.0)  # exactly 200 iterations
            model.fit_transform(matrix)

    # One coordinate-descent iteration updates W (C x k) and H (k x P): about 4 C P k multiply-adds each way.
    c, p, k = matrix.shape[0], matrix.shape[1], 5
    row("factorization: NMF 200 iterations flops", 200 * 2 * 2 * (2 * c * p * k + (c + p) * k * k), unit="flop")
    row("factorization: NMF 200 iterations seconds", _median_seconds(nmf))
    x = compute.image_tensor(cat)
    with torch.no_grad(), zoo.borrow(MODEL) as model:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter:
            model(x)
        row("factorization: forward pass flops", counter.get_total_flops(), unit="flop")
        row("factorization: forward pass seconds", _median_seconds(lambda: model(x)))
    return rows


if __name__ == "__main__":
    for r in compute_figures():
        print(f"{r['name']:<75} {r['value']:>12.4g} {r['unit']:<5} budget {r['budget']}")

# The control the benchmark changes in the browser (tests/benchmark): the number of concepts k (arrow keys).
MAIN_CONTROL = {"kind": "slider", "label": "Number of concepts k"}
