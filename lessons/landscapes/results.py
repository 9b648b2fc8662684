"""Each view's computation as one function of plain values -> a dict of numpy arrays, with the key
that names it (store.result_key). precompute.py runs them for the defaults and ships the arrays;
the page draws a shipped result when there is one and calls these functions live otherwise.
"""
from __future__ import annotations

import numpy as np

from lessons.landscapes import compute, grid
from lessons.landscapes.results_keys import (batch_key, interpolation_key, multiples_key, skips_key,  # noqa: F401
                                             slices_key, surface_key, trajectory_key)
from lessons.landscapes.settings import SMALL_SEEDS

SLICE_POINTS = 41
SMALL_MULTIPLE_RESOLUTION = 17
SLICE_2D_RESOLUTION = 17
BATCH_DIRECTIONS = 5
INTERPOLATION_POINTS = 41



def interpolation(samples: int, reach: float) -> dict[str, np.ndarray]:
    """init -> trained digits_mlp, and digits_mlp (seed 0) -> the same recipe from seed 1, for
    alpha in [-reach, 1 + reach]."""
    alphas = np.linspace(-reach, 1 + reach, INTERPOLATION_POINTS if reach else 21).astype(np.float32)
    trained = compute.zoo_net("digits_mlp")
    init_path = compute.interpolation(compute.init_net("digits_mlp"), trained, alphas, samples)
    seed_path = compute.interpolation(trained, compute.slice_net("mlp_seed1"), alphas, samples)
    return {"alpha": alphas, "init_loss": init_path["loss"], "init_acc": init_path["acc"],
            "seed_loss": seed_path["loss"], "seed_acc": seed_path["acc"]}



def slices(model: str, seed: int, span: float, samples: int) -> dict[str, np.ndarray]:
    """1-D and 2-D slices with filter, layer and no normalisation, same seeds."""
    net = compute.slice_net(model)
    out: dict[str, np.ndarray] = {}
    for norm in compute.NORMALIZATIONS:
        one = compute.slice_1d(net, 2 * seed + 1, norm, span, SLICE_POINTS, samples)
        out["alpha"], out[f"loss_{norm}"] = one["alpha"], one["loss"]
        two = compute.slice_2d(net, (2 * seed + 1, 2 * seed + 2), norm, span, SLICE_2D_RESOLUTION, samples)
        out["axis"], out[f"surface_{norm}"] = two.axis, two.loss
    out["centre_loss"] = np.float32(compute.centre_loss(net, samples)[0])
    return out



def surface_stream(model: str, seed: int, span: float, resolution: int, samples: int):
    """The 2-D slice (filter-normalised, directions of `seed`), coarse first: yields SurfaceUpdates."""
    net = compute.slice_net(model)
    x, y = compute.evaluation_digits(samples)
    yield from grid.surface_stream(net, compute.surface_directions(net, seed), span, resolution, x, y)


def surface(model: str, seed: int, span: float, resolution: int, samples: int) -> dict[str, np.ndarray]:
    last = None
    for last in surface_stream(model, seed, span, resolution, samples):
        pass
    return {"axis": last.axis, "loss": last.loss, "acc": last.acc}



def multiples(model: str, span: float, samples: int) -> dict[str, np.ndarray]:
    """The same 2-D slice along the directions of several seeds (how much does one slice vary?)."""
    net = compute.slice_net(model)
    x, y = compute.evaluation_digits(samples)
    out = {}
    for seed in SMALL_SEEDS:
        s = grid.full_surface(net, compute.surface_directions(net, seed), span, SMALL_MULTIPLE_RESOLUTION, x, y)
        out["axis"], out[f"loss_{seed}"] = s.axis, s.loss
    return out



def trajectory(optimizer: str, seed: int, resolution: int, samples: int, on_step=None) -> dict[str, np.ndarray]:
    snapshots = compute.train_trajectory(optimizer, seed, on_step=on_step)
    return compute.trajectory_surface(snapshots, resolution, samples)



def skips(samples: int, seed: int, resolution: int = 33) -> dict[str, np.ndarray]:
    """The residual MLP's 2-D slice with and without skip connections, same directions seed."""
    out = {}
    x, y = compute.evaluation_digits(samples)
    for name in ("resmlp_skips", "resmlp_noskips"):
        net = compute.slice_net(name)
        s = grid.full_surface(net, compute.surface_directions(net, seed), 1.0, resolution, x, y)
        out["axis"], out[f"loss_{name}"] = s.axis, s.loss
        out[f"centre_{name}"] = np.float32(compute.centre_loss(net, samples)[0])
    return out



def batch(samples: int) -> dict[str, np.ndarray]:
    """Small- against large-batch solutions: 1-D filter-normalised slices along several directions."""
    out = {}
    for name in ("mlp_batch32", "mlp_batch4000"):
        net = compute.slice_net(name)
        rows = [compute.slice_1d(net, 100 + k, "filter", 1.0, SLICE_POINTS, samples) for k in range(BATCH_DIRECTIONS)]
        out["alpha"] = rows[0]["alpha"]
        out[f"loss_{name}"] = np.stack([r["loss"] for r in rows])  # (directions, points)
        out[f"acc_{name}"] = np.stack([r["acc"] for r in rows])
    return out
