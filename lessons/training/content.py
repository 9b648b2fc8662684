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

def gap_sentence(train_loss: float, val_loss: float) -> str:
    """How far apart the two final losses are; "close" means curves.losses_close, the same test the
    underfitting check uses."""
    gap = val_loss - train_loss
    side = "above" if gap >= 0 else "below"
    share = curves.relative_gap(train_loss, val_loss)
    out = (f"The validation loss ends {abs(gap):.3f} {side} the training loss ({val_loss:.3f} against "
           f"{train_loss:.3f}), {share:.0%} of the larger")
    if curves.losses_close(train_loss, val_loss):
        return out + f": the two curves stay close (less than {curves.CLOSE_GAP:.0%} apart)."
    if gap > 0:
        return out + (f": the curves are far apart (more than {curves.CLOSE_GAP:.0%}), the model fits its "
                      "training digits much better than new ones.")
    return out + f": the curves are more than {curves.CLOSE_GAP:.0%} apart, validation below training."


def crossing_sentence(run: compute.Run, crossing: dict) -> str:
    """Why the validation loss can be below the training loss (why the curves can cross)."""
    spec = run.spec
    train_mode = ["dropout on"] if spec.dropout > 0 else []
    if spec.augment:
        train_mode.append("on shifted digits")
    extra = []
    if spec.label_noise > 0:
        extra.append(f"{spec.label_noise:.0%} of the training labels are wrong, the validation labels are not")
    return (f"In epoch {crossing['epoch']} the validation loss ({crossing['val_loss']:.3f}) is below the training "
            f"loss ({crossing['train_loss']:.3f}). That is no bug: the training loss is the mean over the epoch's "
            "batches, measured in train mode" + (f" ({', '.join(train_mode)})" if train_mode else "")
            + " while the weights were still moving, so it still counts the worse early batches; the validation "
            "loss is measured once, at the end of the epoch, in eval mode"
            + (" (dropout off)" if spec.dropout > 0 else "") + " with the epoch's final weights"
            + "".join(f"; {e}" for e in extra) + ".")


def overfitting_sentences(onset: dict) -> list[str]:
    out = [f"Overfitting: the validation loss was lowest at epoch {onset['epoch']} "
           f"({onset['val_loss_min']:.3f}) and rose to {onset['val_loss_end']:.3f}, while the "
           f"training loss kept falling ({onset['train_loss_at_min']:.3f} to {onset['train_loss_end']:.4f})."]
    accuracy = (f"{onset['val_acc_min']:.1%} at epoch {onset['epoch']}, {onset['val_acc_end']:.1%} at the end, "
                f"never above {onset['best_val_acc']:.1%} (epoch {onset['best_val_acc_epoch']})")
    if onset["val_acc_end"] < onset["val_acc_min"] - curves.ACCURACY_FLAT:
        out.append(f"The validation accuracy fell as well: {accuracy}. The model gets more new digits wrong.")
        return out
    text = f"Yet the validation accuracy did not fall: {accuracy}. What rose is confidence, not error."
    if math.isfinite(onset["conf_wrong_min"]) and math.isfinite(onset["conf_wrong_end"]):
        text += (f" On the validation digits it gets wrong, the model's mean confidence in its wrong answer went "
                 f"from {onset['conf_wrong_min']:.0%} to {onset['conf_wrong_end']:.0%}, and their part of the "
                 f"validation loss from {onset['loss_wrong_min']:.3f} to {onset['loss_wrong_end']:.3f}, while "
                 f"the correctly classified digits' part fell from {onset['loss_right_min']:.3f} to "
                 f"{onset['loss_right_end']:.3f}. Confident wrong answers cost a lot of cross-entropy.")
    out.append(text)
    return out


def stuck_sentence(run: compute.Run, s: dict) -> str:
    """The training loss stayed near chance level: why, as far as the run tells."""
    spike = curves.loss_spike(run)
    if spike is not None:
        text = (f"At step {spike['step']} the batch loss jumped to {spike['loss']:.3g} (the first batch: "
                f"{spike['first_loss']:.2f}): the learning rate {run.spec.lr:g} is so high that one update threw "
                "the weights far off. ")
        if not curves.at_chance(s["val_loss"]):
            return text + f"The run has not recovered since: its training loss is still {s['train_loss']:.3f}."
        text += f"Since then the loss sits at chance level, ln 10 = {curves.CHANCE_LOSS:.2f}"
        answers = set(run.val_probs.argmax(1).tolist()) if run.val_probs is not None else set()
        if len(answers) == 1:
            text += (f", and the network gives all {len(run.val_probs)} validation digits the same answer "
                     f"({answers.pop()}): its output no longer depends on the image")
        return text + "."
    cause = (f"{run.spec.label_noise:.0%} of the training labels are wrong" if run.spec.label_noise >= 0.5
             else f"the learning rate {run.spec.lr:g} may be too low for "
                  f"{compute.OPTIMIZER_TITLES[run.spec.optimizer]}")
    return f"The training loss has barely left chance level: the model is not learning ({cause})."


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
    epochs_text = "1 epoch" if s["epochs_done"] == 1 else f"{s['epochs_done']} epochs"
    out.append(f"After {epochs_text} ({s['steps_done']} steps, {timing}) the training "
               f"loss is {s['train_loss']:.3f} and the validation loss {s['val_loss']:.3f} "
               f"(validation accuracy {s['val_acc']:.1%}, best {s['best_val_acc']:.1%}); "
               f"it started at {s['initial_val_loss']:.2f}, chance level for 10 classes being ln 10 = 2.30.")
    if s["train_loss"] > 1.5:
        out.append(stuck_sentence(run, s))
    out.append(gap_sentence(s["train_loss"], s["val_loss"]))
    crossing = curves.validation_below_training(epochs)
    if crossing:
        out.append(crossing_sentence(run, crossing))
    onset = curves.overfitting_onset(epochs)
    if onset:
        out.extend(overfitting_sentences(onset))
    else:
        out.append(f"No overfitting annotation: the validation loss did not turn up after its minimum "
                   f"(lowest at epoch {s['best_val_loss_epoch']} of {s['epochs_done']}).")
    stop = curves.early_stopping(epochs, patience)
    if stop and stop["stop_epoch"] is not None:
        out.append(f"Early stopping with patience {patience} would stop after epoch {stop['stop_epoch']} and "
                   f"keep the checkpoint of epoch {stop['best_epoch']} (validation loss "
                   f"{stop['best_val_loss']:.3f}), saving {stop['epochs_saved']} "
                   + ("epoch." if stop["epochs_saved"] == 1 else "epochs."))
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
    """The run a verdict judges, and a sentence that says which one it is (by its number: the
    student may rename a run, and what they type is never shown as markdown)."""
    title = compute.PRESETS[key].title
    latest = result.get("latest")
    if latest is not None and latest.spec == compute.PRESETS[key].spec:
        if latest.finished:
            return latest, f"Judged on your own run #{latest.run_id}:"
        judged = (f"Your run #{latest.run_id} was interrupted, so this judges the precomputed curves "
                  f"of the {title} preset (press Train to run it to the end):")
        return result["presets"][key], judged
    return result["presets"][key], (f"Judged on the precomputed curves of the {title} preset, not on a run of "
                                    "yours (press Train to judge your own):")


def _check(key: str, test) -> callable:
    def check(result: dict) -> tuple[bool, str]:
        run, source = _pick(result, key)
        appeared, numbers = test(run)
        return appeared, f"{source} {numbers}"
    return check


def _too_high(run):
    """One update throws the loss up, then the run sits at chance level."""
    s = curves.summarize(run)
    if run.diverged is not None:
        return False, f"The loss diverged at step {run.diverged['step']}: that is the Divergence experiment."
    spike = curves.loss_spike(run)
    end = s.get("val_loss", math.nan)
    stuck = curves.at_chance(end)
    jumped = (f"the batch loss jumped to {spike['loss']:.3g} at step {spike['step']} (first batch "
              f"{spike['first_loss']:.2f})" if spike else "the batch loss never jumped above twice its first value")
    return spike is not None and stuck, (f"{jumped[0].upper()}{jumped[1:]}; the final validation loss is {end:.3f} "
                                         f"(chance: {curves.CHANCE_LOSS:.3f}), accuracy "
                                         f"{s.get('val_acc', math.nan):.1%}.")


def _too_low(run):
    s = curves.summarize(run)
    drop = s["initial_val_loss"] - s.get("val_loss", math.nan)
    return drop < 0.1, f"The validation loss fell by only {drop:.3f} in {s['steps_done']} steps."


def _overfits(run):
    onset = curves.overfitting_onset(curves.epoch_frame(run))
    if onset is None:
        return False, "The validation loss did not turn up after its minimum."
    return True, (f"Validation loss lowest at epoch {onset['epoch']} ({onset['val_loss_min']:.3f}), then up to "
                  f"{onset['val_loss_end']:.3f} while the training loss fell to {onset['train_loss_end']:.4f}. "
                  f"Validation accuracy: {onset['val_acc_min']:.1%} then, {onset['val_acc_end']:.1%} at the end.")


def _underfits(run):
    """Both losses high (training accuracy under 90%) and close (curves.losses_close, as the page says)."""
    s = curves.summarize(run)
    close = curves.losses_close(s["train_loss"], s["val_loss"])
    share = curves.relative_gap(s["train_loss"], s["val_loss"])
    return s["train_acc"] < 0.9 and close, (
        f"Training accuracy {s['train_acc']:.1%}, validation accuracy {s['val_acc']:.1%}; the losses "
        f"({s['train_loss']:.3f} and {s['val_loss']:.3f}) are {share:.0%} apart, "
        + ("close" if close else "not close") + f" (close means under {curves.CLOSE_GAP:.0%}).")


def _diverges(run):
    if run.diverged is None:
        return False, "The loss stayed finite."
    return True, f"The loss reached {run.diverged['loss']:.3g} at step {run.diverged['step']} and training stopped."


_HIGH = compute.PRESETS["lr_too_high"].spec

EXPERIMENTS = [
    ui.Experiment("lr_too_high", "Learning rate too high", _HIGH.to_dict(),
                  f"The healthy run with one change: Adam at learning rate {_HIGH.lr:g}, "
                  f"{compute.TOO_HIGH_RATIO:g} times the healthy {compute.HEALTHY_SPEC.lr:g}. What happens?",
                  ("It learns faster and ends better than the healthy run",
                   "The loss jumps after the first update, then stays at chance level (2.30)",
                   "The loss explodes to infinity and training stops"), 1, _check("lr_too_high", _too_high)),
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

WHY = ("Loss and accuracy curves are the first thing to watch **while a model trains**: they tell you "
       "whether it learns at all, whether the learning rate is sane, and when it starts to memorise its "
       "training set instead of learning digits. Here you train a real network in the page and watch the "
       "curves grow.")

OBJECTIVES = ["Read convergence speed and instability from a loss curve, raw and smoothed",
              "Spot overfitting (validation loss turns up while training loss falls) and pick the checkpoint "
              "early stopping keeps",
              "Recognise a learning rate that is too high, too low, or makes training diverge",
              "Compare runs and look at what a trained model still gets wrong"]

DIY_CAPTION = ("The same experiment with plain PyTorch: a wide MLP on 100 digits, per-epoch training and "
               "validation loss, the epoch where validation loss is lowest, and the plot.")
