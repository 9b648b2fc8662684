"""Compute kernels that issue #3 asks the benchmark to rate before their lessons exist.

The efficiency table covers a training step (lessons/training/bench.py), the loss-surface grid and an
activation-maximization step. The last two belong to the loss-landscape and feature-visualization
lessons; until those lessons bring their own `bench.py`, these reference versions, built on the
course's bundled models, measure what the machine achieves on the same work. A kernel is skipped
as soon as its lesson has a bench.py of its own.

Figures follow the lessons' convention: "<kernel> flops" (FlopCounterMode) and "<kernel> seconds";
the benchmark turns each pair into achieved GFLOP/s as a share of the fp32 matrix-multiply rate.
"""
from __future__ import annotations

import time

KERNEL_LESSONS = {"landscapes": "loss_surface_figures", "features": "activation_maximization_figures"}


def _row(name, value, unit):
    return {"name": name, "value": float(value), "unit": unit, "budget": None, "better": "lower"}


def _timed(step, repeats: int) -> float:
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats


def loss_surface_figures(points: int = 5, digits: int = 500) -> list[dict]:
    """Loss of the trained digits CNN on a points x points grid of weights θ + a·d1 + b·d2."""
    import torch
    import torch.nn.functional as F
    from torch.func import functional_call
    from torch.utils.flop_counter import FlopCounterMode

    import data
    from lessons.landscapes.compute import filter_normalized_direction  # the lesson's, with Li et al.'s defaults
    from models import zoo
    from models.digits import to_tensor

    model, _ = zoo.load("digits_cnn")  # shared: read only, weights passed explicitly below
    images, labels = data.load_mnist5k()
    _, heldout = data.mnist5k_split(0)
    x = to_tensor(images[heldout[:digits]]).contiguous(memory_format=torch.channels_last)  # (N, 1, 28, 28)
    y = torch.as_tensor(labels[heldout[:digits]])  # (N,)
    theta = {name: p.detach() for name, p in model.named_parameters()}
    d1, d2 = filter_normalized_direction(theta, 1), filter_normalized_direction(theta, 2)
    steps = torch.linspace(-1.0, 1.0, points)

    def grid():
        losses = torch.empty(points, points)  # (A, B)
        with torch.no_grad():
            for i, a in enumerate(steps):
                for j, b in enumerate(steps):
                    weights = {n: theta[n] + a * d1[n] + b * d2[n] for n in theta}
                    losses[i, j] = F.cross_entropy(functional_call(model, weights, (x,)), y)
        return losses

    with FlopCounterMode(display=False) as counter:
        grid()
    name = f"loss-surface grid ({points}x{points} points, digits CNN, {digits} digits)"
    return [_row(f"{name} flops", counter.get_total_flops(), "flop"),
            _row(f"{name} seconds", _timed(grid, 3), "s")]


def activation_maximization_figures(size: int = 128, layer: str = "_blocks.10") -> list[dict]:
    """One gradient-ascent step on the input image that maximises a channel's mean activation
    (Erhan et al., "Visualizing Higher-Layer Features of a Deep Network", 2009), EfficientNet-Lite0."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from models import zoo

    model, _ = zoo.load("efficientnet_lite0")
    image = torch.zeros(1, 3, size, size).normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    image.requires_grad_(True)  # (1, 3, S, S): the only thing that is optimised
    optimizer = torch.optim.Adam([image], lr=0.05)
    captured = {}
    with zoo.borrow("efficientnet_lite0"):  # the hook is removed and the model restored afterwards
        model.get_submodule(layer).register_forward_hook(lambda m, i, out: captured.update(act=out))

        def step():
            optimizer.zero_grad(set_to_none=True)
            model(image)
            objective = -captured["act"][0, 0].mean()  # channel 0 of the layer's (1, C, h, w) output
            objective.backward()
            optimizer.step()

        with FlopCounterMode(display=False) as counter:
            step()
        seconds = _timed(step, 10)
    name = f"activation-maximization step ({size} px, EfficientNet-Lite0)"
    return [_row(f"{name} flops", counter.get_total_flops(), "flop"), _row(f"{name} seconds", seconds, "s")]


def compute_figures(lessons_with_bench: set[str]) -> list[dict]:
    figures = []
    for lesson, function in KERNEL_LESSONS.items():
        if lesson not in lessons_with_bench:
            figures += globals()[function]()
    return figures
