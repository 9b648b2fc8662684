"""The model builder: a stack of layers written as a short string, with shapes and counts per layer.

A stack is a comma-separated list, e.g. ``"conv:16:3:1:1,relu,pool:2,flatten,linear:10"``:

- ``conv:OUT:K:S:P``  Conv2d(C_in from the layer before, OUT, kernel K, stride S, padding P)
- ``pool:K``          MaxPool2d(K) (stride K)
- ``bn``              BatchNorm2d(C from the layer before)
- ``relu``            ReLU
- ``dropout:P``       Dropout(P), P in percent (``dropout:25`` = 0.25)
- ``flatten``         Flatten
- ``linear:OUT``      Linear(features from the layer before, OUT)
- ``linear:OUT:IN``   Linear(IN, OUT) with IN written by hand (a wrong IN is the classic mismatch)

Shapes follow the formulas in the PyTorch docs (Conv2d: H_out = floor((H + 2P - K) / S) + 1).
A layer that cannot take the shape it receives stops the stack with a plain-words `BuilderError`
naming the layer, never a traceback. No streamlit here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

LAYER_KINDS = ("conv", "pool", "bn", "relu", "dropout", "flatten", "linear")
LAYER_TITLES = {"conv": "Conv2d", "pool": "MaxPool2d", "bn": "BatchNorm2d", "relu": "ReLU",
                "dropout": "Dropout", "flatten": "Flatten", "linear": "Linear"}
INPUT_SHAPES = ("1x28x28", "3x32x32", "3x64x64", "1x8x8")  # (C, H, W) of one example
DEFAULT_STACK = "conv:16:3:1:1,relu,pool:2,conv:32:3:1:1,relu,pool:2,flatten,linear:10"
MAX_LAYERS = 40
MAX_WIDTH = 4096  # channels or features of one layer
MAX_PARAMETERS = 500_000_000

_ARITY = {"conv": (4, 4), "pool": (1, 1), "bn": (0, 0), "relu": (0, 0), "dropout": (1, 1),
          "flatten": (0, 0), "linear": (1, 2)}


@dataclass(frozen=True)
class LayerSpec:
    kind: str  # one of LAYER_KINDS
    args: tuple[int, ...] = ()

    def text(self) -> str:
        return ":".join([self.kind, *map(str, self.args)])

    def describe(self) -> str:
        """PyTorch-like call, with the inferred input size written as '?'."""
        a = self.args
        if self.kind == "conv":
            return f"Conv2d(?, {a[0]}, kernel_size={a[1]}, stride={a[2]}, padding={a[3]})"
        if self.kind == "pool":
            return f"MaxPool2d({a[0]})"
        if self.kind == "dropout":
            return f"Dropout({a[0] / 100:g})"
        if self.kind == "linear":
            return f"Linear({a[1] if len(a) > 1 else '?'}, {a[0]})"
        return f"{LAYER_TITLES[self.kind]}()"


@dataclass(frozen=True)
class BuilderError:
    index: int  # position of the layer in the stack, from 0; -1 when the text cannot be read
    layer: str  # "layer 3 (Linear)"
    message: str  # plain words: what went wrong and how to fix it


@dataclass
class LayerRow:
    index: int
    layer: str  # e.g. "Conv2d(1, 16, kernel_size=3, stride=1, padding=1)"
    input_shape: tuple[int, ...]  # one example, no batch axis
    output_shape: tuple[int, ...]
    parameters: int
    formula: str  # how the count is derived


@dataclass
class BuiltStack:
    input_shape: tuple[int, ...]
    layers: list[LayerSpec]
    rows: list[LayerRow] = field(default_factory=list)  # the layers that fit (all of them if no error)
    error: BuilderError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def total_parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.rows[-1].output_shape if self.rows else self.input_shape


class StackSyntaxError(ValueError):
    pass


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """"1x28x28" -> (1, 28, 28)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        c, h, w = (int(p) for p in parts)
    except ValueError:
        raise StackSyntaxError(f"the input shape {_safe(text)} is not C x H x W, e.g. 1x28x28") from None
    if not (1 <= c <= 64 and 1 <= h <= 512 and 1 <= w <= 512):
        raise StackSyntaxError(f"the input shape {_safe(text)} is out of range (C <= 64, H and W <= 512)")
    return c, h, w


def parse_stack(text: str) -> list[LayerSpec]:
    """"conv:16:3:1:1,relu" -> [LayerSpec("conv", (16, 3, 1, 1)), LayerSpec("relu")]."""
    layers = []
    items = [item.strip() for item in text.split(",") if item.strip()]
    if len(items) > MAX_LAYERS:
        raise StackSyntaxError(f"the stack has {len(items)} layers; the builder takes at most {MAX_LAYERS}")
    for position, item in enumerate(items):
        kind, *raw = item.lower().split(":")
        where = f"layer {position} ({_safe(item)})"
        if kind not in LAYER_KINDS:
            raise StackSyntaxError(f"{where}: unknown layer type; use one of {', '.join(LAYER_KINDS)}")
        low, high = _ARITY[kind]
        if not low <= len(raw) <= high:
            raise StackSyntaxError(f"{where}: {kind} takes {low if low == high else f'{low} or {high}'} "
                                   f"number(s) after the colon, got {len(raw)}")
        try:
            args = tuple(int(a) for a in raw)
        except ValueError:
            raise StackSyntaxError(f"{where}: the numbers must be whole numbers") from None
        _check_range(kind, args, where)
        layers.append(LayerSpec(kind, args))
    return layers


def _safe(text: str) -> str:
    """The student's text, cut short and reduced to characters a stack can contain (never markup)."""
    return re.sub(r"[^a-z0-9:._ -]", "?", text.lower())[:30]


def _check_range(kind: str, args: tuple[int, ...], where: str) -> None:
    if kind == "conv":
        out, k, s, p = args
        ok = 1 <= out <= MAX_WIDTH and 1 <= k <= 15 and 1 <= s <= 8 and 0 <= p <= 8
    elif kind == "pool":
        ok = 1 <= args[0] <= 16
    elif kind == "dropout":
        ok = 0 <= args[0] <= 95
    elif kind == "linear":
        ok = all(1 <= a <= 1_000_000 for a in args) and args[0] <= MAX_WIDTH
    else:
        ok = True
    if not ok:
        raise StackSyntaxError(f"{where}: a number is out of range")


def format_stack(layers: list[LayerSpec]) -> str:
    return ",".join(layer.text() for layer in layers)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """floor((size + 2 * padding - kernel) / stride) + 1, as nn.Conv2d and nn.MaxPool2d compute it."""
    return (size + 2 * padding - kernel) // stride + 1


def _fail(stack: BuiltStack, index: int, spec: LayerSpec, message: str) -> BuiltStack:
    stack.error = BuilderError(index, f"layer {index} ({LAYER_TITLES[spec.kind]})", message)
    return stack


def build_stack(text: str, input_shape: str) -> BuiltStack:
    """Walk the stack and work out every layer's output shape and parameter count."""
    try:
        shape: tuple[int, ...] = parse_input_shape(input_shape)
        layers = parse_stack(text)
    except StackSyntaxError as err:
        return BuiltStack((), [], error=BuilderError(-1, "the stack", str(err)))
    stack = BuiltStack(shape, layers)
    for i, spec in enumerate(layers):
        image_like = len(shape) == 3
        if spec.kind in ("conv", "pool", "bn") and not image_like:
            return _fail(stack, i, spec, f"{LAYER_TITLES[spec.kind]} works on an image-shaped input "
                         f"(channels, height, width), but the layer before hands it a flat vector of "
                         f"{shape[0]:,} numbers. Move it before the Flatten, or remove the Flatten.")
        if spec.kind == "conv":
            out, k, s, p = spec.args
            c, h, w = shape
            h2, w2 = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
            if h2 < 1 or w2 < 1:
                return _fail(stack, i, spec, f"the {k}x{k} kernel does not fit: the input is only {h}x{w} "
                             f"pixels (with padding {p}: {h + 2 * p}x{w + 2 * p}), so there is no position "
                             f"to put the kernel. Use a smaller kernel, more padding, or fewer poolings before it.")
            params = k * k * c * out + out
            row = LayerRow(i, f"Conv2d({c}, {out}, kernel_size={k}, stride={s}, padding={p})", shape,
                           (out, h2, w2), params, f"k·k·C_in·C_out + C_out = {k}·{k}·{c}·{out} + {out} = {params:,}")
        elif spec.kind == "pool":
            (k,) = spec.args
            c, h, w = shape
            if h < k or w < k:
                return _fail(stack, i, spec, f"MaxPool2d({k}) takes {k}x{k} windows, but the map it gets is "
                             f"only {h}x{w} pixels: the output would be empty. Remove a pooling layer or "
                             f"use a smaller window.")
            row = LayerRow(i, f"MaxPool2d({k})", shape, (c, h // k, w // k), 0,
                           "no parameters: it keeps the largest value of each window")
        elif spec.kind == "bn":
            c = shape[0]
            row = LayerRow(i, f"BatchNorm2d({c})", shape, shape, 2 * c,
                           f"2·C = 2·{c} = {2 * c} (a scale γ and a shift β per channel; the running "
                           f"mean and variance are buffers, not parameters)")
        elif spec.kind == "linear":
            out = spec.args[0]
            if not len(shape) == 1:
                return _fail(stack, i, spec, f"Linear expects a flat vector, but it gets a map of shape "
                             f"{_shape_text(shape)}. nn.Linear would act on the last axis only "
                             f"({shape[-1]} numbers), not on the whole map: put a Flatten before it.")
            features = shape[0]
            if len(spec.args) == 2 and spec.args[1] != features:
                return _fail(stack, i, spec, f"Linear({spec.args[1]:,}, {out}) expects {spec.args[1]:,} "
                             f"numbers in, but the layer before gives {features:,}"
                             f"{_flatten_origin(stack)}. PyTorch would stop with \"mat1 and mat2 shapes "
                             f"cannot be multiplied\". Set its input size to {features:,}.")
            params = features * out + out
            row = LayerRow(i, f"Linear({features}, {out})", shape, (out,), params,
                           f"in·out + out = {features:,}·{out} + {out} = {params:,}")
        elif spec.kind == "flatten":
            size = 1
            for d in shape:
                size *= d
            row = LayerRow(i, "Flatten()", shape, (size,), 0,
                           "no parameters: it lines the " + " × ".join(map(str, shape)) + " values up")
        elif spec.kind == "dropout":
            row = LayerRow(i, f"Dropout({spec.args[0] / 100:g})", shape, shape, 0,
                           "no parameters: it zeroes random values while training")
        else:  # relu
            row = LayerRow(i, "ReLU()", shape, shape, 0, "no parameters: max(0, x) per value")
        if stack.total_parameters + row.parameters > MAX_PARAMETERS:
            return _fail(stack, i, spec, f"the model would have more than {MAX_PARAMETERS:,} parameters; "
                         "make the layers narrower")
        stack.rows.append(row)
        shape = row.output_shape
    return stack


def _flatten_origin(stack: BuiltStack) -> str:
    """' (32 × 7 × 7 after the Flatten)' when the features come straight from a Flatten."""
    if stack.rows and stack.rows[-1].layer == "Flatten()":
        return " (" + " × ".join(map(str, stack.rows[-1].input_shape)) + " after the Flatten)"
    return ""


def to_module(stack: BuiltStack):
    """The stack as an nn.Sequential on the meta device (no memory, no values). Needs `stack.ok`."""
    import torch
    from torch import nn

    if not stack.ok:
        raise ValueError(f"the stack has an error: {stack.error.message}")
    modules = []
    with torch.device("meta"):
        for spec, row in zip(stack.layers, stack.rows):
            if spec.kind == "conv":
                out, k, s, p = spec.args
                modules.append(nn.Conv2d(row.input_shape[0], out, k, s, p))
            elif spec.kind == "pool":
                modules.append(nn.MaxPool2d(spec.args[0]))
            elif spec.kind == "bn":
                modules.append(nn.BatchNorm2d(row.input_shape[0]))
            elif spec.kind == "linear":
                modules.append(nn.Linear(row.input_shape[0], spec.args[0]))
            elif spec.kind == "flatten":
                modules.append(nn.Flatten())
            elif spec.kind == "dropout":
                modules.append(nn.Dropout(spec.args[0] / 100))
            else:
                modules.append(nn.ReLU())
    return nn.Sequential(*modules).eval()
