"""all-MiniLM-L6-v2 (models/minilm.py) on the student's text: attention of every head, and the
effect of zeroing one head on the sentence embedding (or on a pair's cosine similarity).

Only through `zoo.borrow("minilm")`: the ablation adds forward pre-hooks that borrow removes, and
no weight is ever changed. Head ablation as in Michel, Levy & Neubig, "Are Sixteen Heads Really
Better than One?", NeurIPS 2019 (https://arxiv.org/abs/1905.10650): the head's output is set to 0
before the output projection.
"""
from __future__ import annotations

import numpy as np
import torch

from models import zoo

MODEL = "minilm"


def _encoding(model, first: str, second: str | None):
    tokenizer = model.tokenizer
    return tokenizer.encode(first, second) if second else tokenizer.encode(first)


@torch.no_grad()
def encode(first: str, second: str | None = None) -> dict:
    """One text, or a pair read together as [CLS] first [SEP] second [SEP].

    Returns tokens (wordpieces), attentions (L, H, T, T) float32 with rows summing to 1, the
    mean-pooled unit-length embedding (d,), and whether the text was cut to the model's 256 wordpieces."""
    with zoo.borrow(MODEL) as model:
        enc = _encoding(model, first, second)
        ids = torch.tensor(enc.ids)[None]  # (1, T)
        mask = torch.ones_like(ids, dtype=torch.bool)  # (1, T)
        hidden, att = model(ids, mask)  # (L+1, 1, T, C), (L, 1, H, T, T)
        embedding = model.mean_pool(hidden[-1], mask)[0]  # (C,)
    return {"tokens": list(enc.tokens), "attentions": att[:, 0].numpy().astype(np.float32),
            "embedding": embedding.numpy(), "truncated": len(enc.overflowing) > 0}


def _zero_heads_hook(mask: torch.Tensor):
    """A pre-hook for a layer's output projection: multiply its input (B, T, C) by mask (B, C)."""
    def hook(module, inputs):
        (x,) = inputs  # (B, T, C): the heads' outputs side by side
        return (x * mask[:, None, :],)
    return hook


@torch.no_grad()
def ablated_embeddings(text: str, max_batch_tokens: int = 4096) -> tuple[np.ndarray, np.ndarray, dict]:
    """The text's embedding (C,), its embedding with each head zeroed in turn (L, H, C), and its encoding.

    All L * H ablations run as one batch of copies (copy l * H + h loses head h of layer l), split
    into chunks of at most `max_batch_tokens` tokens so a 256-wordpiece text stays small in memory."""
    with zoo.borrow(MODEL) as model:
        cfg = model.cfg
        enc = model.tokenizer.encode(text)
        ids = torch.tensor(enc.ids)[None]  # (1, T)
        mask = torch.ones_like(ids, dtype=torch.bool)  # (1, T)
        hidden, att = model(ids, mask)  # (L+1, 1, T, C), (L, 1, H, T, T)
        base = model.mean_pool(hidden[-1], mask)[0]  # (C,)
        hs, copies = cfg.d_model // cfg.n_head, cfg.n_layer * cfg.n_head
        keep = torch.ones(cfg.n_layer, copies, cfg.d_model)  # (L, N, C): what each copy keeps in each layer
        for layer in range(cfg.n_layer):
            for head in range(cfg.n_head):
                keep[layer, layer * cfg.n_head + head, head * hs:(head + 1) * hs] = 0.0
        out = torch.zeros(copies, cfg.d_model)  # (N, C)
        chunk = max(1, min(copies, max_batch_tokens // ids.shape[1]))
        for start in range(0, copies, chunk):
            rows = slice(start, min(start + chunk, copies))
            n = rows.stop - rows.start
            handles = [model.layers[layer].attn.out.register_forward_pre_hook(_zero_heads_hook(keep[layer, rows]))
                       for layer in range(cfg.n_layer)]
            try:
                hidden_b, _ = model(ids.expand(n, -1), mask.expand(n, -1))  # (L+1, n, T, C)
            finally:
                for handle in handles:
                    handle.remove()
            out[rows] = model.mean_pool(hidden_b[-1], mask.expand(n, -1))  # (n, C)
    encoding = {"tokens": list(enc.tokens), "attentions": att[:, 0].numpy().astype(np.float32),
                "truncated": len(enc.overflowing) > 0}
    return base.numpy(), out.view(cfg.n_layer, cfg.n_head, -1).numpy(), encoding


def ablation(first: str, second: str | None = None) -> dict:
    """For every head (L, H): how far zeroing it moves the result, and how much attention it paid.

    One text: `effect` = 1 - cos(embedding, embedding without the head). A pair (each sentence
    embedded on its own, as sentence-transformers does): `effect` = the change of the pair's cosine
    similarity. `word_share` = the share of the words' attention that the head puts on other
    words (not [CLS] or [SEP]), averaged over the sentences."""
    from lessons.attention import measures

    texts = [first] + ([second] if second else [])
    runs = [ablated_embeddings(t) for t in texts]
    share = np.mean([measures.head_patterns(enc["attentions"], enc["tokens"])["words"] for _, _, enc in runs], axis=0)
    if second:
        (a, a_cut, _), (b, b_cut, _) = runs
        similarity = float(a @ b)
        effect = (a_cut * b_cut).sum(-1) - similarity  # (L, H): the change of the cosine similarity
    else:
        base, cut, _ = runs[0]
        similarity = float("nan")
        effect = 1.0 - cut @ base  # (L, H): both unit length
    return {"effect": effect.astype(np.float32), "word_share": share.astype(np.float32),
            "similarity": np.float32(similarity), "pair": np.bool_(bool(second)),
            "truncated": np.bool_(any(enc["truncated"] for _, _, enc in runs))}
