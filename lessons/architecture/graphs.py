"""Two graphs of a model as DOT text (drawn in the browser by st.graphviz_chart; no Graphviz binary).

- Layer diagram in the style of Keras' `plot_model`: torchview (github.com/mert-kurttutan/torchview)
  traces the forward pass on the meta device; we relabel its boxes with the module's name, type,
  input and output shapes and parameter count, and roll runs of identical blocks into one box.
- Autograd graph as PyTorchViz's `make_dot` (github.com/szagoruyko/pytorchviz) draws it for a forward
  pass plus a loss. Its colours: light blue = leaf tensors that require grad (the parameters),
  gray = backward operations (grad_fn nodes), orange = tensors saved for the backward pass,
  green = the tensor passed in (the loss). None of them is a "gradient".
No streamlit here.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from lessons.architecture import compute
from lessons.architecture.compute import ModelSpec
from lessons.architecture.settings import DIRECTIONS, JOIN_ARROWS  # noqa: F401 (re-exported)

FILL = {"input": "lightyellow", "output": "lightyellow", "weights": "darkseagreen1",
        "no_weights": "white", "function": "aliceblue", "rolled": "navajowhite"}


@dataclass
class Box:
    """One box of the layer diagram."""

    id: int
    kind: str  # "input", "output", "module", "function"
    type_name: str  # "Conv2d", "add", "tensor"
    names: list[str] = field(default_factory=list)  # qualified module names ([] for functions/tensors)
    input_shapes: list[tuple] = field(default_factory=list)
    output_shapes: list[tuple] = field(default_factory=list)
    parameters: int = 0
    repeats: int = 1


@dataclass
class LayerDiagram:
    dot: str
    boxes: list[Box]
    edges: list[tuple[int, int]]

    @property
    def merge_boxes(self) -> list[Box]:
        """Boxes where arrows from JOIN_ARROWS or more different boxes arrive: there two data flows join
        (the `add` of a residual connection, a concat, a block that reads a mask beside its input).

        Counted on the arrows as drawn: rolling N blocks into one box turns the N arrows they send to
        the same box (or receive from it) into one arrow labelled "xN", and that is one arrow, not a join.
        """
        tails: dict[int, set[int]] = {}
        for tail, head in self.edges:
            tails.setdefault(head, set()).add(tail)
        return [b for b in self.boxes if len(tails.get(b.id, ())) >= JOIN_ARROWS]

    @property
    def labelled_arrows(self) -> int:
        """Arrows drawn once for several edges (labelled "xN": from or to a rolled-up box)."""
        return sum(1 for e in set(self.edges) if self.edges.count(e) > 1)

    @property
    def rolled_boxes(self) -> list[Box]:
        return [b for b in self.boxes if b.repeats > 1]


def _shape(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _shapes(shapes: list) -> str:
    if not shapes:
        return "-"
    unique = list(dict.fromkeys(tuple(s) for s in shapes))
    return ", ".join(_shape(s) for s in unique)


def layer_diagram(spec: ModelSpec, depth: int = 2, direction: str = "top-down", roll: bool = True) -> LayerDiagram:
    """Trace `spec.model` with torchview on its inputs' device (meta or cpu) and return the relabelled diagram."""
    from torchview import draw_graph
    from torchview.computation_node import FunctionNode, ModuleNode, TensorNode

    device = spec.inputs[0].device.type  # "meta" (shapes only) or "cpu" (the tiny digit models)
    graph = draw_graph(spec.model, input_data=list(spec.inputs), depth=depth, device=device,
                       roll=True, expand_nested=False, hide_inner_tensors=True, hide_module_functions=True)
    modules = {id(m): (n, m) for n, m in spec.model.named_modules()}
    boxes: dict[int, Box] = {}
    edges: list[tuple[int, int]] = []

    def box_of(node) -> int:
        number = graph.id_dict[node.node_id]
        if number in boxes:
            return number
        if isinstance(node, TensorNode):
            boxes[number] = Box(number, "output", "tensor", output_shapes=[tuple(node.tensor_shape)])
        elif isinstance(node, ModuleNode):
            name, module = modules.get(node.compute_unit_id, ("?", None))
            params = sum(p.numel() for p in module.parameters()) if module is not None else 0
            boxes[number] = Box(number, "module", type(module).__name__ if module is not None else node.name,
                                [name], list(node.input_shape), list(node.output_shape), params)
        else:
            assert isinstance(node, FunctionNode)
            boxes[number] = Box(number, "function", node.name.rstrip("_"), [],
                                list(node.input_shape), list(node.output_shape))
        return number

    for tail, head in graph.edge_list:
        edges.append((box_of(tail), box_of(head)))
    heads = {head for _, head in edges}
    for box in boxes.values():
        if box.kind == "output" and box.id not in heads:
            box.kind = "input"  # a tensor no arrow arrives at
    ordered = [boxes[k] for k in sorted(boxes)]
    if roll:
        ordered, edges = _roll_repeats(ordered, edges)
    return LayerDiagram(_to_dot(ordered, edges, DIRECTIONS[direction], spec.title), ordered, edges)


def diagram_data(name: str, depth: int, direction: str, roll: bool, stack: str, input_shape: str) -> dict:
    """The layer diagram of model `name` as plain values (JSON-able): what the page draws and states about it.

    The page's cached wrapper (view_helpers.diagram) and the shipped default (precompute.py) both call this.
    """
    spec = compute.build_model(name, stack, input_shape, device=compute.trace_device(name))
    d = layer_diagram(spec, depth, direction, roll)
    return {"dot": d.dot, "boxes": len(d.boxes), "joins": [b.type_name for b in d.merge_boxes],
            "labelled_arrows": d.labelled_arrows,
            "rolled": [[b.type_name, b.repeats, b.names[0], b.names[-1]] for b in d.rolled_boxes],
            "title": spec.title, "input": spec.input_text}


def _signature(box: Box) -> tuple | None:
    if box.kind != "module":
        return None
    return (box.type_name, box.parameters, tuple(map(tuple, box.input_shapes)), tuple(map(tuple, box.output_shapes)))


def _roll_repeats(boxes: list[Box], edges: list[tuple[int, int]]) -> tuple[list[Box], list[tuple[int, int]]]:
    """Fold runs a -> b -> c of identical blocks (same type, parameters and shapes) into one box.

    Arrows from outside into any block of the run (a mask that every layer reads) arrive at the
    rolled box, counted ("x6"); arrows inside the run disappear.
    """
    outgoing: dict[int, list[int]] = {}
    for tail, head in edges:
        outgoing.setdefault(tail, []).append(head)
    by_id = {b.id: b for b in boxes}
    merged_into: dict[int, int] = {}
    for box in boxes:
        if box.id in merged_into or _signature(box) is None:
            continue
        current = box
        while True:
            same = [h for h in outgoing.get(current.id, []) if h not in merged_into and h != box.id
                    and _signature(by_id[h]) == _signature(box)]
            if len(same) != 1:
                break
            current = by_id[same[0]]
            merged_into[current.id] = box.id
            box.repeats += 1
            box.names.extend(current.names)
    kept = [b for b in boxes if b.id not in merged_into]
    new_edges = []
    for tail, head in edges:
        tail, head = merged_into.get(tail, tail), merged_into.get(head, head)
        if tail != head:
            new_edges.append((tail, head))
    return kept, new_edges


def _label(box: Box) -> str:
    cell = '<TD ALIGN="LEFT">{}</TD>'
    if box.kind in ("input", "output"):
        rows = [f"<B>{box.kind}</B>", _shape(box.output_shapes[0])]
    elif box.kind == "function":
        rows = [f"<B>{html.escape(box.type_name)}</B> (function)",
                f"in: {_shapes(box.input_shapes)}", f"out: {_shapes(box.output_shapes)}"]
    else:
        if box.repeats > 1:
            title = f"<B>{html.escape(box.names[0])} … {html.escape(box.names[-1])}</B>"
            kind = f"{html.escape(box.type_name)} × {box.repeats} (identical blocks)"
            params = f"params: {box.parameters:,} each, {box.parameters * box.repeats:,} in all"
        else:
            title = f"<B>{html.escape(box.names[0]) or 'model'}</B>"
            kind = html.escape(box.type_name)
            params = f"params: {box.parameters:,}"
        rows = [f"{title} : {kind}", f"in: {_shapes(box.input_shapes)}", f"out: {_shapes(box.output_shapes)}",
                params]
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            + "".join(f"<TR>{cell.format(r)}</TR>" for r in rows) + "</TABLE>>")


def _fill(box: Box) -> str:
    if box.kind in ("input", "output", "function"):
        return FILL[box.kind]
    if box.repeats > 1:
        return FILL["rolled"]
    return FILL["weights"] if box.parameters else FILL["no_weights"]


def _to_dot(boxes: list[Box], edges: list[tuple[int, int]], rankdir: str, title: str) -> str:
    lines = [f"digraph {_dot_id(title)} {{",
             f'  graph [rankdir={rankdir} ordering=in nodesep=0.25 ranksep=0.3]',
             '  node [shape=plaintext style=filled fontname="Helvetica" fontsize=10 margin=0]',
             '  edge [arrowsize=0.7]']
    for box in boxes:
        lines.append(f"  n{box.id} [label={_label(box)} fillcolor={_fill(box)}]")
    counts: dict[tuple[int, int], int] = {}
    for edge in edges:
        counts[edge] = counts.get(edge, 0) + 1
    for (tail, head), n in counts.items():
        lines.append(f"  n{tail} -> n{head}" + (f' [label=" x{n}"]' if n > 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(title: str) -> str:
    return '"' + re.sub(r'["\\]', "", title) + '"'


def warm_up() -> None:
    """Import torchview/torchviz and trace a tiny model once (the first trace in a process loads
    PyTorch's meta-device decompositions: ~2-4 s). A server can call this in the background."""
    from lessons.architecture.compute import ModelSpec

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)).to("meta").eval()
    x = torch.empty(1, 1, 4, 4, device="meta")  # (B, C, H, W)
    spec = ModelSpec("warm_up", "warm-up", model, (F.pad(x, [0, 0, 0, 0]),), "x", False)
    layer_diagram(spec)
    autograd_graph(spec)


# ----- autograd graph -----------------------------------------------------------------------------

AUTOGRAD_LEGEND = {
    "lightblue": "leaf tensors that require grad: the parameters (their .grad fills up in backward)",
    "lightgrey": "backward operations (grad_fn nodes such as ConvolutionBackward0): what autograd runs",
    "orange": "tensors saved during the forward pass for the backward pass (only with show_saved)",
    "darkolivegreen1": "the tensor passed to make_dot: here the loss",
}


@dataclass
class AutogradGraph:
    dot: str
    counts: dict[str, int]  # colour -> number of boxes
    parameter_tensors: int  # parameter tensors of the model (every one should be a light-blue box)


def _loss(spec: ModelSpec, model: nn.Module) -> torch.Tensor:
    out = model(*spec.inputs)
    if isinstance(out, tuple):  # MiniLM: (hidden states (L+1, B, T, C), attentions)
        return out[0][-1].pow(2).mean()  # a stand-in loss on the last hidden states
    target = torch.zeros(out.shape[0], dtype=torch.long, device=out.device)  # (B,) class 0
    return F.cross_entropy(out, target)  # () scalar


def autograd_graph(spec: ModelSpec, show_saved: bool = False) -> AutogradGraph:
    """make_dot of (forward pass + loss) on the meta device; ids renumbered so the text is stable."""
    from torchviz import make_dot

    model = spec.model
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    model.requires_grad_(True)  # spec.model is this lesson's own meta-device copy
    try:
        with torch.enable_grad():
            loss = _loss(spec, model)
        dot = make_dot(loss, params=dict(model.named_parameters()), show_saved=show_saved)
    finally:
        for n, p in model.named_parameters():
            p.requires_grad_(flags[n])
    text = canonical_ids(dot.source)
    counts = {colour: len(re.findall(rf"fillcolor={colour}\b", text)) for colour in AUTOGRAD_LEGEND}
    counts["lightgrey"] = sum(1 for line in text.splitlines()
                              if re.match(r"\s*n\d+ \[label=", line) and "fillcolor" not in line)
    return AutogradGraph(text, counts, len(list(model.parameters())))


def canonical_ids(dot: str) -> str:
    """Replace the memory addresses torchviz uses as node ids by n0, n1, ... in order of appearance."""
    mapping: dict[str, str] = {}

    def ident(address: str) -> str:
        return mapping.setdefault(address, f"n{len(mapping)}")

    lines = []
    for line in dot.splitlines():
        m = re.match(r"(\s*)(\d{6,})(?: -> (\d{6,}))?(.*)$", line)
        if m:
            indent, tail, head, rest = m.groups()
            line = indent + ident(tail) + (f" -> {ident(head)}" if head else "") + rest
        lines.append(line)
    return "\n".join(lines) + "\n"
