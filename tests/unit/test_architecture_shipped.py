"""The architecture page's shipped default view (lessons/architecture/shipped_views.json): it is what the code
computes now (a stale file fails), it is the view the page's defaults ask for, and reading it needs no torch.

Regenerate after an intended change with `python -m lessons.architecture.precompute`.
"""
import json
import subprocess
import sys
from pathlib import Path

from lessons.architecture import precompute, shipped
from lessons.architecture.view_helpers import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "architecture"


def test_the_shipped_file_equals_what_the_code_computes_for_the_defaults():
    on_disk = json.loads(shipped.SHIPPED_FILE.read_text())
    computed = json.loads(json.dumps(precompute.default_results()))  # as the file stores it (tuples -> lists)
    assert on_disk == computed, "shipped_views.json is stale: run python -m lessons.architecture.precompute"


def test_the_shipped_diagram_is_the_golden_default_diagram():
    d = shipped.shipped(shipped.diagram_key(*precompute.DEFAULT_DIAGRAM))["diagram"]
    assert d["dot"] == (GOLDEN / "digits_cnn_depth2_TB_rolled.dot").read_text()  # the golden test's own file
    assert (d["title"], d["boxes"], d["joins"], d["rolled"]) == ("Digits CNN", 13, [], [])


def test_the_page_defaults_name_the_shipped_result():
    key = shipped.diagram_key(DEFAULTS["model"], DEFAULTS["depth"], DEFAULTS["direction"], not DEFAULTS["unroll"],
                              DEFAULTS["stack"], DEFAULTS["input_shape"])
    assert shipped.shipped_keys() == [key]
    hit = shipped.shipped(key)
    assert hit["caption"].startswith("Digits CNN at depth 2: 13 boxes, traced with torchview from images (1, 1, 28, 28).")
    assert hit["what_you_see"] == [
        "At depth 2, Digits CNN is drawn as 13 boxes.",
        "No box receives arrows from two different boxes: the data flows as a plain chain at this depth."]
    # any other argument is not shipped: the page computes it live
    assert shipped.shipped(shipped.diagram_key("digits_cnn", 2, "left-right", True, DEFAULTS["stack"],
                                               DEFAULTS["input_shape"])) is None


def test_the_page_and_its_views_import_no_torch():
    script = ("import sys; import lessons.architecture.page, lessons.architecture.shipped; "
              "lessons.architecture.shipped.shipped_keys(); "
              "print(sorted(m for m in ('torch', 'torchview', 'torchviz', 'pandas', 'numpy', 'altair') "
              "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
