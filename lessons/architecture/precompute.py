"""Compute the architecture page's default view and ship it (shipped_views.json), so a fresh server draws
the page before torch is imported:

    python -m lessons.architecture.precompute

Deterministic (the diagram holds shapes and parameter counts, no weight values; seeded anyway).
tests/unit/test_architecture_shipped.py recomputes the defaults and compares them with the file, so a stale
file fails.
"""
from __future__ import annotations

import time

from lessons.architecture import content, shipped
from lessons.architecture.view_helpers import DEFAULTS

# the layer diagram's arguments at the page's defaults (graphs.diagram_data's order); roll = not unroll
DEFAULT_DIAGRAM = (DEFAULTS["model"], DEFAULTS["depth"], DEFAULTS["direction"], not DEFAULTS["unroll"],
                   DEFAULTS["stack"], DEFAULTS["input_shape"])


def default_results() -> dict[str, dict]:
    """key -> what the default view draws from it: the diagram, its caption and its "What you see"."""
    import torch

    from lessons.architecture import graphs

    torch.manual_seed(0)
    d = graphs.diagram_data(*DEFAULT_DIAGRAM)
    depth = DEFAULT_DIAGRAM[1]
    return {shipped.diagram_key(*DEFAULT_DIAGRAM): {"diagram": d, "caption": content.diagram_caption(d, depth),
                                                    "what_you_see": content.diagram_sentences(d, depth)}}


def main() -> None:
    start = time.perf_counter()
    results = default_results()
    shipped.write(results)
    print(f"wrote {shipped.SHIPPED_FILE} ({shipped.SHIPPED_FILE.stat().st_size / 1024:.1f} KB, "
          f"{len(results)} result(s)) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
