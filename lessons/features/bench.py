"""Benchmark figures for the feature-visualization lesson (compute only; the lead's benchmark adds the browser).

The issue's reference is one bare activation-maximization step at 128 px on EfficientNet-Lite0 (the step of
tests/benchmark/kernels.py: plain pixels, no transform, a full forward pass, channel 0 of stage 5). 128 of
them and the lesson's whole loop (128 steps at 128 px, the full recipe, a preview converted every 0.25 s
as the page draws it) run in alternating rounds (bare, loop, bare, loop, ...; medians), so the loop's
budget (1.2 x 128 bare steps) compares work measured on the same machine at the same moments. Also: the step's FLOPs (FlopCounterMode), the feature
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


def bare_step(model, captured: dict):
    """The issue's reference step on a fresh image: plain pixels, no transform, a full forward pass."""
    import torch

    image = torch.zeros(1, 3, SIZE, SIZE).normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    image.requires_grad_(True)  # (1, 3, S, S): the only thing optimised
    optimizer = torch.optim.Adam([image], lr=0.05)

    def step():
        optimizer.zero_grad(set_to_none=True)
        model(image)
        (-captured["act"][0, 0].mean()).backward()
        optimizer.step()

    return step


def bare_round(model, captured: dict) -> float:
    """Seconds of STEPS bare steps."""
    step = bare_step(model, captured)
    start = time.perf_counter()
    for _ in range(STEPS):
        step()
    return time.perf_counter() - start


def loop_round(model) -> tuple[float, int]:
    """(seconds, previews) of the lesson's loop at its default settings, a preview converted every
    REDRAW_SECONDS as the page draws it."""
    from lessons.features import optimize
    from lessons.features.helpers import REDRAW_SECONDS

    settings = optimize.Settings(layer=LAYER, channel=0, steps=STEPS, size=SIZE)
    start = last = time.perf_counter()
    previews = 0
    for event in optimize.optimize(model, settings):
        if time.perf_counter() - last >= REDRAW_SECONDS or event.step == settings.steps:
            optimize.current_image(event.image)
            previews += 1
            last = time.perf_counter()
    return time.perf_counter() - start, previews


def step_and_loop_figures(rounds: int = 3) -> dict:
    """Bare steps and the lesson's loop in alternating rounds (bare, loop, bare, loop, ...), so that a
    load spike from another process hits both alike; medians of the rounds, and each step's FLOPs."""
    from torch.utils.flop_counter import FlopCounterMode

    from lessons.features import optimize
    from models import zoo

    model, _ = zoo.load("efficientnet_lite0")
    captured: dict = {}
    with zoo.borrow("efficientnet_lite0"):
        with FlopCounterMode(display=False) as loop_counter:
            for _ in optimize.optimize(model, optimize.Settings(layer=LAYER, steps=1, size=SIZE)):
                pass
        model.get_submodule(LAYER).register_forward_hook(lambda m, i, out: captured.update(act=out))
        step = bare_step(model, captured)
        with FlopCounterMode(display=False) as bare_counter:
            step()
        for _ in range(2):  # warm: oneDNN builds its plans
            step()
        bare, loop = [], []
        for _ in range(rounds):
            bare.append(bare_round(model, captured))
            loop.append(loop_round(model))
    loop_seconds = statistics.median(seconds for seconds, _ in loop)
    return {"bare_flops": bare_counter.get_total_flops(), "loop_flops": loop_counter.get_total_flops(),
            "bare_seconds": statistics.median(bare), "loop_seconds": loop_seconds,
            "previews_per_second": statistics.median(previews / seconds for seconds, previews in loop),
            "rounds": rounds}


def compute_figures() -> list[dict]:
    import torch

    from lessons.features import compute
    from lessons.features.helpers import gallery, shipped_image
    from models import zoo
    from models.efficientnet_lite import preprocess_image
    from data import load_image

    timed = step_and_loop_figures()
    rounds = f"median of {timed['rounds']} rounds alternating with the other"
    figures = [
        _row(f"{STEP_NAME} flops", timed["bare_flops"], "flop"),
        _row(f"{STEP_NAME} seconds", timed["bare_seconds"] / STEPS, "s", note=rounds),
        _row(f"lesson loop step ({SIZE} px, full recipe, stops at the layer) flops", timed["loop_flops"], "flop"),
        _row(f"lesson loop step ({SIZE} px, full recipe, stops at the layer) seconds", timed["loop_seconds"] / STEPS,
             "s", note=rounds),
        _row(f"{STEPS} steps at {SIZE} px with previews (budget: 1.2 x {STEPS} bare steps of this run)",
             timed["loop_seconds"], "s", budget=1.2 * timed["bare_seconds"], note=rounds),
        _row("previews per second while optimising", timed["previews_per_second"], "1/s", budget=2.0,
             better="higher", note=rounds),
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
