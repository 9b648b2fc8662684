"""Results shipped in the repository (shipped_results.npz, written by precompute.py) and the keys
that name them. numpy only: the page draws a shipped result before torch is imported."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

SHIPPED_FILE = Path(__file__).with_name("shipped_results.npz")


def result_key(kind: str, **params) -> str:
    """A canonical name for one computation: "concepts|framing=whole image|image=cat|k=5|layer=...". """
    return "|".join([kind] + [f"{name}={params[name]}" for name in sorted(params)])


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[str, dict[str, np.ndarray]]:
    if not SHIPPED_FILE.exists():
        return {}
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(SHIPPED_FILE) as archive:
        for name in archive.files:
            key, _, field = name.rpartition("/")
            out.setdefault(key, {})[field] = archive[name]
    return out


def shipped(key: str) -> dict[str, np.ndarray] | None:
    """The shipped result of this computation, or None when it has to be computed live."""
    return _shipped().get(key)


def write(results: dict[str, dict[str, np.ndarray]], path: Path = SHIPPED_FILE) -> None:
    arrays = {f"{key}/{field}": np.asarray(value) for key, fields in results.items() for field, value in fields.items()}
    np.savez_compressed(path, **arrays)
