"""A plain diagnosis of one step: vanishing, exploding or healthy, with the thresholds it uses.

The rule compares the first (input) layer's weight-gradient norm with the last (output) layer's:
below VANISHING_RATIO the early layers barely learn (Glorot & Bengio 2010 measured this for deep
sigmoid nets; Hochreiter 1991 described it), above EXPLODING_RATIO they get updates orders of
magnitude larger than the top. A net whose gradients are huge everywhere has a ratio near 1, so a
second rule flags any layer's gradient norm above EXPLODING_NORM (Pascanu, Mikolov & Bengio,
"On the difficulty of training recurrent neural networks", ICML 2013, watch the norm itself).
The same constants decide the sentences the page shows and the "Try this" verdicts.

Plain Python and numpy (no Streamlit, no torch).
"""
from __future__ import annotations

import math

import numpy as np

from lessons.gradients import readings
from lessons.gradients.compute import Run

VANISHING_RATIO = 1e-2  # first / last layer gradient norm below this: vanishing
EXPLODING_RATIO = 1e2  # above this: exploding towards the input
EXPLODING_NORM = 1e3  # any layer's gradient norm above this: exploding (huge everywhere)
HEALTHY_UPDATE = (1e-4, 1e-2)  # a band around 1e-3, the rule of thumb of Karpathy's CS231n notes (not measured here)


def diagnose(run: Run, index: int) -> dict:
    """The verdict at recorded step `index`: verdict ("vanishing", "exploding", "healthy",
    "overflowed" or "no data"), ratio, first, last, largest (norms), step and a sentence."""
    steps, stats = readings.snapshot(run)
    if index is None or len(steps) == 0:
        return dict(verdict="no data", ratio=math.nan, first=math.nan, last=math.nan, largest=math.nan,
                    step=None, sentence="No step has been recorded yet.")
    norms = readings.stat(stats, "grad_norm")[index]  # (layers,)
    first, last = float(norms[0]), float(norms[-1])
    step = int(steps[index])
    largest = float(np.nanmax(norms)) if np.isfinite(norms).any() else math.inf
    if not np.isfinite(norms).all():
        return dict(verdict="overflowed", ratio=math.nan, first=first, last=last, largest=largest, step=step,
                    sentence=f"At step {step} a gradient norm overflowed to inf or NaN: the run stopped there.")
    ratio = first / last if last > 0 else (math.inf if first > 0 else math.nan)
    if largest > EXPLODING_NORM or ratio > EXPLODING_RATIO:
        verdict = "exploding"
    elif ratio < VANISHING_RATIO:
        verdict = "vanishing"
    else:
        verdict = "healthy"
    sentence = (f"At step {step} the first layer's gradient norm is {first:.3g} and the last layer's "
                f"{last:.3g}: a ratio of {ratio:.3g}. ") + _verdict_clause(run, index, verdict, norms)
    return dict(verdict=verdict, ratio=ratio, first=first, last=last, largest=largest, step=step,
                sentence=sentence)


def _verdict_clause(run: Run, index: int, verdict: str, norms: np.ndarray) -> str:
    """Why the verdict, and what it did to this step's update: numbers of this run, not a general claim."""
    _, stats = readings.snapshot(run)
    updates = readings.stat(stats, "update_ratio")[index]  # (layers,) |Δw| / |w| of this step
    last = float(norms[-1])
    if verdict == "vanishing":
        return (f"That is below {VANISHING_RATIO:g}, so this is **vanishing**: this step changed the first layer's "
                f"weights by {updates[0]:.2g} of their size, the last layer's by {updates[-1]:.2g}.")
    if verdict == "exploding":
        largest = float(np.max(norms))
        why = (f"The largest layer gradient norm is {largest:.3g}, above {EXPLODING_NORM:g}" if largest > EXPLODING_NORM
               else f"That is above {EXPLODING_RATIO:g}: the first layer's gradient is over {EXPLODING_RATIO:g} times "
                    "the last layer's")
        moved = float(np.nanmax(updates)) if np.isfinite(updates).any() else math.nan
        if not math.isfinite(moved):
            effect = "."
        elif moved >= 1:
            effect = (f": this step moved a layer's weights by up to {moved:.3g} times their own size, so they are "
                      "thrown far away (clip or rescale).")
        else:
            effect = (f". This step moved no layer's weights by more than {moved:.2g} of their size"
                      + (f" (the gradient was clipped to a global norm of {run.spec.clip:g}), but the gradient "
                         "itself is still huge." if run.spec.clip else "."))
        return f"{why}, so this is **exploding**{effect}"
    if not last > 0:
        return "The last layer's gradient is zero, so the rule has nothing to compare the other layers with."
    low, high = float(np.min(norms)) / last, float(np.max(norms)) / last
    return (f"That is between {VANISHING_RATIO:g} and {EXPLODING_RATIO:g} and no layer's norm exceeds "
            f"{EXPLODING_NORM:g}, so this is **healthy**: every layer's gradient norm is between {low:.2g} and "
            f"{high:.2g} times the last layer's.")


def thresholds_sentence() -> str:
    return (f"The rule: first/last ratio below {VANISHING_RATIO:g} is vanishing; above {EXPLODING_RATIO:g}, or any "
            f"layer's norm above {EXPLODING_NORM:g}, is exploding; otherwise healthy.")


def update_ratio_summary(run: Run, index: int) -> dict:
    """Median update-to-weight ratio over the layers at a step, and the share inside HEALTHY_UPDATE."""
    _, stats = readings.snapshot(run)
    ratios = readings.stat(stats, "update_ratio")[index]
    finite = ratios[np.isfinite(ratios)]
    if finite.size == 0:
        return dict(median=math.nan, inside=0.0, lowest=math.nan, highest=math.nan)
    inside = float(((finite >= HEALTHY_UPDATE[0]) & (finite <= HEALTHY_UPDATE[1])).mean())
    return dict(median=float(np.median(finite)), inside=inside, lowest=float(finite.min()),
                highest=float(finite.max()))


def last_finite_update_index(run: Run, index: int) -> int | None:
    """The latest recorded step at or before `index` whose update ratios are all finite (an overflowing
    step's update is inf or 1e15 and says nothing), or None."""
    _, stats = readings.snapshot(run)
    ratios = readings.stat(stats, "update_ratio")
    for i in range(min(index, len(ratios) - 1), -1, -1):
        if np.isfinite(ratios[i]).all() and (run.diverged is None or int(run.steps[i]["step"]) < run.diverged["step"]):
            return i
    return None


AUTOSCALE_HIDES = ("Autoscaled axes fit each chart to its own data, the way TensorBoard and W&B draw each layer's "
                   "histogram: a layer whose gradients are a millionth of another's then looks just as lively, and "
                   "vanishing disappears. Fixed axes keep one scale for every layer, every step and every run.")
