"""The default view's results shipped in the repository (shipped_views.json, written by precompute.py), and
the keys that name them. json only: the page draws a shipped result before torch is imported, and computes
live (after page.go_live()) for anything the file does not hold."""
from __future__ import annotations

import functools
import json
from pathlib import Path

SHIPPED_FILE = Path(__file__).with_name("shipped_views.json")


def diagram_key(name: str, depth: int, direction: str, roll: bool, stack: str, input_shape: str) -> str:
    """A canonical name for one layer diagram: the arguments of graphs.diagram_data, in order."""
    return (f"diagram|model={name}|depth={depth}|direction={direction}|roll={roll}|stack={stack}"
            f"|input_shape={input_shape}")


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[str, dict]:
    return json.loads(SHIPPED_FILE.read_text()) if SHIPPED_FILE.exists() else {}


def shipped(key: str) -> dict | None:
    """The shipped result for `key` ({"diagram", "caption", "what_you_see"}), or None: compute it live."""
    return _shipped().get(key)


def shipped_keys() -> list[str]:
    return sorted(_shipped())


def write(results: dict[str, dict], path: Path = SHIPPED_FILE) -> None:
    path.write_text(json.dumps(results, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
