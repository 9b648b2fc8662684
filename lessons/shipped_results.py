"""Results shipped in the repository as one compressed numpy archive per lesson
(`lessons/<slug>/shipped_results.npz`, written by the lesson's precompute.py), looked up by the key
that names a computation. numpy only: a page draws a shipped result before torch is imported, as CNN
Explainer draws precomputed pictures, and computes live for anything the archive does not hold.

Each result is a dict of named arrays; in the archive its arrays are stored as "<key><separator><field>".
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np


def result_key(kind: str, **params) -> str:
    """A canonical, readable name for one computation: "surface|model=digits_mlp|resolution=33"."""
    return "|".join([kind] + [f"{name}={params[name]}" for name in sorted(params)])


def hashed_result_key(kind: str, **params) -> str:
    """A short stable name for a computation whose parameters may be any text a student typed."""
    canonical = "|".join([kind] + [f"{name}={params[name]!r}" for name in sorted(params)])
    return f"{kind}-{hashlib.sha1(canonical.encode('utf-8')).hexdigest()[:16]}"


class ShippedResults:
    """One lesson's archive: read once per process (arrays read-only, shared by every session)."""

    def __init__(self, path: Path, separator: str = "/") -> None:
        self.path = path
        self.separator = separator
        self._load = functools.lru_cache(maxsize=1)(self._read)

    def _read(self) -> dict[str, dict[str, np.ndarray]]:
        if not self.path.exists():
            return {}
        out: dict[str, dict[str, np.ndarray]] = {}
        with np.load(self.path, allow_pickle=False) as archive:
            for name in archive.files:
                key, _, field = name.rpartition(self.separator)
                value = archive[name]
                value.setflags(write=False)
                out.setdefault(key, {})[field] = value
        return out

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        """The shipped result (a fresh dict of read-only arrays), or None when it must be computed live."""
        hit = self._load().get(key)
        return None if hit is None else dict(hit)

    def keys(self) -> list[str]:
        return sorted(self._load())

    def reload(self) -> None:
        """Forget what was read (after precompute.py rewrote the archive, or to time a cold read)."""
        self._load.cache_clear()

    def write(self, results: Mapping[str, Mapping[str, object]]) -> None:
        arrays = {f"{key}{self.separator}{field}": np.asarray(value)
                  for key, fields in results.items() for field, value in fields.items()}
        np.savez_compressed(self.path, **arrays)
        self.reload()
