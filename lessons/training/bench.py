"""Benchmark figures for the training lesson (compute only; the lead's benchmark adds the browser).

Rows: time from pressing Train to the first point (model built, step-0 validation, first step),
the longest pause between two engine events of the default run (the page can redraw at least
twice a second only if it stays under 0.5 s), the default run's duration and accuracy, the cost of
one chart update (the curve frame, both panels' Vega-Lite specs as JSON and data as Arrow), and the CNN
training step (FLOPs by FlopCounterMode, measured time).
"""
from __future__ import annotations

import time


def _row(name, value, unit, budget=None, better="lower"):
    return {"name": name, "value": float(value), "unit": unit, "budget": budget, "better": better}


def training_step_figures(batch_size: int = 32, repeats: int = 20) -> list[dict]:
    """One optimizer step of the default CNN (forward, backward, Adam) on a batch of digits."""
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    from lessons.training import compute

    spec = compute.RunSpec(batch_size=batch_size)
    data = compute.load_data(spec.dataset, spec.train_size, spec.seed)
    model = compute.build_model(spec).to(memory_format=torch.channels_last)  # as the engine runs it
    x = data.x_train[:batch_size].contiguous(memory_format=torch.channels_last)  # (B, 1, 28, 28)
    y = data.y_train[:batch_size]  # (B,)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)  # logits (B, 10)
        loss.backward()
        optimizer.step()

    with FlopCounterMode(display=False) as counter:
        step()
    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    seconds = (time.perf_counter() - start) / repeats
    return [_row("cnn training step flops", counter.get_total_flops(), "flop", None, "lower"),
            _row("cnn training step seconds", seconds, "s", None, "lower")]


def compute_figures() -> list[dict]:
    import json

    from streamlit import dataframe_util

    from lessons.training import charts, compute, curves

    compute.warm_up()  # the server's background warm-up (lessons/warmup.py) does this once per process
    spec = compute.RunSpec()
    data = compute.load_data(spec.dataset, spec.train_size, spec.seed)  # cached by the page
    run = compute.new_run(spec)
    start = time.perf_counter()
    first_point, last = None, None
    longest_gap = 0.0
    for _ in compute.train_run(run, data):
        now = time.perf_counter()
        if first_point is None:
            first_point = now - start
        else:
            longest_gap = max(longest_gap, now - last)
        last = now
    total = time.perf_counter() - start

    start = time.perf_counter()
    frame = curves.curve_frame(run, "step", 0.6)
    marks = curves.annotations(run, "step", 3)
    for metric in ("loss", "accuracy"):
        spec, data = charts.curves_spec(frame, marks, metric)
        json.dumps(spec)  # serialized as st.vega_lite_chart does: the spec as JSON, the data as Arrow
        dataframe_util.convert_anything_to_arrow_bytes(data)
    redraw = time.perf_counter() - start

    rows = [
        _row("first point after Train", first_point, "s", 1.0),
        _row("longest pause between training events", longest_gap, "s", 0.5),
        _row("default run (Adam CNN, MNIST 5k, 5 epochs)", total, "s", 15.0),
        _row("default run validation accuracy", run.epochs[-1]["val_acc"], "ratio", 0.95, "higher"),
        _row("chart update (frame + two Vega-Lite specs, 625 steps)", redraw, "s", 0.1),
    ]
    return rows + training_step_figures()


if __name__ == "__main__":
    for row in compute_figures():
        print(row)

# The control the benchmark changes in the browser (tests/benchmark): the smoothing slider redraws the curves.
MAIN_CONTROL = {"kind": "slider", "label": "Smoothing"}
