"""TorchCam (Fernandez, github.com/frgfm/torch-cam) beside pytorch-grad-cam: its maps for every layer,
its `overlay_mask`, and how closely the two libraries' Grad-CAM agree. torchcam is imported inside
the functions (seconds to import). No streamlit here.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from lessons.activations.compute import class_activation_maps
from lessons.activations.map_tools import pearson_correlation, rank_correlation, resize_map


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


def torchcam_overlay(rgb: np.ndarray, heatmap: np.ndarray, alpha: float = 0.5, colormap: str = "viridis") -> np.ndarray:
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
