"""Every fact the training lesson states and every "Try this" effect, on real runs of the
course's models and data (seeded). Thresholds were set after measuring, with margin:
healthy Adam CNN 95.7% final / 96.3% best; overfitting MLP val loss 0.83 at epoch 11 -> 0.99 with
validation accuracy 75.4% at both points (never above 75.7%); Adam at 0.03: batch loss 21.6 at
step 2, then 2.306 and one answer for every digit."""
import dataclasses
import math

import numpy as np
import pytest
import torch

from lessons.training import compute, content, curves, run_store
from lessons.training.precompute import PRESET_FILE


@pytest.fixture(scope="module")
def presets():
    return run_store.load_presets(PRESET_FILE)


@pytest.fixture(scope="module")
def healthy():
    """The default controls: Adam at its default learning rate on the course CNN, MNIST 5k."""
    spec = compute.RunSpec()
    assert compute.matching_preset(spec) == "healthy"
    return compute.train_to_end(spec)


def test_adam_cnn_reaches_95_percent_within_the_default_epochs(healthy):
    assert healthy.spec.optimizer == "adam" and healthy.spec.lr == 1e-3 and healthy.spec.model == "cnn"
    assert healthy.status == "finished" and len(healthy.epochs) == compute.RunSpec().epochs
    assert healthy.epochs[-1]["val_acc"] >= 0.95


def test_healthy_run_matches_the_precomputed_file(healthy, presets):
    stored = presets["healthy"]
    for fresh, kept in zip(healthy.epochs, stored.epochs):
        assert fresh["val_acc"] == pytest.approx(kept["val_acc"], abs=0.01)
        assert fresh["val_loss"] == pytest.approx(kept["val_loss"], rel=0.1)


def test_healthy_run_shows_no_overfitting_and_close_curves(healthy):
    assert curves.overfitting_onset(curves.epoch_frame(healthy)) is None
    s = curves.summarize(healthy)
    assert curves.losses_close(s["train_loss"], s["val_loss"])  # "both losses fall fast and stay close"
    assert "the two curves stay close" in " ".join(content.what_you_see(healthy, 3))


def test_100_samples_without_regularisation_overfit_and_the_annotation_finds_it():
    spec = compute.PRESETS["overfitting"].spec
    assert spec.train_size == 100 and spec.dropout == 0 and spec.weight_decay == 0 and not spec.augment
    run = compute.train_to_end(spec)
    epochs = curves.epoch_frame(run)
    onset = curves.overfitting_onset(epochs)
    assert onset is not None
    after = epochs[epochs.epoch >= onset["epoch"]]
    assert after.val_loss.iloc[-1] > onset["val_loss_min"] + 0.05  # validation loss rises...
    assert after.train_loss.iloc[-1] < 0.1 * onset["train_loss_at_min"]  # ...while training loss falls
    marks = curves.annotations(run, "epoch", patience=3)
    assert onset["epoch"] in set(marks[marks.kind == "overfitting starts"].x)
    stop = curves.early_stopping(epochs, patience=5)
    assert stop["best_epoch"] == onset["epoch"] and stop["stop_epoch"] < len(epochs)


def test_sgd_at_learning_rate_10_diverges_and_is_reported():
    spec = compute.PRESETS["diverges"].spec
    assert spec.optimizer == "sgd" and spec.lr == 10.0
    run = compute.train_to_end(spec)
    assert run.status == "diverged" and run.diverged["step"] <= 10
    sentences = content.what_you_see(run, 3)
    assert f"diverged at step {run.diverged['step']}" in sentences[0]
    assert "diverged" in set(curves.annotations(run, "step", 3).kind)


def test_underfitting_preset_both_losses_high_and_close():
    run = compute.train_to_end(compute.PRESETS["underfitting"].spec)
    appeared, message = content._underfits(run)
    assert appeared, message


@pytest.mark.parametrize("experiment", content.EXPERIMENTS, ids=lambda e: e.key)
def test_every_try_this_effect_appears_on_its_preset(experiment, presets):
    """Checked on the precomputed runs; the tests in test_training.py re-run the presets and
    compare them with the file, so these are the numbers a fresh run gives."""
    assert experiment.setup == compute.PRESETS[experiment.key].spec.to_dict()
    appeared, message = experiment.check({"latest": None, "presets": presets})
    assert appeared, message


@pytest.mark.parametrize("experiment", content.EXPERIMENTS, ids=lambda e: e.key)
def test_try_this_effects_do_not_appear_on_the_healthy_run(experiment, presets):
    """The checks can fail: on the healthy run none of the pathologies shows."""
    healthy_as_preset = {key: presets["healthy"] for key in presets}
    appeared, _ = experiment.check({"latest": None, "presets": healthy_as_preset})
    assert not appeared


def test_try_this_uses_the_students_run_when_it_matches(presets):
    run = compute.train_to_end(compute.PRESETS["diverges"].spec)
    check = next(e for e in content.EXPERIMENTS if e.key == "diverges").check
    appeared, message = check({"latest": run, "presets": presets})
    assert appeared and message.startswith(f"Judged on your own run #{run.run_id}:")


# ----- "Learning rate too high": one change against the healthy preset, and the true ratio ---------

@pytest.fixture(scope="module")
def too_high():
    return compute.train_to_end(compute.PRESETS["lr_too_high"].spec)


def test_too_high_preset_changes_only_the_learning_rate():
    healthy, high = compute.PRESETS["healthy"].spec, compute.PRESETS["lr_too_high"].spec
    changed = {k for k, v in high.to_dict().items() if healthy.to_dict()[k] != v}
    assert changed == {"lr"} and high.optimizer == healthy.optimizer == "adam"
    assert compute.TOO_HIGH_RATIO == pytest.approx(30) and high.lr == 0.03 and healthy.lr == 0.001
    experiment = next(e for e in content.EXPERIMENTS if e.key == "lr_too_high")
    assert experiment.question == ("The healthy run with one change: Adam at learning rate 0.03, 30 times the "
                                   "healthy 0.001. What happens?")
    assert compute.PRESETS["lr_too_high"].shows.startswith(
        "The healthy run with only the learning rate changed: Adam at 0.03, 30 times the healthy 0.001.")


def test_too_high_one_update_jumps_then_chance_level_and_one_answer(too_high, presets):
    """The preset's text: "One oversized update makes the loss jump, then the network sits at chance
    level (2.30) and gives every digit the same answer"; on a fresh run and on the stored one."""
    for run in (too_high, presets["lr_too_high"]):
        assert run.status == "finished" and run.diverged is None  # not the divergence preset's effect
        spike = curves.loss_spike(run)
        assert spike is not None and spike["step"] <= 3 and spike["loss"] > 5 * spike["first_loss"]
        after = [s["loss"] for s in run.steps[spike["step"] + 20:]]
        assert all(abs(loss - curves.CHANCE_LOSS) < 0.1 for loss in after)  # sits at chance level
        assert curves.at_chance(run.epochs[-1]["val_loss"]) and run.epochs[-1]["val_acc"] < 0.15
        assert len(set(run.val_probs.argmax(1).tolist())) == 1  # the same answer for every digit
    assert np.ptp(too_high.val_probs, axis=0).max() < 1e-6  # "its output no longer depends on the image"
    sentences = content.what_you_see(too_high, 3)
    spike = curves.loss_spike(too_high)
    assert (f"At step {spike['step']} the batch loss jumped to {spike['loss']:.3g} (the first batch: "
            f"{spike['first_loss']:.2f}): the learning rate 0.03 is so high that one update threw the weights far "
            "off. Since then the loss sits at chance level, ln 10 = 2.30, and the network gives all 1000 "
            "validation digits the same answer") in " ".join(sentences)


def test_the_healthy_run_has_no_jump(healthy):
    assert curves.loss_spike(healthy) is None


# ----- overfitting: confidence rises, not error ------------------------------------------------------

@pytest.fixture(scope="module")
def overfit():
    return compute.train_to_end(compute.PRESETS["overfitting"].spec)


def test_overfitting_accuracy_does_not_fall_the_wrong_answers_grow_confident(overfit, presets):
    for run in (overfit, presets["overfitting"]):
        epochs = curves.epoch_frame(run)
        onset = curves.overfitting_onset(epochs)
        assert onset["val_acc_end"] >= onset["val_acc_min"] - curves.ACCURACY_FLAT  # "did not fall"
        assert onset["best_val_acc"] == epochs.val_acc.max() < onset["val_acc_min"] + 0.01
        assert onset["conf_wrong_end"] > onset["conf_wrong_min"] + 0.05  # wrong answers more confident
        assert onset["loss_wrong_end"] > onset["loss_wrong_min"] + 0.1  # and costlier
        assert onset["loss_right_end"] < onset["loss_right_min"]  # the right ones cost less
        last = run.epochs[-1]
        assert onset["loss_right_end"] + onset["loss_wrong_end"] == pytest.approx(last["val_loss"], abs=1e-4)
    onset = curves.overfitting_onset(curves.epoch_frame(overfit))
    sentence = (f"Yet the validation accuracy did not fall: {onset['val_acc_min']:.1%} at epoch {onset['epoch']}, "
                f"{onset['val_acc_end']:.1%} at the end, never above {onset['best_val_acc']:.1%} (epoch "
                f"{onset['best_val_acc_epoch']}). What rose is confidence, not error. On the validation digits it "
                f"gets wrong, the model's mean confidence in its wrong answer went from {onset['conf_wrong_min']:.0%} "
                f"to {onset['conf_wrong_end']:.0%}")
    assert any(x.startswith(sentence) for x in content.what_you_see(overfit, 3))
    assert "validation accuracy stays flat (the wrong answers grow confident)" in compute.PRESETS["overfitting"].shows


def test_overfitting_stats_by_hand():
    """validation_stats splits the mean loss into right and wrong answers, by hand on three digits."""
    logits = torch.log(torch.tensor([[0.8, 0.2], [0.3, 0.7], [0.9, 0.1]]))  # (3, 2): probabilities
    stats = compute.validation_stats(logits, torch.tensor([0, 0, 1]))  # the 2nd and 3rd are wrong
    assert stats["val_acc"] == pytest.approx(1 / 3)
    assert stats["val_loss"] == pytest.approx(-(math.log(0.8) + math.log(0.3) + math.log(0.1)) / 3)
    assert stats["val_loss_wrong"] == pytest.approx(-(math.log(0.3) + math.log(0.1)) / 3)
    assert stats["val_conf_wrong"] == pytest.approx((0.7 + 0.9) / 2)
    assert compute.validation_stats(logits[:1], torch.tensor([0]))["val_conf_wrong"] is None


# ----- why validation can be below training ----------------------------------------------------------

def test_validation_below_training_early_and_the_reasons_the_page_gives(healthy):
    """The page: the training loss is the epoch mean in train mode (dropout on) while the weights
    move; validation is measured at the end in eval mode. Both effects are measured here."""
    from models.training import EpochEvent, evaluate, train_iter

    crossing = curves.validation_below_training(curves.epoch_frame(healthy))
    assert crossing["epoch"] == 1 and crossing["val_loss"] < crossing["train_loss"] - 0.3
    assert any(x.startswith(f"In epoch 1 the validation loss ({crossing['val_loss']:.3f}) is below the training loss "
                            f"({crossing['train_loss']:.3f}). That is no bug: the training loss is the mean over the "
                            "epoch's batches, measured in train mode (dropout on) while the weights were still moving")
               for x in content.what_you_see(healthy, 3))
    spec = healthy.spec
    data = compute.load_data(spec.dataset, spec.train_size, spec.seed)
    model = compute.build_model(spec, data.image_size)
    config = dataclasses.replace(compute.train_config(spec, data.image_size), epochs=1)
    epoch_mean = next(e for e in train_iter(model, data.x_train, data.y_train, None, None, config)
                      if isinstance(e, EpochEvent)).train_loss
    assert epoch_mean == pytest.approx(healthy.epochs[0]["train_loss"], abs=1e-4)
    model.train()  # dropout on, final weights of the epoch
    with torch.no_grad():
        torch.manual_seed(0)
        train_mode_end = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train).item()
    eval_mode_end, _, _ = evaluate(model, data.x_train, data.y_train)
    assert epoch_mean > train_mode_end + 0.2  # the weights moved during the epoch
    assert train_mode_end > eval_mode_end + 0.05  # dropout on costs loss
    assert eval_mode_end < crossing["val_loss"]  # measured alike, the training loss is below validation


# ----- augmentation moves digits and changes no intensity ----------------------------------------------

def test_augmentation_shifts_by_up_to_two_pixels_and_keeps_brightness_and_contrast():
    from models.digits import to_pixels
    from models.training import random_shift

    assert compute.train_config(compute.RunSpec(augment=True), 28).max_shift == compute.max_shift(28) == 2
    assert compute.max_shift(8) == 1
    data = compute.load_data("mnist5k", 200, 0)
    x = data.x_train  # (200, 1, 28, 28), normalised as the engine sees it
    shifted = random_shift(x, compute.max_shift(28), torch.Generator().manual_seed(0))  # (200, 1, 28, 28)
    before, after = to_pixels(x), to_pixels(shifted)  # (200, 28, 28) in [0, 1]
    assert not np.array_equal(before, after)  # the digits moved
    border = np.ones((28, 28), bool)
    border[2:-2, 2:-2] = False
    blank = (before[:, border] == 0).all(1)  # digits that a 2-pixel shift cannot cut
    assert blank.sum() > 150
    for a, b in zip(before[blank], after[blank]):
        assert np.array_equal(np.sort(a.ravel()), np.sort(b.ravel()))  # the same pixels, elsewhere
    assert after[blank].mean() == pytest.approx(before[blank].mean(), abs=1e-6)  # brightness unchanged
    assert after[blank].std() == pytest.approx(before[blank].std(), abs=1e-6)  # contrast unchanged
    for a, b in zip(before, after):  # every digit: no intensity that was not there (edges repeated)
        assert set(np.unique(b)) <= set(np.unique(a))
    same = x[:1].repeat(16, 1, 1, 1)  # (16, 1, 28, 28): one digit 16 times
    moved = random_shift(same, 2, torch.Generator().manual_seed(0))  # (16, 1, 28, 28)
    assert len({m.numpy().tobytes() for m in moved}) > 8  # "its own random shift": not one per batch


# ----- one threshold for "close", in the sentence and in the check ------------------------------------

def _run_with_final(train_loss, val_loss, train_acc=0.5):
    epochs = [dict(epoch=1, step=10, train_loss=2.0, train_acc=0.2, val_loss=2.1, val_acc=0.2, seconds=0.0),
              dict(epoch=2, step=20, train_loss=train_loss, train_acc=train_acc, val_loss=val_loss, val_acc=0.5,
                   seconds=0.0)]
    return compute.Run(spec=compute.RunSpec(), status="finished", epochs=epochs, total_steps=20,
                       evals=[dict(step=0, epoch=0.0, val_loss=2.3, val_acc=0.1)],
                       steps=[dict(step=i, epoch=1, loss=2.0, acc=0.2) for i in range(1, 21)])


@pytest.mark.parametrize("val_loss", [0.6, 0.7, 0.8, 0.84, 0.86, 0.9, 1.0, 1.3])
def test_close_in_the_sentence_means_close_in_the_underfitting_check(val_loss):
    run = _run_with_final(0.6, val_loss)
    says_close = "the two curves stay close" in " ".join(content.what_you_see(run, 3))
    appeared, message = content._underfits(run)
    assert says_close == appeared == curves.losses_close(0.6, val_loss)
    assert ((val_loss - 0.6) / val_loss < 0.3) == appeared  # "less than 30% apart", as the page says
    assert ("close means under 30%" in message) and (("not close" in message) != appeared)


def test_the_underfitting_preset_is_close_by_that_threshold(presets):
    s = curves.summarize(presets["underfitting"])
    assert curves.relative_gap(s["train_loss"], s["val_loss"]) < curves.CLOSE_GAP - 0.05  # with margin
    assert "the two curves stay close" in " ".join(content.what_you_see(presets["underfitting"], 3))


# ----- each verdict says which run it judged ----------------------------------------------------------

@pytest.mark.parametrize("experiment", content.EXPERIMENTS, ids=lambda e: e.key)
def test_verdicts_name_the_run_they_judged(experiment, presets):
    title = compute.PRESETS[experiment.key].title
    _, message = experiment.check({"latest": None, "presets": presets})
    assert message.startswith(f"Judged on the precomputed curves of the {title} preset, not on a run of yours")
    own = run_store.run_from_json(run_store.run_to_json(presets[experiment.key]), name="**mine** ![x](y)")
    own.source, own.run_id = "session", 7
    _, message = experiment.check({"latest": own, "presets": presets})
    assert message.startswith("Judged on your own run #7:") and "mine" not in message  # a typed name never shows
    own.status = "stopped"
    _, message = experiment.check({"latest": own, "presets": presets})
    assert message.startswith(f"Your run #7 was interrupted, so this judges the precomputed curves of the {title} "
                              "preset")


def test_a_run_stopped_in_its_first_epoch_and_one_stopped_after_it(presets):
    """What the live-training e2e test waits for after Stop: the sentence follows the epochs that
    ended (their validation done), not the step count: a run stopped at the first epoch's last step,
    before its validation, has ended no epoch yet."""
    healthy = presets["healthy"]
    per_epoch = healthy.epochs[0]["step"]
    first_epoch = dataclasses.replace(healthy, steps=healthy.steps[:per_epoch], epochs=[], status="stopped")
    assert content.what_you_see(first_epoch, 3) == [
        f"The run stopped after {per_epoch} steps, before its first epoch ended."]
    one_epoch = dataclasses.replace(healthy, steps=healthy.steps[:per_epoch + 1], epochs=healthy.epochs[:1],
                                    status="stopped")
    sentences = content.what_you_see(one_epoch, 3)
    assert sentences[0].startswith(f"After 1 epoch ({per_epoch + 1} steps, precomputed)")
    assert sentences[-1] == "This run was interrupted before it finished."
