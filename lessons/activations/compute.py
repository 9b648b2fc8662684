"""Activation heatmaps: which parts of an input drive a prediction, and can the map be trusted?

Class activation maps (CAMs) weight the feature maps of one layer and sum them into a heatmap.
The methods come from pytorch-grad-cam (Gildenblat et al., github.com/jacobgil/pytorch-grad-cam)
and TorchCam (Fernandez, github.com/frgfm/torch-cam); each method's paper is in `METHODS`.
Besides single maps this module computes method x layer grids, per-channel activation statistics
over a collection, the marker test for a "shortcut" model, the cascading-randomization sanity
check (Adebayo et al. 2018) and perturbation faithfulness scores.

No Streamlit here: tensors and arrays in, arrays and DataFrames out. The caller holds the model
(for a shared zoo model: inside `zoo.borrow(name)`); functions that change weights work on a copy.
pytorch_grad_cam and torchcam take seconds to import, so they are imported inside functions.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is running)


# --------------------------------------------------------------------------- the methods


@dataclass(frozen=True)
class Method:
    name: str
    paper: str
    url: str
    uses_gradients: bool
    slow: bool = False  # one forward pass per channel: show progress
    class_specific: bool = True  # False: the map does not depend on the target class


METHODS: dict[str, Method] = {m.name: m for m in [
    Method("GradCAM", "Selvaraju et al., Grad-CAM, ICCV 2017", "https://arxiv.org/abs/1610.02391", True),
    Method("HiResCAM", "Draelos & Carin, HiResCAM, 2020", "https://arxiv.org/abs/2011.08891", True),
    Method("GradCAM++", "Chattopadhyay et al., Grad-CAM++, WACV 2018", "https://arxiv.org/abs/1710.11063", True),
    Method("XGradCAM", "Fu et al., Axiom-based Grad-CAM, BMVC 2020", "https://arxiv.org/abs/2008.02312", True),
    Method("LayerCAM", "Jiang et al., LayerCAM, IEEE TIP 2021", "https://doi.org/10.1109/TIP.2021.3089943", True),
    Method("EigenCAM", "Muhammad & Yeasin, Eigen-CAM, IJCNN 2020", "https://arxiv.org/abs/2008.00299", False,
           class_specific=False),
    Method("EigenGradCAM", "EigenCAM on gradient x activation (pytorch-grad-cam)",
           "https://github.com/jacobgil/pytorch-grad-cam", True),
    Method("ScoreCAM", "Wang et al., Score-CAM, CVPR Workshops 2020", "https://arxiv.org/abs/1910.01279", False,
           slow=True),
    Method("AblationCAM", "Desai & Ramaswamy, Ablation-CAM, WACV 2020",
           "https://openaccess.thecvf.com/content_WACV_2020/html/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.html",
           False, slow=True),
    Method("FullGrad", "Srinivas & Fleuret, Full-Gradient Representation, NeurIPS 2019",
           "https://arxiv.org/abs/1905.00780", True),
]}
FAST_METHODS = tuple(name for name, m in METHODS.items() if not m.slow)


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
    """pytorch-grad-cam classes by method name, with two fixes (imported on first use)."""
    import pytorch_grad_cam as pgc

    class ThinSVD:
        """`eigen_smooth` through `thin_svd_projection` instead of the full SVD."""

        def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth=False):
            if not eigen_smooth:
                return super().get_cam_image(input_tensor, target_layer, targets, activations, grads, False)
            weights = self.get_cam_weights(input_tensor, target_layer, targets, activations, grads)  # (B, C)
            return thin_svd_projection(weights[:, :, None, None] * activations)  # (B, H, W)

    class EigenCAM(pgc.EigenCAM):
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
        (resizing is linear, so the map is the same) instead of resizing thousands of channels."""

        def compute_cam_per_layer(self, input_tensor, targets, eigen_smooth):
            if eigen_smooth:
                return super().compute_cam_per_layer(input_tensor, targets, eigen_smooth)
            import cv2

            size = self.get_target_width_height(input_tensor)
            input_part = np.abs(input_tensor.grad.numpy() * input_tensor.detach().numpy())  # (B, 3, H, W)
            parts = [input_part]
            for bias, grads in zip(self.bias_data, self.activations_and_grads.gradients):
                parts.append(np.abs(bias[None, :, None, None] * grads.numpy()))  # (B, C, h, w)
            total = 0
            for part in parts:
                batch, channels = part.shape[:2]
                low = part.min(axis=(2, 3), keepdims=True)
                scaled = (part - low) / (1e-7 + (part - low).max(axis=(2, 3), keepdims=True))  # (B, C, h, w)
                total = total + np.stack([cv2.resize(np.float32(m), size) for m in scaled.sum(axis=1)])  # (B, H, W)
            return total[:, None]  # (B, 1, H, W)

    class PerLayer:
        """Keep one map per target layer (B, L, H, W) instead of their mean: a whole grid row from
        one forward and one backward pass."""

        def aggregate_multi_layers(self, cam_per_target_layer):
            return np.concatenate(cam_per_target_layer, axis=1)  # (B, L, H, W)

    def thin(base):
        return type(base.__name__, (ThinSVD, base), {})

    def per_layer(base):
        return type(f"PerLayer{base.__name__}", (PerLayer, base), {})

    return {
        "GradCAM": thin(pgc.GradCAM), "HiResCAM": thin(pgc.HiResCAM), "GradCAM++": thin(pgc.GradCAMPlusPlus),
        "XGradCAM": thin(pgc.XGradCAM), "LayerCAM": thin(pgc.LayerCAM), "EigenCAM": EigenCAM,
        "EigenGradCAM": EigenGradCAM, "ScoreCAM": _top_channel_score_cam(pgc.ScoreCAM),
        "AblationCAM": thin(pgc.AblationCAM), "FullGrad": FullGrad, "Random": thin(pgc.RandomCAM),
        "AblationLayer": AblationLayer,
        **{f"per-layer {name}": per_layer(cls) for name, cls in (
            ("GradCAM", thin(pgc.GradCAM)), ("HiResCAM", thin(pgc.HiResCAM)), ("GradCAM++", thin(pgc.GradCAMPlusPlus)),
            ("XGradCAM", thin(pgc.XGradCAM)), ("LayerCAM", thin(pgc.LayerCAM)), ("EigenCAM", EigenCAM),
            ("EigenGradCAM", EigenGradCAM), ("Random", thin(pgc.RandomCAM)))},
    }


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
            k = channels if not self.max_channels else min(channels, self.max_channels)
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
    `max_channels` channels per layer (None: all). FullGrad uses every bias layer and ignores the
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
            ratio = 1.0 if not max_channels else min(1.0, max_channels / (2 * channels))  # it ablates 2x ratio
            counted = model if layer_progress is None else _CountingModel(
                model, 2 + min(channels, 2 * int(channels * ratio)), layer_progress, "AblationCAM")
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


# --------------------------------------------------------------------------- inputs


class UploadError(ValueError):
    """An uploaded file we refuse, with a message for the student."""


MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
UPLOAD_FORMATS = ("JPEG", "PNG", "WEBP")


def bytes_key(data: bytes) -> str:
    """A short content hash to key caches on an upload."""
    return hashlib.sha256(data).hexdigest()[:16]


def open_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS):
    """Validate an uploaded file and return it as an RGB PIL image, or raise UploadError."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise UploadError("The file is empty.")
    if len(data) > max_bytes:
        raise UploadError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    unreadable = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format, (width, height) = probe.format, probe.size
            probe.verify()  # checks the structure without decoding the pixels
    except unreadable as error:
        raise UploadError("This file is not a readable JPEG, PNG or WebP image.") from error
    if image_format not in UPLOAD_FORMATS:
        raise UploadError(f"{image_format} files are not supported: upload a JPEG, PNG or WebP image.")
    if width * height > max_pixels:
        raise UploadError(f"The image has {width * height / 1e6:.0f} megapixels ({width} x {height}); "
                          f"the limit is {max_pixels / 1e6:.0f}.")
    if min(width, height) < 16 or max(width, height) > 10 * min(width, height):
        raise UploadError(f"The image is {width} x {height} pixels: it must be at least 16 pixels on each side "
                          "and at most 10 times as long as it is wide.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated file fails here
            return ImageOps.exif_transpose(image).convert("RGB")
    except unreadable as error:
        raise UploadError("The image is damaged (truncated or corrupt) and cannot be decoded.") from error


FRAMINGS = ("centre crop", "whole image")


def photo_input(image, framing: str = "centre crop") -> tuple[torch.Tensor, np.ndarray]:
    """An RGB PIL image -> (EfficientNet input (1, 3, 224, 224), the same pixels as RGB (224, 224, 3) in [0, 1]).

    "centre crop" is the ImageNet evaluation recipe (resize, crop the middle square); "whole image"
    shrinks the photo to fit and pads it with grey, so nothing is cut off (letterboxing).
    """
    from models.efficientnet_lite import (EFFICIENTNET_LITE0_INPUT_SIZE, EFFICIENTNET_LITE0_MEAN,
                                          EFFICIENTNET_LITE0_STD, preprocess_image)
    from PIL import Image

    mean = torch.tensor(EFFICIENTNET_LITE0_MEAN).view(3, 1, 1)
    std = torch.tensor(EFFICIENTNET_LITE0_STD).view(3, 1, 1)
    if framing == "centre crop":
        x = preprocess_image(image)  # (1, 3, 224, 224)
        rgb = (x[0] * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()  # (224, 224, 3)
        return x, np.float32(rgb)
    if framing != "whole image":
        raise ValueError(f"framing must be one of {FRAMINGS}, got {framing!r}")
    size = EFFICIENTNET_LITE0_INPUT_SIZE
    image = image.convert("RGB")
    scale = size / max(image.size)
    fitted = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BICUBIC)
    canvas = Image.new("RGB", (size, size), (128, 128, 128))
    canvas.paste(fitted, ((size - fitted.width) // 2, (size - fitted.height) // 2))
    rgb = np.float32(np.asarray(canvas)) / 255.0  # (224, 224, 3)
    x = ((torch.from_numpy(rgb).permute(2, 0, 1) - mean) / std)[None]  # (1, 3, 224, 224)
    return x, rgb


def digit_input(image: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
    """A uint8 digit (28, 28) -> (CNN input (1, 1, 28, 28), grey RGB (28, 28, 3) in [0, 1])."""
    from models.digits import to_tensor

    grey = np.float32(image) / 255.0  # (28, 28)
    return to_tensor(image[None]), np.repeat(grey[:, :, None], 3, axis=2)


def digits_input(images: np.ndarray) -> torch.Tensor:
    """uint8 digits (N, 28, 28) -> CNN input (N, 1, 28, 28)."""
    from models.digits import to_tensor

    return to_tensor(images)


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


# --------------------------------------------------------------------------- comparing maps


def overlay_heatmap(rgb: np.ndarray, heatmap: np.ndarray, opacity: float = 0.5, colormap: str = "jet") -> np.ndarray:
    """Blend a colour-mapped heatmap (H, W) in [0, 1] over an image (H, W, 3) in [0, 1] -> uint8 (H, W, 3)."""
    from matplotlib import colormaps

    colours = colormaps[colormap](np.clip(heatmap, 0, 1))[..., :3]  # (H, W, 3)
    return np.uint8(np.round(255 * ((1 - opacity) * rgb + opacity * colours)))


def resize_map(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a (h, w) map to size (H, W)."""
    if heatmap.shape == tuple(size):
        return np.float32(heatmap)
    t = torch.as_tensor(np.float32(heatmap))[None, None]  # (1, 1, h, w)
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()  # (H, W)


def mass_share(heatmap: np.ndarray, region: np.ndarray) -> float:
    """Fraction of the heatmap's total mass inside a boolean region of the same shape."""
    total = float(np.clip(heatmap, 0, None).sum())
    return float(np.clip(heatmap, 0, None)[region].sum()) / total if total > 0 else 0.0


def box_mask(shape: tuple[int, int], box: tuple[int, int, int, int], margin: int = 0) -> np.ndarray:
    """Boolean mask of box (row0, col0, row1, col1), ends exclusive, grown by `margin` pixels."""
    row0, col0, row1, col1 = box
    mask = np.zeros(shape, dtype=bool)
    mask[max(0, row0 - margin):row1 + margin, max(0, col0 - margin):col1 + margin] = True
    return mask


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps of the same shape (0 when either map is flat)."""
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def pearson_correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


# --------------------------------------------------------------------------- TorchCam


def torchcam_maps(model: nn.Module, x: torch.Tensor, layer_paths: Sequence[str], class_index: int,
                  method: str = "SmoothGradCAMpp", num_samples: int = 4, std: float = 0.3,
                  seed: int = 0) -> list[np.ndarray]:
    """TorchCam maps for every layer from one extractor: a list of (h, w) arrays in [0, 1] at
    each layer's own resolution. SmoothGradCAM++: Omeiza et al. 2019 (arXiv:1908.01224);
    it averages gradients over `num_samples` noisy copies of the input (noise std `std`, seeded)."""
    from torchcam import methods as torchcam_methods

    options = dict(num_samples=num_samples, std=std) if method == "SmoothGradCAMpp" else {}
    extractor_class = getattr(torchcam_methods, method)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with extractor_class(model, target_layer=list(layer_paths), input_shape=tuple(x.shape[1:]),
                             **options) as extractor:
            scores = model(x.detach().clone().requires_grad_(True))  # (1, classes)
            cams = extractor(int(class_index), scores)  # list of (1, h, w)
    return [np.nan_to_num(c[0].detach().numpy()) for c in cams]


def torchcam_overlay(rgb: np.ndarray, heatmap: np.ndarray, alpha: float = 0.5, colormap: str = "jet") -> np.ndarray:
    """TorchCam's `overlay_mask` (mask resized to the image, colour-mapped, blended): uint8 (H, W, 3).
    `alpha` is the weight of the image."""
    from PIL import Image
    from torchcam.utils import overlay_mask

    image = Image.fromarray(np.uint8(np.round(rgb * 255)))
    mask = Image.fromarray(np.float32(heatmap), mode="F")
    return np.asarray(overlay_mask(image, mask, colormap=colormap, alpha=float(min(alpha, 0.99))))


def gradcam_agreement(model: nn.Module, x: torch.Tensor, layer_paths: Sequence[str], class_index: int) -> pd.DataFrame:
    """Grad-CAM from TorchCam and from pytorch-grad-cam on the same layers: Pearson and Spearman
    correlation of the two maps at the input's size (1 means identical up to scale)."""
    size = tuple(x.shape[-2:])
    theirs = torchcam_maps(model, x, layer_paths, class_index, method="GradCAM")
    ours = class_activation_maps(model, x, layer_paths, "GradCAM", class_index)
    rows = []
    for path, a, b in zip(layer_paths, theirs, ours):
        a = resize_map(a, size)
        rows.append(dict(layer=path, pearson=pearson_correlation(a, b), spearman=rank_correlation(a, b)))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- activation statistics

STATISTICS = ("mean", "median", "min", "max")


def layer_activations(model: nn.Module, x: torch.Tensor, layer_path: str, batch_size: int = 64) -> torch.Tensor:
    """The output of one layer for every input: (N, C, h, w). Removes its hook afterwards."""
    layer = model.get_submodule(layer_path)
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda module, inputs, output: captured.append(output.detach()))
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                model(x[start:start + batch_size])
    finally:
        handle.remove()
    return torch.cat(captured)  # (N, C, h, w)


def channel_statistics(activations: torch.Tensor, statistic: str) -> np.ndarray:
    """Reduce each channel's map to one number per input: (N, C, h, w) -> (N, C)."""
    flat = activations.flatten(2)  # (N, C, h*w)
    if statistic == "mean":
        return flat.mean(2).numpy()
    if statistic == "median":
        return flat.median(2).values.numpy()
    if statistic == "min":
        return flat.amin(2).numpy()
    if statistic == "max":
        return flat.amax(2).numpy()
    raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")


def group_rows(values: np.ndarray, groups: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Average the rows of (N, C) that share a group label -> (G, C), groups in first-seen order."""
    names = list(dict.fromkeys(groups))
    groups = np.asarray(groups)
    return np.stack([values[groups == g].mean(0) for g in names]), names


def channel_maxima(activations: torch.Tensor) -> np.ndarray:
    """Each channel's largest activation over every input and position: (N, C, h, w) -> (C,)."""
    return activations.transpose(0, 1).flatten(1).amax(1).numpy()


def silent_channels(channel_max: np.ndarray, relative_threshold: float) -> tuple[np.ndarray, float]:
    """Channels whose activation never exceeds `relative_threshold` x the layer's largest activation
    (on any input or position): pruning candidates. Returns (boolean (C,), the absolute threshold)."""
    threshold = float(relative_threshold) * float(np.max(channel_max))
    return np.asarray(channel_max) <= threshold, threshold


def silent_share_curve(channel_max: np.ndarray, thresholds: Sequence[float]) -> pd.DataFrame:
    """Share of silent channels for each relative threshold (threshold, silent_share)."""
    return pd.DataFrame({"threshold": list(thresholds),
                         "silent_share": [float(silent_channels(channel_max, t)[0].mean()) for t in thresholds]})


def photo_collection(framing: str = "centre crop") -> tuple[torch.Tensor, list[str]]:
    """Every bundled photo as one batch (N, 3, 224, 224) and their names."""
    from data import list_images, load_image

    names = list_images()
    return torch.cat([photo_input(load_image(n), framing)[0] for n in names]), names


def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,000 held-out MNIST-5k digits (never trained on): uint8 (1000, 28, 28), labels (1000,)."""
    from data import load_mnist5k, mnist5k_split

    images, labels = load_mnist5k()
    _, heldout = mnist5k_split()
    return images[heldout], labels[heldout]


def digit_collection(per_class: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` held-out digits of each class: uint8 (10*per_class, 28, 28), labels."""
    from data import load_mnist5k, mnist5k_split

    images, labels = load_mnist5k()
    _, heldout = mnist5k_split()
    chosen = np.concatenate([heldout[labels[heldout] == d][:per_class] for d in range(10)])
    return images[chosen], labels[chosen]


def channel_map(activations: torch.Tensor, channel: int, size: tuple[int, int]) -> np.ndarray:
    """One channel of one input's activations (1, C, h, w), scaled to [0, 1] and resized: (H, W)."""
    single = activations[0, int(channel)].float().numpy()  # (h, w)
    low, high = single.min(), single.max()
    scaled = (single - low) / (high - low) if high > low else np.zeros_like(single)
    return resize_map(scaled, size)


# --------------------------------------------------------------------------- the shortcut model

MARKER_MODES = ("no marker", "class marker", "wrong marker")


def with_markers(images: np.ndarray, labels: np.ndarray, mode: str) -> np.ndarray:
    """Digits (N, 28, 28) without a marker, with their class's marker, or with the next class's."""
    from data.shortcut import add_class_marker

    if mode == "no marker":
        return images.copy()
    if mode not in MARKER_MODES:
        raise ValueError(f"mode must be one of {MARKER_MODES}, got {mode!r}")
    return add_class_marker(images, labels, wrong=mode == "wrong marker")


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of digits (N, 28, 28) uint8 classified correctly."""
    from models.digits import to_tensor

    with torch.no_grad():
        predicted = model(to_tensor(images)).argmax(1).numpy()  # (N,)
    return float((predicted == labels).mean())


def marker_accuracy_table(models: dict[str, nn.Module], images: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Accuracy of each model on the digits with no marker, the class marker and a wrong marker."""
    rows = [dict(model=name, markers=mode, accuracy=accuracy(model, with_markers(images, labels, mode), labels))
            for name, model in models.items() for mode in MARKER_MODES]
    return pd.DataFrame(rows)


def marker_region(label: int, margin: int = 2, size: int = 28) -> np.ndarray:
    """The marker of class `label` grown by `margin` pixels (the CAM is coarser than the marker)."""
    from data.shortcut import marker_box

    return box_mask((size, size), marker_box(label), margin)


# --------------------------------------------------------------------------- sanity check


def cascade_steps(model: nn.Module) -> list[tuple[str, list[str]]]:
    """Groups of modules to randomize, from the output layer down to the input.

    EfficientNet-Lite0: classifier, head, then each of the 7 stages, then the stem. Other models:
    every module with its own parameters, last first (for the digits CNN: fc2, fc1, conv2, conv1).
    """
    from models.efficientnet_lite import LITE0_STAGE_CONFIG, EfficientNetLite0

    if isinstance(model, EfficientNetLite0):
        steps = [("classifier (_fc)", ["_fc"]), ("head conv", ["_conv_head", "_bn1"])]
        start, stages = 0, []
        for number, (repeats, *_rest) in enumerate(LITE0_STAGE_CONFIG, start=1):
            stages.append((f"stage {number}", [f"_blocks.{i}" for i in range(start, start + repeats)]))
            start += repeats
        return steps + stages[::-1] + [("stem", ["_conv_stem", "_bn0"])]
    leaves = [name for name, module in model.named_modules() if name and any(True for _ in module.parameters(recurse=False))]
    return [(name, [name]) for name in reversed(leaves)]


def randomize_(model: nn.Module, paths: Sequence[str], seed: int) -> None:
    """Re-initialise every parameterised module under `paths` in place (use on a copy), seeded."""
    from models.training import seeded

    with seeded(seed), torch.no_grad():
        for path in paths:
            for module in model.get_submodule(path).modules():
                if hasattr(module, "reset_parameters") and any(True for _ in module.parameters(recurse=False)):
                    module.reset_parameters()
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.weight.normal_(1.0, 0.5)  # a BN reset alone is the identity: make it random
                    module.bias.normal_(0.0, 0.5)


def cascading_randomization(
    model: nn.Module,
    x: torch.Tensor,
    layer_path: str,
    class_index: int,
    methods: Sequence[str],
    seed: int = 0,
    progress: Progress | None = None,
    **options,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018 (arXiv:1810.03292).

    Randomize the model's layers cumulatively from the top down (on a deep copy: the model passed
    in is never changed) and compare each method's map with its map on the trained model.
    Returns a table (step, step_index, method, spearman) with step 0 = "trained", and the maps
    {method: (S+1, H, W)}. A map that stays the same while the weights that produce the class
    score are destroyed does not explain the model's decision.
    """
    steps = cascade_steps(model)
    work = copy.deepcopy(model)
    maps = {m: [class_activation_map(work, x, layer_path, m, class_index, **options)] for m in methods}
    total = len(steps) * len(methods)
    for s, (step_name, paths) in enumerate(steps, start=1):
        randomize_(work, paths, seed + s)
        for j, method in enumerate(methods):
            if progress:
                progress(((s - 1) * len(methods) + j) / total, f"{step_name}: {method}")
            maps[method].append(class_activation_map(work, x, layer_path, method, class_index, **options))
    rows = [dict(step=(["trained"] + [name for name, _ in steps])[s], step_index=s, method=method,
                 spearman=rank_correlation(stack[0], stack[s]))
            for method, stack in maps.items() for s in range(len(stack))]
    return pd.DataFrame(rows), {m: np.stack(v) for m, v in maps.items()}


# --------------------------------------------------------------------------- faithfulness

FAITHFULNESS_METRICS = {
    "keep the map": "confidence change when the image is multiplied by the map (pytorch-grad-cam "
                    "CamMultImageConfidenceChange); higher is better",
    "ROAD": "ROAD (Rong et al. 2022): confidence when the least relevant pixels are removed minus when the most "
            "relevant are removed, averaged over 30 % and 70 %; higher is better",
}


def random_map(shape: tuple[int, int], seed: int, cells: int = 7) -> np.ndarray:
    """A baseline: uniform noise on a coarse cells x cells grid, resized to shape, in [0, 1]."""
    coarse = np.random.default_rng(seed).random((cells, cells))  # (cells, cells)
    return np.clip(resize_map(coarse, shape), 0, 1)


def faithfulness_scores(model: nn.Module, x: torch.Tensor, class_index: int, maps: dict[str, np.ndarray],
                        metric: str = "keep the map", seed: int = 0,
                        percentiles: Sequence[int] = (30, 70)) -> pd.DataFrame:
    """A score per map (method -> (H, W) in [0, 1]) in units of the class probability (0-1)."""
    from pytorch_grad_cam.metrics.cam_mult_image import CamMultImageConfidenceChange
    from pytorch_grad_cam.metrics.road import ROADLeastRelevantFirst, ROADMostRelevantFirst
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    targets = [ClassifierOutputSoftmaxTarget(int(class_index))]
    with torch.no_grad():
        base = float(model(x).softmax(-1)[0, class_index])
    rows = []
    for name, heatmap in maps.items():
        cams = np.float32(heatmap)[None]  # (1, H, W)
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)  # ROAD's imputer adds noise
            if metric == "keep the map":
                score = float(CamMultImageConfidenceChange()(x, cams, targets, model)[0])
            elif metric == "ROAD":
                lerf = np.mean([ROADLeastRelevantFirst(p)(x, cams, targets, model)[0] for p in percentiles])
                morf = np.mean([ROADMostRelevantFirst(p)(x, cams, targets, model)[0] for p in percentiles])
                score = float((lerf - morf) / 2)
            else:
                raise ValueError(f"metric must be one of {list(FAITHFULNESS_METRICS)}, got {metric!r}")
        rows.append(dict(method=name, score=score, base_probability=base))
    return pd.DataFrame(rows)
