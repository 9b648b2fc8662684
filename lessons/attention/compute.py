"""The lesson's computations by plain values (what page helpers cache and precompute ships).
Returns dicts of numpy arrays. Never imports streamlit."""
from __future__ import annotations

import numpy as np

from lessons.attention import store


def text_key(sentence: str, second: str) -> str:
    return store.result_key("text", sentence=sentence, second=second)


def ablation_key(sentence: str, second: str) -> str:
    return store.result_key("ablation", sentence=sentence, second=second)


def flow_key(sentence: str, second: str) -> str:
    return store.result_key("flow", sentence=sentence, second=second)


def digit_key(index: int) -> str:
    return store.result_key("digit", index=int(index))


def toy_key(task: str) -> str:
    return store.result_key("toy", task=task)


def text_result(sentence: str, second: str) -> dict:
    from lessons.attention import text

    out = text.encode(sentence, second or None)
    return {"tokens": out["tokens"], "attentions": out["attentions"], "truncated": np.bool_(out["truncated"])}


def flow_result(sentence: str, second: str) -> dict:
    """Attention flow (flow.py) of the text, heads averaged (Abnar & Zuidema): (T, T), rows summing to 1.
    Raises ValueError for a text longer than flow.MAX_TOKENS tokens (T^2 maximum-flow problems)."""
    from lessons.attention import flow, rollout

    attentions = text_result(sentence, second)["attentions"]  # (L, H, T, T)
    if attentions.shape[-1] > flow.MAX_TOKENS:
        raise ValueError(f"attention flow is computed for at most {flow.MAX_TOKENS} tokens")
    return {"flow": flow.attention_flow(rollout.residual_layers(attentions))}


def ablation_result(sentence: str, second: str) -> dict:
    from lessons.attention import text

    return text.ablation(sentence, second or None)


def digit_result(index: int) -> dict:
    from lessons.attention import vision

    return vision.digit_result(int(index))


def toy_result(task: str) -> dict:
    from lessons.attention import toy

    model = toy.load(task)
    tokens = toy.evaluation_tokens()  # (B, n)
    scores = toy.head_scores(model, task, tokens)
    import torch

    with torch.no_grad():
        _, example = model(tokens[:1])  # (1, H, n, n)
    return {"mass": scores["mass"], "mean_pattern": scores["mean_pattern"], "accuracy": scores["accuracy"],
            "expected": toy.expected_pattern(task, tokens.shape[1]), "example_tokens": tokens[0].numpy(),
            "example_pattern": example[0].numpy()}


def warm_up() -> None:
    """The first MiniLM and ViT forwards in this process (lazy inits, allocator)."""
    text_result("Warm up.", "")
    digit_result(0)
