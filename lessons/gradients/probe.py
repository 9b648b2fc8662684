"""Per-layer statistics of a training step: a callback for the engine (models.training.train_iter).

For each weight layer of a ``GradientNet`` (input to output) and each step, ``LayerProbe``
records (``LAYER_STATS``):

- the weight gradient: its norm, mean |g|, max |g| and the 5th, 25th, 50th, 75th and 95th
  percentiles of |g| (TensorBoard's "distributions" draw such percentile bands), estimated from
  at most 2,048 evenly spaced entries per layer (the exact sort cost more than the step itself);
- ``backprop_norm``: the norm of the gradient of the loss with respect to the layer's output,
  the signal backpropagation hands down to the layer below (Glorot & Bengio 2010, figure 7);
- ``update_ratio``: |w_new - w_old| / |w_old| for the weight, the "update-to-weight ratio" that
  Karpathy's CS231n notes watch at about 1e-3;
- activation statistics of the block's activation output: mean, std, the share saturated
  (sigmoid outside [0.05, 0.95], tanh with |y| > 0.95: the derivative is below a fifth of its
  largest value) and the share of dead units (ReLU or GELU whose input is negative for every
  example of the batch: their gradient is zero or nearly so).

and per step the global gradient norm before and after clipping (measured on the gradient the
optimizer used, so a clipped run shows the clipped norm). All numbers of a step are gathered in
one tensor and copied to Python once, so the probe adds little to a step.
"""
from __future__ import annotations

import math

import torch

from lessons.gradients.compute import LAYER_STATS, QUANTILES
from lessons.gradients.network import GradientNet

SIGMOID_SATURATED = 0.05  # sigmoid output below this or above 1 - this: derivative < 0.05 * (1 - 0.05) < 0.25 / 5
QUANTILE_SAMPLE = 2048  # percentiles from this many evenly spaced entries per layer (sorting is the cost)
TANH_SATURATED = 0.95  # |tanh| above this: derivative 1 - y^2 < 0.1


def saturation_share(activation: str, y: torch.Tensor) -> torch.Tensor:
    """Per row of ``y`` (k, ...): the share of activation outputs in the saturated regime (0 for
    ReLU and GELU)."""
    flat = y.flatten(1)  # (k, n)
    if activation == "sigmoid":
        return ((flat < SIGMOID_SATURATED) | (flat > 1 - SIGMOID_SATURATED)).float().mean(1)
    if activation == "tanh":
        return (flat.abs() > TANH_SATURATED).float().mean(1)
    return torch.zeros(len(y))


def dead_share(activation: str, pre: torch.Tensor) -> torch.Tensor:
    """Per row of ``pre`` (k, B, units, ...): the share of units whose input is negative for every
    example of the batch (ReLU and GELU; 0 for sigmoid and tanh). A conv channel is one unit."""
    if activation not in ("relu", "gelu"):
        return torch.zeros(len(pre))
    other = [d for d in range(pre.ndim) if d not in (0, 2)]  # batch and positions
    return (pre.amax(dim=other) <= 0).float().mean(1)  # (k, units) -> (k,)


def _groups(tensors: list[torch.Tensor]) -> list[list[int]]:
    """Indices of tensors of equal shape, so that their statistics take one batched call."""
    by_shape: dict[tuple, list[int]] = {}
    for i, t in enumerate(tensors):
        by_shape.setdefault(tuple(t.shape), []).append(i)
    return list(by_shape.values())


def _even_sample(n: int) -> torch.Tensor:
    """At most QUANTILE_SAMPLE evenly spaced positions in 0..n-1 (all of them for small layers)."""
    if n <= QUANTILE_SAMPLE:
        return torch.arange(n)
    return torch.linspace(0, n - 1, QUANTILE_SAMPLE).long()


def gradient_stats(grads: list[torch.Tensor]) -> torch.Tensor:
    """(layers, 8): norm, mean |g|, max |g| and the QUANTILES of |g| for each gradient."""
    out = torch.empty(len(grads), 3 + len(QUANTILES))
    q = torch.tensor(QUANTILES)
    for group in _groups(grads):
        g = torch.stack([grads[i] for i in group]).flatten(1).abs()  # (k, numel)
        out[group, 0] = torch.linalg.vector_norm(g, dim=1)
        out[group, 1] = g.mean(1)
        out[group, 2] = g.amax(1)
        sample = g[:, _even_sample(g.shape[1])]  # (k, <= QUANTILE_SAMPLE)
        out[group, 3:] = torch.quantile(sample, q, dim=1).T  # (k, 5)
    return out


def activation_stats(activation: str, acts: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """(blocks, 4): mean, std, share saturated, share dead of each block's activation output."""
    out = torch.empty(len(acts), 4)
    outputs = [y for _, y in acts]
    for group in _groups(outputs):
        y = torch.stack([outputs[i] for i in group])  # (k, B, units, ...)
        pre = torch.stack([acts[i][0] for i in group])  # (k, B, units, ...)
        flat = y.flatten(1)  # (k, n)
        out[group, 0] = flat.mean(1)
        out[group, 1] = (flat - out[group, 0, None]).square().mean(1).sqrt()  # population std, 2 passes
        out[group, 2] = saturation_share(activation, y)
        out[group, 3] = dead_share(activation, pre)
    return out


class LayerProbe:
    """Callback for ``train_iter``: fills ``rows`` (one list of ``LAYER_STATS`` values per layer and
    step) and ``step_rows`` (step, loss, grad_norm, clipped_norm). ``nonfinite_step`` is the first
    step whose gradient held an inf or NaN (the caller stops the run there)."""

    def __init__(self, model: GradientNet, activation: str):
        self.model = model
        self.activation = activation
        self.layers = list(model.weight_layers())  # [(name, module)], input to output
        self.names = [name for name, _ in self.layers]
        self.rows: list = []  # per step: (layers, len(LAYER_STATS)) numpy array
        self.step_rows: list[dict] = []
        self.nonfinite_step: int | None = None
        self._handles: list = []
        self._acts: list[tuple[torch.Tensor, torch.Tensor]] = []  # per block: (pre-activation, output)
        self._outputs: list[torch.Tensor] = []  # per block and the logits: the tensors whose grads we read
        self._backprop: dict[int, torch.Tensor] = {}
        self._before: list[torch.Tensor] = []
        self._pending: torch.Tensor | None = None
        self._pre_clip = math.nan

    # ----- hooks that see the forward pass --------------------------------------------------------
    def on_train_begin(self) -> None:
        blocks = list(self.model.blocks)
        for i, block in enumerate(blocks):
            self._handles.append(block.act.register_forward_hook(self._activation_hook))
            self._handles.append(block.register_forward_hook(self._output_hook(i)))
        self._handles.append(self.model.head.register_forward_hook(self._output_hook(len(blocks))))

    def on_train_end(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _activation_hook(self, module, inputs, output) -> None:
        if torch.is_grad_enabled():
            self._acts.append((inputs[0].detach(), output.detach()))

    def _output_hook(self, index: int):
        def hook(module, inputs, output):
            if torch.is_grad_enabled() and output.requires_grad:
                output.register_hook(lambda grad: self._backprop.__setitem__(index, grad.detach().norm()))
        return hook

    # ----- engine callbacks ---------------------------------------------------------------------
    def on_after_backward(self, step: int) -> None:
        weights = [layer.weight for _, layer in self.layers]
        grads = [w.grad.detach() if w.grad is not None else torch.zeros_like(w) for w in weights]
        stats = torch.full((len(self.layers), len(LAYER_STATS)), math.nan)  # (layers, stats)
        stats[:, :8] = gradient_stats(grads)
        for i, norm in self._backprop.items():
            stats[i, 8] = norm
        if self._acts:
            stats[:len(self._acts), 10:] = activation_stats(self.activation, self._acts)
        self._pending = stats
        self._pre_clip = self._global_norm()
        if not math.isfinite(self._pre_clip) and self.nonfinite_step is None:
            self.nonfinite_step = step
        self._before = [w.detach().clone() for w in weights]
        self._acts, self._backprop = [], {}

    def _global_norm(self) -> float:
        """The norm of all parameters' gradients as one vector, as clip_grad_norm_ computes it
        (float32: a norm above 3.4e38 overflows to inf, and clipping would then produce NaN)."""
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        return float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0

    def on_step(self, event) -> None:
        if self._pending is None:
            return
        weights = [layer.weight.detach() for _, layer in self.layers]
        updates = torch._foreach_norm(torch._foreach_sub(weights, self._before))  # |w_new - w_old| per layer
        olds = torch._foreach_norm(self._before)
        self._pending[:, 9] = torch.stack(updates) / torch.stack(olds).clamp_min(1e-30)
        self.rows.append(self._pending.numpy())  # (layers, stats) float32, a fresh tensor per step
        self.step_rows.append(dict(step=event.step, loss=event.loss, grad_norm=self._pre_clip,
                                   clipped_norm=self._global_norm()))  # the gradient the optimizer used
        self._pending, self._before = None, []
