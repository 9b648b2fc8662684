"""Train every preset once and store its curves in preset_curves.json (committed).

The page shows these curves before the student's first click, and the "Try this" checks use
them until the student trains. Seeded and deterministic: `tests/unit/test_training.py` re-runs
one preset and compares it with the file, so the file cannot drift from the code.

    python -m lessons.training.precompute
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from lessons.training.compute import PRESETS, train_to_end
from lessons.training.run_store import run_to_json

PRESET_FILE = Path(__file__).with_name("preset_curves.json")


def precompute(keys=None) -> dict:
    out = {}
    for key in keys or PRESETS:
        start = time.perf_counter()
        run = train_to_end(PRESETS[key].spec)
        out[key] = run_to_json(run)
        print(f"{key}: {run.status}, {len(run.steps)} steps, {time.perf_counter() - start:.1f} s")
    return out


def main() -> None:
    presets = precompute()
    PRESET_FILE.write_text(json.dumps(dict(version=1, presets=presets), separators=(",", ":")))
    print(f"wrote {PRESET_FILE} ({PRESET_FILE.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
