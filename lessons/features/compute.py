"""Feature maps, first-layer filters, dataset examples and image spectra (no Streamlit).

- Feature maps: one forward pass with a hook on each chosen layer; the channels ranked by their
  mean activation on this image (Zeiler & Fergus, "Visualizing and Understanding Convolutional
  Networks", ECCV 2014, and CNN Explainer, Wang et al. 2020, show maps the same way).
- Dataset examples: the positions of a collection (the bundled photos, or held-out MNIST digits)
  where one channel fires most, each cut out as its receptive field (Olah et al., "Feature
  Visualization", Distill 2017, put such crops beside the optimised image).
- Spectra: the radial power spectrum of an image, its power-weighted mean frequency (spectral
  centroid) and the share of power above a cut-off, to measure "high-frequency" instead of
  eyeballing it.

Arrays in and out; the model is passed in (call inside `zoo.borrow`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

HIGH_FREQUENCY_CUTOFF = 0.25  # cycles per pixel (Nyquist is 0.5): "high frequency" above this


# --------------------------------------------------------------------------- feature maps


def layer_activations(model: nn.Module, x: torch.Tensor, layer_paths: list[str]) -> dict[str, np.ndarray]:
    """One forward pass; each layer's output for the first image: path -> (C, h, w) float32."""
    captured: dict[str, torch.Tensor] = {}
    handles = [model.get_submodule(path).register_forward_hook(
        lambda _m, _i, out, path=path: captured.__setitem__(path, out.detach()))
        for path in layer_paths]
    try:
        with torch.no_grad():
            model(x)  # (B, classes)
    finally:
        for handle in handles:
            handle.remove()
    return {path: captured[path][0].float().numpy() for path in layer_paths}  # (C, h, w) each


def top_channels(activation: np.ndarray, count: int) -> np.ndarray:
    """Channel indices by mean activation over positions, largest first: (count,)."""
    means = activation.reshape(activation.shape[0], -1).mean(1)  # (C,)
    return np.argsort(-means, kind="stable")[:count]


def first_conv_filters(model: nn.Module, conv_path: str) -> np.ndarray:
    """The first convolution's kernels as images: (N, k, k, C_in) in [0, 1], each filter scaled by
    its own largest absolute weight so that 0.5 (grey) is a zero weight."""
    weight = model.get_submodule(conv_path).weight.detach().float()  # (N, C_in, k, k)
    peak = weight.abs().amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-12)  # (N, 1, 1, 1)
    return (0.5 + 0.5 * weight / peak).permute(0, 2, 3, 1).numpy()  # (N, k, k, C_in)


# --------------------------------------------------------------------------- receptive fields


@dataclass(frozen=True)
class Geometry:
    """How one layer's grid maps onto the input: receptive field size, stride (jump), first centre."""

    receptive_field: int
    jump: int
    start: float  # input coordinate of the centre of position 0


def layer_geometry(model: nn.Module, layer: str, x: torch.Tensor) -> Geometry:
    """Receptive field of `layer`, from the convolutions and poolings that run before it.

    The classic recurrence (Araujo et al., "Computing Receptive Fields of CNNs", Distill 2019):
    r += (k - 1) * j; start += ((k - 1) / 2 - p) * j; j *= s, with TF "SAME" padding taken as
    the symmetric (k - 1) // 2 that it approximately is."""
    order: list[nn.Module] = []
    handles = [module.register_forward_hook(lambda m, _i, _o: order.append(m))
               for module in model.modules() if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]

    target = model.get_submodule(layer)
    done = {}

    def stop(_m, _i, _o):
        done["layer"] = len(order)
        raise StopIteration

    handles.append(target.register_forward_hook(stop))
    try:
        with torch.no_grad():
            model(x)
    except StopIteration:
        pass
    finally:
        for handle in handles:
            handle.remove()
    r, j, start = 1, 1, 0.0
    for module in order[:done.get("layer", len(order))]:
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        s = module.stride if isinstance(module.stride, int) else module.stride[0]
        declared = module.padding if isinstance(module.padding, int) else module.padding[0]
        p = declared if declared else (k - 1) // 2 if not isinstance(module, nn.MaxPool2d) else 0
        r += (k - 1) * j
        start += ((k - 1) / 2 - p) * j
        j *= s
    return Geometry(r, j, start)


# --------------------------------------------------------------------------- dataset examples


@dataclass(frozen=True)
class Example:
    image_index: int
    row: int  # position in the layer's grid
    col: int
    activation: float
    box: tuple[int, int, int, int]  # (top, left, bottom, right) in input pixels


def dataset_examples(activations: np.ndarray, geometry: Geometry, input_size: int, count: int = 8,
                     one_per_image: bool = False) -> list[Example]:
    """The `count` strongest positions of one channel over a collection, largest first.

    activations: (N, h, w) for N images. Each example's box is its receptive field, clipped to
    the input. With `one_per_image`, each image gives at most one example (the bundled photos are
    only seven, and neighbouring positions show the same patch)."""
    n, h, w = activations.shape
    order = np.argsort(-activations.reshape(-1), kind="stable")  # (N*h*w,)
    chosen, used = [], set()
    for flat in order:
        index, rest = divmod(int(flat), h * w)
        row, col = divmod(rest, w)
        if one_per_image and index in used:
            continue
        used.add(index)
        half = geometry.receptive_field / 2
        cy, cx = geometry.start + row * geometry.jump, geometry.start + col * geometry.jump
        top, left = max(0, int(round(cy - half + 0.5))), max(0, int(round(cx - half + 0.5)))
        bottom = min(input_size, int(round(cy + half + 0.5)))
        right = min(input_size, int(round(cx + half + 0.5)))
        chosen.append(Example(index, row, col, float(activations[index, row, col]), (top, left, bottom, right)))
        if len(chosen) == count:
            break
    return chosen


def channel_over_collection(model: nn.Module, x: torch.Tensor, layer: str, channel: int,
                            batch: int = 100) -> np.ndarray:
    """One channel's map for every image of a collection: x (N, C, H, W) -> (N, h, w)."""
    from lessons.features.optimize import layer_output

    maps = []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            maps.append(layer_output(model, layer, x[start:start + batch])[:, channel].float())  # (b, h, w)
    return torch.cat(maps).numpy()


# --------------------------------------------------------------------------- spectra


def _power_and_frequency(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    grey = np.asarray(image, dtype=np.float64)
    grey = grey.mean(-1) if grey.ndim == 3 else grey  # (H, W)
    grey = grey - grey.mean()
    power = np.abs(np.fft.fft2(grey)) ** 2  # (H, W)
    fy = np.fft.fftfreq(grey.shape[0])[:, None]
    fx = np.fft.fftfreq(grey.shape[1])[None, :]
    return power, np.sqrt(fx**2 + fy**2)  # cycles per pixel, 0 ... 0.707


def spectral_centroid(image: np.ndarray) -> float:
    """Power-weighted mean spatial frequency of the image's brightness, in cycles per pixel."""
    power, freq = _power_and_frequency(image)
    return float((power * freq).sum() / max(power.sum(), 1e-12))


def high_frequency_share(image: np.ndarray, cutoff: float = HIGH_FREQUENCY_CUTOFF) -> float:
    """Share of the brightness power above `cutoff` cycles per pixel (0 ... 1)."""
    power, freq = _power_and_frequency(image)
    return float(power[freq > cutoff].sum() / max(power.sum(), 1e-12))


def radial_spectrum(image: np.ndarray, bins: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """(bin centre frequencies (bins,), mean power per bin normalised to sum 1 (bins,)) up to Nyquist."""
    power, freq = _power_and_frequency(image)
    edges = np.linspace(0, 0.5, bins + 1)
    which = np.digitize(freq.ravel(), edges) - 1  # (H*W,)
    keep = (which >= 0) & (which < bins)
    totals = np.bincount(which[keep], weights=power.ravel()[keep], minlength=bins)
    counts = np.bincount(which[keep], minlength=bins).clip(min=1)
    mean = totals / counts
    return (edges[:-1] + edges[1:]) / 2, mean / max(mean.sum(), 1e-12)
