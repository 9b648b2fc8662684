"""Train the lesson's own small models and compute every view's default result; ship both.

    python -m lessons.landscapes.precompute            # compute the shipped results (trains missing weights)
    python -m lessons.landscapes.precompute --retrain  # train the lesson's models again first
    python -m lessons.landscapes.precompute --only skips  # recompute the results whose key starts so; keep the rest

Seeded and deterministic. Writes lessons/landscapes/weights/<name>.pt (state dicts, each < 200 KB)
and lessons/landscapes/shipped_results.npz. tests/unit/test_landscapes.py recomputes the defaults and
compares them with the file, so a stale file fails.
"""
from __future__ import annotations

import sys
import time

import torch

from lessons.landscapes import compute, results, store
from lessons.landscapes.settings import DEFAULTS as D, OPTIMIZERS


def default_jobs() -> dict[str, callable]:
    """key -> the computation that produces the shipped result for that key."""
    n = D["samples"]
    jobs = {
        results.interpolation_key(n, D["reach"]): lambda: results.interpolation(n, D["reach"]),
        results.slices_key(D["model"], D["slice_seed"], D["slice_span"], n):
            lambda: results.slices(D["model"], D["slice_seed"], D["slice_span"], n),
        results.surface_key(D["model"], D["seed"], D["span"], D["resolution"], n):
            lambda: results.surface(D["model"], D["seed"], D["span"], D["resolution"], n),
        results.multiples_key(D["model"], D["span"], n): lambda: results.multiples(D["model"], D["span"], n),
        results.skips_key(n, D["cmp_seed"]): lambda: results.skips(n, D["cmp_seed"]),
        results.batch_key(n): lambda: results.batch(n),
    }
    for optimizer in OPTIMIZERS:  # the trajectory view's default and the optimizer comparison
        jobs[results.trajectory_key(optimizer, D["traj_seed"], D["traj_resolution"], n)] = (
            lambda o=optimizer: results.trajectory(o, D["traj_seed"], D["traj_resolution"], n))
    return jobs


def train_weights(retrain: bool) -> None:
    compute.WEIGHTS.mkdir(exist_ok=True)
    for name in compute.LESSON_MODELS:
        path = compute.WEIGHTS / f"{name}.pt"
        if path.exists() and not retrain:
            continue
        start = time.perf_counter()
        model = compute.train_lesson_model(name)
        torch.save(model.state_dict(), path)
        print(f"trained {name} in {time.perf_counter() - start:.0f} s ({path.stat().st_size / 1024:.0f} KB)")


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)  # the same numbers on every machine
    train_weights("--retrain" in argv)
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    shipped = {} if only is None else {key: store.shipped(key) for key in store.shipped_keys()}
    for key, job in default_jobs().items():
        if only is not None and not key.startswith(only):
            continue
        start = time.perf_counter()
        shipped[key] = job()
        print(f"{key}: {time.perf_counter() - start:.1f} s")
    store.write(shipped)
    print(f"wrote {store.SHIPPED_FILE} ({store.SHIPPED_FILE.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main(sys.argv[1:])
