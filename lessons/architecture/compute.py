"""Architecture lesson: the models on offer, the parameter table, one layer in detail, two models compared.

Every model is built on PyTorch's meta device: modules and shapes without memory or values, so even
vgg11 (133 M parameters) or vit_b_16 costs nothing to inspect. Values (weight histograms) come from
the bundled zoo models, or from a freshly initialised copy of one layer for the untrained ones.

- Parameter table in the style of torchinfo (github.com/TylerYep/torchinfo): per layer output shape,
  parameters, share of the total and multiply-adds.
- Multiply-adds are half the FLOPs that `torch.utils.flop_counter.FlopCounterMode` counts (matrix
  products and convolutions; element-wise operations such as ReLU are not counted), credited to the
  module that does them (multiply_adds.py), so the table's rows add up to the total at every depth.
No streamlit here.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from lessons.architecture import builder, multiply_adds
# the models on offer (name -> menu label) and the thresholds: plain values the page reads without torch
from lessons.architecture.settings import (CPU_TRACED, MODELS, MOST_OF_THE_PARAMETERS, TORCHVISION_MODELS,  # noqa: F401
                                           ZOO_MODELS)

MINILM_EXAMPLE_TOKENS = 12  # length T of the token-id input (1, T) used to trace MiniLM
BYTES_PER_VALUE = 4  # float32
# nn.MultiheadAttention's own parameters that project the query, key and value (a Linear layer each, or one
# packed (3E, E) matrix): counted with the fully connected layers, and given a row of their own in the table
IN_PROJECTION_PARAMETERS = ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias")


@dataclass
class ModelSpec:
    """A model on the meta device and example inputs (batch of 1) to trace it with."""

    name: str
    title: str
    model: nn.Module
    inputs: tuple[torch.Tensor, ...]
    input_text: str  # e.g. "images (1, 3, 224, 224)"
    trained: bool


def trace_device(name: str) -> str:
    """Where to build `name` for tracing: "cpu" for the course's two tiny digit models, "meta" otherwise.

    Shapes and counts are the same on either device. The first meta-device forward pass in a process
    imports parts of PyTorch's compiler (torch._dynamo, sympy: 2-4 s); building the digit models with
    values costs under a millisecond, so the page's default view needs no meta device at all.
    """
    return "cpu" if name in CPU_TRACED else "meta"


def build_model(name: str, stack: str = builder.DEFAULT_STACK, input_shape: str = "1x28x28",
                device: str = "meta") -> ModelSpec:
    """The architecture `name` on the meta device (for "builder": the stack; raises ValueError on an error).

    device="cpu" builds it with (untrained, freshly initialised) values instead: only for small models.
    """
    image = None
    with torch.device(device):
        if name == "digits_cnn":
            from models.digits import DigitsCNN
            model, image = DigitsCNN(), (1, 28, 28)
        elif name == "digits_mlp":
            from models.digits import DigitsMLP
            model, image = DigitsMLP(hidden=(32, 16)), (1, 28, 28)
        elif name == "digits_vit":
            from models.vit import TinyViT
            model, image = TinyViT(), (1, 28, 28)
        elif name == "efficientnet_lite0":
            from models.efficientnet_lite import build_efficientnet_lite0
            model, image = build_efficientnet_lite0(), (3, 224, 224)
        elif name == "minilm":
            from models.minilm import MiniLMConfig, MiniLMEncoder
            model = MiniLMEncoder(MiniLMConfig())
        elif name in TORCHVISION_MODELS:
            import torchvision
            model, image = torchvision.models.get_model(name, weights=None), (3, 224, 224)
        elif name != "builder":
            raise KeyError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    if name == "builder":
        stack_result = builder.build_stack(stack, input_shape)
        if not stack_result.ok:
            raise ValueError(stack_result.error.message)
        model, image = builder.to_module(stack_result), stack_result.input_shape
    model.eval()
    if image is not None:
        inputs = (torch.zeros(1, *image, device=device),)  # (1, C, H, W)
        text = f"images {(1, *image)}"
    else:
        ids = torch.zeros(1, MINILM_EXAMPLE_TOKENS, dtype=torch.long, device=device)  # (1, T) token ids
        mask = torch.ones(1, MINILM_EXAMPLE_TOKENS, dtype=torch.bool, device=device)  # (1, T)
        inputs, text = (ids, mask), f"token ids (1, {MINILM_EXAMPLE_TOKENS}) and a mask (1, {MINILM_EXAMPLE_TOKENS})"
    return ModelSpec(name, MODELS[name].split(" (")[0], model, inputs, text, name in ZOO_MODELS)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----- multiply-adds -------------------------------------------------------------------------------

def multiply_adds_per_module(spec: ModelSpec) -> dict[str, int]:
    """Qualified module name ("" = whole model) -> multiply-adds of one forward pass (batch 1), the
    module's submodules included (an attention's out_proj gets its own share: see multiply_adds.py)."""
    return multiply_adds.trace(spec.model, spec.inputs).total


# ----- the parameter table -------------------------------------------------------------------------

def module_depth(name: str) -> int:
    return 0 if not name else name.count(".") + 1


def parameter_table(spec: ModelSpec, depth: int = 99, batch_size: int = 1) -> tuple[pd.DataFrame, dict]:
    """One row per box at `depth` (a container at that depth stands for everything inside it).

    Columns: layer, type, depth, output shape, parameters, % of total, multiply-adds, trainable.
    The rows always add up to the totals, parameters and multiply-adds alike. For that, a container
    above the cut gets rows for what is its own and not a submodule's:
    - parameters it owns directly (ViT's class token, position embedding): one "Parameter" row each;
    - multiply-adds of its own forward (an attention's Q·Kᵀ and A·V written out by hand): one row
      "<name> (own matrix products)";
    - nn.MultiheadAttention: a row for its query/key/value in-projection (in_proj_weight and
      in_proj_bias with their multiply-adds), one for the attention products Q·Kᵀ and A·V, and its
      out_proj row gets the multiply-adds and output shape of the out-projection, which the attention
      computes with out_proj's weights without calling out_proj.
    Totals: parameters, size in MB (float32, 1 MB = 10^6 bytes), multiply-adds, and activation memory =
    every leaf layer's output for `batch_size` examples.
    """
    model = spec.model
    modules = dict(model.named_modules())
    t = multiply_adds.trace(model, spec.inputs)
    order, shapes = t.order, t.shapes
    total = parameter_count(model)
    rows: list[tuple[tuple, dict]] = []  # (sort key, row)

    def add_row(key: tuple, name: str, type_name: str, shape, params: int, trainable: bool, mac: int,
                row_depth: int | None = None):
        rows.append((key, {"layer": name, "type": type_name,
                           "depth": module_depth(name) if row_depth is None else row_depth,
                           "output shape": str(tuple(shape)) if shape is not None else "",
                           "parameters": params, "% of total": 100.0 * params / total if total else 0.0,
                           "multiply-adds": mac, "trainable": trainable}))

    position = {name: float(i) for i, name in enumerate(order)}
    for name in modules:  # a container that is never called itself (ModuleList): where its first child runs
        if name and name not in position:
            inner = [position[n] for n in order if n.startswith(name + ".")]
            position[name] = min(inner) - 0.5 if inner else float(len(order))
            last = [n for n in order if n.startswith(name + ".")]
            if last:
                shapes[name] = shapes[last[-1]]
    shown = set()
    for name in sorted((n for n in modules if n), key=lambda n: (position[n], module_depth(n))):
        module = modules[name]
        d = module_depth(name)
        is_leaf = not any(True for _ in module.children())
        if d > depth or not (is_leaf or d == depth) or name in shown:
            continue
        if any(name.startswith(s + ".") for s in shown):
            continue
        shown.add(name)
        params = list(module.parameters())
        add_row((position[name], d), name, type(module).__name__, shapes.get(name), sum(p.numel() for p in params),
                any(p.requires_grad for p in params), t.total.get(name, 0))
    late = 0  # parameters a container owns directly go last, in definition order
    for name, module in modules.items():  # what a container above the cut owns itself
        if not (module_depth(name) < depth and any(True for _ in module.children())):
            continue
        own_params = dict(module.named_parameters(recurse=False))
        inner_depth = module_depth(name) + 1
        split = t.attention.get(name)
        if split is not None:  # nn.MultiheadAttention: the in-projection and the attention products
            at = position.get(f"{name}.out_proj", position.get(name, float(len(order))))  # just before out_proj
            names = [n for n in IN_PROJECTION_PARAMETERS if n in own_params]
            projection = [own_params.pop(n) for n in names]
            add_row((at - 0.3, inner_depth), f"{name}.{' + '.join(names)}", "in-projection (q, k, v)",
                    split.in_projection_shape, sum(p.numel() for p in projection),
                    any(p.requires_grad for p in projection), split.in_projection, inner_depth)
            add_row((at - 0.2, inner_depth), f"{name} (Q·Kᵀ, A·V)", "attention products",
                    split.products_shape, 0, False, split.products, inner_depth)
        elif t.own.get(name, 0):
            add_row((position.get(name, float(len(order))) - 0.1, inner_depth), f"{name or 'model'} (own "
                    f"{multiply_adds.describe_operations(t.own_ops.get(name, []))})",
                    f"in {type(module).__name__}.forward", t.own_shape.get(name), 0, False, t.own[name], inner_depth)
        for pname, p in own_params.items():
            late += 1
            full = f"{name}.{pname}" if name else pname
            add_row((float("inf"), late), full, "Parameter", tuple(p.shape), p.numel(), p.requires_grad, 0)
    table = pd.DataFrame([row for _, row in sorted(rows, key=lambda r: r[0])],
                         columns=["layer", "type", "depth", "output shape", "parameters", "% of total",
                                  "multiply-adds", "trainable"])
    leaf_outputs = sum(int(np.prod(shapes[n][1:])) for n in order
                       if not any(True for _ in modules[n].children()) and shapes[n])
    totals = {
        "parameters": total,
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "size_mb": total * BYTES_PER_VALUE / 1e6,
        "multiply_adds": t.total.get("", 0),
        "activation_mb": leaf_outputs * batch_size * BYTES_PER_VALUE / 1e6,
        "batch_size": batch_size,
        "layers_with_parameters": sum(1 for m in modules.values()
                                      if any(True for _ in m.parameters(recurse=False))),
    }
    return table, totals


def max_depth(spec: ModelSpec) -> int:
    return max(module_depth(n) for n, _ in spec.model.named_modules())


# ----- one layer ---------------------------------------------------------------------------------

def parameter_formula(module: nn.Module) -> str:
    """How the module's own parameter count (not its submodules') follows from its settings."""
    n = sum(p.numel() for p in module.parameters(recurse=False))
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        cin, cout, groups = module.in_channels // module.groups, module.out_channels, module.groups
        head = "k·k·C_in·C_out" if groups == 1 else "k·k·(C_in/groups)·C_out"
        note = f" (groups={groups}: each filter sees only {cin} channel{'s' if cin > 1 else ''})" if groups > 1 else ""
        if module.bias is not None:
            return f"{head} + C_out = {kh}·{kw}·{cin}·{cout} + {cout} = {n:,}{note}"
        return f"{head} = {kh}·{kw}·{cin}·{cout} = {n:,} (no bias){note}"
    if isinstance(module, nn.Linear):
        b = f" + {module.out_features:,}" if module.bias is not None else ""
        return f"in·out{' + out' if b else ''} = {module.in_features:,}·{module.out_features:,}{b} = {n:,}"
    if isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d, nn.LayerNorm, nn.GroupNorm)) and n:
        buffers = " (running statistics are buffers)" if isinstance(module, nn.modules.batchnorm._BatchNorm) else ""
        return f"a scale γ and a shift β per feature: 2·{n // 2:,} = {n:,}{buffers}"
    if isinstance(module, nn.MultiheadAttention) and module.in_proj_weight is not None:
        e = module.embed_dim
        bias = f" + 3·E = 3·{e}·{e} + 3·{e}" if module.in_proj_bias is not None else f" = 3·{e}·{e}"
        rest = sum(p.numel() for p in module.parameters()) - n
        return (f"the query, key and value projections packed in in_proj_weight (3E, E)"
                f"{' and in_proj_bias (3E,)' if module.in_proj_bias is not None else ''}: 3·E·E{bias} = {n:,}"
                + (f" (its out_proj, a Linear submodule, holds {rest:,} more)" if rest else ""))
    if isinstance(module, nn.Embedding):
        return f"one vector per entry: vocabulary·dimension = {module.num_embeddings:,}·{module.embedding_dim} = {n:,}"
    if n == 0:
        return "no parameters"
    return " + ".join(f"{name} {'·'.join(map(str, p.shape)) or '1'}"
                      for name, p in module.named_parameters(recurse=False)) + f" = {n:,}"


def layer_names(spec: ModelSpec) -> list[str]:
    """Modules that own parameters, in definition order."""
    return [n for n, m in spec.model.named_modules() if any(True for _ in m.parameters(recurse=False))]


def layer_parameters(spec: ModelSpec, layer: str) -> pd.DataFrame:
    module = spec.model.get_submodule(layer)
    return pd.DataFrame([{"tensor": f"{layer}.{n}", "shape": str(tuple(p.shape)), "values": p.numel()}
                         for n, p in module.named_parameters(recurse=False)])


def layer_weight_histogram(name: str, layer: str, seed: int = 0, stack: str = builder.DEFAULT_STACK,
                           input_shape: str = "1x28x28", bins: int = 60) -> tuple[pd.DataFrame, dict]:
    """Histogram of one layer's weights (bin start, bin end, count) and their statistics.

    The bundled models give their trained values; the untrained ones (and a bundled model whose
    weight file is missing) get the layer's default initialisation (`reset_parameters`) drawn with `seed`.
    """
    trained = trained_model(name) if name in ZOO_MODELS else None
    if trained is not None:
        values = _main_tensor(trained.get_submodule(layer)).detach().float().reshape(-1).numpy()  # a view
        source = "trained values"
    else:
        spec = build_model(name, stack, input_shape)
        values, source = _initialised_weights(copy.deepcopy(spec.model.get_submodule(layer)), seed)
    counts, edges = np.histogram(values, bins=bins)
    frame = pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": counts})
    stats = {"values": int(values.size), "mean": float(values.mean()), "std": float(values.std()),
             "min": float(values.min()), "max": float(values.max()), "source": source}
    return frame, stats


def _main_tensor(module: nn.Module) -> torch.Tensor:
    w = getattr(module, "weight", None)
    return w if isinstance(w, torch.Tensor) else next(module.parameters(recurse=False))


def _initialised_weights(module: nn.Module, seed: int) -> tuple[np.ndarray, str]:
    module = module.to_empty(device="cpu", recurse=False)  # its own tensors only: a ViT root stays on meta
    gen_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
            source = f"untrained: the layer's default initialisation, seed {seed}"
        else:  # e.g. a class token owned by the model itself
            for p in module.parameters(recurse=False):
                nn.init.normal_(p, std=0.02)
            source = f"untrained: drawn from N(0, 0.02²) here, seed {seed}"
    finally:
        torch.random.set_rng_state(gen_state)
    return _main_tensor(module).detach().reshape(-1).numpy().copy(), source


def trained_model(name: str) -> nn.Module | None:
    """The zoo's trained model (shared: read only), or None when its weights are not available."""
    from models import zoo

    try:
        model, _ = zoo.load(name)
    except (FileNotFoundError, OSError):
        return None
    return model


def layer_detail(spec: ModelSpec, layer: str) -> dict:
    """One module: its own parameters and their formula, and its multiply-adds per example.

    multiply_adds: what the module computes itself (its own forward, outside its submodules; for
    nn.MultiheadAttention the in-projection and the products Q·Kᵀ and A·V); with_submodules: everything
    inside it; attention: the split of an nn.MultiheadAttention (see multiply_adds.py), else None.
    """
    module = spec.model.get_submodule(layer)
    t = multiply_adds.trace(spec.model, spec.inputs)
    own = sum(p.numel() for p in module.parameters(recurse=False))
    mac = t.own.get(layer, 0)
    return {"layer": layer, "type": type(module).__name__, "module": repr(module).split("\n")[0],
            "parameters": own, "formula": parameter_formula(module),
            "multiply_adds": mac, "flops": 2 * mac, "with_submodules": t.total.get(layer, 0),
            "attention": t.attention.get(layer),
            "share": own / max(parameter_count(spec.model), 1)}


# ----- facts the lesson states --------------------------------------------------------------------

PARAMETER_KINDS = ("convolution", "linear", "attention in-projection", "other")
# MOST_OF_THE_PARAMETERS ("most of the parameters") comes from settings.py


def parameter_share_by_kind(spec: ModelSpec) -> dict[str, int]:
    """Parameters by the kind of layer that holds them (the counts add up to the model's total).

    - "convolution": every nn.Conv2d (and subclasses such as EfficientNet-Lite's Conv2dSame);
    - "linear": every nn.Linear, nn.MultiheadAttention's out_proj among them (an nn.Linear subclass);
    - "attention in-projection": nn.MultiheadAttention's own query/key/value projection, in_proj_weight
      (3E, E) and in_proj_bias (3E,) (or q/k/v_proj_weight): three Linear layers kept as parameters of
      the attention module itself, applied with F.linear;
    - "other": everything else (embeddings, normalization, a class token, a position embedding).
    The page's "fully connected layers" are "linear" plus "attention in-projection".
    """
    shares = dict.fromkeys(PARAMETER_KINDS, 0)
    for module in spec.model.modules():
        for name, p in module.named_parameters(recurse=False):
            if isinstance(module, nn.Conv2d):
                shares["convolution"] += p.numel()
            elif isinstance(module, nn.Linear):
                shares["linear"] += p.numel()
            elif isinstance(module, nn.MultiheadAttention) and name in IN_PROJECTION_PARAMETERS:
                shares["attention in-projection"] += p.numel()
            else:
                shares["other"] += p.numel()
    return shares


def fully_connected_share(spec: ModelSpec) -> dict:
    """The numbers behind the page's sentence on fully connected layers (shares are fractions of the total).

    fully_connected = linear + attention in-projection; attention_blocks and width describe the
    nn.MultiheadAttention modules (their in-projection: 3·E·E weights + 3·E biases each); other_by_type
    names where the "other" parameters are (module type, or the parameter's name for one a container owns).
    """
    shares = parameter_share_by_kind(spec)
    total = max(sum(shares.values()), 1)
    attention = [m for m in spec.model.modules() if isinstance(m, nn.MultiheadAttention)]
    other: dict[str, int] = {}
    for module in spec.model.modules():
        for name, p in module.named_parameters(recurse=False):
            if isinstance(module, (nn.Conv2d, nn.Linear)) or (
                    isinstance(module, nn.MultiheadAttention) and name in IN_PROJECTION_PARAMETERS):
                continue
            key = name if any(True for _ in module.children()) else type(module).__name__
            other[key] = other.get(key, 0) + p.numel()
    return {
        "fully_connected": (shares["linear"] + shares["attention in-projection"]) / total,
        "linear": shares["linear"] / total,
        "attention_in_projection": shares["attention in-projection"] / total,
        "attention_in_projection_parameters": shares["attention in-projection"],
        "convolution": shares["convolution"] / total,
        "other": shares["other"] / total,
        "attention_blocks": len(attention),
        "widths": sorted({m.embed_dim for m in attention}),
        "other_by_type": {k: v / total for k, v in sorted(other.items(), key=lambda kv: -kv[1])},
    }


def compare_models(a: ModelSpec, b: ModelSpec) -> pd.DataFrame:
    """Side by side: parameters, weight layers, multiply-adds, largest layer."""
    rows = {}
    for spec in (a, b):
        params = {n: sum(p.numel() for p in m.parameters(recurse=False)) for n, m in spec.model.named_modules()}
        largest = max(params, key=params.get)
        macs = multiply_adds_per_module(spec)
        weight_layers = sum(1 for m in spec.model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
        total = parameter_count(spec.model)
        rows[spec.title if spec.title not in rows else spec.title + " (2)"] = {
            "parameters": total,
            "size (MB, float32)": round(total * BYTES_PER_VALUE / 1e6, 2),
            "weight layers (conv + linear)": weight_layers,
            "deepest nesting": max_depth(spec),
            "multiply-adds (batch 1)": macs.get("", 0),
            "largest layer": f"{largest or '(model)'} ({type(spec.model.get_submodule(largest)).__name__})",
            "largest layer's parameters": params[largest],
            "largest layer's share": f"{100 * params[largest] / max(total, 1):.1f} %",
            "input": spec.input_text,
        }
    return pd.DataFrame(rows)


def conv_output_shape(size: int, kernel: int, stride: int, padding: int) -> int:
    """The side length after a conv (or pooling) layer: floor((size + 2P - K) / S) + 1."""
    return builder.conv_output_size(size, kernel, stride, padding)
