"""The lesson's networks: a deep MLP or a small CNN whose depth, activation, initialization,
normalization and residual connections the student chooses.

Each hidden layer is a ``Block``: a Linear (or 3x3 Conv) layer, an optional normalization, the
activation, and (from the second block on, where the shapes match) an optional residual
connection ``x + act(norm(layer(x)))`` (He et al., "Deep residual learning for image
recognition", CVPR 2016). The normalizations are BatchNorm (Ioffe & Szegedy, ICML 2015) and
LayerNorm (Ba, Kiros & Hinton, 2016; GroupNorm with one group for the CNN). Initializations:
PyTorch's default (uniform, a = sqrt(5)), Xavier (Glorot & Bengio, AISTATS 2010), Kaiming (He et
al., "Delving deep into rectifiers", ICCV 2015), and PyTorch's default scaled by 0.1 or by 10.

The gradients the lesson plots are those of each layer's weight matrix (or kernel), named
``"1"`` ... ``"<depth>"`` for the blocks and ``"out"`` for the classifier, input to output.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU}
INITS = ("default", "xavier", "kaiming", "scaled_0.1", "scaled_10")
NORMS = ("none", "batchnorm", "layernorm")
ARCHITECTURES = ("mlp", "cnn")
CNN_MAX_CHANNELS = 32  # wider convolutions would make a 30-layer CNN too slow to train in the page


class Block(nn.Module):
    """layer -> norm -> activation, plus the input when ``residual`` (shapes must match)."""

    def __init__(self, layer: nn.Module, norm: nn.Module, activation: nn.Module, residual: bool):
        super().__init__()
        self.layer, self.norm, self.act = layer, norm, activation
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, D) or (B, C, H, W)
        h = self.act(self.norm(self.layer(x)))  # same shape as the layer's output
        return x + h if self.residual else h


def _norm(kind: str, features: int, conv: bool) -> nn.Module:
    if kind == "batchnorm":
        return nn.BatchNorm2d(features) if conv else nn.BatchNorm1d(features)
    if kind == "layernorm":
        return nn.GroupNorm(1, features) if conv else nn.LayerNorm(features)
    return nn.Identity()


class GradientNet(nn.Module):
    """``blocks`` (the hidden layers, input first) then ``head`` (the classifier).

    MLP: flatten (B, 784) -> block 1 Linear(784, width) -> blocks 2..depth Linear(width, width)
    -> head Linear(width, 10). CNN: block 1 Conv(1, c, 3, stride 2) (B, c, 14, 14) -> blocks
    2..depth Conv(c, c, 3, padding 1) -> global average pool (B, c) -> head Linear(c, 10).
    """

    def __init__(self, architecture: str = "mlp", depth: int = 10, width: int = 64,
                 activation: str = "relu", norm: str = "none", residual: bool = False):
        super().__init__()
        if architecture not in ARCHITECTURES or activation not in ACTIVATIONS or norm not in NORMS:
            raise ValueError(f"unknown architecture {architecture!r}, activation {activation!r} or norm {norm!r}")
        if depth < 1:
            raise ValueError("depth must be at least 1")
        conv = architecture == "cnn"
        self.conv = conv
        width = min(width, CNN_MAX_CHANNELS) if conv else width
        self.width = width
        blocks = []
        for i in range(depth):
            if conv:
                layer = nn.Conv2d(1 if i == 0 else width, width, 3, stride=2 if i == 0 else 1, padding=1)
            else:
                layer = nn.Linear(28 * 28 if i == 0 else width, width)
            blocks.append(Block(layer, _norm(norm, width, conv), ACTIVATIONS[activation](), residual and i > 0))
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        h = x if self.conv else x.flatten(1)  # (B, 1, 28, 28) or (B, 784)
        for block in self.blocks:
            h = block(h)  # (B, width) or (B, c, 14, 14)
        if self.conv:
            h = h.mean(dim=(2, 3))  # (B, c)
        return self.head(h)  # (B, 10) logits

    def weight_layers(self) -> Iterator[tuple[str, nn.Module]]:
        """(name, Linear or Conv2d) input to output: "1" ... "<depth>", then "out"."""
        for i, block in enumerate(self.blocks, start=1):
            yield str(i), block.layer
        yield "out", self.head

    def activations(self) -> Iterator[tuple[str, nn.Module]]:
        """(name, activation module) of each block, input to output."""
        for i, block in enumerate(self.blocks, start=1):
            yield str(i), block.act


def initialize(model: GradientNet, scheme: str, activation: str) -> GradientNet:
    """Re-initialize every weight layer in place (see the module docstring); returns the model.
    Uses torch's global generator: call it inside ``models.training.seeded(seed)``."""
    if scheme not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {scheme!r}")
    gain_name = {"relu": "relu", "gelu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}[activation]
    for _, layer in model.weight_layers():
        if scheme == "xavier":
            nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(gain_name))
            nn.init.zeros_(layer.bias)
        elif scheme == "kaiming":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
        elif scheme.startswith("scaled_"):
            with torch.no_grad():
                layer.weight.mul_(float(scheme.removeprefix("scaled_")))  # PyTorch's default, scaled
    return model


def build(architecture: str = "mlp", depth: int = 10, width: int = 64, activation: str = "relu",
          init: str = "default", norm: str = "none", residual: bool = False, seed: int = 0) -> GradientNet:
    """A fresh network, initialized from ``seed`` (its own instance: no shared model is touched)."""
    from models.training import seeded

    with seeded(seed):
        model = GradientNet(architecture, depth, width, activation, norm, residual)
        return initialize(model, init, activation)
