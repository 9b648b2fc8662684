"""Loss at many points of weight space, fast: theta + sum_j c_j * d_j for a batch of coefficient rows.

The straightforward way loads a state dict per grid point and runs one forward pass (8-24 % of the
matmul rate, issue 13). Here it does less and does it better:

- MLPs (`kind="mlp"`, `"resmlp"`), less: a slice moves the weights along m = 1 or 2 directions only,
  and the first layer is linear in its weights, so its output at every point is a combination of the
  m + 1 outputs computed once per plane (first_layer_basis); for the digits MLP that layer holds 97 %
  of the multiply-adds. Better: K points' parameters are stacked along a leading dimension and every
  later layer is one batched matmul (K, N, in) @ (K, in, out).
- The CNN (`kind="cnn"`, the course's DigitsCNN): its first convolution has one input channel, so it
  is one matmul of the digits' 3x3 neighbourhoods (im2col, computed once per plane and shared by every
  point) with the filters, the neighbourhoods grouped by 2x2 pool window so that the pool is one
  maximum over the 4 window positions (pool_windows_3x3), bias and ReLU after the pool (both commute
  with it). The digits go through the convolutions in chunks that stay in the core's cache (the first
  layer's output of all 500 digits, 25 MB a point, went to memory and back: that traffic, not the
  multiply-adds, was most of the time); later convolutions run per point in channels-last layout
  (oneDNN's fast convolution, 2-4x the default layout here), and the classifier once for all digits.
  Measured and not kept: one grouped convolution (groups = points) for 2-8 stacked points (as fast, not
  faster), several points per first-layer matmul (a copy to split them), the first layer computed only
  where a digit differs from a blank image (the scatter cost what it saved), a 1x1 oneDNN convolution
  for the first layer (slower than the matmul); vmap was slower.

Never writes into a shared model: the parameters are copied into a flat vector. No streamlit.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

POINTS_PER_CALL = 128  # MLP grid points stacked in one batched forward pass
CNN_POINTS_PER_CALL = 16  # CNN points per call (a progress update each)
CNN_POINTS_PER_MATMUL = 1  # CNN points whose first convolution is one matrix multiply (2 was no faster)
CNN_SAMPLES_PER_CALL = 64  # digits per chunk through the convolutions (first-layer output 64 x 784 x 16 floats, 3.2 MB)


@dataclass
class SliceNet:
    """A model reduced to what a slice needs: its kind, its weights as one flat vector (D,), and the
    parameter names and shapes to unflatten it. A copy: the model it came from is never touched."""

    kind: str  # "mlp", "resmlp" or "cnn"
    theta: torch.Tensor  # (D,)
    names: list[str]
    shapes: list[torch.Size]
    skips: bool = True  # only for "resmlp"
    buffers: dict[str, torch.Tensor] | None = None  # BatchNorm running statistics (eval mode), only for "resmlp"

    @classmethod
    def from_model(cls, model: nn.Module, kind: str) -> SliceNet:
        if kind == "cnn" and getattr(model, "config", {}).get("activation", "relu") != "relu":
            raise ValueError("the CNN grid forward is DigitsCNN's with ReLU")
        named = [(n, p.detach()) for n, p in model.named_parameters()]
        theta = torch.cat([p.reshape(-1) for _, p in named]).float().clone()  # (D,)
        buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
        return cls(kind, theta, [n for n, _ in named], [p.shape for _, p in named],
                   bool(getattr(model, "skips", True)), buffers)

    @property
    def conv_layers(self) -> list[str]:
        """The CNN's convolutions in order: ["features.conv1", "features.conv2"]."""
        convs = [n[:-len(".weight")] for n, s in zip(self.names, self.shapes) if len(s) == 4]
        return sorted(convs, key=lambda n: int(n.rsplit("conv", 1)[1]))

    def flatten(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([params[n].reshape(-1) for n in self.names]).float()  # (D,)

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """(..., D) -> {name: (..., *shape)} views."""
        out, offset = {}, 0
        lead = flat.shape[:-1]
        for name, shape in zip(self.names, self.shapes):
            size = math.prod(shape)
            out[name] = flat[..., offset:offset + size].reshape(*lead, *shape)
            offset += size
        return out


def _stacked_linear(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """h (K, N, in), weight (K, out, in), bias (K, out) -> (K, N, out)."""
    return torch.baddbmm(bias[:, None, :], h, weight.transpose(1, 2))


def _shared_first_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x (N, in) shared by all points, weight (K, out, in) -> (K, N, out) in one matrix multiply."""
    k, out, fan_in = weight.shape
    h = torch.addmm(bias.reshape(-1), x, weight.reshape(k * out, fan_in).t())  # (N, K*out)
    return h.view(len(x), k, out).transpose(0, 1)  # (K, N, out)


def _stacked_batchnorm(h: torch.Tensor, weights: dict, buffers: dict, name: str, eps: float = 1e-5) -> torch.Tensor:
    """BatchNorm1d in eval mode (running statistics) with K stacked scales and shifts: h (K, N, w)."""
    scale = weights[f"{name}.weight"] / torch.sqrt(buffers[f"{name}.running_var"] + eps)  # (K, w)
    shift = weights[f"{name}.bias"] - buffers[f"{name}.running_mean"] * scale  # (K, w)
    return torch.addcmul(shift[:, None, :], h, scale[:, None, :])  # (K, N, w)


def _max_pool_nhwc(h: torch.Tensor) -> torch.Tensor:
    """nn.MaxPool2d(2) on channels-last activations: (N, H, W, C) -> (N, H // 2, W // 2, C), as two
    element-wise maxima of strided halves (much faster here than max_pool2d on this layout)."""
    rows, cols = h.shape[1] // 2, h.shape[2] // 2
    h = h[:, :2 * rows, :2 * cols]
    h = torch.maximum(h[:, 0::2], h[:, 1::2])  # (N, H/2, W, C)
    return torch.maximum(h[:, :, 0::2], h[:, :, 1::2])  # (N, H/2, W/2, C)


def _conv_nhwc(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """A 3x3, padding-1 convolution (DigitsCNN's) on channels-last activations: (N, H, W, C) -> (N, H, W, C')."""
    out = F.conv2d(h.permute(0, 3, 1, 2), weight.contiguous(memory_format=torch.channels_last), bias, padding=1)
    return out.permute(0, 2, 3, 1)  # (N, H, W, C'): a view of oneDNN's channels-last output


def im2col_3x3(x: torch.Tensor) -> torch.Tensor:
    """The zero-padded 3x3 neighbourhood of every pixel: x (N, 1, H, W) -> (N, H, W, 9), taps in the
    order of a (C, 1, 3, 3) conv weight flattened to (C, 9)."""
    height, width = x.shape[2:]
    padded = F.pad(x[:, 0], (1, 1, 1, 1))  # (N, H+2, W+2)
    return torch.stack([padded[:, dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)], -1)


def pool_windows_3x3(x: torch.Tensor) -> torch.Tensor:
    """im2col_3x3 regrouped by 2x2 max-pool window: x (N, 1, H, W) -> (N, 4, (H//2)*(W//2), 9), where
    [:, 2*dy + dx, i*(W//2) + j] is the neighbourhood of pixel (2i + dy, 2j + dx). A first convolution
    followed by MaxPool2d(2) is then a matmul with the filters and a maximum over dimension 1 (an odd
    last row or column is dropped, as MaxPool2d(2) drops it). Shared by every grid point."""
    cols = im2col_3x3(x)  # (N, H, W, 9)
    n, height, width = cols.shape[:3]
    rows, columns = height // 2, width // 2
    cols = cols[:, :2 * rows, :2 * columns].reshape(n, rows, 2, columns, 2, 9)
    return cols.permute(0, 2, 4, 1, 3, 5).reshape(n, 4, rows * columns, 9).contiguous()


def _cnn_logits(net: SliceNet, weights: dict[str, torch.Tensor], windows: torch.Tensor,
                pooled_size: tuple[int, int]) -> torch.Tensor:
    """DigitsCNN (conv-relu-pool blocks, fc1-relu-(dropout)-fc2, eval mode) at K points of weight space.

    weights: {name: (K, *shape)}; windows: pool_windows_3x3 of the digits, (n, 4, S, 9) with S the
    pixels after the first pool, pooled_size its (rows, columns). The digits go through the
    convolutions in chunks of CNN_SAMPLES_PER_CALL, so that every intermediate stays in the core's
    cache (the whole batch's first-layer output, 25 MB a point, went to memory and back for the pool:
    most of the time was that traffic). Per chunk the first convolution of all K points is one matmul
    of the shared neighbourhoods with the K stacked filters, (m, 4, S, 9) @ (9, K*C), pooled by a
    maximum over the 4 window positions; bias and ReLU come after the pool (both commute with it).
    Later convolutions run per point on oneDNN in channels-last layout. The classifier runs once for
    all digits, its first weight's columns permuted to the channels-last (H, W, C) flatten order.
    Returns logits (K, n, 10)."""
    convs = net.conv_layers
    w1, b1 = weights[f"{convs[0]}.weight"], weights[f"{convs[0]}.bias"]  # (K, C, 1, 3, 3), (K, C)
    points, channels = w1.shape[:2]
    n = len(windows)
    filters = w1.reshape(points * channels, 9).t().contiguous()  # (9, K*C)
    later = [[(weights[f"{conv}.weight"][k].contiguous(memory_format=torch.channels_last), weights[f"{conv}.bias"][k])
              for conv in convs[1:]] for k in range(points)]
    fc1 = weights["classifier.fc1.weight"]  # (K, hidden, C_last * H_last * W_last) in (C, H, W) order
    last_channels = weights[f"{convs[-1]}.weight"].shape[1] if len(convs) > 1 else channels
    width = fc1.shape[1]
    fc1 = fc1.view(points, width, last_channels, -1).transpose(2, 3).reshape(points, width, -1)  # (H, W, C) order
    features = torch.empty(points, n, fc1.shape[2])  # (K, n, H_last * W_last * C_last)
    for start in range(0, n, CNN_SAMPLES_PER_CALL):
        chunk = windows[start:start + CNN_SAMPLES_PER_CALL]  # (m, 4, S, 9)
        m = len(chunk)
        pooled = torch.matmul(chunk, filters).amax(1)  # (m, S, K*C): conv1, then the 2x2 max
        pooled = torch.relu_(pooled.add_(b1.reshape(-1))).view(m, *pooled_size, points, channels)
        for k in range(points):
            h = pooled[..., k, :].contiguous()  # (m, H/2, W/2, C) of point k
            for weight, bias in later[k]:
                h = torch.relu_(_max_pool_nhwc(_conv_nhwc(h, weight, bias)))
            features[k, start:start + m] = h.reshape(m, -1)
    hidden = torch.relu_(torch.baddbmm(weights["classifier.fc1.bias"][:, None], features, fc1.transpose(1, 2)))
    return torch.baddbmm(weights["classifier.fc2.bias"][:, None], hidden,
                         weights["classifier.fc2.weight"].transpose(1, 2))  # (K, n, 10)


FIRST_LAYER = {"mlp": "fc1", "resmlp": "stem"}


@torch.no_grad()
def first_layer_basis(net: SliceNet, directions: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The first layer's outputs at theta and along each direction, computed once for a whole grid.

    A slice moves the weights along a few directions only, and the first layer is linear in its weight
    and bias: at theta + sum_j c_j d_j its output is A_0 + sum_j c_j A_j, where A_0 is its output with
    theta's first-layer weights and A_j its output with direction j's first-layer weights and bias alone
    (the input x is the same at every point). So m + 1 first-layer passes replace one per grid point,
    and each point's first layer becomes a combination of m + 1 stored outputs.

    For the MLPs (the CNN shares its first layer's input instead, _cnn_logits). directions (m, D);
    x (N, 1, 28, 28). Returns (m + 1, N, out).
    """
    name = FIRST_LAYER[net.kind]
    theta, along = net.unflatten(net.theta), net.unflatten(directions)
    weight = torch.cat([theta[f"{name}.weight"][None], along[f"{name}.weight"]])  # (m+1, out, ...)
    bias = torch.cat([theta[f"{name}.bias"][None], along[f"{name}.bias"]])  # (m+1, out)
    return _shared_first_linear(x.flatten(1), weight, bias).contiguous()  # (m+1, N, out)


def plane_basis(net: SliceNet, directions: torch.Tensor, x: torch.Tensor) -> torch.Tensor | None:
    """What every point of a plane shares, computed once: the MLPs' first_layer_basis (m+1, N, out),
    the CNN's pool_windows_3x3 of the digits (N, 4, S, 9)."""
    if net.kind == "cnn":
        return pool_windows_3x3(x)
    return first_layer_basis(net, directions, x) if net.kind in FIRST_LAYER else None


def stacked_logits(net: SliceNet, weights: dict[str, torch.Tensor], x: torch.Tensor,
                   basis: torch.Tensor | None = None, mix: torch.Tensor | None = None) -> torch.Tensor:
    """Logits (K, N, 10) of K weight sets (each tensor (K, *shape)) on the shared input x (N, ...).
    MLPs: basis (m+1, N, out) from first_layer_basis and mix (K, m+1) give the K points' first-layer
    outputs (mix @ basis); without them the first layer runs here. The CNN: basis is pool_windows_3x3(x)
    (computed here when None), mix is ignored (_cnn_logits)."""
    if net.kind == "cnn":  # basis: the digits' pool_windows_3x3, shared by every point of every plane
        windows = pool_windows_3x3(x) if basis is None else basis  # (N, 4, S, 9)
        pooled_size = (x.shape[2] // 2, x.shape[3] // 2)
        points = next(iter(weights.values())).shape[0]
        return torch.cat([_cnn_logits(net, {n: w[g:g + CNN_POINTS_PER_MATMUL] for n, w in weights.items()},
                                      windows, pooled_size)
                          for g in range(0, points, CNN_POINTS_PER_MATMUL)])  # (K, N, 10)
    x = x.flatten(1)  # (N, 784)
    name = FIRST_LAYER[net.kind]
    if basis is None:
        first = _shared_first_linear(x, weights[f"{name}.weight"], weights[f"{name}.bias"])  # (K, N, out)
    else:
        first = (mix @ basis.view(len(basis), -1)).view(len(mix), *basis.shape[1:])  # (K, N, out)
    if net.kind == "mlp":  # DigitsMLP: fc1, relu, fc2, relu, ..., fcL
        layers = sorted({n.split(".")[0] for n in net.names}, key=lambda s: int(s[2:]))
        h = first
        for layer in layers[1:]:
            h = _stacked_linear(torch.relu(h), weights[f"{layer}.weight"], weights[f"{layer}.bias"])
        return h
    if net.kind == "resmlp":  # lessons.landscapes.nets.ResidualMLP, BatchNorm in eval mode
        bn = net.buffers
        h = torch.relu(_stacked_batchnorm(first, weights, bn, "stem_bn"))  # (K, N, w)
        blocks = len({n.split(".")[1] for n in net.names if n.startswith("blocks.")})
        for i in range(blocks):
            b = f"blocks.{i}"
            r = _stacked_linear(h, weights[f"{b}.fc1.weight"], weights[f"{b}.fc1.bias"])
            r = torch.relu(_stacked_batchnorm(r, weights, bn, f"{b}.bn1"))
            r = _stacked_linear(r, weights[f"{b}.fc2.weight"], weights[f"{b}.fc2.bias"])
            r = _stacked_batchnorm(r, weights, bn, f"{b}.bn2")
            h = torch.relu(h + r if net.skips else r)  # (K, N, w)
        return _stacked_linear(h, weights["head.weight"], weights["head.bias"])
    raise ValueError(f"no stacked forward for {net.kind!r}")


@torch.no_grad()
def evaluate_points(net: SliceNet, directions: torch.Tensor, coeffs: np.ndarray | torch.Tensor,
                    x: torch.Tensor, y: torch.Tensor, points_per_call: int | None = None,
                    reuse_first_layer: bool = True, basis: torch.Tensor | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy and accuracy at theta + coeffs @ directions.

    directions (m, D); coeffs (P, m); x (N, 1, 28, 28); y (N,). Returns loss (P,), acc (P,).
    reuse_first_layer: take every point's first layer from first_layer_basis (the lesson's path);
    False runs every layer at every point (the benchmark's measure of the stacked kernels alone).
    basis: plane_basis(net, directions, x), when the caller evaluates the same plane in parts.
    """
    coeffs = torch.as_tensor(np.asarray(coeffs, dtype=np.float32))  # (P, m)
    per_call = points_per_call or (CNN_POINTS_PER_CALL if net.kind == "cnn" else POINTS_PER_CALL)
    if basis is None and (reuse_first_layer or net.kind == "cnn"):
        basis = plane_basis(net, directions, x)
    losses, accs = torch.empty(len(coeffs)), torch.empty(len(coeffs))
    for start in range(0, len(coeffs), per_call):
        chunk = coeffs[start:start + per_call]  # (K, m)
        flat = torch.addmm(net.theta[None], chunk, directions)  # (K, D)
        mix = torch.cat([torch.ones(len(chunk), 1), chunk], 1)  # (K, m+1): 1 for theta, c_j for d_j
        logits = stacked_logits(net, net.unflatten(flat), x, basis, mix)  # (K, N, 10)
        k, n, classes = logits.shape
        loss = F.cross_entropy(logits.reshape(k * n, classes), y.repeat(k), reduction="none")  # (K*N,)
        losses[start:start + k] = loss.view(k, n).mean(1)
        accs[start:start + k] = (logits.argmax(-1) == y).float().mean(1)
    return losses.numpy(), accs.numpy()


@torch.no_grad()
def evaluate_points_state_dict_loop(model: nn.Module, names: list[str], directions: list[dict],
                                    coeffs: np.ndarray, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """The straightforward reference: a private copy, one load_state_dict and one forward per point
    (default memory layout). Only for the benchmark and the tests that check the fast path against it."""
    private = copy.deepcopy(model).eval()
    theta = {n: p.detach().clone() for n, p in model.named_parameters()}
    losses = np.empty(len(coeffs), np.float32)
    for i, c in enumerate(np.asarray(coeffs, dtype=np.float32)):
        state = {n: theta[n] + sum(float(cj) * d[n] for cj, d in zip(c, directions)) for n in names}
        private.load_state_dict(state, strict=False)
        losses[i] = F.cross_entropy(private(x), y).item()
    return losses


# --------------------------------------------------------------------------- coarse, then refined


def nested_levels(resolution: int, coarsest: int = 9) -> list[int]:
    """Grid sizes that nest into `resolution` (each point of a level is a point of the next):
    33 -> [9, 17, 33]. A resolution that does not nest is computed in one level."""
    levels = [resolution]
    while (levels[-1] - 1) % 2 == 0 and (levels[-1] - 1) // 2 + 1 >= coarsest:
        levels.append((levels[-1] - 1) // 2 + 1)
    return levels[::-1]


@dataclass
class SurfaceUpdate:
    level: int  # the resolution complete so far
    done: int  # grid points evaluated so far
    total: int
    axis: np.ndarray  # (level,) coefficients along each direction
    loss: np.ndarray  # (level, level): rows along direction 2 (beta), columns along direction 1 (alpha)
    acc: np.ndarray


def surface_stream(net: SliceNet, directions: torch.Tensor, span: float, resolution: int,
                   x: torch.Tensor, y: torch.Tensor, points_per_call: int | None = None,
                   ) -> Iterator[SurfaceUpdate]:
    """theta + a*d1 + b*d2 for a, b in linspace(-span, span, resolution): a coarse grid first, then
    each finer level evaluates only its new points. Yields after every level (and, for the slow CNN,
    after every chunk of points, so a progress bar can move)."""
    axis = np.linspace(-span, span, resolution).astype(np.float32)
    loss = np.full((resolution, resolution), np.nan, np.float32)
    acc = np.full((resolution, resolution), np.nan, np.float32)
    done = 0
    basis = plane_basis(net, directions, x)  # once for the plane
    for level in nested_levels(resolution):
        stride = (resolution - 1) // (level - 1) if level > 1 else 1
        rows, cols = np.meshgrid(np.arange(0, resolution, stride), np.arange(0, resolution, stride), indexing="ij")
        todo = np.isnan(loss[rows, cols])
        r, c = rows[todo], cols[todo]
        chunk = points_per_call or (CNN_POINTS_PER_CALL if net.kind == "cnn" else POINTS_PER_CALL)
        for start in range(0, len(r), chunk):
            rr, cc = r[start:start + chunk], c[start:start + chunk]
            coeffs = np.stack([axis[cc], axis[rr]], axis=1)  # (k, 2): alpha along columns, beta along rows
            loss[rr, cc], acc[rr, cc] = evaluate_points(net, directions, coeffs, x, y, points_per_call, basis=basis)
            done += len(rr)
            if net.kind == "cnn" and start + chunk < len(r):
                yield SurfaceUpdate(level, done, resolution ** 2, axis[::stride], loss[::stride, ::stride].copy(),
                                    acc[::stride, ::stride].copy())
        yield SurfaceUpdate(level, done, resolution ** 2, axis[::stride], loss[::stride, ::stride].copy(),
                            acc[::stride, ::stride].copy())


def full_surface(net: SliceNet, directions: torch.Tensor, span: float, resolution: int, x, y,
                 progress: Callable[[SurfaceUpdate], None] | None = None) -> SurfaceUpdate:
    last = None
    for last in surface_stream(net, directions, span, resolution, x, y):
        if progress is not None:
            progress(last)
    return last
