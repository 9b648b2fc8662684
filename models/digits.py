"""The course's small digit classifiers: a two-block CNN and a multilayer perceptron.

Both take float tensors ``(B, 1, 28, 28)`` normalised with ``MNIST_MEAN`` / ``MNIST_STD``
(``to_tensor`` does it) and return logits ``(B, 10)``. The MLP also takes any other image size
(for example scikit-learn's 8x8 digits with ``input_dim=64``). Submodules carry readable names
(``features.conv1``, ``features.relu2``, ``classifier.fc1``; ``fc1``, ``relu1`` ... in the MLP)
so lessons can hook them by name.

The CNN follows LeNet (LeCun et al., "Gradient-based learning applied to document
recognition", Proc. IEEE 1998) with ReLU, max pooling and dropout (Srivastava et al.,
"Dropout: a simple way to prevent neural networks from overfitting", JMLR 2014).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

MNIST_MEAN = 0.1307  # mean pixel of the 60,000 MNIST training images, pixels scaled to [0, 1]
MNIST_STD = 0.3081  # their standard deviation
NUM_CLASSES = 10

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}
INITS = ("default", "xavier", "kaiming", "small_normal")


def to_tensor(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images ``(N, H, W)``, ``(H, W)`` or ``(N, 1, H, W)`` in 0..255 -> normalised
    float32 ``(N, 1, H, W)``: ``(pixel / 255 - MNIST_MEAN) / MNIST_STD``."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))  # copies: never aliases the input
    if x.ndim == 2:
        x = x[None]  # (1, H, W)
    if x.ndim == 3:
        x = x[:, None]  # (N, 1, H, W)
    return (x / 255.0 - MNIST_MEAN) / MNIST_STD  # (N, 1, H, W)


def to_pixels(x: torch.Tensor) -> np.ndarray:
    """Inverse of ``to_tensor``: ``(N, 1, H, W)`` normalised -> float ``(N, H, W)`` in [0, 1]."""
    pixels = x.detach().float().cpu()[:, 0] * MNIST_STD + MNIST_MEAN  # (N, H, W)
    return pixels.clamp(0.0, 1.0).numpy()


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


class DigitsCNN(nn.Module):
    """conv-act-pool blocks, then a two-layer classifier.

    With the defaults (the bundled ``digits_cnn``; 105,866 parameters)::

        features.conv1  Conv2d(1, 16, 3, padding=1)   (B, 16, 28, 28)
        features.relu1, features.pool1 MaxPool2d(2)   (B, 16, 14, 14)
        features.conv2  Conv2d(16, 32, 3, padding=1)  (B, 32, 14, 14)
        features.relu2, features.pool2 MaxPool2d(2)   (B, 32, 7, 7)
        classifier.flatten                            (B, 1568)
        classifier.fc1  Linear(1568, 64), relu3, dropout
        classifier.fc2  Linear(64, 10)                (B, 10) logits

    ``channels`` sets the number of blocks and their widths (1 to 4 blocks for 28x28 inputs).
    Activation modules are named after the activation (``tanh1`` for ``activation="tanh"``).
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32),
        hidden: int = 64,
        dropout: float = 0.25,
        activation: str = "relu",
        image_size: int = 28,
        num_classes: int = NUM_CLASSES,
    ):
        super().__init__()
        self.config = dict(channels=list(channels), hidden=hidden, dropout=dropout,
                           activation=activation, image_size=image_size, num_classes=num_classes)
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        in_channels, size = 1, image_size
        for i, out_channels in enumerate(channels, start=1):
            blocks[f"conv{i}"] = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
            blocks[f"{activation}{i}"] = _activation(activation)
            blocks[f"pool{i}"] = nn.MaxPool2d(2)
            in_channels, size = out_channels, size // 2
        if size < 1:
            raise ValueError(f"{len(channels)} pooling blocks are too many for {image_size} px")
        n = len(channels) + 1
        self.features = nn.Sequential(blocks)
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(in_channels * size * size, hidden)),
            (f"{activation}{n}", _activation(activation)),
            ("dropout", nn.Dropout(dropout)),
            ("fc2", nn.Linear(hidden, num_classes)),
        ]))
        self.last_conv = f"features.{activation}{len(channels)}"  # Grad-CAM's usual target layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        x = self.features(x)  # (B, C_last, 28 / 2^blocks, same)
        return self.classifier(x)  # (B, 10)


class DigitsMLP(nn.Sequential):
    """A multilayer perceptron on flattened images: ``flatten, fc1, relu1, [drop1], fc2, ...``.

    ``hidden=(32, 16)`` gives 784 -> 32 -> 16 -> 10 (the bundled ``digits_mlp``), small enough
    to draw every hidden neuron. The last ``Linear`` is ``fc{len(hidden) + 1}`` and gives logits.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (64, 32),
        input_dim: int = 28 * 28,
        dropout: float = 0.0,
        activation: str = "relu",
        num_classes: int = NUM_CLASSES,
    ):
        layers: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())  # (B, input_dim)
        width = input_dim
        for i, out in enumerate(hidden, start=1):
            layers[f"fc{i}"] = nn.Linear(width, out)  # (B, out)
            layers[f"{activation}{i}"] = _activation(activation)
            if dropout > 0:
                layers[f"drop{i}"] = nn.Dropout(dropout)
            width = out
        layers[f"fc{len(hidden) + 1}"] = nn.Linear(width, num_classes)  # (B, 10) logits
        super().__init__(layers)
        self.config = dict(hidden=list(hidden), input_dim=input_dim, dropout=dropout,
                           activation=activation, num_classes=num_classes)


def initialize(model: nn.Module, scheme: str = "default") -> nn.Module:
    """Re-initialise every Linear / Conv2d weight in place (biases to zero), return the model.

    - ``default``: leave PyTorch's initialisation (uniform, He et al. with a = sqrt(5)).
    - ``xavier``: Glorot & Bengio, "Understanding the difficulty of training deep feedforward
      neural networks", AISTATS 2010 (suits tanh / sigmoid).
    - ``kaiming``: He et al., "Delving deep into rectifiers", ICCV 2015 (suits ReLU).
    - ``small_normal``: N(0, 0.01^2), the classic recipe whose signals shrink layer by layer.
    Uses the global torch RNG: call it inside ``models.training.seeded(seed)``.
    """
    if scheme not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {scheme!r}")
    if scheme == "default":
        return model
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
            elif scheme == "kaiming":
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            else:
                nn.init.normal_(module.weight, std=0.01)
            nn.init.zeros_(module.bias)
    return model


def build_mlp(
    input_dim: int = 28 * 28,
    hidden: Sequence[int] = (64, 32),
    dropout: float = 0.0,
    activation: str = "relu",
    init: str = "default",
) -> DigitsMLP:
    """An MLP of the chosen depth (``len(hidden)``), widths, dropout, activation and init."""
    return initialize(DigitsMLP(hidden, input_dim, dropout, activation), init)


def build_cnn(
    channels: Sequence[int] = (16, 32),
    dropout: float = 0.25,
    hidden: int = 64,
    activation: str = "relu",
    width_multiplier: float = 1.0,
    init: str = "default",
) -> DigitsCNN:
    """A ``DigitsCNN`` with ``channels`` scaled by ``width_multiplier`` (at least 1 each)."""
    widths = [max(1, round(c * width_multiplier)) for c in channels]
    hidden = max(1, round(hidden * width_multiplier))
    return initialize(DigitsCNN(widths, hidden, dropout, activation), init)


def num_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
