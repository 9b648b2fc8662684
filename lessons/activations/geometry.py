"""Where a target layer's cells sit on the input: the grid size, the stride (how many input pixels
apart two neighbouring cells are) and the receptive field (how many input pixels one cell is
computed from). The receptive field is computed from the architecture (Araujo et al., "Computing
receptive fields of convolutional neural networks", Distill 2019, https://distill.pub/2019/computing-receptive-fields/):
walking the convolutions and poolings that run before the layer, r <- r + (k - 1) x d x j and j <- j x s,
from r = j = 1 (k kernel, d dilation, s stride, j the stride so far). It holds for a chain of such
layers with identity shortcuts (the course's CNNs and EfficientNet); a shortcut that has its own
convolution would need the longest path instead. No streamlit here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported by layer_geometry: the page's text imports LayerGeometry before torch
    from torch import nn


@dataclass(frozen=True)
class LayerGeometry:
    channels: int  # C of the layer's output (1, C, h, w)
    grid: tuple[int, int]  # (h, w) cells of the layer's output
    stride: int  # input pixels between the centres of two neighbouring cells
    receptive_field: int  # side of the square of input pixels one cell is computed from (unclipped)
    input_size: tuple[int, int]  # (H, W) of the input measured on


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value), int(value))


def layer_geometry(model: nn.Module, layer_path: str, input_shape: tuple[int, ...]) -> LayerGeometry:
    """Channels, grid, stride and receptive field of `layer_path` for inputs of shape (C, H, W).

    One forward pass of zeros records, in execution order, every convolution and pooling that runs
    before the layer's output is produced (hooks removed afterwards)."""
    import torch
    from torch import nn

    target = model.get_submodule(layer_path)
    ops: list[tuple[int, int, int]] = []  # (kernel, stride, dilation) along the height axis
    shape: list[tuple[int, ...]] = []  # the layer's output (C, h, w), once it has run
    handles = []

    def record(module, inputs, output):
        if shape:  # the target layer has run: later operations do not feed it
            return
        if isinstance(module, nn.Conv2d):
            ops.append((_pair(module.kernel_size)[0], _pair(module.stride)[0], _pair(module.dilation)[0]))
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            ops.append((_pair(module.kernel_size)[0], _pair(module.stride or module.kernel_size)[0],
                        _pair(getattr(module, "dilation", 1))[0]))

    def finish(module, inputs, output):
        if not shape:
            shape.append(tuple(output.shape[1:]))

    for module in model.modules():
        if module is not target and isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            handles.append(module.register_forward_hook(record))
    if isinstance(target, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        handles.append(target.register_forward_hook(record))
    handles.append(target.register_forward_hook(finish))
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
    field, jump = 1, 1
    for kernel, stride, dilation in ops:
        field += (kernel - 1) * dilation * jump
        jump *= stride
    return LayerGeometry(channels=shape[0][0], grid=shape[0][1:], stride=jump, receptive_field=field, input_size=tuple(input_shape[-2:]))
