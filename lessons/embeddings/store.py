"""The projections shipped in the repository (shipped_results.npz, written by precompute.py), named by
compute.result_key. numpy only: the page draws a shipped result before torch, scikit-learn or umap is
imported. The archive separates a result's key from its field names with "::" (keys hold "/")."""
from __future__ import annotations

from pathlib import Path

from lessons.shipped_results import ShippedResults

RESULTS = ShippedResults(Path(__file__).with_name("shipped_results.npz"), separator="::")
SHIPPED_FILE, shipped, shipped_keys, write = RESULTS.path, RESULTS.get, RESULTS.keys, RESULTS.write
