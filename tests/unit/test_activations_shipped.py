"""The activation page's shipped default view (lessons/activations/shipped_heatmap.json and .png): it is what
the code computes now for the lesson's defaults (a stale file fails), it names the defaults it was computed
for, it is small, and reading it needs no torch.

Regenerate after an intended change with `python -m lessons.activations.precompute`.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lessons.activations import precompute, shipped
from lessons.activations.controls import DEFAULTS
from lessons.activations.views import HEATMAP_CONTROLS, shipped_controls

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def computed() -> dict:
    return precompute.default_heatmap()


def test_the_shipped_record_equals_what_the_code_computes_for_the_defaults(computed):
    on_disk = json.loads(shipped.RESULT_FILE.read_text())
    now = json.loads(json.dumps(precompute.shipped_record(computed)))  # as the file stores it
    # floats computed on another machine or thread count may differ in the last bits; all else exactly
    assert on_disk["top"].pop("probability") == pytest.approx(now["top"].pop("probability"), abs=1e-5)
    for key in ("hot_share", "top1_p"):
        assert on_disk["result"].pop(key) == pytest.approx(now["result"].pop(key), abs=1e-5), key
    assert on_disk == now, "shipped_heatmap.json is stale: run python -m lessons.activations.precompute"


def test_the_shipped_overlay_equals_the_computed_one(computed):
    shown = shipped.heatmap(shipped_controls())["overlay"]
    live = computed["overlay"]
    assert shown.shape == live.shape == (224, 224, 3) and shown.dtype == live.dtype == np.uint8
    difference = np.abs(shown.astype(int) - live.astype(int))
    assert difference.max() <= 2 and difference.mean() < 0.05, \
        "shipped_heatmap.png is stale: run python -m lessons.activations.precompute"


def test_the_shipped_top5_has_the_live_tables_values_and_types(computed):
    shown, live = shipped.heatmap(shipped_controls())["top"], computed["top"]
    assert list(shown.columns) == list(live.columns)
    assert dict(shown.dtypes) == dict(live.dtypes)  # the chart's data, and so the page, are the same
    assert shown.drop(columns="probability").equals(live.drop(columns="probability"))
    assert np.allclose(shown["probability"], live["probability"], atol=1e-5)


def test_the_shipped_result_is_the_defaults_and_nothing_else():
    record = shipped.stored()
    assert record["controls"] == {name: DEFAULTS[name] for name in HEATMAP_CONTROLS}
    assert record["caption"] == "GradCAM for “tiger cat” at head conv (1280 ch, 7 px)"
    assert record["sentences"][0].startswith("The model's top guess is **tiger cat**")
    assert "seconds" not in record["result"]  # a measurement, not a result: never shipped
    assert shipped.heatmap(shipped_controls()) is not None
    assert shipped.heatmap({**shipped_controls(), "method": "EigenCAM"}) is None  # computed live


def test_the_shipped_files_are_small():
    total = shipped.RESULT_FILE.stat().st_size + shipped.OVERLAY_FILE.stat().st_size
    assert total < 200 * 1024


def test_the_page_and_the_shipped_view_import_no_torch():
    script = ("import sys; import lessons.activations.page as p; "
              "assert p.shipped_default() is not None; "
              "print(sorted(m for m in ('torch', 'torchvision', 'models.zoo', 'pytorch_grad_cam', 'torchcam', "
              "'matplotlib', 'cv2', 'scipy', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
