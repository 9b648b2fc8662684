"""Attention rollout, in numpy (no torch: the page computes it from shipped attention too).

Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020
(https://arxiv.org/abs/2005.00928): average the heads of each layer, add the residual connection as
0.5 A + 0.5 I, renormalise each row to sum to 1, and multiply the layers:
rollout = A~_L ... A~_2 A~_1. Row i says how much of token i's final representation traces back to
each input token, if attention were the only way information moved.

vit-explain (Jacob Gildenblat, https://github.com/jacobgil/vit-explain) adds two options for vision
transformers: fuse the heads with max or min instead of the mean, and discard the lowest
`discard_ratio` of each layer's fused weights (never [CLS] -> [CLS]) before adding the identity.
With the mean and no discarding the two algorithms are the same.
"""
from __future__ import annotations

import numpy as np

FUSIONS = ("mean", "max", "min")


def fuse_heads(attentions: np.ndarray, fusion: str = "mean") -> np.ndarray:
    """(L, H, T, T) -> (L, T, T): the heads of each layer combined by mean, max or min."""
    if fusion not in FUSIONS:
        raise ValueError(f"unknown head fusion {fusion!r}; choose from {FUSIONS}")
    return getattr(np, fusion)(attentions, axis=1)


def discard_lowest(fused: np.ndarray, discard_ratio: float) -> np.ndarray:
    """Zero the lowest `discard_ratio` of one layer's (T, T) weights, keeping [CLS] -> [CLS] (vit-explain)."""
    flat = fused.reshape(-1).copy()  # (T*T,)
    count = int(flat.size * discard_ratio)
    if count:
        lowest = np.argsort(flat, kind="stable")[:count]
        flat[lowest[lowest != 0]] = 0.0
    return flat.reshape(fused.shape)


def rollout_by_layer(attentions: np.ndarray, fusion: str = "mean", discard_ratio: float = 0.0,
                     residual: float = 0.5) -> np.ndarray:
    """(L, H, T, T) attention -> (L, T, T): the rollout through layers 1..l for every l.

    Each layer becomes residual * I + (1 - residual) * A, rows renormalised to 1."""
    fused = fuse_heads(np.asarray(attentions, dtype=np.float64), fusion)  # (L, T, T)
    eye = np.eye(fused.shape[-1])
    result, out = eye, []
    for layer in fused:
        a = residual * eye + (1 - residual) * discard_lowest(layer, discard_ratio)  # (T, T)
        a = a / a.sum(-1, keepdims=True)  # (T, T): rows sum to 1
        result = a @ result  # (T, T)
        out.append(result)
    return np.stack(out).astype(np.float32)  # (L, T, T)


def attention_rollout(attentions: np.ndarray, fusion: str = "mean", discard_ratio: float = 0.0) -> np.ndarray:
    """(L, H, T, T) -> (T, T): the rollout through every layer; each row sums to 1."""
    return rollout_by_layer(attentions, fusion, discard_ratio)[-1]


def without_tokens(matrix: np.ndarray, drop: list[int]) -> tuple[np.ndarray, list[int]]:
    """Drop rows and columns `drop` from a (T, T) matrix and renormalise the rows that are left
    (a display option: hiding [CLS] and [SEP]). Returns the matrix and the kept indices."""
    keep = [i for i in range(matrix.shape[0]) if i not in set(drop)]
    if not keep:
        return np.zeros((0, 0), dtype=np.float32), keep
    sub = matrix[np.ix_(keep, keep)].astype(np.float64)
    sums = sub.sum(-1, keepdims=True)
    sub = np.divide(sub, sums, out=np.zeros_like(sub), where=sums > 0)
    return sub.astype(np.float32), keep
