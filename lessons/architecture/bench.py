"""Benchmark figures of the architecture lesson (compute only; the lead's benchmark adds the browser).

Each figure is the first call for that input in a process whose libraries are warm (as on a server
after `graphs.warm_up()`): what a student waits for when picking a new model or changing the builder.
"""
from __future__ import annotations

import statistics
import time


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compute_figures() -> list[dict]:
    from lessons.architecture import builder, compute, graphs

    rows = [{"name": "architecture: warm-up (imports + first trace)", "value": _seconds(graphs.warm_up),
             "unit": "s", "budget": None, "better": "lower"}]

    def diagram(name: str, depth: int) -> None:
        graphs.layer_diagram(compute.build_model(name), depth=depth)

    rows.append({"name": "architecture: EfficientNet-Lite0 diagram", "unit": "s", "budget": 2.0, "better": "lower",
                 "value": _seconds(lambda: diagram("efficientnet_lite0", 2))})
    rows.append({"name": "architecture: vit_b_16 diagram on the meta device", "unit": "s", "budget": 3.0,
                 "better": "lower", "value": _seconds(lambda: diagram("vit_b_16", 3))})

    def builder_change(stack: str) -> None:  # what one edit of the stack recomputes
        built = builder.build_stack(stack, "1x28x28")
        spec = compute.build_model("builder", stack, "1x28x28")
        graphs.layer_diagram(spec, depth=3, roll=False)
        compute.parameter_table(spec)
        assert built.ok

    stacks = [builder.DEFAULT_STACK + f",relu,linear:{n}" for n in (11, 12, 13, 14, 15)]
    rows.append({"name": "architecture: builder change", "unit": "s", "budget": 0.3, "better": "lower",
                 "value": statistics.median(_seconds(lambda s=s: builder_change(s)) for s in stacks)})
    rows.append({"name": "architecture: EfficientNet-Lite0 parameter table", "unit": "s", "budget": None,
                 "better": "lower",
                 "value": _seconds(lambda: compute.parameter_table(compute.build_model("efficientnet_lite0")))})
    rows.append({"name": "architecture: ResNet-18 autograd graph (show_saved)", "unit": "s", "budget": None,
                 "better": "lower",
                 "value": _seconds(lambda: graphs.autograd_graph(compute.build_model("resnet18"), True))})
    return rows


if __name__ == "__main__":
    for row in compute_figures():
        print(f"{row['name']}: {row['value']:.3f} {row['unit']} (budget {row['budget']})")

# The control the benchmark changes in the browser (tests/benchmark): the model picker.
MAIN_CONTROL = {"kind": "select", "label": "Model", "choices": [1, 0]}
