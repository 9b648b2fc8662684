"""Activation maximization: optimise an input image so that one unit of a trained network fires.

Erhan, Bengio, Courville & Vincent, "Visualizing Higher-Layer Features of a Deep Network" (2009)
introduced gradient ascent on the input. This file is our own implementation of the recipe of
Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017 (the Lucid library, ported to
PyTorch as Lucent):

- parameterization: plain pixels, or a Fourier image whose spectrum is scaled by 1/f (so the
  optimizer moves all frequencies at the same rate and high frequencies do not dominate), and
  colour decorrelation (the three channels are mixed by the square root of ImageNet's colour
  covariance, so one step changes "brightness" and "colour" independently);
- transformation robustness: before each step the image is padded, jittered, scaled and rotated
  at random, so only patterns that survive small transforms get reinforced;
- objectives: a channel's mean, the centre neuron of a channel, a class logit, or a whole layer
  (DeepDream: the mean square of every activation, Mordvintsev et al. 2015).

The model is shared and frozen (eval mode, requires_grad False): only the image's parameters
get gradients. A forward hook catches the target layer's output and stops the forward pass there
(later layers cannot change the objective), inside `zoo.borrow` so the hook never outlives a run.
No Streamlit here: `optimize` is a generator the page iterates to redraw the image while it runs.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lessons.features.settings import (LOGITS, MAX_LR, OBJECTIVES, PARAMETERIZATIONS, TRANSFORMS,  # noqa: F401
                                     VARIANTS, Settings, variant)

# Lucid's/Lucent's colour decorrelation: the square root of ImageNet's RGB covariance (by its SVD).
COLOR_CORRELATION_SVD_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
PAD_PIXELS, JITTER_PIXELS = 12, 8  # Lucent's standard_transforms at 224 px, scaled with the image size
SCALES = tuple(1 + (i - 5) / 50 for i in range(11))  # 0.9 ... 1.1
ANGLES = tuple(range(-10, 11))  # degrees


class _Captured(Exception):
    """Raised by the hook once the target layer has run: nothing after it matters."""


# --------------------------------------------------------------------------- parameterizations


def fourier_scale(size: int, decay_power: float = 1.0) -> torch.Tensor:
    """1 / f^decay_power for the rfft2 frequencies of a size x size image: (size, size // 2 + 1).

    The lowest nonzero frequency caps the zero frequency's factor (as in Lucid)."""
    fy = torch.fft.fftfreq(size)[:, None]  # (S, 1) cycles per pixel
    fx = torch.fft.rfftfreq(size)[None, :]  # (1, S//2+1)
    freq = torch.sqrt(fx**2 + fy**2)  # (S, S//2+1)
    return 1.0 / torch.clamp(freq, min=1.0 / size) ** decay_power


class ImageParam(nn.Module):
    """The optimised tensor and how it becomes an RGB (or grey) image in [0, 1]."""

    def __init__(self, size: int, parameterization: str = "fourier", decorrelate: bool = True, channels: int = 3,
                 seed: int = 0, sd: float = 0.01):
        super().__init__()
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
        generator = torch.Generator().manual_seed(seed)
        self.size, self.fourier, self.channels = size, parameterization == "fourier", channels
        self.decorrelate = decorrelate and channels == 3
        if self.fourier:
            shape = (1, channels, size, size // 2 + 1, 2)  # real and imaginary parts
            self.register_buffer("scale", fourier_scale(size)[None, None, :, :, None] / 4.0)  # Lucid's /4
        else:
            shape = (1, channels, size, size)
        self.param = nn.Parameter(torch.randn(shape, generator=generator) * sd)

    def forward(self) -> torch.Tensor:
        if self.fourier:
            spectrum = torch.view_as_complex((self.param * self.scale).contiguous())  # (1, C, S, S//2+1)
            x = torch.fft.irfft2(spectrum, s=(self.size, self.size), norm="ortho")  # (1, C, S, S)
        else:
            x = self.param  # (1, C, S, S)
        if self.decorrelate:
            matrix = COLOR_CORRELATION_SVD_SQRT / COLOR_CORRELATION_SVD_SQRT.norm(dim=0).max()
            x = torch.einsum("ij,bjhw->bihw", matrix, x)  # (1, 3, S, S)
        return torch.sigmoid(x)  # (1, C, S, S) in [0, 1]


# --------------------------------------------------------------------------- transformation robustness


def transform_geometry(size: int, transforms: tuple[str, ...]) -> tuple[int, int, int]:
    """(pad, first jitter, second jitter) in pixels for a size x size image: Lucent's 12, 8 and 4 at
    224 px, scaled with the image size (0 for a transform that is off)."""
    unit = size / 224
    pad = max(1, round(PAD_PIXELS * unit)) if "pad" in transforms else 0
    if "jitter" not in transforms:
        return pad, 0, 0
    return pad, max(1, round(JITTER_PIXELS * unit)), max(1, round(4 * unit))


@dataclass(frozen=True)
class TransformDraw:
    """One step's random transform: whole-pixel offsets (dx, dy) of the two jitters, scale, angle."""

    first_offset: tuple[int, int] = (0, 0)
    factor: float = 1.0
    degrees: int = 0
    second_offset: tuple[int, int] = (0, 0)


def draw_transform(size: int, transforms: tuple[str, ...], generator: torch.Generator) -> TransformDraw:
    """The random choices of one step, in Lucent's order (jitter, scale, rotate, jitter)."""
    _, d1, d2 = transform_geometry(size, transforms)
    first = tuple(torch.randint(0, d1 + 1, (2,), generator=generator).tolist()) if d1 else (0, 0)
    factor = SCALES[int(torch.randint(len(SCALES), (1,), generator=generator))] if "scale" in transforms else 1.0
    degrees = ANGLES[int(torch.randint(len(ANGLES), (1,), generator=generator))] if "rotate" in transforms else 0
    second = tuple(torch.randint(0, d2 + 1, (2,), generator=generator).tolist()) if d2 else (0, 0)
    return TransformDraw(first, factor, degrees, second)


def apply_transform(image: torch.Tensor, transforms: tuple[str, ...], draw: TransformDraw) -> torch.Tensor:
    """Lucent's standard_transforms (pad 12, jitter 8, scale 0.9-1.1, rotate ±10°, jitter 4 at 224 px;
    pad and jitter scaled to the image size), composed into one affine map and sampled once.

    pad: a grey border of p pixels; jitter: a crop d1 pixels smaller at a random offset; scale and
    rotate: about the centre of that crop, keeping its size; jitter: a crop d2 pixels smaller again.
    Lucent does these one after the other and its scale changes the image's size; here the output
    always has the size the chain has at scale 1 (S + 2p - d1 - d2: zoomed in, the border is cut;
    zoomed out, more grey shows), so every step feeds the network one shape (oneDNN builds one plan,
    not one per random size) and the image is resampled once, not twice.
    (1, C, S, S) -> (1, C, T, T), T = S + 2p - d1 - d2.
    """
    size = image.shape[-1]
    pad, d1, d2 = transform_geometry(size, transforms)
    crop = size + 2 * pad - d1  # the first crop's side, in which scale and rotate happen
    out = crop - d2
    (x1, y1), (x2, y2) = draw.first_offset, draw.second_offset
    if draw.factor == 1.0 and draw.degrees == 0:  # whole-pixel shifts only: pad and slice, no resampling
        padded = F.pad(image, (pad, pad, pad, pad), value=0.5) if pad else image  # (1, C, S+2p, S+2p)
        return padded[..., y1 + y2:y1 + y2 + out, x1 + x2:x1 + x2 + out]  # (1, C, T, T)
    # Output pixel (row, col) -> the point of the original image it shows, in pixel units:
    # source = first offset - pad + centre + R(angle) (output + second offset - centre) / factor.
    radians = math.radians(draw.degrees)
    cos, sin = math.cos(radians) / draw.factor, math.sin(radians) / draw.factor
    centre = (crop - 1) / 2
    steps = torch.arange(out, dtype=image.dtype)  # (T,)
    u = (steps + x2 - centre)[None, :]  # (1, T) columns, relative to the centre
    v = (steps + y2 - centre)[:, None]  # (T, 1) rows
    source_x = x1 - pad + centre + cos * u - sin * v  # (T, T) columns of the original image
    source_y = y1 - pad + centre + sin * u + cos * v  # (T, T) rows
    grid = torch.stack(((2 * source_x + 1) / size - 1, (2 * source_y + 1) / size - 1), dim=-1)[None]  # (1, T, T, 2)
    if pad:  # outside the image is the grey border (and, as in Lucent, grey beyond it)
        return F.grid_sample(image - 0.5, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 0.5
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)  # (1, C, T, T)


def random_transform(image: torch.Tensor, transforms: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """One step's transformation robustness: draw at random, then apply. (1, C, S, S) -> (1, C, T, T)."""
    if not transforms:
        return image
    return apply_transform(image, transforms, draw_transform(image.shape[-1], transforms, generator))


# --------------------------------------------------------------------------- objectives and the loop


def objective_value(activation: torch.Tensor, objective: str, channel: int) -> torch.Tensor:
    """The scalar to maximise from the target layer's output ((1, C, h, w), or (1, classes) logits)."""
    if objective == "class logit":
        return activation[0, channel]
    if objective == "layer (DeepDream)":
        return activation.pow(2).mean()
    if objective == "neuron":
        h, w = activation.shape[-2:]
        return activation[0, channel, h // 2, w // 2]
    if objective == "channel":
        return activation[0, channel].mean()
    raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")


def layer_output(model: nn.Module, layer: str, x: torch.Tensor) -> torch.Tensor:
    """Run `model` on x up to `layer` and return its output (the rest of the network is skipped).
    Call inside zoo.borrow: the hook is removed here, and borrow removes any it missed."""
    captured: dict[str, torch.Tensor] = {}

    def hook(_module, _inputs, output):
        captured["out"] = output
        raise _Captured

    handle = model.get_submodule(layer).register_forward_hook(hook)
    try:
        model(x)
    except _Captured:
        pass
    finally:
        handle.remove()
    return captured["out"]


@dataclass
class Step:
    """What the loop reports after each step (the page redraws from the latest one)."""

    step: int
    objective: float
    image: torch.Tensor = field(repr=False)  # (1, C, S, S) in [0, 1] before this step's update, detached
    diverged: bool = False


def normalize(image: torch.Tensor, mean, std) -> torch.Tensor:
    mean_t = torch.tensor(mean).view(1, -1, 1, 1)
    std_t = torch.tensor(std).view(1, -1, 1, 1)
    return (image - mean_t) / std_t  # (1, C, S, S) as the model expects


def optimize(model: nn.Module, settings: Settings) -> Iterator[Step]:
    """Gradient ascent on the image (Adam), one Step per iteration with the image it scored.

    Stops early, with `diverged=True`, when the image or the objective stops being finite (a
    learning rate far too large). Call inside zoo.borrow(...) for a shared model.
    """
    if not (math.isfinite(settings.lr) and 0 < settings.lr <= MAX_LR):
        raise ValueError(f"the learning rate must be a number between 0 and {MAX_LR:g}, got {settings.lr}")
    param = ImageParam(settings.size, settings.parameterization, settings.decorrelate, settings.channels_in,
                       settings.seed)
    generator = torch.Generator().manual_seed(settings.seed + 1)
    optimizer = torch.optim.Adam(param.parameters(), lr=settings.lr)
    for step in range(1, settings.steps + 1):
        optimizer.zero_grad(set_to_none=True)
        image = param()  # (1, C, S, S)
        seen = random_transform(image, settings.transforms, generator)  # (1, C, T, T), one T for every step
        # channels_last: oneDNN runs EfficientNet's 1x1 and depthwise convolutions on it ~15 % faster
        # (forward and backward, measured); the numbers are the same up to float rounding.
        model_input = normalize(seen, settings.mean, settings.std).contiguous(memory_format=torch.channels_last)
        value = objective_value(layer_output(model, settings.layer, model_input), settings.objective, settings.channel)
        (-value).backward()
        optimizer.step()
        reached = float(value.detach())
        finite = math.isfinite(reached) and bool(torch.isfinite(param.param).all())
        yield Step(step, reached, image.detach(), diverged=not finite)
        if not finite:
            return


def current_image(step_image: torch.Tensor) -> np.ndarray:
    """(1, C, S, S) in [0, 1] -> uint8 (S, S, 3) for display (grey images repeated to RGB)."""
    array = step_image[0].detach().clamp(0, 1).permute(1, 2, 0).numpy()  # (S, S, C)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return (np.nan_to_num(array) * 255).round().astype(np.uint8)


def run(model: nn.Module, settings: Settings) -> tuple[np.ndarray, list[float], bool]:
    """The whole run without previews: (uint8 image (S, S, 3), objective per step, diverged)."""
    values, final, diverged = [], None, False
    for event in optimize(model, settings):
        values.append(event.objective)
        final, diverged = event.image, event.diverged
    return current_image(final), values, diverged


def _as_input(image: np.ndarray, mean, std) -> torch.Tensor:
    x = torch.from_numpy(image.astype(np.float32) / 255.0).permute(2, 0, 1)[None]  # (1, 3, S, S)
    return normalize(x[:, :1] if len(mean) == 1 else x, mean, std)  # (1, C, S, S)


def activation_of(model: nn.Module, layer: str, image: np.ndarray, objective: str, channel: int,
                  mean, std) -> float:
    """The objective on a finished uint8 (S, S, 3) image without any transform (as a student sees it)."""
    with torch.no_grad():
        return float(objective_value(layer_output(model, layer, _as_input(image, mean, std)), objective, channel))


def channel_peak(model: nn.Module, layer: str, image: np.ndarray, channel: int, mean, std) -> float:
    """A channel's largest activation over the positions of a finished uint8 image: the number to set
    beside a dataset example, which is one position too."""
    with torch.no_grad():
        return float(layer_output(model, layer, _as_input(image, mean, std))[0, channel].max())


def warm_up() -> None:
    """Pay the one-off costs of a first run (autograd, FFT plans, Adam's first step) in the server's
    background warm-up (lessons/warmup.py), so a student's first Optimize starts at once."""
    from models import zoo

    model, _ = zoo.load("efficientnet_lite0")
    with zoo.borrow("efficientnet_lite0"):
        run(model, Settings(layer="_blocks.0", steps=2, size=32))
