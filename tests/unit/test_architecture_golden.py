"""Golden DOT files guard the architecture lesson's diagrams (as torchview's own tests do).

A missing or different golden file fails. Regenerate after an intended change with
    REGENERATE_GOLDEN=1 python -m pytest tests/unit/test_architecture_golden.py
which writes every file and reports each of those tests as skipped ("not verified"): read the diff of
tests/golden/architecture/, then run again without the variable to verify, and commit.
"""
import os
from pathlib import Path

import pytest

from lessons.architecture import compute, graphs

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "architecture"
REGENERATE = os.environ.get("REGENERATE_GOLDEN") == "1"

DIAGRAMS = [  # (model, depth, direction, roll)
    ("digits_cnn", 2, "top-down", True),
    ("digits_mlp", 1, "left-right", True),
    ("resnet18", 2, "top-down", True),  # BasicBlock x 2 rolled up
    ("resnet18", 3, "top-down", True),  # residual adds
    ("vgg11", 2, "top-down", True),
    ("efficientnet_lite0", 1, "top-down", True),
    ("minilm", 1, "top-down", True),
    ("builder", 3, "top-down", False),
]


def check_golden(name: str, text: str, golden: Path | None = None, regenerate: bool | None = None) -> None:
    """Assert `text` equals the golden file `name`; only with REGENERATE_GOLDEN=1 write it (and skip: not verified)."""
    path = (golden or GOLDEN) / name
    if REGENERATE if regenerate is None else regenerate:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        pytest.skip(f"{name} regenerated, not verified: read its diff, then run again without REGENERATE_GOLDEN")
    assert path.exists(), f"missing golden file {path}: write it with REGENERATE_GOLDEN=1, read it and commit it"
    assert text == path.read_text(), f"{name} changed; if intended, regenerate with REGENERATE_GOLDEN=1"


def test_a_missing_or_changed_golden_file_fails_and_regenerating_is_not_a_pass(tmp_path):
    with pytest.raises(AssertionError, match="missing golden file"):
        check_golden("absent.dot", "digraph {}\n", golden=tmp_path, regenerate=False)
    assert not (tmp_path / "absent.dot").exists()  # checking never writes
    with pytest.raises(pytest.skip.Exception, match="not verified"):
        check_golden("absent.dot", "digraph {}\n", golden=tmp_path, regenerate=True)
    assert (tmp_path / "absent.dot").read_text() == "digraph {}\n"
    check_golden("absent.dot", "digraph {}\n", golden=tmp_path, regenerate=False)  # now it is there and equal
    with pytest.raises(AssertionError, match="changed"):
        check_golden("absent.dot", "digraph { a }\n", golden=tmp_path, regenerate=False)


def test_every_golden_file_is_checked_by_a_test():
    expected = {golden_name(*d) for d in DIAGRAMS} | {f"digits_cnn_autograd{s}.dot" for s in ("", "_saved")}
    assert {p.name for p in GOLDEN.glob("*.dot")} == expected


def golden_name(model: str, depth: int, direction: str, roll: bool) -> str:
    return f"{model}_depth{depth}_{graphs.DIRECTIONS[direction]}{'_rolled' if roll else ''}.dot"


@pytest.mark.parametrize("model, depth, direction, roll", DIAGRAMS)
def test_layer_diagram_matches_golden(model, depth, direction, roll):
    dot = graphs.layer_diagram(compute.build_model(model), depth, direction, roll).dot
    check_golden(golden_name(model, depth, direction, roll), dot)


@pytest.mark.parametrize("show_saved", [False, True])
def test_autograd_graph_matches_golden(show_saved):
    dot = graphs.autograd_graph(compute.build_model("digits_cnn"), show_saved).dot
    check_golden(f"digits_cnn_autograd{'_saved' if show_saved else ''}.dot", dot)


@pytest.mark.parametrize("name", compute.CPU_TRACED)
def test_cpu_trace_of_the_digit_models_matches_the_meta_trace(name):
    """The page traces the two digit models on the CPU (no meta-device imports on its first view):
    the diagrams and autograd graphs must be the very ones the meta device gives."""
    assert compute.trace_device(name) == "cpu" and compute.trace_device("resnet18") == "meta"
    meta, cpu = compute.build_model(name), compute.build_model(name, device="cpu")
    assert all(p.is_meta for p in meta.model.parameters()) and not any(p.is_meta for p in cpu.model.parameters())
    for depth, direction in ((1, "left-right"), (2, "top-down")):
        assert graphs.layer_diagram(cpu, depth, direction).dot == graphs.layer_diagram(meta, depth, direction).dot
    for saved in (False, True):
        assert graphs.autograd_graph(cpu, saved).dot == graphs.autograd_graph(meta, saved).dot
