"""Benchmark figures for the gradient lesson (compute only; the lead's benchmark adds the browser).

Rows: time from pressing Train to the first recorded step (model built, first step with every
statistic); 100 steps of a 20-layer MLP with every per-layer statistic (the budget is for the
streamed run, the redraws happen in another thread); a view change on a finished 30-layer x
500-step run (each view's frame, its Vega-Lite spec as JSON and its data as Arrow, the slowest
view counted); and the training step of the 20-layer MLP with and without the probe, as
"<kernel> seconds" / "<kernel> flops" pairs that tests/benchmark rates against the matmul peak,
so the statistics' cost is visible.
"""
from __future__ import annotations

import time


def _row(name, value, unit, budget=None, better="lower", note=""):
    return {"name": name, "value": float(value), "unit": unit, "budget": budget, "better": better, "note": note}


def step_figures(depth: int = 20, repeats: int = 30) -> list[dict]:
    """One SGD step of the depth-20 MLP on a batch of 64, bare and with the LayerProbe's statistics."""
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    from lessons.gradients import compute
    from lessons.gradients.probe import LayerProbe

    spec = compute.RunSpec(depth=depth)
    data = compute.load_data()
    x, y = data.x[:compute.BATCH_SIZE], data.y[:compute.BATCH_SIZE]  # (64, 1, 28, 28), (64,)

    def timed(with_probe: bool) -> tuple[float, float]:
        model = compute.build_model(spec)
        optimizer = torch.optim.SGD(model.parameters(), lr=spec.lr)
        probe = LayerProbe(model, spec.activation)
        if with_probe:
            probe.on_train_begin()
        step_number = [0]

        class Event:  # what the probe reads from the engine's StepEvent
            step, loss = 0, 0.0

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)  # logits (64, 10)
            loss.backward()
            if with_probe:
                step_number[0] += 1
                probe.on_after_backward(step_number[0])
            optimizer.step()
            if with_probe:
                probe.on_step(Event)

        with FlopCounterMode(display=False) as counter:
            step()
        for _ in range(3):
            step()
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        probe.on_train_end()
        return (time.perf_counter() - start) / repeats, counter.get_total_flops()

    bare_seconds, flops = timed(False)
    probed_seconds, _ = timed(True)  # the probe's reductions are not matmuls: same useful FLOPs
    name = f"mlp {depth} layers training step"
    return [_row(f"{name} flops", flops, "flop"), _row(f"{name} seconds", bare_seconds, "s"),
            _row(f"{name} with statistics flops", flops, "flop"),
            _row(f"{name} with statistics seconds", probed_seconds, "s",
                 note=f"{probed_seconds / bare_seconds:.1f}x the bare step")]


def view_change_seconds(run) -> float:
    """The slowest view redraw: frames, spec JSON and Arrow bytes, as st.vega_lite_chart sends them."""
    import json

    from streamlit import dataframe_util

    from lessons.gradients import charts, diagnosis, readings

    labels = readings.layer_labels(run)
    last = len(run.steps) - 1
    builders = [
        lambda: charts.norms_spec(readings.series_frame(run, "grad_norm"), labels, "grad_norm"),
        lambda: charts.flow_spec(readings.flow_frame(run, last)),
        lambda: charts.heatmap_spec(*readings.heatmap_frame(run, "largest value")),
        lambda: charts.distribution_spec(readings.distribution_frame(run, labels), labels),
        lambda: charts.update_ratio_spec(readings.series_frame(run, "update_ratio", 1e-10), labels),
        lambda: charts.activation_spec(readings.activation_frame(run, last)),
        lambda: (diagnosis.diagnose(run, last), charts.depth_profile_spec(readings.flow_frame(run, last),
                                                                          {"norm": diagnosis.EXPLODING_NORM}))[1],
    ]
    slowest = 0.0
    for build in builders:
        start = time.perf_counter()
        spec, data = build()
        json.dumps(spec)
        dataframe_util.convert_anything_to_arrow_bytes(data)
        slowest = max(slowest, time.perf_counter() - start)
    return slowest


def compute_figures() -> list[dict]:
    from lessons.gradients import compute

    compute.warm_up()  # the server's background warm-up (lessons/warmup.py) does this once per process
    data = compute.load_data()

    run = compute.new_run(compute.RunSpec(depth=20))
    start = time.perf_counter()
    first = None
    for _ in compute.train_run(run, data):
        if first is None and run.stats:
            first = time.perf_counter() - start
    hundred = time.perf_counter() - start

    big = compute.train_to_end(compute.RunSpec(depth=30, steps=500), data)
    return [
        _row("first point after Train (20-layer MLP, every statistic)", first, "s", 1.0),
        _row("100 steps of a 20-layer MLP with every per-layer statistic", hundred, "s", 5.0),
        _row("view change on a finished 30-layer x 500-step run (slowest view)", view_change_seconds(big), "s", 0.3),
    ] + step_figures()


if __name__ == "__main__":
    for row in compute_figures():
        print(row)

# The control the benchmark changes in the browser (tests/benchmark): the activation, sigmoid then ReLU. Each
# choice has a shipped run at the default settings (compute.ACTIVATION_VARIANTS), so every change redraws the
# Norms chart with other numbers (sigmoid's first layer ~1e-5 of ReLU's) without training. The box is the first
# control of the left column, inside the first screen of a 1400 x 1000 window: opening a select box that has
# to be scrolled into view first can fail, because its list closes on any scroll of the page (react-aria).
MAIN_CONTROL = {"kind": "select", "label": "Activation", "choices": [0, 2]}
