"""The session's runs (at most MAX_RUNS) and the compact gzipped JSON of the shipped preset runs
(written by precompute.py, read by the page before torch is even imported).

Plain numpy (no Streamlit, no torch).
"""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np

from lessons.gradients.compute import PRESETS, SHIPPED_SPECS, Run, RunSpec

MAX_RUNS = 6
SIGNIFICANT = 3  # digits kept in the JSON file (0.5% at most: finer than any chart shows)


def add_run(runs: list[Run], run: Run, limit: int = MAX_RUNS) -> list[Run]:
    """Append `run`, dropping the oldest finished runs so that at most `limit` remain (in place)."""
    runs.append(run)
    while len(runs) > limit:
        oldest = next((r for r in runs if not r.live), runs[0])
        runs.remove(oldest)
    return runs


def _number(value: float):
    """A float for JSON: rounded to SIGNIFICANT digits; inf and NaN as strings."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(f"{value:.{SIGNIFICANT}g}")


def _value(item) -> float:
    return float(item) if isinstance(item, str) else item


def run_to_json(run: Run) -> dict:
    stats = np.asarray(run.stats, dtype=np.float64)  # (steps, layers, stats)
    return dict(spec=run.spec.to_dict(), status=run.status, layers=run.layers,
                steps=[{k: _number(v) if isinstance(v, float) else v for k, v in row.items()} for row in run.steps],
                stats=[[[_number(v) for v in layer] for layer in step] for step in stats.tolist()],
                diverged=None if run.diverged is None else {k: _number(v) if isinstance(v, float) else v
                                                             for k, v in run.diverged.items()})


def run_from_json(item: dict, name: str = "") -> Run:
    spec = RunSpec(**item["spec"])
    stats = [np.array([[_value(v) for v in layer] for layer in step], dtype=np.float32) for step in item["stats"]]
    steps = [{k: _value(v) if k != "step" else v for k, v in row.items()} for row in item["steps"]]
    diverged = item["diverged"]
    if diverged is not None:
        diverged = {k: _value(v) if k == "value" else v for k, v in diverged.items()}
    return Run(spec=spec, name=name or spec.describe(), source="precomputed", status=item["status"],
               layers=list(item["layers"]), steps=steps, stats=stats, diverged=diverged)


def write_presets(path: Path, presets: dict[str, dict]) -> None:
    """Gzipped JSON (165 KB instead of 680 KB for 7 runs x 100 steps x 11 layers x 14 statistics)."""
    text = json.dumps(dict(version=1, presets=presets), separators=(",", ":"))
    Path(path).write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))  # mtime 0: reproducible


def load_presets(path: Path) -> dict[str, Run]:
    stored = json.loads(gzip.decompress(Path(path).read_bytes()))["presets"]
    def name(key: str) -> str:
        return f"{PRESETS[key].title if key in PRESETS else SHIPPED_SPECS[key].describe()} (precomputed)"

    return {key: run_from_json(item, name=name(key)) for key, item in stored.items() if key in SHIPPED_SPECS}
