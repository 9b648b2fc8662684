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
HEALTHY_UPDATE = (1e-4, 1e-2)  # update-to-weight ratios around 1e-3 (Karpathy, CS231n notes)


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
                f"{last:.3g}: a ratio of {ratio:.3g}. ")
    if verdict == "vanishing":
        sentence += (f"That is below {VANISHING_RATIO:g}, so this is **vanishing**: the layers near the input "
                     "get almost no gradient and barely learn.")
    elif verdict == "exploding" and largest > EXPLODING_NORM:
        sentence += (f"The largest layer gradient norm is {largest:.3g}, above {EXPLODING_NORM:g}, so this is "
                     "**exploding**: updates of that size throw the weights far away (clip or rescale).")
    elif verdict == "exploding":
        sentence += (f"That is above {EXPLODING_RATIO:g}, so this is **exploding**: the gradient grows on its way "
                     "down to the input.")
    else:
        sentence += (f"That is between {VANISHING_RATIO:g} and {EXPLODING_RATIO:g} and no layer's norm exceeds "
                     f"{EXPLODING_NORM:g}, so this is **healthy**: every layer gets a usable gradient.")
    return dict(verdict=verdict, ratio=ratio, first=first, last=last, largest=largest, step=step,
                sentence=sentence)


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


AUTOSCALE_HIDES = ("Autoscaled axes fit each chart to its own data, the way TensorBoard and W&B draw each layer's "
                   "histogram: a layer whose gradients are a millionth of another's then looks just as lively, and "
                   "vanishing disappears. Fixed axes keep one scale for every layer, every step and every run.")
