"""Compute what every view draws at its defaults (and each source's default projection); ship it.

    python -m lessons.embeddings.precompute     # writes lessons/embeddings/shipped_results.npz
    python -m lessons.embeddings.precompute --missing   # computes only the jobs the file lacks

Seeded and deterministic on one thread; tests/unit/test_embeddings.py recomputes the default view's
result and compares, so a stale file fails.
"""
from __future__ import annotations

import time

from lessons.embeddings import compute, store
from lessons.embeddings.settings import DEFAULTS as D
from lessons.embeddings.settings import DIMENSIONS, METHODS, MULTIPLE_OVER, NETWORKS


def default_data(source: str = D["source"]) -> dict:
    return compute.data_params({**D, "source": source})


def default_method(**changes) -> dict:
    return compute.method_params({**D, **changes})


def default_projection_key() -> str:
    """The key of the default view's result (Projection, digits, UMAP 2D)."""
    return compute.result_key("projection", default_data() | default_method())


def default_jobs() -> dict:
    jobs = {}
    for method in METHODS:
        for dims in DIMENSIONS:
            params = default_method(method=method, dims=dims)
            jobs[compute.result_key("projection", default_data() | params)] = (
                compute.projection_result, default_data(), params)
    for network in NETWORKS:  # the untrained network's digits: the first comparison a student makes
        if network != D["network"]:
            for method in METHODS:
                data, params = default_data() | {"network": network}, default_method(method=method)
                jobs[compute.result_key("projection", data | params)] = (compute.projection_result, data, params)
    for source in ("words", "sentences", "photos"):
        jobs[compute.result_key("projection", default_data(source) | default_method())] = (
            compute.projection_result, default_data(source), default_method())
    for source in ("digits", "words", "sentences", "photos"):
        jobs[compute.result_key("neighbours", default_data(source))] = (compute.neighbours_result, default_data(source))
    for over in MULTIPLE_OVER:
        params = default_data() | {"over": over, "seed": D["seed"]}
        jobs[compute.result_key("multiples", params)] = (compute.multiples_result, default_data(), over, D["seed"])
    layers = {"method": D["layers_method"], "points": D["points"], "seed": D["seed"]}
    jobs[compute.result_key("layers", layers)] = (compute.layers_result, D["layers_method"], D["points"], D["seed"])
    return jobs


def main(missing_only: bool = False) -> None:
    """Compute every default job and write the file; with `missing_only`, keep the results the file
    holds and compute only the jobs it lacks (a new job, without moving the others' numbers)."""
    import torch

    torch.set_num_threads(1)
    shipped = {key: store.shipped(key) for key in store.shipped_keys()} if missing_only else {}
    for key, (job, *args) in default_jobs().items():
        if key in shipped:
            continue
        start = time.perf_counter()
        shipped[key] = job(*args)
        print(f"{key}: {time.perf_counter() - start:.1f} s", flush=True)
    store.write(shipped)
    print(f"wrote {store.SHIPPED_FILE} ({store.SHIPPED_FILE.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    from lessons import process_settings

    import sys

    process_settings.apply()
    main(missing_only="--missing" in sys.argv[1:])
