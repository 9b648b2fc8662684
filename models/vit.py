"""The course's tiny Vision Transformer for 28x28 digits, with attention weights you can read.

Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
ICLR 2021: cut the image into patches, embed each patch linearly, prepend a learned [CLS] token,
add learned position embeddings, run pre-norm transformer blocks (Vaswani et al., "Attention Is
All You Need", NeurIPS 2017) and classify from the [CLS] token.

Attention is computed explicitly (softmax(Q K^T / sqrt(d)) V) so that every layer's weights
``(B, heads, T, T)`` can be returned: ``model(x, return_attention=True)``. Token 0 is [CLS];
token ``1 + r * grid + c`` is the patch in row ``r``, column ``c`` (``grid = image_size // patch``).

Inputs are normalised like the other digit models (``models.digits.to_tensor``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class TinyViTConfig:
    image_size: int = 28
    patch_size: int = 7  # 28 / 7 = a 4 x 4 grid of patches
    dim: int = 64  # width of every token
    depth: int = 4  # transformer blocks
    heads: int = 4  # attention heads per block (dim / heads = 16 per head)
    mlp_dim: int = 128  # hidden width of each block's MLP
    dropout: float = 0.1
    num_classes: int = 10

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def tokens(self) -> int:
        return 1 + self.grid**2  # [CLS] + one token per patch

    def to_dict(self) -> dict:
        return asdict(self)


class SelfAttention(nn.Module):
    """Multi-head self-attention with the weights kept: softmax(Q K^T / sqrt(d_head)) V."""

    def __init__(self, config: TinyViTConfig) -> None:
        super().__init__()
        if config.dim % config.heads:
            raise ValueError(f"dim {config.dim} is not divisible by heads {config.heads}")
        self.heads = config.heads
        self.qkv = nn.Linear(config.dim, 3 * config.dim)
        self.proj = nn.Linear(config.dim, config.dim)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t, d = x.shape  # (B, T, D)
        q, k, v = self.qkv(x).split(d, dim=-1)  # 3 x (B, T, D)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))  # (B, H, T, Dh)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)  # (B, H, T, T)
        weights = scores.softmax(dim=-1)  # (B, H, T, T): each row sums to 1
        out = self.dropout(weights) @ v  # (B, H, T, Dh)
        out = out.transpose(1, 2).reshape(b, t, d)  # (B, T, D)
        return self.proj(out), weights


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, config: TinyViTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.dim)
        self.attn = SelfAttention(config)
        self.norm2 = nn.LayerNorm(config.dim)
        self.mlp = nn.Sequential(nn.Linear(config.dim, config.mlp_dim), nn.GELU(), nn.Dropout(config.dropout),
                                 nn.Linear(config.mlp_dim, config.dim), nn.Dropout(config.dropout))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attended, weights = self.attn(self.norm1(x))  # (B, T, D), (B, H, T, T)
        x = x + attended  # (B, T, D)
        x = x + self.mlp(self.norm2(x))  # (B, T, D)
        return x, weights


class TinyViT(nn.Module):
    """Patches -> tokens -> ``depth`` blocks -> [CLS] -> logits ``(B, num_classes)``."""

    def __init__(self, config: TinyViTConfig | None = None, **overrides) -> None:
        super().__init__()
        config = config or TinyViTConfig(**overrides)
        if config.image_size % config.patch_size:
            raise ValueError(f"patch size {config.patch_size} does not divide image size {config.image_size}")
        self.config = config
        # A conv with kernel = stride = patch size is the linear patch embedding, applied per patch.
        self.patch_embed = nn.Conv2d(1, config.dim, kernel_size=config.patch_size, stride=config.patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.dim))
        self.pos_embed = nn.Parameter(torch.randn(1, config.tokens, config.dim) * 0.02)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        self.norm = nn.LayerNorm(config.dim)
        self.head = nn.Linear(config.dim, config.num_classes)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 1, H, W)`` -> input tokens ``(B, T, D)`` with position embeddings added."""
        patches = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, G*G, D), row-major patches
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        return self.dropout(torch.cat([cls, patches], dim=1) + self.pos_embed)  # (B, T, D)

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        h = self.tokens(x)  # (B, T, D)
        attentions = []
        for block in self.blocks:
            h, weights = block(h)  # (B, T, D), (B, H, T, T)
            attentions.append(weights)
        logits = self.head(self.norm(h[:, 0]))  # (B, num_classes), from the [CLS] token
        if return_attention:
            return logits, torch.stack(attentions, dim=1)  # (B, depth, H, T, T)
        return logits
