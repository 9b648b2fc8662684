"""Train the toy transformers whose right attention is known (lessons/attention/toy.py).

    python -m lessons.attention.train_toy     # writes lessons/attention/toy_weights.pt

Seeded and run on one torch thread, so the same command gives the same weights.
"""
from __future__ import annotations

import time

import torch

from lessons.attention import toy


def main() -> None:
    torch.set_num_threads(1)
    states = {}
    for task in toy.TASKS:
        start = time.perf_counter()
        model = toy.train(task)
        scores = toy.head_scores(model, task, toy.evaluation_tokens())
        states[task] = model.state_dict()
        print(f"{task}: {time.perf_counter() - start:.1f} s, accuracy {scores['accuracy']:.3f}, "
              f"mass on the expected key per head {scores['mass'].round(3).tolist()}")
    torch.save(states, toy.WEIGHTS_FILE)
    print(f"wrote {toy.WEIGHTS_FILE} ({toy.WEIGHTS_FILE.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
