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


def random_transform(image: torch.Tensor, transforms: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """Lucent's standard_transforms (pad 12, jitter 8, scale 0.9-1.1, rotate ±10°, jitter 4) at
    224 px, with pad and jitter scaled to the image size. (1, C, S, S) -> (1, C, S', S')."""
    size = image.shape[-1]
    unit = size / 224

    def pick(options):
        return options[int(torch.randint(len(options), (1,), generator=generator))]

    def jitter(x, pixels):
        d = max(1, round(pixels * unit))
        dx, dy = (int(v) for v in torch.randint(0, d + 1, (2,), generator=generator))
        return x[..., dy:x.shape[-2] - d + dy, dx:x.shape[-1] - d + dx]  # (1, C, S-d, S-d)

    if "pad" in transforms:
        p = max(1, round(PAD_PIXELS * unit))
        image = F.pad(image, (p, p, p, p), value=0.5)  # (1, C, S+2p, S+2p), grey border
    if "jitter" in transforms:
        image = jitter(image, JITTER_PIXELS)
    if "scale" in transforms:
        factor = pick(SCALES)
        image = F.interpolate(image, scale_factor=factor, mode="bilinear", align_corners=False)
    if "rotate" in transforms:
        angle = math.radians(pick(ANGLES))
        rotation = torch.tensor([[math.cos(angle), -math.sin(angle), 0.0], [math.sin(angle), math.cos(angle), 0.0]])
        grid = F.affine_grid(rotation[None], list(image.shape), align_corners=False)
        image = F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if "jitter" in transforms:
        image = jitter(image, 4)
    return image


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
        seen = random_transform(image, settings.transforms, generator) if settings.transforms else image
        value = objective_value(layer_output(model, settings.layer, normalize(seen, settings.mean, settings.std)),
                                settings.objective, settings.channel)
        (-value).backward()
        optimizer.step()
        reached = float(value.detach())
        finite = math.isfinite(reached) and bool(torch.isfinite(param.param).all())
        last = step == settings.steps or not finite
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
