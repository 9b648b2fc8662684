"""Training dynamics: train a small digit classifier and read its curves.

Everything here is plain Python, numpy, pandas and torch (no Streamlit), usable from a notebook::

    spec = RunSpec(model="mlp", train_size=100, epochs=60)
    data = load_data(spec.dataset, spec.train_size, spec.seed)
    run = new_run(spec)
    for _ in train_run(run, data):
        pass
    overfitting_onset(epoch_frame(run))

Methods and their sources:

- the engine (`models.training.train_iter`): mini-batch SGD, momentum, Adam, AdamW;
- smoothing: an exponential moving average with bias correction, the way TensorBoard's scalar
  dashboard smooths (and Adam corrects its moments: Kingma & Ba, ICLR 2015, section 3);
- early stopping with patience: Prechelt, "Early stopping - but when?", in Neural Networks:
  Tricks of the Trade, 1998;
- overfitting as the gap between training and held-out loss: Goodfellow, Bengio & Courville,
  "Deep Learning", 2016, section 5.2 and 7.8;
- ROC curves (one class against the rest): Fawcett, "An introduction to ROC analysis",
  Pattern Recognition Letters 2006, computed with scikit-learn.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

DATASETS = ("mnist5k", "digits")
DATASET_TITLES = {"mnist5k": "MNIST 5k (28x28)", "digits": "scikit-learn digits (8x8)"}
MODELS = ("cnn", "mlp")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
OPTIMIZER_TITLES = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "adam": "Adam", "adamw": "AdamW"}
VAL_CHECKS_PER_EPOCH = 4  # validation measured this many times per epoch when an epoch is long enough
MIN_STEPS_FOR_MIDEPOCH_CHECKS = 16  # shorter epochs are only measured at their end
MAX_RUNS = 8


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides a run: data, model, optimizer, seed. Plain values only."""

    dataset: str = "mnist5k"
    train_size: int = 4000
    label_noise: float = 0.0
    augment: bool = False
    model: str = "cnn"
    width: int = 16  # MLP: units per hidden layer; CNN: channels of the first block (doubling)
    depth: int = 2  # MLP: hidden layers; CNN: conv blocks
    dropout: float = 0.25
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 32
    weight_decay: float = 0.0
    epochs: int = 5
    seed: int = 0

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}")

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> RunSpec:
        """Build from a dict that may hold other keys (page controls); types are coerced."""
        kwargs = {}
        for f in fields(cls):
            if f.name in values:
                default = getattr(cls, f.name)
                kwargs[f.name] = type(default)(values[f.name])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """A short label for a run, e.g. 'cnn 16x2, adam lr 0.001, 4000 samples'."""
        return (f"{self.model} {self.width}x{self.depth}, {self.optimizer} lr {self.lr:g}, "
                f"{self.train_size} samples, {self.epochs} ep")


@dataclass(frozen=True)
class Preset:
    """A classic situation: the controls that provoke it and one line about what it shows."""

    key: str
    title: str
    spec: RunSpec
    shows: str

    @property
    def short(self) -> str:
        """A button label: 'LR too high' for 'Learning rate too high'."""
        return self.title.replace("Learning rate", "LR")


PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("healthy", "Healthy", RunSpec(),
           "Adam at its default learning rate on the CNN: both losses fall fast and stay close."),
    Preset("lr_too_high", "Learning rate too high", RunSpec(optimizer="momentum", lr=0.1),
           "SGD with momentum at 0.1: the loss drops, then stalls high and jumps around."),
    Preset("lr_too_low", "Learning rate too low", RunSpec(optimizer="sgd", lr=1e-4),
           "Plain SGD at 1e-4: the loss barely moves from chance level (ln 10 = 2.30)."),
    Preset("overfitting", "Overfitting", RunSpec(train_size=100, model="mlp", width=256, depth=2, dropout=0.0,
                                                epochs=60),
           "A wide MLP on 100 digits, no regularisation: training loss goes to 0, validation loss turns up."),
    Preset("underfitting", "Underfitting", RunSpec(model="mlp", width=4, depth=1, dropout=0.0, epochs=12),
           "An MLP with 4 hidden units: both losses stay high and close together."),
    Preset("diverges", "Divergence", RunSpec(optimizer="sgd", lr=10.0),
           "Plain SGD at learning rate 10: the loss explodes within a few steps and training stops."),
)}


def matching_preset(spec: RunSpec) -> str | None:
    """The key of the preset whose spec equals `spec`, if any."""
    for preset in PRESETS.values():
        if preset.spec == spec:
            return preset.key
    return None


# --------------------------------------------------------------------------- data and model


@dataclass
class DigitsData:
    """A training subset and a fixed validation set, as normalised tensors."""

    dataset: str
    x_train: Any  # torch.Tensor (N, 1, H, W)
    y_train: Any  # torch.Tensor (N,)
    x_val: Any  # torch.Tensor (M, 1, H, W)
    y_val: Any  # torch.Tensor (M,)
    val_pixels: np.ndarray  # (M, H, W) float in [0, 1], for showing the misclassified digits
    image_size: int


def stratified_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`size` positions into `labels`, as balanced across classes as possible (round robin over
    the classes, each shuffled with `seed`). Returns sorted int64 indices."""
    labels = np.asarray(labels)
    size = min(int(size), len(labels))
    rank = np.random.default_rng(seed).permutation(len(labels))
    order = np.lexsort((rank, labels))  # grouped by class, random inside a class
    position_in_class = np.empty(len(labels), np.int64)
    for c in np.unique(labels):
        members = order[labels[order] == c]
        position_in_class[members] = np.arange(len(members))
    round_robin = np.lexsort((labels, position_in_class))  # 1st of each class, then 2nd...
    return np.sort(round_robin[:size])


def dataset_train_pool(dataset: str) -> int:
    """How many training images a dataset offers (the training-set size is capped there)."""
    return 4000 if dataset == "mnist5k" else 1437


def _dataset_arrays(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pixels (N, H, W) float in [0, 1], labels (N,), training pool and validation positions."""
    if dataset == "mnist5k":
        from data import load_mnist5k, mnist5k_split

        images, labels = load_mnist5k()  # (5000, 28, 28) uint8, (5000,)
        train_idx, val_idx = mnist5k_split(0)
        pixels = images.astype(np.float32) / 255.0  # (5000, 28, 28) in [0, 1]
    elif dataset == "digits":
        from data import load_sklearn_digits

        pixels, labels = load_sklearn_digits(normalize=True)  # (1797, 8, 8) in [0, 1]
        val_idx = stratified_subset(labels, 360, seed=12345)  # fixed, whatever the run seed
        train_idx = np.setdiff1d(np.arange(len(labels)), val_idx)
    else:
        raise ValueError(f"dataset must be one of {DATASETS}")
    return pixels, labels, train_idx, val_idx


def validation_pixels(dataset: str) -> np.ndarray:
    """The validation images (M, H, W) in [0, 1], without torch (for showing the mistakes)."""
    pixels, _, _, val_idx = _dataset_arrays(dataset)
    return pixels[val_idx]


def load_data(dataset: str = "mnist5k", train_size: int = 4000, seed: int = 0) -> DigitsData:
    """The training subset (`train_size` images, balanced, chosen by `seed`) and the fixed
    validation set: MNIST-5k's held-out 1,000, or 360 of scikit-learn's digits."""
    import torch

    from models.digits import to_tensor

    pixels, labels, train_idx, val_idx = _dataset_arrays(dataset)
    chosen = train_idx[stratified_subset(labels[train_idx], train_size, seed)]
    x = to_tensor(pixels * 255.0)  # (N, 1, H, W), normalised like MNIST
    y = torch.as_tensor(labels, dtype=torch.long)  # (N,)
    return DigitsData(dataset, x[chosen], y[chosen], x[val_idx], y[val_idx],
                      pixels[val_idx], image_size=pixels.shape[-1])


def build_model(spec: RunSpec, image_size: int = 28):
    """The MLP or CNN that `spec` describes, initialised from `spec.seed`."""
    from models.digits import DigitsCNN, build_mlp
    from models.training import seeded

    depth = max(1, int(spec.depth))
    with seeded(spec.seed):
        if spec.model == "mlp":
            return build_mlp(input_dim=image_size * image_size, hidden=(spec.width,) * depth,
                             dropout=spec.dropout)
        max_blocks = int(math.log2(image_size))  # each block halves the image
        channels = [spec.width * 2**i for i in range(min(depth, max_blocks))]
        hidden = max(32, 4 * spec.width)
        return DigitsCNN(channels, hidden=hidden, dropout=spec.dropout, image_size=image_size)


def divergence_threshold() -> float:
    """The engine stops a run whose batch loss is NaN, infinite or above this."""
    from models.training import TrainConfig

    return TrainConfig().diverge_above


def train_config(spec: RunSpec, image_size: int = 28):
    from models.training import TrainConfig

    return TrainConfig(optimizer=spec.optimizer, lr=spec.lr, batch_size=spec.batch_size,
                       epochs=spec.epochs, weight_decay=spec.weight_decay, seed=spec.seed,
                       augment=spec.augment, max_shift=2 if image_size >= 28 else 1,
                       label_noise=spec.label_noise)


# --------------------------------------------------------------------------- a run


@dataclass
class Run:
    """One training run: its spec and every measurement, filled in while it trains.

    `steps`: one row per optimizer step (training batch loss/acc). `evals`: validation loss/acc
    at step 0, a few times per epoch and at every epoch end. `epochs`: the engine's epoch rows
    (1-based `epoch`). `status`: running, finished, diverged or stopped.
    """

    spec: RunSpec
    name: str = ""
    run_id: int = 0
    source: str = "session"  # or "precomputed"
    status: str = "running"
    steps: list[dict] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    diverged: dict | None = None
    seconds: float = 0.0
    first_step_seconds: float | None = None
    total_steps: int = 0
    val_probs: np.ndarray | None = None  # (M, 10) softmax of the final weights
    val_labels: np.ndarray | None = None  # (M,)

    @property
    def finished(self) -> bool:
        return self.status in ("finished", "diverged")


def new_run(spec: RunSpec, name: str = "", run_id: int = 0) -> Run:
    return Run(spec=spec, name=name or spec.describe(), run_id=run_id)


def validation_steps(steps_per_epoch: int) -> int:
    """Validate every this many steps inside an epoch (0: only at epoch ends)."""
    if steps_per_epoch < MIN_STEPS_FOR_MIDEPOCH_CHECKS:
        return 0
    return math.ceil(steps_per_epoch / VAL_CHECKS_PER_EPOCH)


def train_run(run: Run, data: DigitsData) -> Iterator[object]:
    """Train a fresh model for `run.spec` on `data`, filling `run` in place, and yield each
    engine event (StepEvent, EpochEvent, DivergedEvent). A page redraws between events; if it
    stops iterating, `run` keeps what was measured so far.

    Adapter over `models.training.train_iter`: the engine validates once per epoch; this adds
    validation at step 0 and a few times inside long epochs, so the curves have more than a
    handful of validation points.
    """
    import torch

    from models.training import DivergedEvent, EpochEvent, StepEvent, evaluate, train_iter

    spec = run.spec
    start = time.perf_counter()
    model = build_model(spec, data.image_size)
    config = train_config(spec, data.image_size)
    steps_per_epoch = math.ceil(len(data.x_train) / spec.batch_size)
    run.total_steps = steps_per_epoch * spec.epochs
    every = validation_steps(steps_per_epoch)
    loss0, acc0, _ = evaluate(model, data.x_val, data.y_val)
    run.evals.append(dict(step=0, epoch=0.0, val_loss=loss0, val_acc=acc0))
    run.status = "running"
    for event in train_iter(model, data.x_train, data.y_train, data.x_val, data.y_val, config):
        run.seconds = time.perf_counter() - start
        if isinstance(event, StepEvent):
            if run.first_step_seconds is None:
                run.first_step_seconds = run.seconds
            run.steps.append(dict(step=event.step, epoch=event.epoch + 1, loss=event.loss, acc=event.acc))
            in_epoch = event.step - event.epoch * steps_per_epoch
            if every and in_epoch % every == 0 and in_epoch < steps_per_epoch:
                val_loss, val_acc, _ = evaluate(model, data.x_val, data.y_val)
                run.evals.append(dict(step=event.step, epoch=event.step / steps_per_epoch,
                                      val_loss=val_loss, val_acc=val_acc))
        elif isinstance(event, EpochEvent):
            run.epochs.append(dict(epoch=event.epoch + 1, step=event.step, train_loss=event.train_loss,
                                   train_acc=event.train_acc, val_loss=event.val_loss,
                                   val_acc=event.val_acc, seconds=event.seconds))
            run.evals.append(dict(step=event.step, epoch=float(event.epoch + 1),
                                  val_loss=event.val_loss, val_acc=event.val_acc))
        elif isinstance(event, DivergedEvent):
            run.diverged = dict(step=event.step, epoch=event.epoch + 1, loss=event.loss)
        yield event
    run.seconds = time.perf_counter() - start
    if run.diverged is not None:
        run.status = "diverged"
        return
    _, _, logits = evaluate(model, data.x_val, data.y_val)  # (M, 10)
    probs = torch.softmax(logits, dim=1).numpy()  # (M, 10)
    if np.isfinite(probs).all():
        run.val_probs = probs.astype(np.float32)
        run.val_labels = data.y_val.numpy()
    run.status = "finished"


def train_to_end(spec: RunSpec, data: DigitsData | None = None) -> Run:
    """Convenience for notebooks and tests: run `spec` to the end and return the Run."""
    data = data or load_data(spec.dataset, spec.train_size, spec.seed)
    run = new_run(spec)
    for _ in train_run(run, data):
        pass
    return run


# --------------------------------------------------------------------------- frames


def step_frame(run: Run) -> pd.DataFrame:
    return pd.DataFrame(run.steps, columns=["step", "epoch", "loss", "acc"])


def eval_frame(run: Run) -> pd.DataFrame:
    return pd.DataFrame(run.evals, columns=["step", "epoch", "val_loss", "val_acc"])


def epoch_frame(run: Run) -> pd.DataFrame:
    columns = ["epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
    return pd.DataFrame(run.epochs, columns=columns)


def ema_smooth(values: Sequence[float], weight: float) -> np.ndarray:
    """Exponential moving average with bias correction, as TensorBoard smooths scalars.

    s_t = w * s_{t-1} + (1 - w) * x_t with s_0 = 0, reported as s_t / (1 - w^t), so the first
    point equals the first value instead of being pulled towards zero. Non-finite values are
    passed through and do not enter the average. `weight` 0 returns the raw values.
    """
    x = np.asarray(values, dtype=np.float64)
    if not 0.0 <= weight < 1.0:
        raise ValueError("weight must be in [0, 1)")
    out = x.copy()
    if weight == 0.0:
        return out
    last, seen = 0.0, 0
    for i, value in enumerate(x):
        if not np.isfinite(value):
            continue
        last = weight * last + (1.0 - weight) * value
        seen += 1
        out[i] = last / (1.0 - weight**seen)
    return out


def thin(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Every k-th row so that at most about `max_points` remain, always keeping the last row."""
    if len(frame) <= max_points:
        return frame
    stride = math.ceil(len(frame) / max_points)
    keep = np.zeros(len(frame), dtype=bool)
    keep[::stride] = True
    keep[-1] = True
    return frame[keep]


def curve_frame(run: Run, x_axis: str = "step", smoothing: float = 0.6, max_points: int = 300) -> pd.DataFrame:
    """Long frame for the live chart: columns x, metric ("loss"/"accuracy"), series, value.

    x_axis "step": training-batch values per step (raw and EMA-smoothed, smoothed over every
    step, then thinned to about `max_points` per line so that redrawing stays cheap) and
    validation at each check. x_axis "epoch": the epoch means of the training batches and the
    validation at each epoch end (plus epoch 0, before training).
    """
    parts = []
    if x_axis == "step":
        steps = step_frame(run)
        steps = steps.assign(loss_smooth=ema_smooth(steps.loss, smoothing) if smoothing > 0 else steps.loss,
                             acc_smooth=ema_smooth(steps.acc, smoothing) if smoothing > 0 else steps.acc)
        steps = thin(steps, max_points)
        for metric, column in (("loss", "loss"), ("accuracy", "acc")):
            parts.append(pd.DataFrame(dict(x=steps.step, metric=metric, series="train (raw)",
                                           value=steps[column])))
            if smoothing > 0:
                parts.append(pd.DataFrame(dict(x=steps.step, metric=metric, series="train (smoothed)",
                                               value=steps[column + "_smooth"])))
        evals = eval_frame(run)
        for metric, column in (("loss", "val_loss"), ("accuracy", "val_acc")):
            parts.append(pd.DataFrame(dict(x=evals.step, metric=metric, series="validation",
                                           value=evals[column])))
    else:
        epochs = epoch_frame(run)
        first = [e for e in run.evals if e["step"] == 0][:1]
        for metric, train_col, val_col in (("loss", "train_loss", "val_loss"), ("accuracy", "train_acc", "val_acc")):
            parts.append(pd.DataFrame(dict(x=epochs.epoch, metric=metric, series="train",
                                           value=epochs[train_col])))
            val_x = [0] * len(first) + list(epochs.epoch)
            val_v = [f[val_col] for f in first] + list(epochs[val_col])
            parts.append(pd.DataFrame(dict(x=val_x, metric=metric, series="validation", value=val_v)))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["x", "metric", "series", "value"])
    frame["value"] = frame["value"].astype(float)
    return frame.replace([np.inf, -np.inf], np.nan).dropna(subset=["value"]).reset_index(drop=True)


# --------------------------------------------------------------------------- reading the curves


def early_stopping(epochs: pd.DataFrame, patience: int, min_delta: float = 0.0) -> dict | None:
    """Where early stopping on the validation loss would stop (Prechelt 1998).

    After each epoch: if the validation loss beat the best so far by more than `min_delta`, it
    becomes the best (the checkpoint kept); otherwise a counter grows, and training stops when
    the counter reaches `patience`. Returns best_epoch (kept checkpoint), stop_epoch (None if
    the run ended first), best_val_loss, epochs_saved; None without validation rows.
    """
    rows = epochs.dropna(subset=["val_loss"])
    if rows.empty:
        return None
    best_loss, best_epoch, best_step, wait = math.inf, None, None, 0
    stop_epoch = stop_step = None
    for row in rows.itertuples():
        if row.val_loss < best_loss - min_delta:
            best_loss, best_epoch, best_step, wait = row.val_loss, int(row.epoch), int(row.step), 0
        else:
            wait += 1
            if wait >= patience:
                stop_epoch, stop_step = int(row.epoch), int(row.step)
                break
    last = int(rows.epoch.iloc[-1])
    return dict(best_epoch=best_epoch, best_step=best_step, best_val_loss=float(best_loss),
                stop_epoch=stop_epoch, stop_step=stop_step,
                epochs_saved=(last - stop_epoch) if stop_epoch is not None else 0)


def overfitting_onset(epochs: pd.DataFrame, min_rise: float = 0.05) -> dict | None:
    """The epoch where overfitting sets in: the validation loss reaches its minimum and then
    rises (by more than `min_rise` relative, and at least 0.02), while the training loss keeps
    falling after it. Returns the epoch, step, both losses at the minimum and at the end; None
    if the curves show no such point."""
    rows = epochs.dropna(subset=["val_loss", "train_loss"]).reset_index(drop=True)
    if len(rows) < 3:
        return None
    i = int(rows.val_loss.idxmin())
    if i >= len(rows) - 1:
        return None
    at_min, end = rows.iloc[i], rows.iloc[-1]
    rise = end.val_loss - at_min.val_loss
    if rise < max(0.02, min_rise * at_min.val_loss):
        return None
    if not end.train_loss < at_min.train_loss:
        return None
    return dict(epoch=int(at_min.epoch), step=int(at_min.step), val_loss_min=float(at_min.val_loss),
                val_loss_end=float(end.val_loss), train_loss_at_min=float(at_min.train_loss),
                train_loss_end=float(end.train_loss), val_rise=float(rise))


def summarize(run: Run) -> dict[str, Any]:
    """The numbers the page's text is built from."""
    epochs = epoch_frame(run)
    steps = step_frame(run)
    out: dict[str, Any] = dict(status=run.status, steps_done=len(steps), total_steps=run.total_steps,
                               epochs_done=len(epochs), seconds=run.seconds)
    if len(epochs):
        last = epochs.iloc[-1]
        best = epochs.loc[epochs.val_loss.idxmin()] if epochs.val_loss.notna().any() else last
        out.update(train_loss=float(last.train_loss), train_acc=float(last.train_acc),
                   val_loss=float(last.val_loss), val_acc=float(last.val_acc),
                   best_val_acc=float(epochs.val_acc.max()), best_val_loss_epoch=int(best.epoch),
                   gap=float(last.val_loss - last.train_loss))
    if len(steps) >= 10:
        tail = steps.loss.iloc[len(steps) // 2:]
        out["loss_noise"] = float(tail.std() / max(abs(tail.mean()), 1e-12))  # relative jitter
        out["loss_drop"] = float(steps.loss.iloc[:5].mean() - steps.loss.iloc[-5:].mean())
    if run.evals:
        out["initial_val_loss"] = float(run.evals[0]["val_loss"])
    return out


# --------------------------------------------------------------------------- after training


def confusion(run: Run) -> np.ndarray:
    """Confusion matrix of the final weights on the validation set: rows true, columns predicted."""
    classes = max(10, run.val_probs.shape[1])  # always the ten digits, as the page reads it
    pairs = np.asarray(run.val_labels) * classes + run.val_probs.argmax(1)  # (M,) true * C + predicted
    return np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)


def roc_curves(run: Run) -> pd.DataFrame:
    """Per class, one against the rest (Fawcett 2006): columns digit, fpr, tpr, auc."""
    from sklearn.metrics import auc, roc_curve

    parts = []
    for digit in range(run.val_probs.shape[1]):
        truth = (run.val_labels == digit).astype(int)
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = roc_curve(truth, run.val_probs[:, digit])
        parts.append(pd.DataFrame(dict(digit=str(digit), fpr=fpr, tpr=tpr, auc=auc(fpr, tpr))))
    return pd.concat(parts, ignore_index=True)


def misclassified(run: Run, limit: int = 24) -> pd.DataFrame:
    """Validation examples the final weights get wrong, most confident mistakes first:
    columns index (into the validation set), true, predicted, confidence."""
    predicted = run.val_probs.argmax(1)
    wrong = np.flatnonzero(predicted != run.val_labels)
    confidence = run.val_probs[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:limit]
    return pd.DataFrame(dict(index=order, true=run.val_labels[order], predicted=predicted[order],
                             confidence=run.val_probs[order, predicted[order]]))


# --------------------------------------------------------------------------- several runs


def add_run(runs: list[Run], run: Run, limit: int = MAX_RUNS) -> list[Run]:
    """Append `run`, dropping the oldest so that at most `limit` remain (in place, returned)."""
    runs.append(run)
    del runs[:-limit]
    return runs


def runs_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """All runs' per-epoch metrics in one long table (for the overlay chart and the CSV)."""
    columns = ["run", "run_id", "epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "seconds",
               "status", *RunSpec().to_dict()]
    rows = [{"run": run.name, "run_id": run.run_id, **epoch, "status": run.status, **run.spec.to_dict()}
            for run in runs for epoch in run.epochs]
    return pd.DataFrame(rows, columns=columns)


def runs_csv(runs: Sequence[Run]) -> str:
    return runs_frame(runs).to_csv(index=False)


# --------------------------------------------------------------------------- precomputed runs


def _columns(rows: list[dict], digits: int = 5) -> dict[str, list]:
    """Rows -> columns, floats rounded (compact JSON)."""
    if not rows:
        return {}
    return {key: [round(r[key], digits) if isinstance(r[key], float) else r[key] for r in rows]
            for key in rows[0]}


def _rows(columns: dict[str, list]) -> list[dict]:
    keys = list(columns)
    return [dict(zip(keys, values)) for values in zip(*(columns[k] for k in keys))]


def run_to_json(run: Run) -> dict:
    """A compact dict (columns of rounded floats) for the committed preset file."""
    out = dict(spec=run.spec.to_dict(), status=run.status, steps=_columns(run.steps),
               evals=_columns(run.evals), epochs=_columns(run.epochs), diverged=run.diverged,
               seconds=round(run.seconds, 2), total_steps=run.total_steps)
    if run.diverged is not None:
        out["diverged"] = dict(run.diverged, loss=str(run.diverged["loss"]))  # "nan"/"inf" survive JSON
    if run.val_probs is not None:
        out["val_permille"] = np.round(run.val_probs * 1000).astype(int).tolist()  # (M, 10)
        out["val_labels"] = run.val_labels.tolist()
    return out


def run_from_json(item: dict, name: str = "") -> Run:
    spec = RunSpec(**item["spec"])
    run = Run(spec=spec, name=name or spec.describe(), source="precomputed", status=item["status"],
              steps=_rows(item["steps"]), evals=_rows(item["evals"]), epochs=_rows(item["epochs"]),
              seconds=item["seconds"], total_steps=item["total_steps"])
    if item.get("diverged"):
        run.diverged = dict(item["diverged"], loss=float(item["diverged"]["loss"]))
    if "val_permille" in item:
        permille = np.asarray(item["val_permille"], dtype=np.float32)  # (M, 10)
        run.val_probs = permille / permille.sum(1, keepdims=True).clip(min=1)
        run.val_labels = np.asarray(item["val_labels"], dtype=np.int64)
    return run


def load_presets(path) -> dict[str, Run]:
    """The precomputed preset runs stored by `lessons/training/precompute.py`."""
    import json
    from pathlib import Path

    stored = json.loads(Path(path).read_text())["presets"]
    return {key: run_from_json(item, name=f"{PRESETS[key].title} (precomputed)")
            for key, item in stored.items() if key in PRESETS}


# --------------------------------------------------------------------------- chart annotations


def steps_per_epoch(run: Run) -> int:
    """Optimizer steps in one epoch of this run."""
    return max(1, run.total_steps // max(1, run.spec.epochs))


def annotations(run: Run, x_axis: str, patience: int) -> pd.DataFrame:
    """Vertical markers for the curves: the checkpoint early stopping keeps, where it would stop,
    the onset of overfitting, the step where the loss diverged. Columns x, kind, label."""
    rows = []
    epochs = epoch_frame(run)
    position = (lambda epoch, step: step) if x_axis == "step" else (lambda epoch, step: epoch)
    stop = early_stopping(epochs, patience)
    if stop is not None:
        rows.append(dict(x=position(stop["best_epoch"], stop["best_step"]), kind="checkpoint kept",
                         label=f"kept: epoch {stop['best_epoch']}"))
        if stop["stop_epoch"] is not None:
            rows.append(dict(x=position(stop["stop_epoch"], stop["stop_step"]), kind="early stop",
                             label=f"stop: epoch {stop['stop_epoch']}"))
    onset = overfitting_onset(epochs)
    if onset is not None:
        rows.append(dict(x=position(onset["epoch"], onset["step"]), kind="overfitting starts",
                         label=f"overfitting from epoch {onset['epoch']}"))
    if run.diverged is not None:
        per_epoch = steps_per_epoch(run)
        step = run.diverged["step"]
        rows.append(dict(x=step if x_axis == "step" else step / per_epoch, kind="diverged",
                         label=f"diverged at step {step} (loss {run.diverged['loss']:.3g})"))
    return pd.DataFrame(rows, columns=["x", "kind", "label"])


def upscale(pixels: np.ndarray, size: int = 56) -> np.ndarray:
    """Nearest-neighbour enlargement of (H, W) images in [0, 1] to about `size` px, uint8."""
    factor = max(1, size // pixels.shape[-1])
    big = np.kron(pixels, np.ones((factor, factor), dtype=pixels.dtype))  # (H*f, W*f)
    return (np.clip(big, 0, 1) * 255).astype(np.uint8)


def warm_up_autograd() -> None:
    """One tiny backward pass and optimizer step. The first optimizer step in a process imports
    torch._dynamo (0.8-1.3 s on this machine); paying it before the student presses Train keeps
    the first point of the live chart under a second."""
    import torch

    layer = torch.nn.Linear(4, 2)  # private, discarded
    optimizer = torch.optim.Adam(layer.parameters())
    layer(torch.ones(3, 4)).sum().backward()  # (3, 2) -> scalar
    optimizer.step()


def warm_up() -> None:
    """One-off costs of this lesson, for the server's background warm-up (lessons/warmup.py):
    torch, torch._dynamo and the autograd/optimizer machinery the first training step needs."""
    import torch._dynamo  # noqa: F401

    warm_up_autograd()
