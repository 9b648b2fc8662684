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
    like_for_like: float | None = None  # the figure a quoted peer was measured as (full RSS), if not `value`

    @property
    def missed(self) -> bool:
        if self.budget is None or self.value != self.value:  # NaN counts as a miss only with a budget
            return self.budget is not None
        return self.value > self.budget if self.better == "lower" else self.value < self.budget

    def as_dict(self) -> dict:
        return {**asdict(self), "missed": self.missed}


# Peers quoted from an earlier measurement (TorchCam's own Streamlit demo, in a browser on a machine
# of this workplace, 2026-11-26), not measured in this run: the notes say so. A peer counts as a
# comparison only when it runs in the same run, as the floor page does.
QUOTED_ON = "2026-11-26"
PEERS = {
    "/activations usable, warm server": ("TorchCam demo's new tab", 3.5),
    "/activations warm interaction median": ("TorchCam demo", 0.48),  # compute button to result
    "/activations warm interaction p95": ("TorchCam demo", 2.42),
    "activations: ScoreCAM": ("TorchCam demo, no progress shown", 21.0),
    "/activations server memory": ("TorchCam demo after the same work", 863.0),
    "server peak memory": ("TorchCam demo after four models", 1660.0),
}


def with_peer(row: "Row") -> "Row":
    """Note the peer's figure beside ours, and whether we beat it."""
    for prefix, (peer, value) in PEERS.items():
        if row.name.startswith(prefix):
            ours = row.value if row.like_for_like is None else row.like_for_like
            verdict = "faster" if ours < value else "NOT better"
            if row.unit == "MB":
                verdict = "less" if ours < value else "NOT less"
            measured_as = "" if row.like_for_like is None else f" (RSS {ours:.0f} {row.unit})"
            quoted = f"{peer}: {value:g} {row.unit}, quoted from {QUOTED_ON}, not this run; ours{measured_as} {verdict}"
            row.note = "; ".join(filter(None, [row.note, quoted]))
    return row


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
        note = f" ({' '.join(row.note.split())})" if row.note else ""  # one line: a table cell
        lines.append(f"| {row.name}{note} | {row.value:.3g} {row.unit} | {budget} | {mark} |")
    return "\n".join(lines) + "\n"
