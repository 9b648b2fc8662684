"""Multiply-adds of one forward pass, per module, each counted exactly once.

`torch.utils.flop_counter.FlopCounterMode` counts the FLOPs of matrix products and convolutions
(element-wise operations such as ReLU are not counted) and credits every operation to each module
that is running when it happens. A multiply-add is half of its FLOPs. Three things turn its counts
into a table whose rows add up to the total:

- A container that is never called itself (`nn.ModuleList`) gets the sum of its children.
- `nn.MultiheadAttention` never calls its `out_proj` (an `nn.Linear`): it hands the weights to
  `F.multi_head_attention_forward`, so FlopCounterMode credits the whole attention (the query/key/value
  in-projection, the products Q·Kᵀ and A·V, the out-projection) to the attention module. Its parts are
  split off by their formulas (batch B, L query and S key tokens, width E, H heads):
  in-projection B·L·E·E + B·S·kdim·E + B·S·vdim·E; out_proj B·L·E·E; the products are the rest,
  2·B·L·S·E when FlopCounterMode sees every product (checked in the tests).
- What a module computes in its own forward, outside any submodule (the products Q·Kᵀ and A·V of
  an attention written out by hand), is its *own* count: its total minus its children's totals.

No streamlit here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

MATRIX_PRODUCT_OPS = ("mm", "addmm", "bmm", "baddbmm", "matmul", "linear", "_scaled_dot_product", "scaled_dot_product")


@dataclass
class AttentionSplit:
    """One nn.MultiheadAttention's multiply-adds, split (all its calls together)."""

    in_projection: int  # q, k, v projections (in_proj_weight, or q/k/v_proj_weight)
    out_projection: int  # out_proj
    products: int  # Q·Kᵀ and A·V
    in_projection_shape: tuple[int, ...]  # output of the packed projection, batch first: (B, L, 3E)
    products_shape: tuple[int, ...]  # A·V, per head: (B, H, L, E/H)
    attention_shape: tuple[int, ...]  # the attention matrix A: (B, H, L, S)


@dataclass
class ForwardTrace:
    """What one forward pass (batch 1) shows about each module.

    order: modules in the order they finished, first call only (out_proj of an attention just before it);
    shapes: each module's first output shape (out_proj: its attention's output);
    total: multiply-adds of each module with everything inside it ("" = the whole model);
    own: multiply-adds a module does itself, outside its submodules (sums to total[""] over all modules);
    own_ops: for a module with own multiply-adds, the operations that did them ("bmm", ...);
    own_shape: for such a module, the output shape of the last matrix product its own forward called;
    attention: the split of every nn.MultiheadAttention that ran.
    """

    order: list[str] = field(default_factory=list)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    own: dict[str, int] = field(default_factory=dict)
    own_ops: dict[str, list[str]] = field(default_factory=dict)
    own_shape: dict[str, tuple[int, ...]] = field(default_factory=dict)
    attention: dict[str, AttentionSplit] = field(default_factory=dict)


def _sequence_shapes(module: nn.MultiheadAttention, args: tuple, kwargs: dict) -> tuple[int, int, int, int, int]:
    """(B, L, S, kdim, vdim) of one call of an attention module."""
    names = ("query", "key", "value")
    q, k, v = (kwargs[n] if n in kwargs else args[i] for i, n in enumerate(names))
    if q.dim() == 2:  # unbatched (L, E)
        return 1, q.shape[0], k.shape[0], k.shape[-1], v.shape[-1]
    if module.batch_first:  # (B, L, E)
        return q.shape[0], q.shape[1], k.shape[1], k.shape[-1], v.shape[-1]
    return q.shape[1], q.shape[0], k.shape[0], k.shape[-1], v.shape[-1]  # (L, B, E)


def trace(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> ForwardTrace:
    """Run `model(*inputs)` once under FlopCounterMode with hooks on every module."""
    from torch.utils.flop_counter import FlopCounterMode

    result = ForwardTrace()
    modules = dict(model.named_modules())
    calls: dict[str, list[tuple[int, int, int, int, int]]] = {}  # attention name -> (B, L, S, kdim, vdim) per call
    handles = []

    running: list[str] = []  # the modules whose forward is running, innermost last
    product_shapes: dict[str, tuple[int, ...]] = {}  # module -> output of the last product it called itself

    def started(name):
        def record(module, args):
            running.append(name)
        return record

    def finished(name):
        def record(module, args, output):
            if running and running[-1] == name:
                running.pop()
            if name in result.shapes:
                return
            first = output[0] if isinstance(output, (tuple, list)) else output
            result.shapes[name] = tuple(first.shape) if isinstance(first, torch.Tensor) else ()
            result.order.append(name)
        return record

    def attention_call(name):
        def record(module, args, kwargs):
            calls.setdefault(name, []).append(_sequence_shapes(module, args, kwargs))
        return record

    for name, module in modules.items():
        if not name:
            continue
        handles.append(module.register_forward_pre_hook(started(name)))
        handles.append(module.register_forward_hook(finished(name), always_call=True))
        if isinstance(module, nn.MultiheadAttention):
            handles.append(module.register_forward_pre_hook(attention_call(name), with_kwargs=True))
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter, _ProductShapes(running, product_shapes):
            model(*inputs)
    finally:
        for h in handles:
            h.remove()

    root = type(model).__name__
    ops: dict[str, dict[str, int]] = {}  # module -> aten op -> multiply-adds, everything inside it
    for key, counts in counter.get_flop_counts().items():
        if key == "Global":
            continue
        name = "" if key == root else key[len(root) + 1:]
        ops[name] = {str(op).removeprefix("aten."): flops // 2 for op, flops in counts.items()}

    def child_names(name: str) -> list[str]:
        return [f"{name}.{c}" if name else c for c, _ in modules[name].named_children()]

    for name in sorted(modules, key=lambda n: -_depth(n)):  # deepest first: children before parents
        if name not in ops:  # never called (ModuleList) or nothing counted: what its children did
            ops[name] = _add(ops[c] for c in child_names(name))

    for name, shapes in calls.items():  # nn.MultiheadAttention: split off its out_proj and in-projection
        module = modules[name]
        width, heads = module.embed_dim, module.num_heads
        in_projection = sum(b * (l * width + s * kdim + s * vdim) * width for b, l, s, kdim, vdim in shapes)
        out_projection = sum(b * l * module.out_proj.in_features * module.out_proj.out_features
                             for b, l, *_ in shapes)
        products = sum(ops[name].values()) - in_projection - out_projection
        if products < 0:  # FlopCounterMode did not see this attention's products: leave it whole
            continue
        b, l, s, _, _ = shapes[0]
        result.attention[name] = AttentionSplit(in_projection, out_projection, products, (b, l, 3 * width),
                                                (b, heads, l, width // heads), (b, heads, l, s))
        out_proj = f"{name}.out_proj"
        linear_op = "addmm" if "addmm" in ops[name] else "mm"  # how FlopCounterMode saw F.linear
        ops[out_proj] = {linear_op: out_projection}
        if out_proj not in result.shapes and name in result.shapes:  # never called: where its attention ends
            result.shapes[out_proj] = result.shapes[name]
            result.order.insert(result.order.index(name), out_proj)

    for name in modules:
        result.total[name] = sum(ops[name].values())
        children = _add(ops[c] for c in child_names(name))
        own = {op: n - children.get(op, 0) for op, n in ops[name].items()}
        own.update({op: -n for op, n in children.items() if op not in own})
        result.own[name] = sum(own.values())
        if result.own[name]:
            result.own_ops[name] = sorted(op for op, n in own.items() if n)
            if name in product_shapes:
                result.own_shape[name] = product_shapes[name]
    return result


class _ProductShapes(torch.overrides.TorchFunctionMode):
    """Records, for the innermost running module ("" = the model itself), the output shape of each matrix
    product its own Python code calls (q @ k.transpose(-2, -1), torch.bmm, ...)."""

    FUNCTIONS = {torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.Tensor.__rmatmul__, torch.bmm,
                 torch.Tensor.bmm, torch.mm, torch.Tensor.mm, torch.einsum, torch.baddbmm, torch.addmm,
                 torch.nn.functional.linear, torch.nn.functional.scaled_dot_product_attention}

    def __init__(self, running: list[str], products: dict[str, tuple[int, ...]]):
        super().__init__()
        self.running, self.products = running, products

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in self.FUNCTIONS and isinstance(out, torch.Tensor):
            self.products[self.running[-1] if self.running else ""] = tuple(out.shape)
        return out


def _add(dicts) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def _depth(name: str) -> int:
    return 0 if not name else name.count(".") + 1


def describe_operations(ops: list[str]) -> str:
    """"matrix products", "convolutions" or "operations" for a list of aten op names."""
    if ops and all(any(op.startswith(p) for p in MATRIX_PRODUCT_OPS) for op in ops):
        return "matrix products"
    if ops and all(op.startswith("convolution") for op in ops):
        return "convolutions"
    return "operations"
