"""One training engine for the course: a generator of events, plus callbacks.

    with seeded(0):
        model = DigitsCNN()
    history = History()
    for event in train_iter(model, x_train, y_train, x_val, y_val, TrainConfig(epochs=3), [history]):
        if isinstance(event, EpochEvent):
            print(event.epoch, event.val_acc)        # a page updates its chart here
    history.epochs                                   # a DataFrame, one row per epoch

Mini-batch gradient descent with a choice of optimizer: SGD (Robbins & Monro 1951), SGD with
momentum (Polyak 1964; Sutskever et al., ICML 2013), Adam (Kingma & Ba, "Adam: a method for
stochastic optimization", ICLR 2015) and AdamW (Loshchilov & Hutter, "Decoupled weight decay
regularization", ICLR 2019); an optional cosine learning-rate schedule (Loshchilov & Hutter,
"SGDR", ICLR 2017); random-shift augmentation; and label noise (Zhang et al., "Understanding deep
learning requires rethinking generalization", ICLR 2017).

The engine trains the model it is given in place (pass a copy you own, never a cached model)
and touches no global state: shuffling, augmentation and label noise use their own
``torch.Generator``; dropout, which draws from torch's global generator, runs with a private
generator state swapped in under a lock for each step. Same inputs and seed -> same numbers.
"""

from __future__ import annotations

import contextlib
import copy
import math
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
SCHEDULES = ("constant", "cosine")

# Dropout draws from torch's process-wide generator; steps swap their own state in under this lock.
_GLOBAL_RNG_LOCK = threading.RLock()


# --------------------------------------------------------------------------- config and events


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run (with the data and the initial weights)."""

    optimizer: str = "adam"  # one of OPTIMIZERS
    lr: float = 1e-3
    batch_size: int = 64
    epochs: int = 5
    weight_decay: float = 0.0  # L2 penalty for sgd/momentum/adam, decoupled decay for adamw
    momentum: float = 0.9  # only for "momentum"
    schedule: str = "constant"  # or "cosine": lr decays to 0 over the run
    seed: int = 0  # shuffling, augmentation, label noise, dropout
    augment: bool = False  # random shifts of up to max_shift pixels, edge pixels repeated
    max_shift: int = 2
    label_noise: float = 0.0  # fraction of labels changed: corrupt_labels(y, label_noise, seed + 1)
    grad_clip: float | None = None  # clip the global gradient norm (after measuring it)
    grad_stats_every: int = 0  # fill StepEvent.grad_norms etc. every k steps (0: never)
    max_steps: int | None = None  # stop early after this many steps (ends with an EpochEvent)
    eval_batch_size: int = 1000
    # A loss above this (or NaN/inf) stops the run with DivergedEvent. Cross-entropy starts near
    # ln(10) = 2.3; above 100 the logits are in the hundreds and the run has blown up (left
    # alone, such a run often falls back to ~2.3 as a dead network: every ReLU off).
    diverge_above: float = 100.0
    channels_last: bool = True  # faster convolutions on CPU; only applied to 4-D inputs

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 0.0 <= self.label_noise <= 1.0:
            raise ValueError("label_noise must be a fraction in [0, 1]")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class StepEvent:
    """After each optimizer step. ``loss``/``acc`` are on the training batch, in train mode.
    ``grad_norms``/``weight_norms``/``update_ratios`` map parameter names to floats on the steps
    chosen by ``TrainConfig.grad_stats_every`` and are None otherwise."""

    step: int  # 1 for the first update
    epoch: int  # 0-based epoch this step belongs to
    loss: float
    acc: float
    lr: float
    total_steps: int
    grad_norms: dict[str, float] | None = None
    weight_norms: dict[str, float] | None = None  # after the update
    update_ratios: dict[str, float] | None = None  # |w_new - w_old| / |w_old|


@dataclass
class EpochEvent:
    """After each epoch. ``train_*`` average the steps of the epoch (train mode: dropout and
    augmentation on); ``val_*`` are measured in eval mode (None without validation data)."""

    epoch: int
    step: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    seconds: float  # wall time since the run started


@dataclass
class DivergedEvent:
    """The loss became NaN, infinite or larger than ``diverge_above``; the run stops here
    (that last update is not applied)."""

    step: int
    epoch: int
    loss: float


Event = StepEvent | EpochEvent | DivergedEvent


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def seeded(seed: int):
    """Run a block with torch's global generator seeded, then restore it (for model init)::

        with seeded(0):
            model = DigitsCNN()
    """
    with _GLOBAL_RNG_LOCK:
        saved = torch.get_rng_state()
        torch.default_generator.manual_seed(seed)
        try:
            yield
        finally:
            torch.set_rng_state(saved)


class _PrivateRNG:
    """A private copy of the global CPU generator state, swapped in while a step runs."""

    def __init__(self, seed: int):
        self.state = torch.Generator().manual_seed(seed).get_state()

    @contextlib.contextmanager
    def active(self):
        with _GLOBAL_RNG_LOCK:
            saved = torch.get_rng_state()
            torch.set_rng_state(self.state)
            try:
                yield
            finally:
                self.state = torch.get_rng_state()
                torch.set_rng_state(saved)


def corrupt_labels(
    labels: torch.Tensor, fraction: float, seed: int, num_classes: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace a ``fraction`` of the labels by a different, random class.

    Returns ``(noisy_labels (N,), flipped (N,) bool)``; deterministic given ``seed``.
    """
    labels = torch.as_tensor(labels, dtype=torch.long)
    num_classes = num_classes or int(labels.max()) + 1
    g = torch.Generator().manual_seed(seed)
    n_flip = round(fraction * len(labels))
    flipped = torch.zeros(len(labels), dtype=torch.bool)
    flipped[torch.randperm(len(labels), generator=g)[:n_flip]] = True
    offset = torch.randint(1, num_classes, (len(labels),), generator=g)  # never 0: always changes
    noisy = torch.where(flipped, (labels + offset) % num_classes, labels)
    return noisy, flipped


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image of ``x`` (B, C, H, W) by its own random (dy, dx) in
    [-max_shift, max_shift], repeating the edge pixels (LeCun et al. 1998 trained on shifted digits)."""
    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s), mode="replicate")  # (B, C, H + 2s, W + 2s)
    dy = torch.randint(0, 2 * s + 1, (b,), generator=generator)  # (B,)
    dx = torch.randint(0, 2 * s + 1, (b,), generator=generator)  # (B,)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]  # (B, H, 1)
    cols = (dx[:, None] + torch.arange(w))[:, None, :]  # (B, 1, W)
    batch = torch.arange(b)[:, None, None]  # (B, 1, 1)
    shifted = padded[batch, :, rows, cols]  # (B, H, W, C): advanced indices go first
    return shifted.permute(0, 3, 1, 2).contiguous()  # (B, C, H, W)


def make_optimizer(params: Iterable[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer`` (see the module docstring for the papers)."""
    lr, wd = config.lr, config.weight_decay
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if config.optimizer == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    return torch.optim.AdamW(params, lr=lr, weight_decay=wd)


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """Learning rate for 0-based ``step``: constant, or cosine from ``lr`` down to 0."""
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * step / max(1, total_steps)))
    return config.lr


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000
) -> tuple[float, float, torch.Tensor]:
    """Mean cross-entropy, accuracy and logits ``(N, classes)`` in eval mode, batched.
    The model's train/eval mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        logits = torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)
    y = torch.as_tensor(y, dtype=torch.long)
    loss = F.cross_entropy(logits, y).item()
    acc = (logits.argmax(1) == y).float().mean().item()
    return loss, acc, logits  # logits: (N, classes)


def _ratio(update_norm: float, weight_norm: float) -> float:
    """|update| / |weight|, NaN for an all-zero weight (a bias initialised to zero, say)."""
    return update_norm / weight_norm if weight_norm > 0 else math.nan


def _has_conv(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def _call(callbacks: Sequence[object], hook: str, *args) -> None:
    for callback in callbacks:
        method = getattr(callback, hook, None)
        if method is not None:
            method(*args)


# --------------------------------------------------------------------------- the engine


def train_iter(
    model: nn.Module,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    val_x: torch.Tensor | None = None,
    val_y: torch.Tensor | None = None,
    config: TrainConfig = TrainConfig(),
    callbacks: Sequence[object] = (),
) -> Iterator[Event]:
    """Train ``model`` in place, yielding a ``StepEvent`` after every step, an ``EpochEvent``
    after every epoch, and a final ``DivergedEvent`` if the loss blows up (no exception).

    ``train_x`` (N, ...) float, ``train_y`` (N,) int class labels. Callbacks are objects with
    any of ``on_train_begin()``, ``on_after_backward(step)`` (gradients ready, weights not yet
    updated), ``on_step(event)``, ``on_epoch(event)``, ``on_diverged(event)``,
    ``on_train_end()``. Stopping the loop early (``break``) is fine: the model keeps its
    current weights and its train/eval mode and memory format are restored.
    """
    cfg = config
    x = torch.as_tensor(train_x, dtype=torch.float32)
    y = torch.as_tensor(train_y, dtype=torch.long)
    if cfg.label_noise > 0:
        y, _ = corrupt_labels(y, cfg.label_noise, seed=cfg.seed + 1)
    has_val = val_x is not None and val_y is not None
    if has_val:
        val_x = torch.as_tensor(val_x, dtype=torch.float32)
        val_y = torch.as_tensor(val_y, dtype=torch.long)
    channels_last = cfg.channels_last and x.ndim == 4 and _has_conv(model)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    n = len(x)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)
    generator = torch.Generator().manual_seed(cfg.seed)  # shuffling and augmentation
    dropout_rng = _PrivateRNG(cfg.seed + 2)
    optimizer = make_optimizer(model.parameters(), cfg)
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    was_training = model.training
    start_time = time.perf_counter()
    step = 0
    _call(callbacks, "on_train_begin")
    try:
        for epoch in range(cfg.epochs):
            order = torch.randperm(n, generator=generator)  # (N,)
            loss_sum = correct = seen = 0.0
            for start in range(0, n, cfg.batch_size):
                idx = order[start:start + cfg.batch_size]  # (B,)
                xb, yb = x[idx], y[idx]  # (B, ...), (B,)
                if cfg.augment:
                    xb = random_shift(xb, cfg.max_shift, generator)
                    if channels_last:
                        xb = xb.contiguous(memory_format=torch.channels_last)
                lr = learning_rate(cfg, step, total_steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                with dropout_rng.active(), torch.enable_grad():
                    model.train()
                    optimizer.zero_grad(set_to_none=True)
                    logits = model(xb)  # (B, classes)
                    loss = F.cross_entropy(logits, yb)
                    loss.backward()
                step += 1
                loss_value = loss.item()
                if not math.isfinite(loss_value) or loss_value > cfg.diverge_above:
                    event = DivergedEvent(step, epoch, loss_value)
                    _call(callbacks, "on_diverged", event)
                    yield event
                    return

                stats_due = cfg.grad_stats_every > 0 and (step == 1 or step % cfg.grad_stats_every == 0)
                if stats_due:
                    grad_norms = {k: p.grad.norm().item() if p.grad is not None else 0.0 for k, p in named}
                    before = {k: p.detach().clone() for k, p in named}
                _call(callbacks, "on_after_backward", step)
                if cfg.grad_clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                optimizer.step()

                batch_correct = (logits.argmax(1) == yb).sum().item()
                loss_sum += loss_value * len(idx)
                correct += batch_correct
                seen += len(idx)
                event = StepEvent(step, epoch, loss_value, batch_correct / len(idx), lr, total_steps)
                if stats_due:
                    event.grad_norms = grad_norms
                    event.weight_norms = {k: p.detach().norm().item() for k, p in named}
                    event.update_ratios = {
                        k: _ratio((p.detach() - before[k]).norm().item(), before[k].norm().item())
                        for k, p in named
                    }
                _call(callbacks, "on_step", event)
                yield event
                if step >= total_steps:
                    break

            val_loss = val_acc = None
            if has_val:
                val_loss, val_acc, _ = evaluate(model, val_x, val_y, cfg.eval_batch_size)
            event = EpochEvent(epoch, step, loss_sum / seen, correct / seen, val_loss, val_acc,
                               time.perf_counter() - start_time)
            _call(callbacks, "on_epoch", event)
            yield event
            if step >= total_steps:
                break
    finally:
        model.train(was_training)
        if channels_last:
            model.to(memory_format=torch.contiguous_format)
        _call(callbacks, "on_train_end")


# --------------------------------------------------------------------------- built-in callbacks


class History:
    """Collects the events into DataFrames: ``steps`` (step, epoch, loss, acc, lr),
    ``epochs`` (epoch, step, train_loss, train_acc, val_loss, val_acc, seconds),
    ``grad_norms`` (step, param, grad_norm, weight_norm, update_ratio; steps chosen by
    ``grad_stats_every``) and ``diverged`` (the DivergedEvent or None)."""

    def __init__(self):
        self.step_rows: list[dict] = []
        self.epoch_rows: list[dict] = []
        self.grad_rows: list[dict] = []
        self.diverged: DivergedEvent | None = None

    def on_step(self, event: StepEvent) -> None:
        self.step_rows.append(dict(step=event.step, epoch=event.epoch, loss=event.loss,
                                   acc=event.acc, lr=event.lr))
        if event.grad_norms is not None:
            for name, norm in event.grad_norms.items():
                self.grad_rows.append(dict(step=event.step, param=name, grad_norm=norm,
                                           weight_norm=event.weight_norms[name],
                                           update_ratio=event.update_ratios[name]))

    def on_epoch(self, event: EpochEvent) -> None:
        self.epoch_rows.append(asdict(event))

    def on_diverged(self, event: DivergedEvent) -> None:
        self.diverged = event

    @property
    def steps(self) -> pd.DataFrame:
        return pd.DataFrame(self.step_rows, columns=["step", "epoch", "loss", "acc", "lr"])

    @property
    def epochs(self) -> pd.DataFrame:
        columns = ["epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
        return pd.DataFrame(self.epoch_rows, columns=columns)

    @property
    def grad_norms(self) -> pd.DataFrame:
        columns = ["step", "param", "grad_norm", "weight_norm", "update_ratio"]
        return pd.DataFrame(self.grad_rows, columns=columns)


def layer_name(param_name: str) -> str:
    """``features.conv1.weight`` -> ``features.conv1``; a parameter of the root module -> ``""``."""
    return param_name.rsplit(".", 1)[0] if "." in param_name else ""


class GradientStats:
    """Per-parameter gradient statistics every ``every`` steps (and at step 1): norm, mean,
    std, max |g|, the weight norm, and the update/weight ratio |w_new - w_old| / |w_old|
    (which Karpathy's "Yes you should understand backprop" advice watches at around 1e-3).

    ``frame()``: one row per (step, parameter); ``layer_frame()``: per (step, layer), weight and
    bias pooled. Gradients are measured before clipping.
    """

    def __init__(self, model: nn.Module, every: int = 1):
        self.model = model
        self.every = every
        self.rows: list[dict] = []
        self._before: dict[str, torch.Tensor] | None = None
        self._pending: list[dict] = []

    def _due(self, step: int) -> bool:
        return step == 1 or step % self.every == 0

    def on_after_backward(self, step: int) -> None:
        if not self._due(step):
            return
        self._before, self._pending = {}, []
        for name, p in self.model.named_parameters():
            if p.grad is None:
                continue
            g = p.grad.detach().flatten()  # (numel,)
            w = p.detach()
            self._before[name] = w.clone()
            self._pending.append(dict(
                step=step, param=name, layer=layer_name(name), numel=g.numel(),
                grad_norm=g.norm().item(), grad_mean=g.mean().item(),
                grad_std=g.std(unbiased=False).item(), grad_max_abs=g.abs().max().item(),
                weight_norm=w.norm().item(),
            ))

    def on_step(self, event: StepEvent) -> None:
        if self._before is None:
            return
        params = dict(self.model.named_parameters())
        for row in self._pending:
            update = (params[row["param"]].detach() - self._before[row["param"]]).norm().item()
            row.update(epoch=event.epoch, loss=event.loss, update_norm=update,
                       update_ratio=_ratio(update, row["weight_norm"]))
            self.rows.append(row)
        self._before, self._pending = None, []

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def layer_frame(self) -> pd.DataFrame:
        """Per (step, layer): norms pooled as sqrt(sum of squares), mean/std over all entries."""
        df = self.frame()
        if df.empty:
            return df
        df = df.assign(
            g_sum=df.grad_mean * df.numel,
            g_sq=df.grad_norm**2, w_sq=df.weight_norm**2, u_sq=df.update_norm**2,
        )
        agg = df.groupby(["step", "layer"], sort=False).agg(
            epoch=("epoch", "first"), loss=("loss", "first"), numel=("numel", "sum"),
            g_sum=("g_sum", "sum"), g_sq=("g_sq", "sum"), w_sq=("w_sq", "sum"),
            u_sq=("u_sq", "sum"), grad_max_abs=("grad_max_abs", "max"),
        ).reset_index()
        mean = agg.g_sum / agg.numel
        return pd.DataFrame(dict(
            step=agg.step, epoch=agg.epoch, layer=agg.layer, loss=agg.loss, numel=agg.numel,
            grad_norm=np.sqrt(agg.g_sq), grad_mean=mean,
            grad_std=np.sqrt((agg.g_sq / agg.numel - mean**2).clip(lower=0)),
            grad_max_abs=agg.grad_max_abs, weight_norm=np.sqrt(agg.w_sq),
            update_ratio=np.sqrt(agg.u_sq) / np.sqrt(agg.w_sq).where(agg.w_sq > 0),
        ))


class WeightSnapshots:
    """Copies of all trainable parameters, flattened into one float32 vector, at chosen steps
    (for loss-landscape trajectories, Li et al., "Visualizing the loss landscape of neural
    nets", NeurIPS 2018). Step 0 is the initial weights. A CNN of 100k parameters costs
    0.4 MB per snapshot.

    ``every``: every k steps; ``at_steps``: explicit steps; ``at_epoch_end``: after each epoch.
    """

    def __init__(self, model: nn.Module, every: int | None = None, at_steps: Iterable[int] = (),
                 at_epoch_end: bool = False, include_initial: bool = True):
        self.model = model
        self.every = every
        self.at_steps = set(at_steps)
        self.at_epoch_end = at_epoch_end
        self.include_initial = include_initial
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        self.shapes = [p.shape for p in model.parameters() if p.requires_grad]
        self.steps: list[int] = []
        self.vectors: list[np.ndarray] = []

    def _record(self, step: int) -> None:
        if self.steps and self.steps[-1] == step:
            return
        params = [p for p in self.model.parameters() if p.requires_grad]
        vector = torch.cat([p.detach().reshape(-1) for p in params])  # (P,)
        self.steps.append(step)
        self.vectors.append(vector.float().numpy().copy())

    def on_train_begin(self) -> None:
        if self.include_initial:
            self._record(0)

    def on_step(self, event: StepEvent) -> None:
        if (self.every and event.step % self.every == 0) or event.step in self.at_steps:
            self._record(event.step)

    def on_epoch(self, event: EpochEvent) -> None:
        if self.at_epoch_end:
            self._record(event.step)

    def matrix(self) -> np.ndarray:
        """All snapshots stacked: ``(K, P)``."""
        return np.stack(self.vectors) if self.vectors else np.zeros((0, 0), np.float32)

    def unflatten(self, vector: np.ndarray | torch.Tensor) -> dict[str, torch.Tensor]:
        """A flat vector -> ``{name: tensor}``, ready for ``torch.func.functional_call``."""
        vector = torch.as_tensor(vector)
        out, offset = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = math.prod(shape)
            out[name] = vector[offset:offset + size].view(shape)
            offset += size
        return out


def train(
    model: nn.Module,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    val_x: torch.Tensor | None = None,
    val_y: torch.Tensor | None = None,
    config: TrainConfig = TrainConfig(),
    callbacks: Sequence[object] = (),
) -> History:
    """Run ``train_iter`` to the end and return its ``History``."""
    history = History()
    for _ in train_iter(model, train_x, train_y, val_x, val_y, config, [*callbacks, history]):
        pass
    return history


def clone_model(model: nn.Module) -> nn.Module:
    """A deep copy to train, so a cached (shared) model is never modified."""
    return copy.deepcopy(model)
