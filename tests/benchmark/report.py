"""Benchmark rows, the machine's matrix-multiply rate, and the Markdown table."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass


@dataclass
class Row:
    name: str
    value: float
    unit: str
    budget: float | None
    better: str = "lower"  # or "higher"
    note: str = ""

    @property
    def missed(self) -> bool:
        if self.budget is None or self.value != self.value:  # NaN counts as a miss only with a budget
            return self.budget is not None
        return self.value > self.budget if self.better == "lower" else self.value < self.budget

    def as_dict(self) -> dict:
        return {**asdict(self), "missed": self.missed}


def matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    """Achieved fp32 matrix-multiply rate of this machine (the physical reference for efficiency)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)  # (n, n)
    for _ in range(3):
        a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - started) / 1e9


def markdown_table(rows: list[Row], stamp: str, machine: str) -> str:
    lines = [f"Benchmark of {stamp} on {machine}.", "",
             "| measure | value | budget | |", "|---|---:|---:|---|"]
    for row in rows:
        budget = "" if row.budget is None else f"{'≤' if row.better == 'lower' else '≥'} {row.budget:g} {row.unit}"
        mark = "MISS" if row.missed else ("ok" if row.budget is not None else "")
        note = f" ({row.note})" if row.note else ""
        lines.append(f"| {row.name}{note} | {row.value:.3g} {row.unit} | {budget} | {mark} |")
    return "\n".join(lines) + "\n"
