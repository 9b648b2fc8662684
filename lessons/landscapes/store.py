"""The loss surfaces and curves shipped in the repository (shipped_results.npz, written by
precompute.py), named by lessons.shipped_results.result_key: "surface|model=digits_mlp|resolution=33|...".
numpy only: the page draws a shipped result before torch is imported."""
from __future__ import annotations

from pathlib import Path

from lessons.shipped_results import ShippedResults, result_key  # noqa: F401 - the lesson's key function

RESULTS = ShippedResults(Path(__file__).with_name("shipped_results.npz"))
SHIPPED_FILE, shipped, shipped_keys, write = RESULTS.path, RESULTS.get, RESULTS.keys, RESULTS.write
