"""What the course's models are, without loading them or importing torch: names, titles, input
sizes, normalisation, labels and the layers a lesson may inspect.

A page can draw its controls (model pickers, layer pickers, class names) from this module before
torch is imported; models/zoo.py builds the modules themselves.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

DIGIT_LABELS = tuple(str(d) for d in range(10))
IMAGENET_CLASSES_FILE = Path(__file__).resolve().parents[1] / "data" / "imagenet_classes.txt"

EFFICIENTNET_LITE0_INPUT_SIZE = 224
EFFICIENTNET_LITE0_MEAN = (0.5, 0.5, 0.5)  # TF-Lite preprocessing: (pixel - 127) / 128
EFFICIENTNET_LITE0_STD = (0.5, 0.5, 0.5)
# Human-readable layer name -> path for `model.get_submodule(path)`. Stage outputs are the last
# block of each stage (linear bottleneck, no activation); stem and head are post-ReLU6 maps.
EFFICIENTNET_LITE0_STAGES: dict[str, str] = {
    "stem (32 ch, 112 px)": "_stem_act",
    "stage 1 (16 ch, 112 px)": "_blocks.0",
    "stage 2 (24 ch, 56 px)": "_blocks.2",
    "stage 3 (40 ch, 28 px)": "_blocks.4",
    "stage 4 (80 ch, 14 px)": "_blocks.7",
    "stage 5 (112 ch, 14 px)": "_blocks.10",
    "stage 6 (192 ch, 7 px)": "_blocks.14",
    "stage 7 (320 ch, 7 px)": "_blocks.15",
    "head conv (1280 ch, 7 px)": "_head_act",
}


@dataclass(frozen=True)
class ModelInfo:
    name: str
    title: str
    kind: str  # "cnn", "mlp" or "transformer"
    description: str
    input_size: tuple[int, ...]  # (C, H, W) for images, () for text
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    target_layers: dict[str, str] = field(default_factory=dict)  # readable name -> submodule path, last = default


def imagenet_labels() -> list[str]:
    """The 1,000 ImageNet class names, in class-index order.

    Copied once from torchvision's `ResNet18_Weights.IMAGENET1K_V1.meta["categories"]` by
    `python -m data.build_data` (a test checks they agree): importing torchvision for them costs ~2 s
    on a cold server.
    """
    return IMAGENET_CLASSES_FILE.read_text().splitlines()


_DIGITS_CNN_LAYERS = {"block 1 (16 ch, 28 px)": "features.relu1", "block 2 (32 ch, 14 px)": "features.relu2"}
_MNIST = dict(input_size=(1, 28, 28), mean=(0.1307,), std=(0.3081,), labels=DIGIT_LABELS)

_INFO = {
    "digits_cnn": lambda: ModelInfo(
        "digits_cnn", "Digits CNN", "cnn",
        "The course's small CNN (2 conv blocks, 106 k parameters) trained on 4,000 MNIST digits.",
        target_layers=_DIGITS_CNN_LAYERS, **_MNIST),
    "shortcut_cnn": lambda: ModelInfo(
        "shortcut_cnn", "Shortcut CNN", "cnn",
        "The same CNN trained on digits that carry a class-specific marker: it learned the marker.",
        target_layers=_DIGITS_CNN_LAYERS, **_MNIST),
    "digits_mlp": lambda: ModelInfo(
        "digits_mlp", "Digits MLP", "mlp",
        "A 784-32-16-10 multilayer perceptron trained on 4,000 MNIST digits.",
        target_layers={"hidden 1 (32)": "relu1", "hidden 2 (16)": "relu2"}, **_MNIST),
    "digits_vit": lambda: ModelInfo(
        "digits_vit", "Digits ViT", "transformer",
        "A tiny Vision Transformer (16 patches of 7x7 px + [CLS], 4 blocks x 4 heads, 139 k parameters) "
        "trained on 4,000 MNIST digits; returns its attention weights.",
        target_layers={f"block {i + 1} attention": f"blocks.{i}.attn" for i in range(4)}, **_MNIST),
    "efficientnet_lite0": lambda: ModelInfo(
        "efficientnet_lite0", "EfficientNet-Lite0", "cnn",
        "An ImageNet classifier for phones (4.7 M parameters, 1,000 classes), pretrained.",
        input_size=(3, EFFICIENTNET_LITE0_INPUT_SIZE, EFFICIENTNET_LITE0_INPUT_SIZE),
        mean=EFFICIENTNET_LITE0_MEAN, std=EFFICIENTNET_LITE0_STD, labels=tuple(imagenet_labels()),
        target_layers=dict(EFFICIENTNET_LITE0_STAGES)),
    "minilm": lambda: ModelInfo(
        "minilm", "all-MiniLM-L6-v2", "transformer",
        "A 6-layer, 12-head sentence encoder (384 dimensions) distilled from a larger BERT.",
        input_size=()),
}
NAMES = tuple(_INFO)


@functools.cache
def info(name: str) -> ModelInfo:
    """The model's metadata (no torch import, no weights loaded)."""
    if name not in _INFO:
        raise KeyError(f"unknown model {name!r}; choose from {', '.join(NAMES)}")
    return _INFO[name]()
