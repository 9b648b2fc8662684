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


def with_residual(fused: np.ndarray, discard_ratio: float = 0.0, residual: float = 0.5) -> np.ndarray:
    """(L, T, T) fused attention -> (L, T, T): each layer as residual * I + (1 - residual) * A (after
    discarding its lowest weights), rows renormalised to 1. Rollout multiplies these layers; attention
    flow (flow.py) uses them as the capacities of its graph."""
    eye = np.eye(fused.shape[-1])
    mixed = [residual * eye + (1 - residual) * discard_lowest(layer, discard_ratio) for layer in fused]  # (T, T) each
    mixed = np.stack(mixed)  # (L, T, T)
    return mixed / mixed.sum(-1, keepdims=True)  # (L, T, T): rows sum to 1


def residual_layers(attentions: np.ndarray, fusion: str = "mean", discard_ratio: float = 0.0) -> np.ndarray:
    """(L, H, T, T) attention -> (L, T, T): the heads fused, then with_residual."""
    return with_residual(fuse_heads(np.asarray(attentions, dtype=np.float64), fusion), discard_ratio)


def multiply_layers(layers: np.ndarray) -> np.ndarray:
    """(L, T, T) -> (L, T, T): the products A_l ... A_1 for every l."""
    result, out = np.eye(layers.shape[-1]), []
    for layer in layers:
        result = layer @ result  # (T, T)
        out.append(result)
    return np.stack(out).astype(np.float32)  # (L, T, T)


def rollout_by_layer(attentions: np.ndarray, fusion: str = "mean", discard_ratio: float = 0.0) -> np.ndarray:
    """(L, H, T, T) attention -> (L, T, T): the rollout through layers 1..l for every l."""
    return multiply_layers(residual_layers(attentions, fusion, discard_ratio))


def attention_rollout(attentions: np.ndarray, fusion: str = "mean", discard_ratio: float = 0.0) -> np.ndarray:
    """(L, H, T, T) -> (T, T): the rollout through every layer; each row sums to 1."""
    return rollout_by_layer(attentions, fusion, discard_ratio)[-1]


def grad_rollout(attentions: np.ndarray, gradients: np.ndarray, discard_ratio: float = 0.0) -> np.ndarray:
    """Gradient-weighted rollout, (L, H, T, T) attention and its gradient -> (T, T), rows summing to 1.

    vit-explain's `grad_rollout` (Jacob Gildenblat, https://github.com/jacobgil/vit-explain), after
    Chefer, Gur & Wolf, "Generic Attention-model Explainability for Interpreting Bi-Modal and
    Encoder-Decoder Transformers", ICCV 2021 (https://arxiv.org/abs/2103.15679): weight each head's
    attention by the gradient of the class score with respect to it, average the heads, clamp the
    negative parts to 0, then roll out with the identity as attention rollout does. Unlike rollout,
    the map depends on the class. Two slips of vit-explain's code are not copied: its gradients,
    collected by backward hooks, come in reverse layer order (vit-explain issue 6), and it divides by
    the row sums along the wrong axis; here each layer meets its own gradient and rows are renormalised.
    (Chefer et al. clamp per head before averaging and accumulate R + A R without renormalising.)"""
    weighted = np.asarray(attentions, dtype=np.float64) * np.asarray(gradients, dtype=np.float64)  # (L, H, T, T)
    fused = np.maximum(weighted.mean(axis=1), 0.0)  # (L, T, T)
    return multiply_layers(with_residual(fused, discard_ratio))[-1]


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
