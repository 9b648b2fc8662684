"""Benchmark figures for the feature-visualization lesson (compute only; the lead's benchmark adds the browser).

The issue's reference is one bare activation-maximization step at 128 px on EfficientNet-Lite0 (the step of
tests/benchmark/kernels.py: plain pixels, no transform, a full forward pass, channel 0 of stage 5), timed
here in the same call as the lesson's whole loop (128 steps at 128 px, the full recipe, a preview
converted every 0.25 s as the page draws it), so the loop's budget (1.2 x 128 bare steps) compares work
measured on the same machine at the same moment. Also: the step's FLOPs (FlopCounterMode), the feature
maps of one stage (budget 0.3 s warm) and the gallery read from the shipped files (no computation).
"""
from __future__ import annotations

import statistics
import time

SIZE, STEPS, LAYER = 128, 128, "_blocks.10"
STEP_NAME = f"activation-maximization step ({SIZE} px, EfficientNet-Lite0)"


def _row(name, value, unit, budget=None, better="lower", note=""):
    return {"name": name, "value": float(value), "unit": unit, "budget": budget, "better": better, "note": note}


def _median(fn, repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_step_figures(repeats: int = 10) -> tuple[float, float]:
    """(FLOPs, seconds) of the issue's reference step."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from models import zoo

    model, _ = zoo.load("efficientnet_lite0")
    image = torch.zeros(1, 3, SIZE, SIZE).normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    image.requires_grad_(True)  # (1, 3, S, S): the only thing optimised
    optimizer = torch.optim.Adam([image], lr=0.05)
    captured = {}
    with zoo.borrow("efficientnet_lite0"):
        model.get_submodule(LAYER).register_forward_hook(lambda m, i, out: captured.update(act=out))

        def step():
            optimizer.zero_grad(set_to_none=True)
            model(image)
            (-captured["act"][0, 0].mean()).backward()
            optimizer.step()

        with FlopCounterMode(display=False) as counter:
            step()
        for _ in range(2):
            step()
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        seconds = (time.perf_counter() - start) / repeats
    return counter.get_total_flops(), seconds


def full_loop_seconds() -> tuple[float, float, float]:
    """(seconds, previews per second, FLOPs per step) of the lesson's loop at its default settings,
    previews included."""
    from torch.utils.flop_counter import FlopCounterMode

    from lessons.features import optimize
    from lessons.features.helpers import REDRAW_SECONDS
    from models import zoo

    model, _ = zoo.load("efficientnet_lite0")
    settings = optimize.Settings(layer=LAYER, channel=0, steps=STEPS, size=SIZE)
    with zoo.borrow("efficientnet_lite0"):
        with FlopCounterMode(display=False) as counter:
            for _ in optimize.optimize(model, optimize.Settings(layer=LAYER, steps=1, size=SIZE)):
                pass
        start = last = time.perf_counter()
        previews = 0
        for event in optimize.optimize(model, settings):
            if time.perf_counter() - last >= REDRAW_SECONDS or event.step == settings.steps:
                optimize.current_image(event.image)
                previews += 1
                last = time.perf_counter()
        seconds = time.perf_counter() - start
    return seconds, previews / seconds, counter.get_total_flops()


def compute_figures() -> list[dict]:
    import torch

    from lessons.features import compute
    from lessons.features.helpers import gallery, shipped_image
    from models import zoo
    from models.efficientnet_lite import preprocess_image
    from data import load_image

    flops, step_seconds = bare_step_figures()
    loop_seconds, previews_per_second, loop_flops = full_loop_seconds()
    figures = [
        _row(f"{STEP_NAME} flops", flops, "flop"),
        _row(f"{STEP_NAME} seconds", step_seconds, "s"),
        _row(f"lesson loop step ({SIZE} px, full recipe, stops at the layer) flops", loop_flops, "flop"),
        _row(f"lesson loop step ({SIZE} px, full recipe, stops at the layer) seconds", loop_seconds / STEPS, "s"),
        _row(f"{STEPS} steps at {SIZE} px with previews (budget: 1.2 x {STEPS} bare steps of this run)", loop_seconds,
             "s", budget=1.2 * STEPS * step_seconds),
        _row("previews per second while optimising", previews_per_second, "1/s", budget=2.0, better="higher"),
    ]
    model, _ = zoo.load("efficientnet_lite0")
    x = preprocess_image(load_image("cat"))  # (1, 3, 224, 224)
    with zoo.borrow("efficientnet_lite0"):
        maps_seconds = _median(lambda: compute.top_channels(compute.layer_activations(model, x, ["_blocks.4"])["_blocks.4"], 8))
    figures.append(_row("feature maps of one stage (224 px), warm", maps_seconds, "s", budget=0.3))
    start = time.perf_counter()
    gallery.cache_clear()
    shipped_image.cache_clear()
    for entry in gallery()["gallery"]:
        shipped_image(entry["file"])
    figures.append(_row("gallery shown from the shipped files (no computation)", time.perf_counter() - start, "s"))
    del torch
    return figures


MAIN_CONTROL = {"kind": "select", "label": "Enlarge a picture", "choices": [1, 0]}  # on the default view
