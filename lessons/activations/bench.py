"""Compute-only figures for the benchmark (the lead's benchmark adds the browser side).

Peer (TorchCam's Streamlit demo, measured in a browser on this machine): 0.48 s median from the compute
button to the result, 21 s for ScoreCAM without progress. Budgets from the issue: Grad-CAM at 224 px
under 0.3 s warm, the 4 x 3 method grid under 3 s, the collection statistics under 3 s.
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


def _once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compute_figures() -> list[dict]:
    import torch
    from pytorch_grad_cam import FullGrad
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from torch.utils.flop_counter import FlopCounterMode

    from data import load_image
    from lessons.activations import compute, inputs, layer_statistics, sanity_checks, torchcam_compare
    from models import zoo

    name = "efficientnet_lite0"
    info = zoo.info(name)
    head = info.target_layers["head conv (1280 ch, 7 px)"]
    grid_layers = [info.target_layers[k] for k in ("stage 5 (112 ch, 14 px)", "stage 7 (320 ch, 7 px)",
                                                   "head conv (1280 ch, 7 px)")]
    x, _ = inputs.photo_input(load_image("cat"))
    rows = []

    def row(label, value, unit="s", budget=None, better="lower"):
        rows.append({"name": label, "value": float(value), "unit": unit, "budget": budget, "better": better})

    with zoo.borrow(name) as model:
        gradcam = _median_seconds(lambda: compute.class_activation_map(model, x, head, "GradCAM", 282))
        row("activations: Grad-CAM 224 px, warm", gradcam, budget=0.3)
        grid = _median_seconds(lambda: compute.method_layer_grid(
            model, x, ["GradCAM", "GradCAM++", "LayerCAM", "EigenCAM"], grid_layers, 282), repeats=3)
        row("activations: 4 x 3 method grid, warm", grid, budget=3.0)
        row("activations: ScoreCAM 224 px, 64 channels", _once(
            lambda: compute.class_activation_map(model, x, head, "ScoreCAM", 282, max_channels=64)), budget=21.0)
        row("activations: AblationCAM 224 px, 64 channels", _once(
            lambda: compute.class_activation_map(model, x, head, "AblationCAM", 282, max_channels=64)), budget=21.0)
        ours = _once(lambda: compute.class_activation_map(model, x, head, "FullGrad", 282))

        def library_fullgrad():
            with FullGrad(model, []) as cam:
                cam(x.clone().requires_grad_(True), [ClassifierOutputTarget(282)])

        row("activations: FullGrad 224 px", ours)
        row("activations: FullGrad speed-up over the library's", _once(library_fullgrad) / ours, unit="ratio",
            better="higher")
        paths = list(info.target_layers.values())
        row("activations: TorchCam SmoothGradCAM++, all 9 layers", _once(
            lambda: torchcam_compare.torchcam_maps(model, x, paths, 282)))

        def forward_backward():
            xi = x.clone().requires_grad_(True)
            model(xi)[0, 282].backward()

        with FlopCounterMode(display=False) as counter:
            forward_backward()
        row("activations: Grad-CAM forward+backward flops", counter.get_total_flops(), unit="flop")
        row("activations: Grad-CAM forward+backward seconds", _median_seconds(forward_backward))

    def statistics_cold():
        batch, _ = inputs.photo_collection()
        with zoo.borrow(name) as model:
            acts = layer_statistics.layer_activations(model, batch, head)
        for statistic in layer_statistics.STATISTICS:
            layer_statistics.channel_statistics(acts, statistic)
        layer_statistics.channel_peak_magnitudes(acts)

    row("activations: collection statistics (7 photos, head), uncached", _once(statistics_cold), budget=3.0)

    def digit_statistics():
        images, _ = inputs.digit_collection(50)
        with zoo.borrow("digits_cnn") as model:
            acts = layer_statistics.layer_activations(model, inputs.digits_input(images), "features.relu1")
        for statistic in layer_statistics.STATISTICS:
            layer_statistics.channel_statistics(acts, statistic)

    row("activations: collection statistics (500 digits), uncached", _once(digit_statistics), budget=3.0)
    with zoo.borrow(name) as model:
        row("activations: cascading randomization, 3 methods x 10 steps", _once(
            lambda: sanity_checks.cascading_randomization(model, x, head, 282, ["GradCAM", "GradCAM++", "EigenCAM"])))
    return rows


if __name__ == "__main__":
    for r in compute_figures():
        print(f"{r['name']:<70} {r['value']:>12.4g} {r['unit']:<5} budget {r['budget']}")

# The control the benchmark changes in the browser (tests/benchmark): the CAM method (GradCAM <-> HiResCAM).
MAIN_CONTROL = {"kind": "select", "label": "Method", "choices": [1, 0]}
