"""The gradient lesson's text: "What you see" computed from a run, the "Try this" experiments with
the checks that say whether their effect appeared (and on which run), the quiz and the reading.

No streamlit: the records (ui.Experiment, ui.QuizQuestion, ui.Reading) come from lessons/ui.py.
The checks use the constants of diagnosis.py, the same ones the page's sentences use.
"""
from __future__ import annotations

import math

import numpy as np

from lessons import ui
from lessons.gradients import compute, diagnosis, readings

WHY = """A network learns only as fast as its gradients let it. **While it trains**, the size of each
layer's gradient tells you whether the layers near the input learn at all (**vanishing** gradients:
deep sigmoid nets), whether updates are so large that the weights are thrown around (**exploding**
gradients: a bad initialization, a too-high learning rate), and whether a fix worked. Here you train a
deep network on MNIST in the page and watch every layer's gradient, step by step, on fixed axes."""

OBJECTIVES = [
    "Read per-layer gradient norms over training, as lines, bars, a heatmap and percentile bands",
    "Recognise vanishing and exploding gradients from the ratio between the first and the last layer and the size "
    "of the largest layer's gradient",
    "See what the activation, the initialization, normalization, residual connections and clipping do to them",
    "Check update-to-weight ratios and saturated or dead units, and why autoscaled axes hide the problem",
]

CLIP_TOLERANCE = 1e-5  # clip_grad_norm_ scales by max_norm / (norm + 1e-6): a hair below the limit
HUGE_LOSS = 1e3  # "the loss stays huge": the clipped x10 net ends at 1.43e7 (chance is 2.30)
GELU_NEGATIVE_SLOPE = (-0.13, 0.5)  # GELU'(x) for x < 0: from -0.129 (x = -0.75) up to 0.5 (x -> 0), measured


# ----- text computed from the run ------------------------------------------------------------------

def source_sentence(run: compute.Run) -> str:
    done = min(len(run.steps), len(run.stats))
    if run.source == "precomputed":
        return f"This is the shipped precomputed run of these settings ({done} steps): press Train to train it yourself."
    timing = f"{run.seconds:.1f} s" if run.seconds else "just started"
    return f"This is your run {run.name}: {done} of {run.total_steps} steps, {run.status} ({timing})."


def what_you_see(run: compute.Run) -> list[str]:
    out = [source_sentence(run)]
    n = min(len(run.steps), len(run.stats))
    if n == 0:
        return out + ["No step has been recorded yet."]
    first = diagnosis.diagnose(run, 0)
    out.append(first["sentence"])
    if n > 1:
        last = diagnosis.diagnose(run, n - 1)
        if last["verdict"] != "overflowed":
            out.append(f"At the latest step ({last['step']}) the ratio is {last['ratio']:.3g} ({last['verdict']}).")
    if run.diverged is not None:
        what = "gradient norm" if run.diverged["what"] == "gradient" else "loss"
        out.append(f"At step {run.diverged['step']} the {what} overflowed to {run.diverged['value']:g}: the run "
                   "stopped there and the charts mark the step.")
    losses = [row["loss"] for row in run.steps[:n]]
    out.append(f"The training loss went from {losses[0]:.3g} to {losses[-1]:.3g} "
               f"(chance level for 10 classes is ln 10 = 2.30).")
    steps, stats = readings.snapshot(run)
    backprop = readings.stat(stats, "backprop_norm")[0]
    if backprop[-1] > 0 and np.isfinite(backprop).all():
        out.append(f"At step 1 the backpropagated gradient reaching the first layer is {backprop[0] / backprop[-1]:.3g} "
                   "times the one leaving the output.")
    at = diagnosis.last_finite_update_index(run, n - 1)
    updates = diagnosis.update_ratio_summary(run, at) if at is not None else {"median": math.nan}
    if math.isfinite(updates["median"]):
        lo, hi = diagnosis.HEALTHY_UPDATE
        out.append(f"Update-to-weight ratios |Δw| / |w| at step {steps[at]}"
                   + (" (the last step before the overflow)" if at < n - 1 else "")
                   + f": median {updates['median']:.2g}, from {updates['lowest']:.2g} to {updates['highest']:.2g}; "
                   f"{updates['inside']:.0%} of the layers are between {lo:g} and {hi:g}, the band around the rule of "
                   "thumb of about 1e-3 from the CS231n notes.")
    act = readings.activation_frame(run, n - 1)
    if run.spec.activation in ("sigmoid", "tanh"):
        out.append(f"Saturated units ({run.spec.activation}): at most {act.saturated.max():.0%} in one layer at the "
                   "latest step.")
    elif run.spec.activation == "relu":
        out.append(f"Dead units (ReLU input negative on the whole batch, so they pass no gradient): at most "
                   f"{act.dead.max():.0%} in one layer at the latest step.")
    else:
        out.append(f"Units whose GELU input is negative on the whole batch (dead for ReLU; GELU's slope there is "
                   f"between {GELU_NEGATIVE_SLOPE[0]:g} and {GELU_NEGATIVE_SLOPE[1]:g}, so they still pass a small "
                   f"gradient): at most {act.dead.max():.0%} in one layer at the latest step.")
    if run.spec.clip:
        clipped = max(row["clipped_norm"] for row in run.steps[:n])
        before = max(row["grad_norm"] for row in run.steps[:n])
        out.append(f"Clipping at {run.spec.clip:g}: the global gradient norm was up to {before:.3g} before clipping "
                   f"and at most {clipped:.3g} after it, on every step.")
    return out


# ----- try this ------------------------------------------------------------------------------------

def _pick(result: dict, key: str) -> tuple[compute.Run, str]:
    """The student's latest finished run of the preset if there is one, else the shipped one."""
    spec = compute.PRESETS[key].spec
    for run in reversed(result.get("runs") or []):
        if run.spec == spec and not run.live and run.stats:
            return run, f"Checked on your run {run.name}."
    return result["presets"][key], "Checked on the shipped precomputed run of this preset (press Train to check your own)."


def _check(key: str, test):
    def check(result: dict) -> tuple[bool, str]:
        run, source = _pick(result, key)
        appeared, numbers = test(run)
        return appeared, f"{numbers} {source}"
    return check


def _vanishes(run):
    d = diagnosis.diagnose(run, 0)
    return d["ratio"] < diagnosis.VANISHING_RATIO, (
        f"At step 1 the first layer's gradient norm is {d['ratio']:.3g} times the last layer's "
        f"(vanishing below {diagnosis.VANISHING_RATIO:g}).")


def _explodes(run):
    """The expected answer: huge in every layer (each above EXPLODING_NORM) and an overflow."""
    d = diagnosis.diagnose(run, 0)
    smallest = float(np.min(readings.stat(readings.snapshot(run)[1], "grad_norm")[0]))
    ok = d["verdict"] in ("exploding", "overflowed") and smallest > diagnosis.EXPLODING_NORM and run.diverged is not None
    return ok, (f"At step 1 the layer gradient norms go from {smallest:.3g} to {d['largest']:.3g} (exploding above "
                f"{diagnosis.EXPLODING_NORM:g})" + (f"; the run overflowed at step {run.diverged['step']}."
                                                    if run.diverged else "; the run did not overflow."))


def _healthy(run):
    d = diagnosis.diagnose(run, 0)
    return d["verdict"] == "healthy", (f"At step 1 the first/last ratio is {d['ratio']:.3g} and the largest norm "
                                       f"{d['largest']:.3g}: {d['verdict']}.")


def _carried_down(run):
    """Healthy, and the backpropagated gradient reaches the first block (the shortcut's doing)."""
    healthy, numbers = _healthy(run)
    backprop = readings.stat(readings.snapshot(run)[1], "backprop_norm")[0]
    carried = float(backprop[0] / backprop[-1]) if backprop[-1] > 0 else math.nan
    return healthy and carried > diagnosis.VANISHING_RATIO, (
        f"{numbers} The backpropagated gradient reaching the first block is {carried:.3g} times the one leaving "
        "the output.")


def _clipped(run):
    if not run.steps:
        return False, "No step was recorded."
    clipped = max(row["clipped_norm"] for row in run.steps)
    ok = (run.diverged is None and clipped <= run.spec.clip * (1 + CLIP_TOLERANCE)
          and run.steps[-1]["loss"] > HUGE_LOSS)
    return ok, (f"{len(run.steps)} steps without overflow; the clipped global norm was at most {clipped:.3g} "
                f"(limit {run.spec.clip:g}), while the loss went from {run.steps[0]['loss']:.3g} to "
                f"{run.steps[-1]['loss']:.3g}.")


def _setup(key: str) -> dict:
    return compute.PRESETS[key].spec.to_dict()


EXPERIMENTS = [
    ui.Experiment("deep_sigmoid", "Deep sigmoid", _setup("deep_sigmoid"),
                  "Ten sigmoid layers with PyTorch's default initialization. At the first step, how does the first "
                  "layer's gradient compare with the last layer's?",
                  ("About the same", "Less than a hundredth of it", "Much larger"), 1,
                  _check("deep_sigmoid", _vanishes)),
    ui.Experiment("init_x10", "Initialization x10", _setup("init_x10"),
                  "The ReLU net with every weight ten times PyTorch's default. What do the gradients do?",
                  ("They vanish", "They are huge in every layer and soon overflow", "Nothing changes"), 1,
                  _check("init_x10", _explodes)),
    ui.Experiment("cure_batchnorm", "Cure vanishing with BatchNorm", _setup("cure_batchnorm"),
                  "The deep sigmoid net with BatchNorm before every sigmoid. Is the first step still vanishing?",
                  ("Still vanishing", "Healthy: the first layer's gradient is within 100x of the last", "Exploding"),
                  1, _check("cure_batchnorm", _healthy)),
    ui.Experiment("cure_residual", "Cure vanishing with residual connections", _setup("cure_residual"),
                  "The deep sigmoid net with a residual connection around every block after the first. What happens at "
                  "step 1?",
                  ("Still vanishing", "Healthy: the shortcut carries the gradient down", "Exploding"), 1,
                  _check("cure_residual", _carried_down)),
    ui.Experiment("cure_clipping", "Clip the exploding net", _setup("cure_clipping"),
                  "The x10 net with the global gradient norm clipped to 1. What changes?",
                  ("It trains normally", "No more overflow, but the loss stays huge: clipping treats the symptom",
                   "Nothing"), 1, _check("cure_clipping", _clipped)),
]

SIGMOID_SHRINK_PER_LAYER = 7  # measured: the backpropagated norm shrinks 7.1-7.8x per sigmoid layer (seed 0)
DIY_CAPTION = ("The gradient-flow plot in plain PyTorch, on 64 of scikit-learn's 8x8 digits: a 10-layer sigmoid MLP "
               "and the same net with ReLU and Kaiming initialization, one backward pass each, every layer's "
               "weight-gradient norm printed and plotted on a log scale.")

QUIZ = [
    ui.QuizQuestion("In the 10-layer sigmoid net the first layer's gradient is less than a millionth of the last "
                    "layer's. Why?",
                    ("The first layer has more weights",
                     "Each sigmoid multiplies the backpropagated gradient by its derivative, at most 0.25, layer after layer",
                     "The learning rate is too small"), 1,
                    "Backpropagation multiplies by each layer's weights and activation derivative. With sigmoid's "
                    "derivative at most 1/4 and default weights, the product shrinks by about the same factor at every "
                    f"layer: about {SIGMOID_SHRINK_PER_LAYER} per sigmoid layer in this page's net (none of its "
                    "units is saturated: a derivative near 1/4 times the small default weights is enough)."),
    ui.QuizQuestion("TensorBoard shows each layer's gradient histogram on its own autoscaled axis. What can that hide?",
                    ("Nothing: the shapes are what matter",
                     "That one layer's gradients are a million times smaller than another's",
                     "The number of steps"), 1,
                    "Each panel fits its own range: in the deep sigmoid net the first layer's median |g| at step 1 is "
                    "about 2e-11 and the output layer's about 2e-2, and both panels look equally busy. Fixed shared "
                    "axes (the default on this page) keep magnitudes comparable."),
    ui.QuizQuestion("Gradient clipping caps the global gradient norm. Does it fix an exploding initialization?",
                    ("Yes, completely", "It prevents the overflow, but the badly scaled network still does not learn",
                     "It makes gradients vanish"), 1,
                    "Clipping bounds each update (Pascanu et al. 2013), so the run no longer blows up; but the weights "
                    "are still ten times too large, so the forward signal still grows about fourfold per layer and "
                    "the loss stays in the millions. Rescale the initialization (Kaiming) or normalize (BatchNorm): "
                    "either makes this net's gradients healthy."),
]

READING = [
    ui.Reading("Glorot & Bengio, Understanding the difficulty of training deep feedforward neural networks (AISTATS 2010)",
               "https://proceedings.mlr.press/v9/glorot10a.html", "saturated sigmoids, backpropagated gradients per layer, Xavier init"),
    ui.Reading("He et al., Delving deep into rectifiers (ICCV 2015)", "https://arxiv.org/abs/1502.01852",
               "Kaiming initialization for ReLU nets"),
    ui.Reading("Ioffe & Szegedy, Batch normalization (ICML 2015)", "https://arxiv.org/abs/1502.03167", ""),
    ui.Reading("He et al., Deep residual learning for image recognition (CVPR 2016)", "https://arxiv.org/abs/1512.03385",
               "residual connections"),
    ui.Reading("Pascanu, Mikolov & Bengio, On the difficulty of training recurrent neural networks (ICML 2013)",
               "https://arxiv.org/abs/1211.5063", "exploding gradients and norm clipping"),
    ui.Reading("TensorBoard: histograms and distributions", "https://github.com/tensorflow/tensorboard/blob/master/docs/r1/histograms.md",
               "the percentile bands of the distributions view"),
    ui.Reading("Weights & Biases: wandb.watch", "https://docs.wandb.ai/ref/python/watch/", "gradient histograms logged per layer"),
    ui.Reading("PyTorch forums: check gradient flow in network", "https://discuss.pytorch.org/t/check-gradient-flow-in-network/15063",
               "the mean and max |grad| bar plot"),
    ui.Reading("CS231n: babysitting the learning process", "https://cs231n.github.io/neural-networks-3/#ratio",
               "update-to-weight ratios around 1e-3"),
]
