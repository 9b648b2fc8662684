"""A toy transformer whose right attention is known: one attention layer trained on a task where
the token that has to be read is fixed by the position alone.

- "reverse": output position i must be the input token at position n - 1 - i, so the right
  attention pattern is the anti-diagonal.
- "previous": output position i must be the input token at position i - 1 (position 0 outputs its
  own token), so the right pattern is the diagonal just below the main one.

The model is attention-only apart from the embeddings and the read-out: token and position
embeddings, one multi-head self-attention layer (softmax(Q K^T / sqrt(d)) V, Vaswani et al. 2017,
weights returned), a residual connection and a linear read-out. Only attention moves information
between positions, so a head that solves the task must look at the expected position. Trained by
`python -m lessons.attention.train_toy` (seeded); weights in lessons/attention/toy_weights.pt.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

WEIGHTS_FILE = Path(__file__).with_name("toy_weights.pt")
TASKS = ("reverse", "previous")


@dataclass(frozen=True)
class ToyConfig:
    vocab: int = 10  # tokens 0..9
    length: int = 8  # every sequence has 8 tokens
    dim: int = 32
    heads: int = 2


def expected_pattern(task: str, length: int) -> np.ndarray:
    """The attention a correct head must pay: (length, length), one 1 per row (query -> key)."""
    target = np.zeros((length, length), dtype=np.float32)
    rows = np.arange(length)
    keys = length - 1 - rows if task == "reverse" else np.maximum(rows - 1, 0)
    target[rows, keys] = 1.0
    return target


def targets(task: str, tokens: torch.Tensor) -> torch.Tensor:
    """The right output for each position: tokens (B, n) -> (B, n)."""
    if task == "reverse":
        return tokens.flip(-1)
    return torch.cat([tokens[:, :1], tokens[:, :-1]], dim=1)  # (B, n): the previous token


class ToyTransformer(nn.Module):
    def __init__(self, config: ToyConfig | None = None):
        super().__init__()
        self.config = config = config or ToyConfig()
        self.tok_emb = nn.Embedding(config.vocab, config.dim)
        self.pos_emb = nn.Parameter(torch.randn(config.length, config.dim) * 0.5)
        self.qkv = nn.Linear(config.dim, 3 * config.dim)
        self.proj = nn.Linear(config.dim, config.dim)
        self.readout = nn.Linear(config.dim, config.vocab)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, n) -> logits (B, n, vocab), attention (B, heads, n, n)."""
        b, n = tokens.shape
        h, d = self.config.heads, self.config.dim
        x = self.tok_emb(tokens) + self.pos_emb[:n]  # (B, n, D)
        q, k, v = self.qkv(x).split(d, dim=-1)  # 3 x (B, n, D)
        q, k, v = (z.view(b, n, h, d // h).transpose(1, 2) for z in (q, k, v))  # (B, H, n, Dh)
        weights = (q @ k.transpose(-2, -1) / math.sqrt(d // h)).softmax(-1)  # (B, H, n, n)
        mixed = (weights @ v).transpose(1, 2).reshape(b, n, d)  # (B, n, D)
        return self.readout(x + self.proj(mixed)), weights  # (B, n, V), (B, H, n, n)


def sample_tokens(generator: torch.Generator, batch: int, config: ToyConfig) -> torch.Tensor:
    return torch.randint(0, config.vocab, (batch, config.length), generator=generator)  # (B, n)


def train(task: str, seed: int = 0, steps: int = 3000, batch: int = 128, lr: float = 3e-3) -> ToyTransformer:
    """Adam on freshly sampled random sequences; the same seed gives the same weights (one thread)."""
    torch.manual_seed(seed)
    model = ToyTransformer()
    generator = torch.Generator().manual_seed(seed + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        tokens = sample_tokens(generator, batch, model.config)  # (B, n)
        logits, _ = model(tokens)  # (B, n, V)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), targets(task, tokens).flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def load(task: str) -> ToyTransformer:
    """The bundled toy model for `task` (eval mode, frozen)."""
    states = torch.load(WEIGHTS_FILE, map_location="cpu", weights_only=True)
    model = ToyTransformer()
    model.load_state_dict(states[task])
    return model.eval().requires_grad_(False)


def evaluation_tokens(count: int = 256, seed: int = 123) -> torch.Tensor:
    """Fixed held-out sequences (B, n) for the scores the page shows."""
    return sample_tokens(torch.Generator().manual_seed(seed), count, ToyConfig())


@torch.no_grad()
def head_scores(model: ToyTransformer, task: str, tokens: torch.Tensor) -> dict[str, np.ndarray]:
    """Per head: the mean attention mass on the expected key (over queries and sequences),
    the mean attention pattern, and the task accuracy."""
    logits, weights = model(tokens)  # (B, n, V), (B, H, n, n)
    expected = torch.from_numpy(expected_pattern(task, tokens.shape[1]))  # (n, n)
    mass = (weights * expected).sum(-1).mean(dim=(0, 2))  # (H,)
    accuracy = (logits.argmax(-1) == targets(task, tokens)).float().mean()
    return {"mass": mass.numpy(), "mean_pattern": weights.mean(0).numpy(), "accuracy": np.float32(accuracy)}
