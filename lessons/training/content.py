"""The training lesson's text: "What you see" computed from a run, the "Try this" experiments with
the checks that say whether their effect appeared on a run, the quiz and the further reading.

Used by page.py. Imports no streamlit itself: the records (ui.Experiment, ui.QuizQuestion,
ui.Reading) come from the lesson scaffold, lessons/ui.py.
"""
from __future__ import annotations

import math

from lessons import ui
from lessons.training import compute, curves


# ----- text computed from the run ------------------------------------------------------------------

def what_you_see(run: compute.Run, patience: int) -> list[str]:
    s = curves.summarize(run)
    epochs = curves.epoch_frame(run)
    out = []
    if run.diverged is not None:
        d = run.diverged
        out.append(f"This run diverged at step {d['step']} (epoch {d['epoch']}): the batch loss became "
                   f"{d['loss']:.3g}, so training stopped there. The learning rate "
                   f"{run.spec.lr:g} makes each update overshoot, the weights grow at every step and the "
                   "loss explodes; lower the learning rate (or clip gradients).")
        return out
    if s.get("epochs_done", 0) == 0:
        return [f"The run stopped after {s['steps_done']} steps, before its first epoch ended."]
    timing = "precomputed" if run.source == "precomputed" else f"{s['seconds']:.1f} s"
    out.append(f"After {s['epochs_done']} epochs ({s['steps_done']} steps, {timing}) the training "
               f"loss is {s['train_loss']:.3f} and the validation loss {s['val_loss']:.3f} "
               f"(validation accuracy {s['val_acc']:.1%}, best {s['best_val_acc']:.1%}); "
               f"it started at {s['initial_val_loss']:.2f}, chance level for 10 classes being ln 10 = 2.30.")
    if s["train_loss"] > 1.5:
        out.append("The loss has barely left chance level: the model is not learning (learning rate too "
                   "low, or so high that the updates bounce around).")
    gap = s["gap"]
    out.append(f"The validation loss is {abs(gap):.3f} {'above' if gap >= 0 else 'below'} the training loss"
               + (": a large gap, the model fits its training digits much better than new ones." if gap > 0.3
                  else ": the two curves stay close." if abs(gap) < 0.1 else "."))
    onset = curves.overfitting_onset(epochs)
    if onset:
        out.append(f"Overfitting: the validation loss was lowest at epoch {onset['epoch']} "
                   f"({onset['val_loss_min']:.3f}) and rose to {onset['val_loss_end']:.3f}, while the "
                   f"training loss kept falling ({onset['train_loss_at_min']:.3f} to {onset['train_loss_end']:.4f}).")
    else:
        out.append(f"No overfitting annotation: the validation loss did not turn up after its minimum "
                   f"(lowest at epoch {s['best_val_loss_epoch']} of {s['epochs_done']}).")
    stop = curves.early_stopping(epochs, patience)
    if stop and stop["stop_epoch"] is not None:
        out.append(f"Early stopping with patience {patience} would stop after epoch {stop['stop_epoch']} and "
                   f"keep the checkpoint of epoch {stop['best_epoch']} (validation loss "
                   f"{stop['best_val_loss']:.3f}), saving {stop['epochs_saved']} epochs.")
    elif stop:
        out.append(f"With patience {patience} early stopping would not trigger: the validation loss never "
                   f"went {patience} epochs without improving. The kept checkpoint is epoch {stop['best_epoch']}.")
    if "loss_noise" in s:
        out.append(f"Per batch the training loss jitters by {s['loss_noise']:.0%} of its level in the second "
                   "half of the run (one batch is a small sample); the smoothed line and the validation "
                   "points, measured on the whole validation set, are steadier.")
    if run.status == "stopped":
        out.append("This run was interrupted before it finished.")
    return out


# ----- try this ------------------------------------------------------------------------------------

def _pick(result: dict, key: str) -> tuple[compute.Run, str]:
    latest = result.get("latest")
    if latest is not None and latest.finished and latest.spec == compute.PRESETS[key].spec:
        return latest, "Checked on your latest run."
    return result["presets"][key], "Checked on the precomputed run of this preset (press Train to check your own)."


def _check(key: str, test) -> callable:
    def check(result: dict) -> tuple[bool, str]:
        run, source = _pick(result, key)
        appeared, numbers = test(run)
        return appeared, f"{numbers} {source}"
    return check


def _too_high(run):
    s = curves.summarize(run)
    ok = run.diverged is None and s.get("val_acc", 0) < 0.9 and s.get("loss_noise", 0) > 0.2
    return ok, (f"Final validation accuracy {s.get('val_acc', float('nan')):.1%} (the healthy preset reaches "
                f"about 96%), batch-loss jitter {s.get('loss_noise', float('nan')):.0%}.")


def _too_low(run):
    s = curves.summarize(run)
    drop = s["initial_val_loss"] - s.get("val_loss", math.nan)
    return drop < 0.1, f"The validation loss fell by only {drop:.3f} in {s['steps_done']} steps."


def _overfits(run):
    onset = curves.overfitting_onset(curves.epoch_frame(run))
    if onset is None:
        return False, "The validation loss did not turn up after its minimum."
    return True, (f"Validation loss lowest at epoch {onset['epoch']} ({onset['val_loss_min']:.3f}), then up to "
                  f"{onset['val_loss_end']:.3f} while the training loss fell to {onset['train_loss_end']:.4f}.")


def _underfits(run):
    s = curves.summarize(run)
    ok = s["train_acc"] < 0.9 and abs(s["gap"]) < 0.25
    return ok, (f"Training accuracy {s['train_acc']:.1%}, validation accuracy {s['val_acc']:.1%}, "
                f"loss gap {s['gap']:.3f}.")


def _diverges(run):
    if run.diverged is None:
        return False, "The loss stayed finite."
    return True, f"The loss reached {run.diverged['loss']:.3g} at step {run.diverged['step']} and training stopped."


EXPERIMENTS = [
    ui.Experiment("lr_too_high", "Learning rate too high", compute.PRESETS["lr_too_high"].spec.to_dict(),
                  "SGD with momentum at learning rate 0.1 (100 times the healthy Adam rate). What happens?",
                  ("It learns faster and ends better than the healthy run",
                   "The loss drops, then stalls high and jumps around",
                   "The loss does not move at all"), 1, _check("lr_too_high", _too_high)),
    ui.Experiment("lr_too_low", "Learning rate too low", compute.PRESETS["lr_too_low"].spec.to_dict(),
                  "Plain SGD at learning rate 0.0001 for 5 epochs. Where does the loss end?",
                  ("Near zero", "About where it started (2.30)", "It becomes NaN"), 1,
                  _check("lr_too_low", _too_low)),
    ui.Experiment("overfitting", "Overfitting", compute.PRESETS["overfitting"].spec.to_dict(),
                  "A wide MLP, only 100 training digits, no dropout or weight decay, 60 epochs. "
                  "What does the validation loss do while the training loss goes to zero?",
                  ("It follows the training loss down", "It reaches a minimum, then rises",
                   "It stays at 2.30"), 1, _check("overfitting", _overfits)),
    ui.Experiment("underfitting", "Underfitting", compute.PRESETS["underfitting"].spec.to_dict(),
                  "An MLP with only 4 hidden units on 4,000 digits. How do the curves look?",
                  ("Training loss near 0, validation loss high",
                   "Both losses high and close together", "Both reach 99% accuracy"), 1,
                  _check("underfitting", _underfits)),
    ui.Experiment("diverges", "Divergence", compute.PRESETS["diverges"].spec.to_dict(),
                  "Plain SGD at learning rate 10. What happens?",
                  ("It trains ten times faster", "The loss explodes and training stops", "Nothing changes"), 1,
                  _check("diverges", _diverges)),
]

QUIZ = [
    ui.QuizQuestion("The training loss is still falling, but the validation loss has risen for 10 epochs. "
                    "Which checkpoint should you keep?",
                    ("The last one: its training loss is the lowest",
                     "The one at the validation-loss minimum", "The first one"), 1,
                    "The model has started to memorise its training set (overfitting). Early stopping keeps "
                    "the weights from the epoch with the lowest validation loss."),
    ui.QuizQuestion("Why is the per-step training curve much noisier than the validation curve?",
                    ("The optimizer is broken", "Each step's loss is measured on one mini-batch of a few dozen "
                     "digits; validation uses the whole held-out set", "Dropout is off during validation"), 1,
                    "A batch of 32 is a small, random sample, so its loss varies from step to step. That is why "
                    "the page smooths it with an exponential moving average."),
    ui.QuizQuestion("TensorBoard-style smoothing divides the moving average by 1 - w^t. Why?",
                    ("To make the curve smoother", "The average starts at 0, so without it the first points "
                     "would be pulled towards 0", "To convert loss into accuracy"), 1,
                    "This is the same bias correction Adam applies to its moment estimates: early on, the "
                    "average has seen few values and is biased towards its starting value 0."),
]

READING = [
    ui.Reading("Prechelt, Early stopping - but when? (1998)", "https://doi.org/10.1007/3-540-49430-8_3",
               "patience and which checkpoint to keep"),
    ui.Reading("Kingma & Ba, Adam (ICLR 2015)", "https://arxiv.org/abs/1412.6980",
               "the optimizer and its bias-corrected moving averages"),
    ui.Reading("Loshchilov & Hutter, Decoupled weight decay regularization (ICLR 2019)",
               "https://arxiv.org/abs/1711.05101", "AdamW"),
    ui.Reading("Zhang et al., Understanding deep learning requires rethinking generalization (ICLR 2017)",
               "https://arxiv.org/abs/1611.03530", "networks memorise even random labels: try label noise"),
    ui.Reading("Smith, Cyclical learning rates (WACV 2017)", "https://arxiv.org/abs/1506.01186",
               "the learning-rate range test for choosing a learning rate"),
    ui.Reading("Karpathy, A recipe for training neural networks (2019)",
               "https://karpathy.github.io/2019/04/25/recipe/", "overfit a small batch first, then regularise"),
    ui.Reading("TensorBoard: scalars and smoothing", "https://www.tensorflow.org/tensorboard/get_started",
               "the tool whose smoothing this page reproduces"),
    ui.Reading("Fawcett, An introduction to ROC analysis (2006)",
               "https://doi.org/10.1016/j.patrec.2005.10.010", "reading the per-class ROC curves"),
]
