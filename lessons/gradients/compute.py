"""Gradient plots: train a deep network on MNIST 5k and record every layer's gradients as it trains.

Plain Python, numpy and torch (imported inside the functions, so the page can import this module
before torch is loaded), no Streamlit. Usable from a notebook::

    spec = RunSpec(activation="sigmoid", init="default", depth=10)
    run = train_to_end(spec)
    readings.layer_frame(run)          # one row per (step, layer): gradient norm, percentiles...
    diagnosis.diagnose(run, step=1)    # vanishing, exploding or healthy, with the thresholds

This module holds the runs: specs, presets, data, training. Its siblings: `network` (the models),
`probe` (the per-layer statistics, a callback of the engine `models.training.train_iter`),
`readings` (frames for the views), `diagnosis` (the verdict and its thresholds), `run_store`
(the shipped preset runs) and `jobs` (training in a background thread, so the student can switch
views while a run trains).
"""
from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

ARCHITECTURES = ("mlp", "cnn")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
INITS = ("default", "xavier", "kaiming", "scaled_0.1", "scaled_10")
NORMS = ("none", "batchnorm", "layernorm")
OPTIMIZERS = ("sgd", "momentum", "adam")
BATCH_SIZE = 64
# What probe.LayerProbe records per layer and step (in this order; see probe.py for each one).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_NAMES = ("q05", "q25", "q50", "q75", "q95")
LAYER_STATS = ("grad_norm", "grad_mean_abs", "grad_max_abs", *QUANTILE_NAMES, "backprop_norm", "update_ratio",
               "act_mean", "act_std", "act_saturated", "act_dead")
TRAIN_IMAGES = 4000  # MNIST 5k without its fixed held-out 1,000


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides a run. Plain values only (they are the page's controls)."""

    architecture: str = "mlp"
    depth: int = 10  # hidden layers (blocks)
    width: int = 64  # MLP: units per hidden layer; CNN: channels (at most network.CNN_MAX_CHANNELS)
    activation: str = "relu"
    init: str = "kaiming"
    norm: str = "none"
    residual: bool = False
    clip: float = 0.0  # max global gradient norm; 0 = no clipping
    optimizer: str = "sgd"
    lr: float = 0.01
    steps: int = 100
    seed: int = 0

    def __post_init__(self):
        for name, options in (("architecture", ARCHITECTURES), ("activation", ACTIVATIONS), ("init", INITS),
                              ("norm", NORMS), ("optimizer", OPTIMIZERS)):
            if getattr(self, name) not in options:
                raise ValueError(f"{name} must be one of {options}, got {getattr(self, name)!r}")

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> RunSpec:
        """From a dict that may hold other keys (the page's controls); types are coerced."""
        kwargs = {f.name: type(getattr(cls, f.name))(values[f.name]) for f in fields(cls) if f.name in values}
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """A short label, e.g. 'mlp 10x64 sigmoid, default init, sgd lr 0.01'."""
        extras = [x for x in (self.norm if self.norm != "none" else "", "residual" if self.residual else "",
                              f"clip {self.clip:g}" if self.clip else "") if x]
        return (f"{self.architecture} {self.depth}x{self.width} {self.activation}, {self.init} init"
                + "".join(f", {x}" for x in extras) + f", {self.optimizer} lr {self.lr:g}")


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    short: str  # the button label
    spec: RunSpec
    shows: str


_SIGMOID = RunSpec(activation="sigmoid", init="default")
_X10 = RunSpec(init="scaled_10", lr=1e-4)
PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("healthy", "Healthy (cure: ReLU + Kaiming)", "Healthy", RunSpec(),
           "The deep net with ReLU and Kaiming initialization instead of sigmoid and PyTorch's default: every layer "
           "gets a usable gradient. Either change alone is not enough: sigmoid with Kaiming still vanishes, and ReLU "
           "with the default initialization gives the first layer only about a hundredth of the last one's gradient."),
    Preset("deep_sigmoid", "Deep sigmoid (vanishing)", "Deep sigmoid", _SIGMOID,
           "Ten sigmoid layers, PyTorch's default initialization: the first layer's gradient is less than a "
           "millionth of the last one's."),
    Preset("init_x10", "Init x10 (exploding)", "Init x10", _X10,
           "ReLU with weights ten times PyTorch's default: the signal grows at every layer, gradients are huge."),
    Preset("cure_batchnorm", "Cure: BatchNorm", "+ BatchNorm", replace(_SIGMOID, norm="batchnorm"),
           "The deep sigmoid net with BatchNorm before every activation."),
    Preset("cure_residual", "Cure: residual", "+ Residual", replace(_SIGMOID, residual=True),
           "The deep sigmoid net with residual connections around every block after the first."),
    Preset("cure_clipping", "Cure: clipping", "+ Clipping", replace(_X10, clip=1.0),
           "The x10 net with the global gradient norm clipped to 1."),
    Preset("all_cures", "ReLU + BatchNorm + residual", "All cures", replace(_SIGMOID, activation="relu", norm="batchnorm",
                                                                residual=True),
           "The deep net with ReLU, BatchNorm and residual connections: the modern recipe."),
)}


def matching_preset(spec: RunSpec) -> str | None:
    for preset in PRESETS.values():
        if preset.spec == spec:
            return preset.key
    return None


# Shipped beside the presets: the default settings with each other activation, so that the lesson's main
# control changes the picture on the first screen, before anyone trains (the activation is what the lesson
# is about). Keys "activation_<name>".
ACTIVATION_VARIANTS: dict[str, RunSpec] = {f"activation_{a}": replace(RunSpec(), activation=a)
                                           for a in ACTIVATIONS if a != RunSpec().activation}
SHIPPED_SPECS: dict[str, RunSpec] = {**{key: p.spec for key, p in PRESETS.items()}, **ACTIVATION_VARIANTS}


def matching_shipped(spec: RunSpec) -> str | None:
    """The key of the shipped run (a preset or an activation variant) with exactly these settings."""
    return next((key for key, shipped in SHIPPED_SPECS.items() if shipped == spec), None)


# --------------------------------------------------------------------------- data


@dataclass
class DigitsData:
    x: Any  # torch.Tensor (4000, 1, 28, 28), normalised like MNIST
    y: Any  # torch.Tensor (4000,)


def load_data() -> DigitsData:
    """MNIST 5k's 4,000 training digits (the fixed held-out 1,000 are left out)."""
    import torch

    from data import load_mnist5k, mnist5k_split
    from models.digits import to_tensor

    images, labels = load_mnist5k()  # (5000, 28, 28) uint8, (5000,)
    train_idx, _ = mnist5k_split(0)
    return DigitsData(to_tensor(images[train_idx]), torch.as_tensor(labels[train_idx], dtype=torch.long))


@functools.cache
def shared_data() -> DigitsData:
    """load_data() once per process, shared read-only by every session and training thread (the
    engine copies batches); a plain cache, because training threads call it outside a script run."""
    return load_data()


def build_model(spec: RunSpec):
    from lessons.gradients.network import build

    return build(spec.architecture, spec.depth, spec.width, spec.activation, spec.init, spec.norm,
                 spec.residual, spec.seed)


def train_config(spec: RunSpec):
    """The engine's config. Only a NaN or infinite loss stops a run here (the training lesson also
    stops above 100): an exploding net starts with a loss in the millions and the lesson shows why."""
    from models.training import TrainConfig

    epochs = math.ceil(spec.steps * BATCH_SIZE / TRAIN_IMAGES)
    return TrainConfig(optimizer=spec.optimizer, lr=spec.lr, batch_size=BATCH_SIZE, epochs=epochs,
                       seed=spec.seed, grad_clip=spec.clip or None, max_steps=spec.steps,
                       diverge_above=math.inf)


# --------------------------------------------------------------------------- a run


@dataclass
class Run:
    """One training run, filled in while it trains (possibly from another thread: readers take
    ``len(run.stats)`` first and read that many rows).

    ``layers``: the weight layers' names, input to output. ``stats[i][j]``: the values of
    ``probe.LAYER_STATS`` for step ``steps[i]["step"]`` and layer ``layers[j]``. ``steps``: step,
    loss, global gradient norm before and after clipping. ``diverged``: step, what overflowed
    ("loss" or "gradient") and its value. ``status``: queued, running, finished, diverged, stopped.
    """

    spec: RunSpec
    name: str = ""
    run_id: int = 0
    source: str = "session"  # or "precomputed"
    status: str = "queued"
    layers: list[str] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    stats: list = field(default_factory=list)  # per step: (layers, len(LAYER_STATS)) float32 array
    diverged: dict | None = None
    seconds: float = 0.0
    first_step_seconds: float | None = None
    stop_requested: bool = False

    @property
    def total_steps(self) -> int:
        return self.spec.steps

    @property
    def live(self) -> bool:
        return self.status in ("queued", "running")

    def __eq__(self, other):  # identity: two runs of one spec are different runs
        return self is other

    __hash__ = object.__hash__


def new_run(spec: RunSpec, name: str = "", run_id: int = 0) -> Run:
    return Run(spec=spec, name=name or spec.describe(), run_id=run_id)


def train_run(run: Run, data: DigitsData) -> Iterator[object]:
    """Train a fresh model for ``run.spec``, filling ``run`` in place; yields each engine event.

    Stops (status "diverged", step marked) at the first NaN or infinite loss, or at the first
    step whose gradient holds an inf or NaN. Setting ``run.stop_requested`` stops it ("stopped").
    """
    from lessons.gradients.probe import LayerProbe
    from models.training import DivergedEvent, StepEvent, train_iter

    start = time.perf_counter()
    run.status = "running"
    model = build_model(run.spec)  # the run's own instance
    probe = LayerProbe(model, run.spec.activation)
    run.layers = list(probe.names)
    events = train_iter(model, data.x, data.y, config=train_config(run.spec), callbacks=[probe])
    try:
        for event in events:
            run.seconds = time.perf_counter() - start
            if isinstance(event, StepEvent):
                if run.first_step_seconds is None:
                    run.first_step_seconds = run.seconds
                run.stats.append(probe.rows[-1])  # stats first: a reader takes len(run.stats) rows
                run.steps.append(probe.step_rows[-1])
                if probe.nonfinite_step is not None:
                    run.diverged = dict(step=event.step, what="gradient", value=probe.step_rows[-1]["grad_norm"])
            elif isinstance(event, DivergedEvent):
                run.diverged = dict(step=event.step, what="loss", value=event.loss)
            yield event
            if run.diverged is not None or run.stop_requested:
                break
    finally:
        events.close()  # the engine restores the model's mode and removes nothing of ours: the probe does
        run.seconds = time.perf_counter() - start
        run.status = "diverged" if run.diverged else "stopped" if run.stop_requested or \
            len(run.steps) < run.spec.steps else "finished"


def train_together(runs: Sequence[Run], data: DigitsData) -> Iterator[None]:
    """Train several runs step by step in lockstep (the comparison view): with the same seed and
    batch size the engine draws the same batches for each, so they see the same digits."""
    generators = [train_run(run, data) for run in runs]
    alive = list(generators)
    while alive:
        for gen in list(alive):
            try:
                next(gen)
            except StopIteration:
                alive.remove(gen)
        yield None


def train_to_end(spec: RunSpec, data: DigitsData | None = None) -> Run:
    """For notebooks, tests and precompute: run ``spec`` to the end and return the Run."""
    run = new_run(spec)
    for _ in train_run(run, data or load_data()):
        pass
    return run


def first_step_norms(spec: RunSpec, data: DigitsData | None = None) -> np.ndarray:
    """Each weight layer's gradient norm at the first step (input to output), from one step."""
    run = train_to_end(replace(spec, steps=1), data)
    return np.array([row[LAYER_STATS.index("grad_norm")] for row in run.stats[0]])


# --------------------------------------------------------------------------- warm-up


def warm_up() -> None:
    """One-off costs of the first training step, for the server's background warm-up
    (lessons/warmup.py): torch._dynamo, which the first optimizer step imports (about a second),
    torch.quantile's first call, and the data."""
    import torch
    import torch._dynamo  # noqa: F401

    layer = torch.nn.Linear(4, 2)  # private, discarded
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(torch.ones(3, 4)).sum().backward()  # (3, 2) -> scalar
    optimizer.step()
    torch.quantile(torch.rand(10), torch.tensor([0.5]))
    shared_data()  # the digits every training thread uses
