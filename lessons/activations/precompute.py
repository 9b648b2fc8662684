"""Compute the activation page's default view (the Heatmap of the cat photo) and ship it, so a fresh server
draws the page before torch is imported:

    python -m lessons.activations.precompute

It runs the page's own live path (views.heatmap_result, the same cached functions) at the lesson's defaults
and writes shipped_heatmap.json (top-5, caption, "What you see", the numbers "Try this" reads) and
shipped_heatmap.png (the overlay). Deterministic: the model is pretrained and Grad-CAM draws no random
numbers (seeded anyway); the timing is not stored. tests/unit/test_activations_shipped.py recomputes the
defaults and compares them with the files, so a stale file fails.
"""
from __future__ import annotations

import logging
import time

from lessons.activations import shipped
from lessons.activations.controls import DEFAULTS, PHOTO_MODEL


def default_heatmap() -> dict:
    """views.heatmap_result at the lesson's defaults (what the live page draws when nothing is shipped)."""
    import torch

    from lessons.activations import views
    from lessons.activations.controls import load_input
    from models import catalogue

    # the page's cached functions run outside a Streamlit session here: silence their "no runtime" warnings
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    assert DEFAULTS["model"] == PHOTO_MODEL and DEFAULTS["view"] == "Heatmap"
    torch.manual_seed(0)
    source, framing = f"photo:{DEFAULTS['image']}", DEFAULTS["framing"]
    x, rgb = load_input(source, framing)
    return views.heatmap_result(
        PHOTO_MODEL, (source, framing, x, rgb), catalogue.info(PHOTO_MODEL).target_layers, DEFAULTS["target"],
        DEFAULTS["method"], DEFAULTS["layer"], DEFAULTS["opacity"], DEFAULTS["colormap"], DEFAULTS["aug_smooth"],
        DEFAULTS["eigen_smooth"], DEFAULTS["channels"])


def shipped_record(drawn: dict) -> dict:
    """What the json file holds for a heatmap_result: everything but the overlay (a PNG beside it) and the
    timing (a measurement, not a result)."""
    from lessons.activations.views import shipped_controls

    result = {k: v for k, v in drawn["result"].items() if k != "seconds"}
    return {"controls": shipped_controls(), "caption": drawn["caption"], "top": shipped.top_records(drawn["top"]),
            "sentences": list(drawn["sentences"]), "result": result}


def main() -> None:
    from lessons import process_settings

    process_settings.apply()  # before torch is imported: one thread, as the server computes the live page
    start = time.perf_counter()
    drawn = default_heatmap()
    shipped.write(shipped_record(drawn), drawn["overlay"])
    size = sum(path.stat().st_size for path in (shipped.RESULT_FILE, shipped.OVERLAY_FILE)) / 1024
    print(f"wrote {shipped.RESULT_FILE.name} and {shipped.OVERLAY_FILE.name} ({size:.1f} KB) "
          f"in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
