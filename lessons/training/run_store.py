"""Several runs: the session's list (at most MAX_RUNS), their metrics as one table and a CSV, and
the compact JSON of the precomputed preset runs (written by precompute.py, read by the page).

Plain numpy and pandas (no Streamlit, no torch).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lessons.training.compute import PRESETS, Run, RunSpec

MAX_RUNS = 8


# --------------------------------------------------------------------------- several runs


def add_run(runs: list[Run], run: Run, limit: int = MAX_RUNS) -> list[Run]:
    """Append `run`, dropping the oldest so that at most `limit` remain (in place, returned)."""
    runs.append(run)
    del runs[:-limit]
    return runs


def runs_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """All runs' per-epoch metrics in one long table (for the overlay chart and the CSV)."""
    columns = ["run", "run_id", "epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "seconds",
               "status", *RunSpec().to_dict()]
    rows = [{"run": run.name, "run_id": run.run_id, **epoch, "status": run.status, **run.spec.to_dict()}
            for run in runs for epoch in run.epochs]
    return pd.DataFrame(rows, columns=columns)


def runs_csv(runs: Sequence[Run]) -> str:
    return runs_frame(runs).to_csv(index=False)


# --------------------------------------------------------------------------- precomputed runs


def _columns(rows: list[dict], digits: int = 5) -> dict[str, list]:
    """Rows -> columns, floats rounded (compact JSON)."""
    if not rows:
        return {}
    return {key: [round(r[key], digits) if isinstance(r[key], float) else r[key] for r in rows]
            for key in rows[0]}


def _rows(columns: dict[str, list]) -> list[dict]:
    keys = list(columns)
    return [dict(zip(keys, values)) for values in zip(*(columns[k] for k in keys))]


def run_to_json(run: Run) -> dict:
    """A compact dict (columns of rounded floats) for the committed preset file."""
    out = dict(spec=run.spec.to_dict(), status=run.status, steps=_columns(run.steps),
               evals=_columns(run.evals), epochs=_columns(run.epochs), diverged=run.diverged,
               seconds=round(run.seconds, 2), total_steps=run.total_steps)
    if run.diverged is not None:
        out["diverged"] = dict(run.diverged, loss=str(run.diverged["loss"]))  # "nan"/"inf" survive JSON
    if run.val_probs is not None:
        out["val_permille"] = np.round(run.val_probs * 1000).astype(int).tolist()  # (M, 10)
        out["val_labels"] = run.val_labels.tolist()
    return out


def run_from_json(item: dict, name: str = "") -> Run:
    spec = RunSpec(**item["spec"])
    run = Run(spec=spec, name=name or spec.describe(), source="precomputed", status=item["status"],
              steps=_rows(item["steps"]), evals=_rows(item["evals"]), epochs=_rows(item["epochs"]),
              seconds=item["seconds"], total_steps=item["total_steps"])
    if item.get("diverged"):
        run.diverged = dict(item["diverged"], loss=float(item["diverged"]["loss"]))
    if "val_permille" in item:
        permille = np.asarray(item["val_permille"], dtype=np.float32)  # (M, 10)
        run.val_probs = permille / permille.sum(1, keepdims=True).clip(min=1)
        run.val_labels = np.asarray(item["val_labels"], dtype=np.int64)
    return run


def load_presets(path) -> dict[str, Run]:
    """The precomputed preset runs stored by `lessons/training/precompute.py`."""
    import json
    from pathlib import Path

    stored = json.loads(Path(path).read_text())["presets"]
    return {key: run_from_json(item, name=f"{PRESETS[key].title} (precomputed)")
            for key, item in stored.items() if key in PRESETS}
