"""Numbers read off attention maps and ablations (numpy only): the page's sentences, its "Try
this" checks and the claims tests all use these, with the thresholds defined here."""
from __future__ import annotations

import numpy as np

from lessons.attention import rollout

# A head "is a previous-token head" (or next-token, or parks on [CLS]) on a sentence when it puts
# at least this share of the words' attention there.
PATTERN_SHARE = 0.5
# The toy head the page names solves its task when it puts at least this mass on the expected key.
TOY_SOLVED = 0.9
# Attention and importance "agree" across heads when their rank correlation reaches this.
AGREEMENT = 0.5


def word_rows(tokens: list[str]) -> np.ndarray:
    """Indices of the tokens that are not [CLS] / [SEP] (the words, as wordpieces)."""
    return np.array([i for i, t in enumerate(tokens) if t not in ("[CLS]", "[SEP]")], dtype=int)


def head_patterns(attentions: np.ndarray, tokens: list[str]) -> dict[str, np.ndarray]:
    """Per head (L, H): the mean share of the words' attention on the previous token, the next
    token, [CLS], [SEP] and the other words (wordpieces)."""
    a = np.asarray(attentions)  # (L, H, T, T)
    rows = word_rows(tokens)
    T = a.shape[-1]
    L, H = a.shape[:2]
    if len(rows) == 0:
        zero = np.zeros((L, H), dtype=np.float32)
        return {"previous": zero, "next": zero, "cls": zero, "sep": zero, "words": zero}
    cls = [i for i, t in enumerate(tokens) if t == "[CLS]"]
    sep = [i for i, t in enumerate(tokens) if t == "[SEP]"]
    sub = a[:, :, rows, :]  # (L, H, W, T)
    prev = sub[:, :, np.arange(len(rows)), rows - 1].mean(-1)  # (L, H)
    nxt = sub[:, :, np.arange(len(rows)), np.minimum(rows + 1, T - 1)].mean(-1)  # (L, H)
    return {"previous": prev, "next": nxt, "cls": sub[..., cls].sum(-1).mean(-1),
            "sep": sub[..., sep].sum(-1).mean(-1), "words": sub[..., rows].sum(-1).mean(-1)}


def strongest(values: np.ndarray) -> tuple[int, int, float]:
    """(layer, head, value) of the largest entry of an (L, H) array, layer and head counted from 1."""
    layer, head = np.unravel_index(int(np.argmax(values)), values.shape)
    return int(layer) + 1, int(head) + 1, float(values[layer, head])


def rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for value in np.unique(v):  # ties share their mean rank
            same = v == value
            r[same] = r[same].mean()
        return r
    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def cls_attention_grid(attentions: np.ndarray, grid: int) -> np.ndarray:
    """ViT attention (..., T, T) -> the [CLS] row over the patches as (..., grid, grid)."""
    row = np.asarray(attentions)[..., 0, 1:]  # (..., G*G)
    return row.reshape(row.shape[:-1] + (grid, grid))


def top_patch_share(grid_map: np.ndarray, k: int = 3) -> float:
    """The share of a non-negative map's total held by its k largest patches."""
    flat = np.sort(np.asarray(grid_map, dtype=np.float64).ravel())[::-1]
    total = flat.sum()
    return float(flat[:k].sum() / total) if total > 0 else 0.0


def grad_rollout_grid(attentions: np.ndarray, gradients: np.ndarray, discard_ratio: float, grid: int = 4) -> np.ndarray:
    """ViT Grad-rollout (rollout.grad_rollout) of one class -> the [CLS] row over the patches (grid, grid)."""
    return cls_attention_grid(rollout.grad_rollout(attentions, gradients, discard_ratio), grid)


def strongest_share(rows: np.ndarray) -> float:
    """The mean over rows (N, T) of each row's largest weight."""
    return float(np.asarray(rows).max(-1).mean())
