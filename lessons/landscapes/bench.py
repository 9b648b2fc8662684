"""Benchmark figures for the loss-landscape lesson (compute only; the lead's benchmark adds the browser).

Rows: the time to the first coarse picture after a change and to the complete default grid (digits
MLP, 33 x 33 points, 500 digits); the MLP and CNN grids as "<kernel> flops" + "<kernel> seconds"
pairs (the benchmark turns each pair into achieved FLOP/s as a share of the matmul rate measured in
the same run), each beside the straightforward per-point state-dict loop on the same grid and data,
and the speed-up over that loop. The methods run interleaved, three times each; the rows are medians.
"""
from __future__ import annotations

import time


def _row(name, value, unit, budget=None, better="lower"):
    return {"name": name, "value": float(value), "unit": unit, "budget": budget, "better": better}


def _grid_pair(model_name: str, resolution: int, samples: int = 500, repeats: int = 3) -> list[dict]:
    import numpy as np
    from torch.utils.flop_counter import FlopCounterMode

    from lessons.landscapes import compute, grid
    from models import zoo

    net = compute.zoo_net(model_name)
    x, y = compute.evaluation_digits(samples)
    directions = compute.surface_directions(net, 0)  # (2, D)
    axis = np.linspace(-1, 1, resolution, dtype=np.float32)
    coeffs = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)  # (P, 2)
    model, _ = zoo.load(model_name)  # read only: the loop works on a private copy
    dict_dirs = [net.unflatten(d) for d in directions]

    def lesson_path():
        grid.evaluate_points(net, directions, coeffs, x, y)

    def every_layer():
        grid.evaluate_points(net, directions, coeffs, x, y, reuse_first_layer=False)

    def loop():
        grid.evaluate_points_state_dict_loop(model, net.names, dict_dirs, coeffs, x, y)

    kernels = [("batched grid", lesson_path)]
    if net.kind in grid.FIRST_LAYER:  # MLPs: the lesson's path skips the first layer's matmul at every point
        kernels = [("batched grid, first layer from a per-plane basis (the lesson's path)", lesson_path),
                   ("batched grid, every layer at every point", every_layer)]
    steps = kernels + [("per-point state-dict loop", loop)]
    flops = {}
    for label, step in steps:  # also the warm-up
        with FlopCounterMode(display=False) as counter:
            step()
        flops[label] = counter.get_total_flops()
    times = {label: [] for label, _ in steps}
    for _ in range(repeats):  # interleaved, so that a load spike from elsewhere hits every method alike
        for label, step in steps:
            start = time.perf_counter()
            step()
            times[label].append(time.perf_counter() - start)
    seconds = {label: float(np.median(t)) for label, t in times.items()}
    rows = []
    for label, _ in steps:
        name = f"loss-surface {label} ({resolution}x{resolution} points, {model_name}, {samples} digits)"
        rows += [_row(f"{name} flops", flops[label], "flop"), _row(f"{name} seconds", seconds[label], "s")]
    loop_seconds = seconds["per-point state-dict loop"]
    rows.append(_row(f"loss-surface speed-up over the state-dict loop ({model_name})", loop_seconds / seconds[kernels[0][0]],
                     "ratio", 3.0, "higher"))
    if len(kernels) > 1:
        rows.append(_row(f"loss-surface speed-up over the state-dict loop, every layer at every point ({model_name})",
                         loop_seconds / seconds[kernels[1][0]], "ratio", None, "higher"))
    return rows


def compute_figures() -> list[dict]:
    from lessons.landscapes import results
    from lessons.landscapes.settings import DEFAULTS as D

    results.compute.evaluation_digits(D["samples"])  # loaded once per process by the page too
    results.compute.zoo_net(D["model"])
    start = time.perf_counter()
    first = None
    for update in results.surface_stream(D["model"], D["seed"] + 1, D["span"], D["resolution"], D["samples"]):
        if first is None:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    rows = [_row("first coarse surface after a change (9x9 of 33x33, digits MLP, 500 digits)", first, "s", 1.0),
            _row("default surface complete (33x33, digits MLP, 500 digits)", total, "s", 5.0)]
    return rows + _grid_pair("digits_mlp", 33) + _grid_pair("digits_cnn", 9)


if __name__ == "__main__":
    for row in compute_figures():
        print(row)

# The control the benchmark changes in the browser (tests/benchmark): new directions recompute the default surface.
MAIN_CONTROL = {"kind": "select", "label": "Direction seed", "choices": [1, 0]}
