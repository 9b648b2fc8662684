"""Compute the result every view draws at its defaults and for each text preset; ship them.

    python -m lessons.attention.precompute     # writes lessons/attention/shipped_results.npz

Run `python -m lessons.attention.train_toy` first if toy_weights.pt is missing. Deterministic on one
thread; tests/unit/test_attention.py recomputes these and compares, so a stale file fails.
"""
from __future__ import annotations

import time

import torch

from lessons.attention import compute, store
from lessons.attention.settings import DEFAULTS as D
from lessons.attention.settings import PRESETS, TASKS


def default_jobs() -> dict:
    texts = {(D["sentence"], D["second"])} | {(p["sentence"], p["second"]) for p in PRESETS.values()}
    jobs = {}
    for sentence, second in sorted(texts):
        jobs[compute.text_key(sentence, second)] = (compute.text_result, sentence, second)
        jobs[compute.ablation_key(sentence, second)] = (compute.ablation_result, sentence, second)
        jobs[compute.flow_key(sentence, second)] = (compute.flow_result, sentence, second)
    jobs[compute.digit_key(D["digit"])] = (compute.digit_result, D["digit"])
    for task in TASKS:
        jobs[compute.toy_key(task)] = (compute.toy_result, task)
    return jobs


def main() -> None:
    torch.set_num_threads(1)
    shipped = {}
    for key, (job, *args) in default_jobs().items():
        start = time.perf_counter()
        shipped[key] = job(*args)
        print(f"{key} {args}: {time.perf_counter() - start:.2f} s")
    store.write(shipped)
    print(f"wrote {store.SHIPPED_FILE} ({store.SHIPPED_FILE.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
