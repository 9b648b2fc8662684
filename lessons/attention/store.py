"""The attention results shipped in the repository (shipped_results.npz, written by precompute.py),
named by a hash of their parameters (a sentence may be any text a student typed). numpy only: the page
draws a shipped result before torch is imported."""
from __future__ import annotations

from pathlib import Path

from lessons.shipped_results import ShippedResults
from lessons.shipped_results import hashed_result_key as result_key  # noqa: F401 - the lesson's key function

RESULTS = ShippedResults(Path(__file__).with_name("shipped_results.npz"))
SHIPPED_FILE, shipped_keys, write = RESULTS.path, RESULTS.keys, RESULTS.write


def shipped(key: str) -> dict | None:
    """The shipped result (a fresh dict; "tokens" as a list of str), or None."""
    hit = RESULTS.get(key)
    if hit is not None and "tokens" in hit:
        hit["tokens"] = [str(token) for token in hit["tokens"]]
    return hit
