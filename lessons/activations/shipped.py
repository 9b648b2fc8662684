"""The Heatmap view at the lesson's defaults, shipped in the repository (shipped_heatmap.json and the overlay
shipped_heatmap.png, written by `python -m lessons.activations.precompute`): a fresh server draws the default
page from these files before torch is imported, as CNN Explainer draws precomputed pictures. Any other
choice of controls is computed live (views.heatmap_result, after page.go_live()).

No torch and no model here: json, pandas for the top-5 table the chart reads, PIL for the PNG.
"""
from __future__ import annotations

import functools
import io
import json
from pathlib import Path

RESULT_FILE = Path(__file__).with_name("shipped_heatmap.json")
OVERLAY_FILE = Path(__file__).with_name("shipped_heatmap.png")
TOP_COLUMNS = ("rank", "class_index", "label", "probability")
TIMING = ("Shipped with the course: computed by this page's code when the course was built. Change any control "
          "to compute it live on the server's CPU.")


def overlay_png(overlay) -> bytes:
    """The overlay (H, W, 3) uint8 as PNG bytes (lossless, so the page shows the computed pixels)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(overlay).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def top_records(top) -> dict[str, list]:
    """The top-5 DataFrame as json-able columns (probabilities as float32 values, as the live table holds)."""
    return {name: [v.item() if hasattr(v, "item") else v for v in top[name]] for name in TOP_COLUMNS}


def top_frame(records: dict[str, list]):
    """The top-5 DataFrame, with the live table's dtypes (int64 indices, float32 probabilities): the chart's
    data, and so the page, are then the same as when computed live."""
    import numpy as np
    import pandas as pd

    return pd.DataFrame({"rank": np.int64(records["rank"]), "class_index": np.int64(records["class_index"]),
                         "label": list(records["label"]), "probability": np.float32(records["probability"])})


def write(record: dict, overlay) -> None:
    """Write the shipped files: `record` (json-able, no overlay) and the overlay as PNG."""
    OVERLAY_FILE.write_bytes(overlay_png(overlay))
    RESULT_FILE.write_text(json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


@functools.lru_cache(maxsize=1)
def _stored() -> dict | None:
    return json.loads(RESULT_FILE.read_text()) if RESULT_FILE.exists() and OVERLAY_FILE.exists() else None


@functools.lru_cache(maxsize=1)
def _overlay():
    import numpy as np
    from PIL import Image

    with Image.open(OVERLAY_FILE) as image:
        return np.asarray(image.convert("RGB"))  # (H, W, 3) uint8


def stored() -> dict | None:
    """The shipped record as written (controls, top, caption, sentences, result), or None."""
    return _stored()


def heatmap(controls: dict) -> dict | None:
    """What views.heatmap_result returns for `controls` (name -> value), read from the shipped files (timing
    says so), or None when they were computed for other controls or are missing: the page then computes live."""
    record = _stored()
    if record is None or record["controls"] != controls:
        return None
    return {"overlay": _overlay(), "caption": record["caption"], "top": top_frame(record["top"]), "timing": TIMING,
            "sentences": list(record["sentences"]), "result": dict(record["result"])}
