"""Train every preset (and each activation variant of the default) once and store its per-layer statistics in preset_runs.json.gz (committed).

The page draws its first picture from these runs before torch is imported, and the "Try this"
checks use them until the student trains. Seeded and deterministic: tests/unit/test_gradients.py
re-runs the default preset and compares it with the file, so the file cannot drift from the code.

    python -m lessons.gradients.precompute
"""
from __future__ import annotations

import time
from pathlib import Path

from lessons.gradients.compute import SHIPPED_SPECS, load_data, train_to_end
from lessons.gradients.run_store import run_to_json, write_presets

PRESET_FILE = Path(__file__).with_name("preset_runs.json.gz")


def precompute(keys=None) -> dict:
    data = load_data()
    out = {}
    for key in keys or SHIPPED_SPECS:
        start = time.perf_counter()
        run = train_to_end(SHIPPED_SPECS[key], data)
        out[key] = run_to_json(run)
        print(f"{key}: {run.status}, {len(run.steps)} steps, {time.perf_counter() - start:.1f} s")
    return out


def main() -> None:
    import torch

    torch.set_num_threads(1)  # the same numbers on any machine for these small nets, and no oversubscription
    presets = precompute()
    write_presets(PRESET_FILE, presets)
    print(f"wrote {PRESET_FILE} ({PRESET_FILE.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
