"""The results shipped in the repository (shipped_results.npz, written by precompute.py), looked up
by the key that names a computation (compute.result_key). numpy only: the page draws a shipped
result before torch, scikit-learn or umap is imported."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

SHIPPED_FILE = Path(__file__).with_name("shipped_results.npz")
SEPARATOR = "::"  # between a result's key and a field name in the archive


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[str, dict[str, np.ndarray]]:
    if not SHIPPED_FILE.exists():
        return {}
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(SHIPPED_FILE, allow_pickle=False) as archive:
        for name in archive.files:
            key, _, field = name.rpartition(SEPARATOR)
            value = archive[name]
            value.setflags(write=False)
            out.setdefault(key, {})[field] = value
    return out


def shipped(key: str) -> dict[str, np.ndarray] | None:
    """The shipped result (a fresh dict of read-only arrays), or None when it must be computed live."""
    hit = _shipped().get(key)
    return None if hit is None else dict(hit)


def shipped_keys() -> list[str]:
    return sorted(_shipped())


def write(results: dict[str, dict[str, np.ndarray]], path: Path = SHIPPED_FILE) -> None:
    arrays = {f"{key}{SEPARATOR}{field}": np.asarray(value) for key, fields in results.items()
              for field, value in fields.items()}
    np.savez_compressed(path, **arrays)
