"""The residual MLP the lesson compares with and without skip connections (Li et al. 2018, section 6).

    h = relu(bn(stem(x)))                                        (B, width)
    per block: r = bn2(fc2(relu(bn1(fc1(h)))))                   (B, width)
               h = relu(h + r) with skips, relu(r) without       (B, width)
    logits = head(h)                                             (B, 10)

The blocks are ResNet's basic block (He et al., "Deep residual learning for image recognition",
CVPR 2016) with linear layers in place of convolutions, BatchNorm after each (Ioffe & Szegedy 2015),
as in the ResNets whose landscapes Li et al. compare. Same layers and the same initial weights with
and without skips: only the identity path differs. Kaiming-normal init for every linear weight.
"""
from __future__ import annotations

import torch
from torch import nn


class ResidualMLP(nn.Module):
    def __init__(self, width: int = 32, blocks: int = 4, skips: bool = True, input_dim: int = 784,
                 num_classes: int = 10):
        super().__init__()
        self.config = dict(width=width, blocks=blocks, skips=skips, input_dim=input_dim, num_classes=num_classes)
        self.skips = skips
        self.stem = nn.Linear(input_dim, width)
        self.stem_bn = nn.BatchNorm1d(width)
        self.blocks = nn.ModuleList(
            nn.ModuleDict({"fc1": nn.Linear(width, width), "bn1": nn.BatchNorm1d(width),
                           "fc2": nn.Linear(width, width), "bn2": nn.BatchNorm1d(width)})
            for _ in range(blocks))
        self.head = nn.Linear(width, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28) or (B, 784)
        h = torch.relu(self.stem_bn(self.stem(x.flatten(1))))  # (B, width)
        for block in self.blocks:
            r = block["bn2"](block["fc2"](torch.relu(block["bn1"](block["fc1"](h)))))  # (B, width)
            h = torch.relu(h + r if self.skips else r)  # (B, width)
        return self.head(h)  # (B, 10)
