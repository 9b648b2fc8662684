"""Activation heatmaps: which parts of an input drive a prediction, and can the map be trusted?

Class activation maps (CAMs) weight the feature maps of one layer and sum them into a heatmap.
The methods come from pytorch-grad-cam (Gildenblat et al., github.com/jacobgil/pytorch-grad-cam)
and TorchCam (Fernandez, github.com/frgfm/torch-cam); each method's paper is in `METHODS`.
This module computes single maps, method x layer grids and the top predictions. Beside it, by topic:
`inputs` (uploads, photos, digits), `map_tools` (overlays, masks, correlations), `torchcam_compare`
(TorchCam's maps beside ours), `layer_statistics` (per-channel activation statistics over a
collection), `geometry` (a layer's grid, stride and receptive field), `shortcut_markers` (the marker
test for a "shortcut" model) and `sanity_checks` (the cascading-randomization sanity check, Adebayo
et al. 2018, and perturbation faithfulness scores).

Every method runs through one path per option: the single Heatmap view and the method grid get the
same map (the grid's one-pass "per-layer" classes end with the library's own rescale), and eigen
smoothing works for every method (HiResCAM and LayerCAM have no channel weights: they project their
own gradient x activation).

No Streamlit here: tensors and arrays in, arrays and DataFrames out. The caller holds the model
(for a shared zoo model: inside `zoo.borrow(name)`); functions that change weights work on a copy.
pytorch_grad_cam and torchcam take seconds to import, so they are imported inside functions.
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from lessons.activations.layer_statistics import layer_activations
from lessons.activations.methods import FAST_METHODS, METHODS, Method  # noqa: F401  (re-exported)

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is running)


# --------------------------------------------------------------------------- the methods


# the method records (name, paper, whether slow) live in methods.py, which needs no torch: the page's
# controls list them before torch is imported


def thin_svd_projection(activations: np.ndarray) -> np.ndarray:
    """Project each position's channel vector on the first principal component (Eigen-CAM).

    activations (B, C, H, W) -> (B, H, W). Same result as pytorch-grad-cam's `get_2d_projection`,
    but with the economy SVD: the full one builds an (H*W) x (H*W) matrix (1.2 GB at 112 px).
    """
    activations = np.nan_to_num(activations)
    projections = []
    for single in activations:  # (C, H, W)
        rows = single.reshape(single.shape[0], -1).T  # (H*W, C)
        rows = rows - rows.mean(axis=0)
        _, _, vt = np.linalg.svd(rows, full_matrices=False)  # vt: (min(H*W, C), C)
        projections.append((rows @ vt[0]).reshape(single.shape[1:]))  # (H, W)
    return np.float32(projections)  # (B, H, W)


@functools.cache
def _cam_classes() -> dict[str, type]:
    """pytorch-grad-cam classes by method name, with our fixes (imported on first use)."""
    import pytorch_grad_cam as pgc
    from pytorch_grad_cam.utils.image import scale_cam_image

    class ThinSVD:
        """`eigen_smooth` through `thin_svd_projection` instead of the library's full SVD, for every
        method: the first principal component of the method's own weighted activations."""

        def weighted_activations(self, input_tensor, target_layer, targets, activations, grads) -> np.ndarray:
            """What the method sums over channels: channel weights x activations (B, C, h, w)."""
            weights = self.get_cam_weights(input_tensor, target_layer, targets, activations, grads)  # (B, C)
            return weights[:, :, None, None] * activations  # (B, C, h, w)

        def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth=False):
            if not eigen_smooth:
                return super().get_cam_image(input_tensor, target_layer, targets, activations, grads, False)
            return thin_svd_projection(
                self.weighted_activations(input_tensor, target_layer, targets, activations, grads))  # (B, H, W)

    class HiResCAM(ThinSVD, pgc.HiResCAM):
        """No channel weights: gradient x activation position by position."""

        def weighted_activations(self, input_tensor, target_layer, targets, activations, grads):
            return grads * activations  # (B, C, h, w)

    class LayerCAM(ThinSVD, pgc.LayerCAM):
        """No channel weights: positive gradient x activation position by position."""

        def weighted_activations(self, input_tensor, target_layer, targets, activations, grads):
            return np.maximum(grads, 0) * activations  # (B, C, h, w)

    class EigenCAM(pgc.EigenCAM):
        """Already a principal component: eigen smoothing changes nothing."""

        def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth=False):
            return thin_svd_projection(activations)  # (B, H, W)

    class EigenGradCAM(pgc.EigenGradCAM):
        def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth=False):
            return thin_svd_projection(grads * activations)  # (B, H, W)

    class AblationLayer(pgc.AblationLayer):
        def objectiveness_mask_from_svd(self, activations, threshold=0.01):
            projection = np.abs(thin_svd_projection(activations[None])[0])  # (H, W)
            projection = projection - projection.min()
            return projection / (projection.max() + 1e-12) > threshold

    class FullGrad(pgc.FullGrad):
        """The library's FullGrad, summing each layer's normalised channels before resizing them
        (resizing is linear, so the map is the same) instead of resizing thousands of channels; with
        eigen smoothing, the library's steps on those per-layer maps, through the thin SVD."""

        def compute_cam_per_layer(self, input_tensor, targets, eigen_smooth):
            import cv2
            from pytorch_grad_cam.utils.image import scale_accross_batch_and_channels

            size = self.get_target_width_height(input_tensor)  # (W, H)
            input_part = np.abs(input_tensor.grad.numpy() * input_tensor.detach().numpy())  # (B, 3, H, W)
            parts = [input_part]
            for bias, grads in zip(self.bias_data, self.activations_and_grads.gradients):
                parts.append(np.abs(bias[None, :, None, None] * grads.numpy()))  # (B, C, h, w)
            maps = []  # like the library's: each input channel, then each bias layer summed over its channels
            for i, part in enumerate(parts):
                low = part.min(axis=(2, 3), keepdims=True)
                scaled = (part - low) / (1e-7 + (part - low).max(axis=(2, 3), keepdims=True))  # (B, C, h, w)
                for m in (scaled.transpose(1, 0, 2, 3) if i == 0 else scaled.sum(axis=1)[None]):  # (B, h, w) each
                    maps.append(np.stack([cv2.resize(np.float32(b), size) for b in m]))  # (B, H, W)
            stacked = np.stack(maps, axis=1)  # (B, 3 + L, H, W)
            if not eigen_smooth:
                return stacked.sum(axis=1)[:, None]  # (B, 1, H, W)
            small = scale_accross_batch_and_channels(stacked, (size[0] // 8, size[1] // 8))  # (B, 3 + L, H/8, W/8)
            projected = thin_svd_projection(small)[:, None]  # (B, 1, H/8, W/8)
            return scale_accross_batch_and_channels(projected, size)  # (B, 1, H, W)

    class PerLayer:
        """Keep one map per target layer (B, L, H, W) instead of their mean: a whole grid row from
        one forward and one backward pass. Each layer's map gets the library's final step for one
        layer (clip at 0, rescale to [0, 1] after the resize), so it equals the single-layer map."""

        def aggregate_multi_layers(self, cam_per_target_layer):
            return np.stack([scale_cam_image(np.maximum(cam[:, 0], 0)) for cam in cam_per_target_layer],
                            axis=1)  # (B, L, H, W)

    def thin(base):
        return type(base.__name__, (ThinSVD, base), {})

    def per_layer(base):
        return type(f"PerLayer{base.__name__}", (PerLayer, base), {})

    single = {
        "GradCAM": thin(pgc.GradCAM), "HiResCAM": HiResCAM, "GradCAM++": thin(pgc.GradCAMPlusPlus),
        "XGradCAM": thin(pgc.XGradCAM), "LayerCAM": LayerCAM, "EigenCAM": EigenCAM,
        "EigenGradCAM": EigenGradCAM, "ScoreCAM": thin(_top_channel_score_cam(pgc.ScoreCAM)),
        "AblationCAM": thin(pgc.AblationCAM), "FullGrad": FullGrad, "Random": thin(pgc.RandomCAM),
    }
    return {
        **single, "AblationLayer": AblationLayer,
        **{f"per-layer {name}": per_layer(single[name]) for name in PER_LAYER_METHODS},
    }


# methods whose maps for several layers come from one forward and one backward pass
PER_LAYER_METHODS = ("GradCAM", "HiResCAM", "GradCAM++", "XGradCAM", "LayerCAM", "EigenCAM", "EigenGradCAM",
                     "Random")


def scored_channels(method: str, channels: int, max_channels: int | None) -> int:
    """How many of a layer's `channels` ScoreCAM or AblationCAM score for `max_channels` (None: all).
    The others get weight 0. The page's sentence and `class_activation_maps` both use this number.

    ScoreCAM scores the `max_channels` channels with the largest mean activation. AblationCAM
    (pytorch-grad-cam's `ratio_channels_to_ablate`) ablates max_channels / 2 channels from each end of
    its ranking by overlap with the EigenCAM mask: the most and the least object-like."""
    if method not in ("ScoreCAM", "AblationCAM"):
        raise ValueError(f"{method} scores no subset of channels")
    if not max_channels or max_channels >= channels:
        return channels
    if method == "ScoreCAM":
        return int(max_channels)
    ratio = _ablation_ratio(channels, max_channels)
    return channels if ratio >= 1.0 else min(channels, 2 * int(channels * ratio))


def _ablation_ratio(channels: int, max_channels: int | None) -> float:
    return 1.0 if not max_channels else min(1.0, max_channels / (2 * channels))  # it ablates 2 x ratio x C


def _top_channel_score_cam(score_cam: type) -> type:
    class TopChannelScoreCAM(score_cam):
        """Score-CAM (Wang et al. 2020, arXiv:1910.01279) on the `max_channels` channels with the
        largest mean activation; the other channels get weight 0. Each scored channel costs one
        forward pass of the masked image, so 64 of 1,280 channels is 20x faster. Reports progress."""

        def __init__(self, model, target_layers, max_channels=None, batch_size=16, progress=None):
            super().__init__(model, target_layers)
            self.max_channels, self.batch_size, self.progress = max_channels, batch_size, progress

        def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):
            acts = torch.from_numpy(activations)  # (B, C, h, w)
            batch, channels = acts.shape[:2]
            k = scored_channels("ScoreCAM", channels, self.max_channels)
            weights = np.zeros((batch, channels), dtype=np.float32)
            with torch.no_grad():
                for b in range(batch):
                    chosen = acts[b].flatten(1).mean(1).topk(k).indices  # (k,)
                    masks = F.interpolate(acts[b, chosen][None], size=input_tensor.shape[-2:], mode="bilinear",
                                          align_corners=False)[0]  # (k, H, W)
                    low = masks.flatten(1).min(1).values[:, None, None]
                    high = masks.flatten(1).max(1).values[:, None, None]
                    masks = (masks - low) / (high - low + 1e-8)  # (k, H, W) in [0, 1]
                    scores = []
                    for start in range(0, k, self.batch_size):
                        masked = input_tensor[b][None] * masks[start:start + self.batch_size, None]  # (n, C_in, H, W)
                        scores.append(targets[b](self.model(masked)).float())  # (n,)
                        if self.progress:
                            self.progress(min(1.0, (start + self.batch_size) / k), f"ScoreCAM: {k} channels")
                    weights[b, chosen.numpy()] = torch.cat(scores).softmax(0).numpy()
            return weights

    return TopChannelScoreCAM


class _CountingModel(nn.Module):
    """Wraps a model to report progress: counts the images it has been asked to classify."""

    def __init__(self, inner: nn.Module, expected_images: int, progress: Progress, label: str):
        super().__init__()
        self.inner, self.expected, self.progress, self.label = inner, max(1, expected_images), progress, label
        self.seen = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.inner(x)  # (n, classes)
        self.seen += x.shape[0]
        self.progress(min(1.0, self.seen / self.expected), self.label)
        return out


def _targets(class_index: int):
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    return [ClassifierOutputTarget(int(class_index))]


def _channels(model: nn.Module, x: torch.Tensor, layer_path: str) -> int:
    with torch.no_grad():
        return int(layer_activations(model, x[:1], layer_path).shape[1])


def class_activation_maps(
    model: nn.Module,
    x: torch.Tensor,  # (1, C, H, W) normalised input
    layer_paths: Sequence[str],
    method: str,
    class_index: int,
    aug_smooth: bool = False,
    eigen_smooth: bool = False,
    max_channels: int | None = 64,
    batch_size: int = 16,
    progress: Progress | None = None,
) -> np.ndarray:
    """One heatmap per layer for `class_index`: (L, H, W) floats in [0, 1] at the input's size.

    `method` is a key of METHODS (or "Random", a baseline). ScoreCAM and AblationCAM score only
    `scored_channels(method, C, max_channels)` of a layer's C channels (None: all) and give the others
    weight 0. FullGrad uses every bias layer and ignores the
    layer choice (its map is repeated). Hooks are removed afterwards; AblationCAM swaps a layer
    of the model, so it runs on a copy.
    """
    if method not in METHODS and method != "Random":
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if method in PLAIN_GRADIENT_METHODS and not aug_smooth and not eigen_smooth and len(x) == 1:
        return plain_gradient_cams(model, x, layer_paths, method, class_index)  # no library import: fast first page
    classes = _cam_classes()
    if method == "FullGrad":
        return np.repeat(_single_map(classes["FullGrad"](model, []), x, class_index, aug_smooth, eigen_smooth)[None],
                         len(layer_paths), axis=0)
    if f"per-layer {method}" in classes and len(layer_paths) > 1 and not aug_smooth:
        # one pass for every layer; the library keeps activations in execution order, which for the
        # course's models is the order in which their modules are registered
        order = {name: i for i, (name, _) in enumerate(model.named_modules())}
        ranked = sorted(set(layer_paths), key=order.__getitem__)
        cam = classes[f"per-layer {method}"](model, [model.get_submodule(p) for p in ranked])
        stacked = _single_map(cam, x, class_index, False, eigen_smooth)  # (L', H, W)
        return np.stack([stacked[ranked.index(p)] for p in layer_paths])  # (L, H, W), the order asked for
    if method == "AblationCAM":
        model = copy.deepcopy(model)  # it replaces the target layer while it works
    maps = []
    for i, path in enumerate(layer_paths):
        layer_progress = None
        if progress is not None:
            def layer_progress(fraction: float, label: str, i=i, path=path) -> None:
                progress((i + fraction) / len(layer_paths), f"{label}, layer {path}")
        layer = model.get_submodule(path)
        if method == "ScoreCAM":
            cam = classes["ScoreCAM"](model, [layer], max_channels, batch_size, layer_progress)
        elif method == "AblationCAM":
            channels = _channels(model, x, path)
            ratio = _ablation_ratio(channels, max_channels)
            counted = model if layer_progress is None else _CountingModel(
                model, 2 + scored_channels("AblationCAM", channels, max_channels), layer_progress, "AblationCAM")
            cam = classes["AblationCAM"](counted, [layer], ablation_layer=classes["AblationLayer"](), batch_size=batch_size,
                                         ratio_channels_to_ablate=ratio)
        else:
            cam = classes[method](model, [layer])
        with np.errstate(divide="ignore", invalid="ignore"):  # AblationCAM divides by dead channels' max
            maps.append(_single_map(cam, x, class_index, aug_smooth, eigen_smooth))
    return np.stack(maps)  # (L, H, W)


PLAIN_GRADIENT_METHODS = ("GradCAM", "HiResCAM")


def plain_gradient_cams(model: nn.Module, x: torch.Tensor, layer_paths: Sequence[str], method: str,
                        class_index: int) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017, arXiv:1610.02391) or HiResCAM (Draelos & Carin 2020,
    arXiv:2011.08891) in plain torch: the same maps as pytorch-grad-cam (a test compares them) for
    one image, without importing the library (2 s at a cold start) and with the backward pass
    stopped at the target layers instead of running down to the input. -> (L, H, W) in [0, 1].
    """
    paths = list(dict.fromkeys(layer_paths))
    outputs: dict[str, torch.Tensor] = {}
    handles = [model.get_submodule(p).register_forward_hook(
        lambda module, inputs, output, p=p: outputs.__setitem__(p, output)) for p in paths]
    try:
        with torch.enable_grad():
            x = x.detach().clone().requires_grad_(True)  # the zoo's parameters are frozen: grads flow from x
            score = model(x)[0, int(class_index)]  # ()
            grads = torch.autograd.grad(score, [outputs[p] for p in paths], allow_unused=True)
    finally:
        for handle in handles:
            handle.remove()
    size = tuple(x.shape[-2:])
    maps = {}
    for p, grad in zip(paths, grads):
        acts = outputs[p].detach()[0]  # (C, h, w)
        grad = torch.zeros_like(acts) if grad is None else grad[0]  # (C, h, w)
        if method == "GradCAM":
            cam = (grad.mean(dim=(1, 2))[:, None, None] * acts).sum(0)  # (h, w)
        else:
            cam = (grad * acts).sum(0)  # (h, w)
        cam = _min_max(cam.clamp(min=0))
        cam = F.interpolate(cam[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]  # (H, W)
        maps[p] = np.nan_to_num(_min_max(cam.clamp(min=0)).numpy().astype(np.float32))
    return np.stack([maps[p] for p in layer_paths])  # (L, H, W)


def _min_max(cam: torch.Tensor) -> torch.Tensor:
    """pytorch-grad-cam's scaling: shift the minimum to 0, divide by the maximum (+1e-7)."""
    cam = cam - cam.min()
    return cam / (1e-7 + cam.max())


def _single_map(cam, x: torch.Tensor, class_index: int, aug_smooth: bool, eigen_smooth: bool) -> np.ndarray:
    x = x.detach().clone()
    if cam.uses_gradients:
        x.requires_grad_(True)  # the zoo's parameters are frozen: gradients flow from the input
    with cam:  # removes the hooks on exit
        grayscale = cam(x, _targets(class_index), aug_smooth=aug_smooth, eigen_smooth=eigen_smooth)  # (1, H, W)
    return np.nan_to_num(np.float32(grayscale[0]))  # (H, W) in [0, 1], or (L, H, W) per layer


def class_activation_map(model: nn.Module, x: torch.Tensor, layer_path: str, method: str, class_index: int,
                         **options) -> np.ndarray:
    """The heatmap of one method at one layer: (H, W) in [0, 1]."""
    return class_activation_maps(model, x, [layer_path], method, class_index, **options)[0]


def method_layer_grid(model: nn.Module, x: torch.Tensor, methods: Sequence[str], layer_paths: Sequence[str],
                      class_index: int, progress: Progress | None = None, **options) -> np.ndarray:
    """Heatmaps for every method (rows) and layer (columns): (M, L, H, W)."""
    rows = []
    for i, method in enumerate(methods):
        if progress:
            progress(i / len(methods), method)
        rows.append(class_activation_maps(model, x, layer_paths, method, class_index, **options))
    if progress:
        progress(1.0, "done")
    return np.stack(rows)  # (M, L, H, W)


def top_predictions(model: nn.Module, x: torch.Tensor, labels: Sequence[str], k: int = 5) -> pd.DataFrame:
    """The k most probable classes: rank, class_index, label, probability."""
    with torch.no_grad():
        probs = model(x).softmax(-1)[0]  # (classes,)
    return top_from_probabilities(probs, labels, k)


def top_from_probabilities(probs: torch.Tensor, labels: Sequence[str], k: int = 5) -> pd.DataFrame:
    """The k most probable classes of one probability vector (classes,): rank, class_index, label, probability."""
    top = probs.topk(min(k, probs.numel()))
    return pd.DataFrame({"rank": range(1, len(top.indices) + 1),
                         "class_index": top.indices.numpy(),
                         "label": [labels[i] for i in top.indices.tolist()],
                         "probability": top.values.numpy()})
