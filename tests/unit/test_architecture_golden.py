"""Golden DOT files guard the architecture lesson's diagrams (as torchview's own tests do).

Regenerate after an intended change with:  REGENERATE_GOLDEN=1 python -m pytest tests/unit/test_architecture_golden.py
then read the diff of tests/golden/architecture/ before committing it.
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


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE or not path.exists():
        if not REGENERATE and os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"missing golden file {path}: run with REGENERATE_GOLDEN=1 and commit it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert text == path.read_text(), f"{name} changed; if intended, regenerate with REGENERATE_GOLDEN=1"


@pytest.mark.parametrize("model, depth, direction, roll", DIAGRAMS)
def test_layer_diagram_matches_golden(model, depth, direction, roll):
    dot = graphs.layer_diagram(compute.build_model(model), depth, direction, roll).dot
    check_golden(f"{model}_depth{depth}_{graphs.DIRECTIONS[direction]}{'_rolled' if roll else ''}.dot", dot)


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
