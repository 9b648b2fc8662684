"""Loss at many points of weight space, fast: theta + sum_j c_j * d_j for a batch of coefficient rows.

The straightforward way loads a state dict per grid point and runs one forward pass (8-24 % of the
matmul rate, issue 13). Here many points go through one call with their parameters stacked along a
leading dimension of size K:

- MLPs (`kind="mlp"`, `"resmlp"`): the first layer's input is shared by all K points, so its K weight
  matrices become one (N, in) @ (in, K*out) matrix multiply; later layers are batched matmuls
  (K, N, in) @ (K, in, out). That is how an MLP grid reaches a large share of the matmul rate.
- the CNN (`kind="cnn"`): one `torch.func.functional_call` per point on a private copy of the model,
  with input and conv weights in channels_last (grouped convolutions and vmap were slower here).

Never writes into a shared model. No streamlit.
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
from torch.func import functional_call

POINTS_PER_CALL = 128  # MLP grid points stacked in one batched forward pass


@dataclass
class SliceNet:
    """A model reduced to what a slice needs: its kind, its weights as one flat vector (D,), the
    parameter names and shapes to unflatten it, and (for the CNN) a private copy to call."""

    kind: str  # "mlp", "resmlp" or "cnn"
    theta: torch.Tensor  # (D,)
    names: list[str]
    shapes: list[torch.Size]
    module: nn.Module | None = None  # private copy, only for "cnn"
    skips: bool = True  # only for "resmlp"

    @classmethod
    def from_model(cls, model: nn.Module, kind: str) -> SliceNet:
        named = [(n, p.detach()) for n, p in model.named_parameters()]
        theta = torch.cat([p.reshape(-1) for _, p in named]).float().clone()  # (D,)
        module = None
        if kind == "cnn":
            module = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)
        return cls(kind, theta, [n for n, _ in named], [p.shape for _, p in named], module,
                   bool(getattr(model, "skips", True)))

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


def stacked_logits(net: SliceNet, weights: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits (K, N, 10) of K weight sets (each tensor (K, *shape)) on the shared input x (N, ...)."""
    x = x.flatten(1)  # (N, 784)
    if net.kind == "mlp":  # DigitsMLP: fc1, relu, fc2, relu, ..., fcL
        layers = sorted({n.split(".")[0] for n in net.names}, key=lambda s: int(s[2:]))
        h = _shared_first_linear(x, weights[f"{layers[0]}.weight"], weights[f"{layers[0]}.bias"])
        for layer in layers[1:]:
            h = _stacked_linear(torch.relu(h), weights[f"{layer}.weight"], weights[f"{layer}.bias"])
        return h
    if net.kind == "resmlp":  # lessons.landscapes.nets.ResidualMLP
        h = torch.relu(_shared_first_linear(x, weights["stem.weight"], weights["stem.bias"]))  # (K, N, w)
        blocks = len({n.split(".")[1] for n in net.names if n.startswith("blocks.")})
        for i in range(blocks):
            r = torch.relu(_stacked_linear(h, weights[f"blocks.{i}.fc1.weight"], weights[f"blocks.{i}.fc1.bias"]))
            r = _stacked_linear(r, weights[f"blocks.{i}.fc2.weight"], weights[f"blocks.{i}.fc2.bias"])
            h = torch.relu(h + r if net.skips else r)  # (K, N, w)
        return _stacked_linear(h, weights["head.weight"], weights["head.bias"])
    raise ValueError(f"no stacked forward for {net.kind!r}")


def _cnn_logits(net: SliceNet, flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """One point (D,) through the private CNN copy, channels_last -> (N, 10)."""
    weights = {name: (w.contiguous(memory_format=torch.channels_last) if w.dim() == 4 else w)
               for name, w in net.unflatten(flat).items()}
    return functional_call(net.module, weights, (x,))


@torch.no_grad()
def evaluate_points(net: SliceNet, directions: torch.Tensor, coeffs: np.ndarray | torch.Tensor,
                    x: torch.Tensor, y: torch.Tensor, points_per_call: int = POINTS_PER_CALL,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy and accuracy at theta + coeffs @ directions.

    directions (m, D); coeffs (P, m); x (N, 1, 28, 28); y (N,). Returns loss (P,), acc (P,).
    """
    coeffs = torch.as_tensor(np.asarray(coeffs, dtype=np.float32))  # (P, m)
    losses, accs = torch.empty(len(coeffs)), torch.empty(len(coeffs))
    if net.kind == "cnn":
        x = x.contiguous(memory_format=torch.channels_last)
        for i, c in enumerate(coeffs):
            logits = _cnn_logits(net, net.theta + c @ directions, x)  # (N, 10)
            losses[i] = F.cross_entropy(logits, y)
            accs[i] = (logits.argmax(1) == y).float().mean()
        return losses.numpy(), accs.numpy()
    for start in range(0, len(coeffs), points_per_call):
        chunk = coeffs[start:start + points_per_call]  # (K, m)
        flat = torch.addmm(net.theta[None], chunk, directions)  # (K, D)
        logits = stacked_logits(net, net.unflatten(flat), x)  # (K, N, 10)
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
                   x: torch.Tensor, y: torch.Tensor, points_per_call: int = POINTS_PER_CALL,
                   ) -> Iterator[SurfaceUpdate]:
    """theta + a*d1 + b*d2 for a, b in linspace(-span, span, resolution): a coarse grid first, then
    each finer level evaluates only its new points. Yields after every level (and, for the slow CNN,
    after every chunk of points, so a progress bar can move)."""
    axis = np.linspace(-span, span, resolution).astype(np.float32)
    loss = np.full((resolution, resolution), np.nan, np.float32)
    acc = np.full((resolution, resolution), np.nan, np.float32)
    done = 0
    for level in nested_levels(resolution):
        stride = (resolution - 1) // (level - 1) if level > 1 else 1
        rows, cols = np.meshgrid(np.arange(0, resolution, stride), np.arange(0, resolution, stride), indexing="ij")
        todo = np.isnan(loss[rows, cols])
        r, c = rows[todo], cols[todo]
        chunk = points_per_call if net.kind != "cnn" else 16
        for start in range(0, len(r), chunk):
            rr, cc = r[start:start + chunk], c[start:start + chunk]
            coeffs = np.stack([axis[cc], axis[rr]], axis=1)  # (k, 2): alpha along columns, beta along rows
            loss[rr, cc], acc[rr, cc] = evaluate_points(net, directions, coeffs, x, y, points_per_call)
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
