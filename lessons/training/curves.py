"""Reading a run's curves: its frames, the smoothed live curve, early stopping, overfitting,
the numbers the page's text is built from, and the markers drawn on the chart.

Plain numpy and pandas (no Streamlit, no torch). Methods and their sources:

- smoothing: an exponential moving average with bias correction, the way TensorBoard's scalar
  dashboard smooths (and Adam corrects its moments: Kingma & Ba, ICLR 2015, section 3);
- early stopping with patience: Prechelt, "Early stopping - but when?", in Neural Networks:
  Tricks of the Trade, 1998;
- overfitting as the gap between training and held-out loss: Goodfellow, Bengio & Courville,
  "Deep Learning", 2016, section 5.2 and 7.8.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lessons.training.compute import Run


# --------------------------------------------------------------------------- frames


def step_frame(run: Run) -> pd.DataFrame:
    return pd.DataFrame(run.steps, columns=["step", "epoch", "loss", "acc"])


def eval_frame(run: Run) -> pd.DataFrame:
    return pd.DataFrame(run.evals, columns=["step", "epoch", "val_loss", "val_acc"])


def epoch_frame(run: Run) -> pd.DataFrame:
    """One row per epoch; `val_loss_wrong`/`val_conf_wrong` (compute.validation_stats) are NaN for
    runs that did not record them."""
    columns = ["epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "val_loss_wrong",
               "val_conf_wrong", "seconds"]
    return pd.DataFrame(run.epochs, columns=columns).astype({"val_loss_wrong": float, "val_conf_wrong": float})


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


def thin_keeping_peaks(frame: pd.DataFrame, column: str, max_points: int, largest: bool = True) -> pd.DataFrame:
    """Like `thin`, but every stretch of rows between two kept ones also keeps its largest (or
    smallest) `column` value, so that a one-step spike of the loss (or dip of the accuracy) stays on
    the chart. Every k-th row plus one peak per stretch: at most about `max_points` rows."""
    n = len(frame)
    if n <= max_points:
        return frame
    stride = math.ceil(2 * n / max_points)
    keep = np.zeros(n, dtype=bool)
    keep[::stride] = True
    keep[-1] = True
    values = frame[column].to_numpy(dtype=np.float64)
    values = np.where(np.isfinite(values), values if largest else -values, -np.inf)
    padded = np.full(math.ceil(n / stride) * stride, -np.inf)
    padded[:n] = values
    peaks = padded.reshape(-1, stride).argmax(axis=1) + np.arange(0, len(padded), stride)  # one per stretch
    keep[peaks[peaks < n]] = True
    return frame[keep]


def curve_frame(run: Run, x_axis: str = "step", smoothing: float = 0.6, max_points: int = 300) -> pd.DataFrame:
    """Long frame for the live chart: columns x, metric ("loss"/"accuracy"), series, value.

    x_axis "step": training-batch values per step (raw and EMA-smoothed, smoothed over every
    step, then thinned to about `max_points` per line so that redrawing stays cheap, keeping the
    loss's spikes and the accuracy's dips) and validation at each check. x_axis "epoch": the epoch means of the training batches and the
    validation at each epoch end (plus epoch 0, before training).
    """
    parts = []
    if x_axis == "step":
        steps = step_frame(run)
        steps = steps.assign(loss_smooth=ema_smooth(steps.loss, smoothing) if smoothing > 0 else steps.loss,
                             acc_smooth=ema_smooth(steps.acc, smoothing) if smoothing > 0 else steps.acc)
        for metric, column, largest in (("loss", "loss", True), ("accuracy", "acc", False)):
            kept = thin_keeping_peaks(steps, column, max_points, largest)
            parts.append(pd.DataFrame(dict(x=kept.step, metric=metric, series="train (raw)",
                                           value=kept[column])))
            if smoothing > 0:
                parts.append(pd.DataFrame(dict(x=kept.step, metric=metric, series="train (smoothed)",
                                               value=kept[column + "_smooth"])))
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


CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over 10 classes: 2.30
CLOSE_GAP = 0.3  # train and validation loss "stay close": they differ by less than 30% of the larger
ACCURACY_FLAT = 0.01  # validation accuracy "did not fall": it lost less than 1 point
SPIKE_FACTOR = 2.0  # a batch loss above twice the first one is a jump
CHANCE_TOLERANCE = 0.05  # a loss within this of ln 10 is "at chance level"
CROSS_MARGIN = 0.05  # validation "below training" in an epoch: lower by at least this much


def at_chance(loss: float) -> bool:
    return abs(loss - CHANCE_LOSS) < CHANCE_TOLERANCE


def relative_gap(train_loss: float, val_loss: float) -> float:
    """|validation - training| as a share of the larger of the two losses (0: equal, 1: one is 0)."""
    larger = max(abs(train_loss), abs(val_loss))
    return abs(val_loss - train_loss) / larger if larger > 0 else 0.0


def losses_close(train_loss: float, val_loss: float) -> bool:
    """The one test behind "the two curves stay close", in the page's text and in its checks."""
    return relative_gap(train_loss, val_loss) < CLOSE_GAP


def loss_spike(run: Run, factor: float = SPIKE_FACTOR) -> dict | None:
    """The largest batch loss of a run that did not diverge, if it is above `factor` times the
    first batch's (an update that threw the weights off). Returns step, loss and the first loss."""
    if run.diverged is not None or len(run.steps) < 2:
        return None
    first = run.steps[0]["loss"]
    top = max(run.steps, key=lambda s: s["loss"])
    if not top["loss"] > factor * first:
        return None
    return dict(step=int(top["step"]), loss=float(top["loss"]), first_loss=float(first))


def validation_below_training(epochs: pd.DataFrame, margin: float = CROSS_MARGIN) -> dict | None:
    """The first epoch whose validation loss (eval mode, at the epoch's end) is below its training
    loss (the mean over the epoch's batches, train mode, weights still moving) by at least `margin`:
    epoch, both losses."""
    rows = epochs.dropna(subset=["val_loss", "train_loss"])
    below = rows[rows.val_loss <= rows.train_loss - margin]
    if below.empty:
        return None
    row = below.iloc[0]
    return dict(epoch=int(row.epoch), train_loss=float(row.train_loss), val_loss=float(row.val_loss))


def overfitting_onset(epochs: pd.DataFrame, min_rise: float = 0.05) -> dict | None:
    """The epoch where overfitting sets in: the validation loss reaches its minimum and then
    rises (by more than `min_rise` relative, and at least 0.02), while the training loss keeps
    falling after it. Returns the epoch, step, both losses at the minimum and at the end, the
    validation accuracy there (and its best, over the whole run) and where the validation loss
    comes from at both points (the wrong answers' part and confidence, NaN if not recorded);
    None if the curves show no such point."""
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
    best = rows.loc[rows.val_acc.idxmax()]
    at = {"min": at_min, "end": end}
    return dict(epoch=int(at_min.epoch), step=int(at_min.step), val_loss_min=float(at_min.val_loss),
                val_loss_end=float(end.val_loss), train_loss_at_min=float(at_min.train_loss),
                train_loss_end=float(end.train_loss), val_rise=float(rise),
                val_acc_min=float(at_min.val_acc), val_acc_end=float(end.val_acc),
                best_val_acc=float(best.val_acc), best_val_acc_epoch=int(best.epoch),
                **{f"loss_wrong_{k}": float(r.get("val_loss_wrong", math.nan)) for k, r in at.items()},
                **{f"loss_right_{k}": float(r.val_loss - r.get("val_loss_wrong", math.nan)) for k, r in at.items()},
                **{f"conf_wrong_{k}": float(r.get("val_conf_wrong", math.nan)) for k, r in at.items()})


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
