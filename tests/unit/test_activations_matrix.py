"""Every CAM method with every smoothing option on both bundled models, and one path, one answer: the
method grid shows the same map as the single Heatmap view.

The Heatmap view once crashed with `NotImplementedError: get_cam_weights must be implemented by subclass`
when eigen smoothing met a method that has no channel weights (HiResCAM, LayerCAM). ScoreCAM and
AblationCAM score 32 channels here, the smallest choice the page offers, and on EfficientNet they (and
the grid test, which runs them too) take the photo at 96 px instead of 224: one masked forward pass per
channel and per augmentation is what makes them slow.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from data import load_image
from lessons.activations import compute, inputs
from lessons.activations.controls import CHANNEL_CHOICES
from lessons.activations.map_tools import pearson_correlation, resize_map
from models import zoo

SMOOTHING = {"none": (False, False), "aug": (True, False), "eigen": (False, True), "both": (True, True)}
FEW_CHANNELS = int(CHANNEL_CHOICES[0])  # 32


SMALL_PHOTO = 96


@pytest.fixture(scope="module")
def cases():
    photo, _ = inputs.photo_input(load_image("cat"))  # (1, 3, 224, 224), the page's default input
    small = torch.nn.functional.interpolate(photo, size=SMALL_PHOTO, mode="bilinear", antialias=True)  # (1, 3, 96, 96)
    images, labels = inputs.heldout_digits()
    digit, _ = inputs.digit_input(images[0])  # (1, 1, 28, 28)
    return {"efficientnet_lite0": (photo, 285), "efficientnet_lite0 small": (small, 285),  # 285: Egyptian cat
            "digits_cnn": (digit, int(labels[0]))}


@pytest.mark.parametrize("smoothing", list(SMOOTHING))
@pytest.mark.parametrize("method", list(compute.METHODS))
@pytest.mark.parametrize("model_name", ["efficientnet_lite0", "digits_cnn"])
def test_every_method_with_every_smoothing_option(cases, model_name, method, smoothing):
    slow = compute.METHODS[method].slow
    x, class_index = cases[f"{model_name} small" if slow and model_name == "efficientnet_lite0" else model_name]
    aug, eigen = SMOOTHING[smoothing]
    last = list(zoo.info(model_name).target_layers.values())[-1]  # the page's default layer
    with zoo.borrow(model_name) as model:
        heat = compute.class_activation_map(model, x, last, method, class_index, aug_smooth=aug, eigen_smooth=eigen,
                                            max_channels=FEW_CHANNELS)
        assert zoo.count_hooks(model) == 0
    assert heat.shape == tuple(x.shape[-2:]) and heat.dtype == np.float32
    assert np.isfinite(heat).all() and heat.min() >= 0 and heat.max() <= 1 + 1e-6
    assert heat.max() > (0 if aug else 0.99)  # a map, not zeros; rescaled to [0, 1] unless averaged over augmentations


@pytest.mark.parametrize("method", ["GradCAM", "HiResCAM", "LayerCAM"])
def test_eigen_smoothing_is_the_principal_component_of_what_the_method_sums(cases, method):
    """Eigen smoothing projects the method's own per-position contributions on their first principal
    component: for HiResCAM gradient x activation, for LayerCAM relu(gradient) x activation."""
    x, class_index = cases["digits_cnn"]
    layer = "features.relu2"
    with zoo.borrow("digits_cnn") as model:
        acts, grads = {}, {}
        module = model.get_submodule(layer)
        handle = module.register_forward_hook(lambda m, i, o: acts.setdefault("a", o))
        xi = x.clone().requires_grad_(True)
        out = model(xi)
        handle.remove()
        grads["g"] = torch.autograd.grad(out[0, class_index], acts["a"])[0]
        heat = compute.class_activation_map(model, x, layer, method, class_index, eigen_smooth=True)
    a, g = acts["a"].detach().numpy(), grads["g"].numpy()  # (1, C, h, w)
    summed = {"GradCAM": g.mean(axis=(2, 3), keepdims=True) * a, "HiResCAM": g * a,
              "LayerCAM": np.maximum(g, 0) * a}[method]  # (1, C, h, w)
    projection = np.maximum(compute.thin_svd_projection(summed)[0], 0)  # (h, w)
    assert pearson_correlation(resize_map(projection, heat.shape), heat) > 0.99


@pytest.mark.parametrize("model_name", ["efficientnet_lite0", "digits_cnn"])
def test_method_grid_shows_the_single_view_map_for_every_method(cases, model_name):
    """One path, one answer: a grid cell equals the Heatmap view's map for that method and layer
    (Grad-CAM++ once differed by up to 0.016: the grid's per-layer path skipped the final rescale)."""
    x, class_index = cases[f"{model_name} small" if model_name == "efficientnet_lite0" else model_name]
    layers = list(zoo.info(model_name).target_layers.values())[-3:]  # the grid's default columns
    methods = list(compute.METHODS)
    with zoo.borrow(model_name) as model:
        grid = compute.method_layer_grid(model, x, methods, layers, class_index, max_channels=FEW_CHANNELS)
        for i, method in enumerate(methods):
            for j, layer in enumerate(layers):
                single = compute.class_activation_map(model, x, layer, method, class_index, max_channels=FEW_CHANNELS)
                np.testing.assert_allclose(grid[i, j], single, atol=1e-6, err_msg=f"{method} at {layer}")
