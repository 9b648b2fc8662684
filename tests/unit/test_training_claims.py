"""Every fact the training lesson states and every "Try this" effect, on real runs of the
course's models and data (seeded). Thresholds were set after measuring, with margin:
healthy Adam CNN 95.7% final / 96.3% best; overfitting MLP val loss 0.83 at epoch 11 -> 0.99."""
import pytest

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
    assert abs(curves.summarize(healthy)["gap"]) < 0.1  # "the two curves stay close"


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
    assert appeared and "your latest run" in message
