"""Unit tests for lessons/training/compute.py and its siblings (curves, evaluation, run_store):
hand-checkable answers on tiny inputs, a tiny seeded training run, and the committed preset file
against a fresh run."""
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lessons.training import compute, curves, evaluation, run_store
from lessons.training.precompute import PRESET_FILE

TINY = compute.RunSpec(dataset="digits", train_size=100, model="mlp", width=32, depth=1, dropout=0.0,
                       epochs=3, batch_size=32)


def epochs(val, train=None):
    n = len(val)
    train = train if train is not None else list(np.linspace(2.0, 0.1, n))
    return pd.DataFrame(dict(epoch=range(1, n + 1), step=[10 * (i + 1) for i in range(n)], train_loss=train,
                             train_acc=0.5, val_loss=val, val_acc=0.5, seconds=0.0))


@pytest.fixture(scope="module")
def tiny_data():
    return compute.load_data("digits", 100, 0)


@pytest.fixture(scope="module")
def tiny_run(tiny_data):
    run = compute.new_run(TINY)
    events = list(compute.train_run(run, tiny_data))
    return run, events


# ----- smoothing, early stopping, overfitting ---------------------------------------------------

def test_ema_with_bias_correction_by_hand():
    assert curves.ema_smooth([1.0, 2.0], 0.5) == pytest.approx([1.0, 1.25 / 0.75])
    assert curves.ema_smooth([3.0] * 5, 0.9) == pytest.approx([3.0] * 5)  # no pull towards 0
    assert curves.ema_smooth([1.0, 5.0], 0.0) == pytest.approx([1.0, 5.0])
    out = curves.ema_smooth([1.0, float("nan"), 1.0], 0.5)
    assert math.isnan(out[1]) and out[2] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        curves.ema_smooth([1.0], 1.0)


def test_early_stopping_by_hand():
    frame = epochs([1.0, 0.8, 0.9, 0.85, 0.95, 0.7])
    stop = curves.early_stopping(frame, patience=2)
    assert (stop["best_epoch"], stop["stop_epoch"], stop["epochs_saved"]) == (2, 4, 2)
    assert stop["best_val_loss"] == pytest.approx(0.8) and stop["stop_step"] == 40
    late = curves.early_stopping(frame, patience=5)
    assert late["stop_epoch"] is None and late["best_epoch"] == 6
    assert curves.early_stopping(epochs([float("nan")] * 3), 2) is None


def test_overfitting_onset_by_hand():
    onset = curves.overfitting_onset(epochs([1.0, 0.6, 0.5, 0.7, 0.9]))
    assert onset["epoch"] == 3 and onset["val_loss_end"] == pytest.approx(0.9)
    assert curves.overfitting_onset(epochs([1.0, 0.8, 0.6, 0.5])) is None  # still falling
    assert curves.overfitting_onset(epochs([1.0, 0.5, 0.505])) is None  # a wiggle, not a rise
    rising_train = [0.5, 0.4, 0.3, 0.6, 0.9]
    assert curves.overfitting_onset(epochs([1.0, 0.6, 0.5, 0.7, 0.9], rising_train)) is None


def test_relative_gap_and_close_by_hand():
    assert curves.relative_gap(0.6, 0.8) == pytest.approx(0.25) and curves.losses_close(0.6, 0.8)
    assert curves.relative_gap(0.8, 0.6) == pytest.approx(0.25)  # symmetric: validation below training
    assert curves.relative_gap(0.0007, 0.99) == pytest.approx(1.0, abs=1e-3) and not curves.losses_close(0.0007, 0.99)
    assert curves.relative_gap(0.0, 0.0) == 0.0 and curves.losses_close(0.0, 0.0)
    assert not curves.losses_close(0.7, 1.0)  # 30% apart is not "less than 30%"


def test_loss_spike_by_hand():
    def run(losses, diverged=None):
        return compute.Run(spec=TINY, steps=[dict(step=i + 1, epoch=1, loss=v, acc=0.1) for i, v in enumerate(losses)],
                           diverged=diverged)
    assert curves.loss_spike(run([2.3, 21.6, 3.4, 2.3])) == dict(step=2, loss=21.6, first_loss=2.3)
    assert curves.loss_spike(run([2.3, 4.5, 2.0])) is None  # under twice the first
    assert curves.loss_spike(run([2.3, 50.0], diverged=dict(step=3, epoch=1, loss=500.0))) is None
    assert curves.at_chance(2.306) and not curves.at_chance(2.2)


def test_validation_below_training_by_hand():
    frame = epochs([0.3, 0.2, 0.25], train=[0.9, 0.22, 0.1])
    assert curves.validation_below_training(frame) == dict(epoch=1, train_loss=0.9, val_loss=0.3)
    assert curves.validation_below_training(epochs([0.5, 0.4], train=[0.52, 0.3])) is None  # 0.02: no crossing
    assert curves.validation_below_training(epochs([0.5, 0.4], train=[0.2, 0.1])) is None


def test_epoch_frame_of_a_run_without_the_confidence_columns():
    old = compute.Run(spec=TINY, epochs=[dict(epoch=1, step=4, train_loss=1.0, train_acc=0.5, val_loss=1.1,
                                             val_acc=0.5, seconds=0.1)])
    frame = curves.epoch_frame(old)
    assert frame.val_conf_wrong.isna().all() and frame.val_loss_wrong.isna().all()
    onset = curves.overfitting_onset(epochs([1.0, 0.6, 0.5, 0.7, 0.9]))
    assert math.isnan(onset["conf_wrong_end"]) and onset["val_acc_end"] == 0.5


# ----- data and models --------------------------------------------------------------------------

def test_stratified_subset_is_balanced_and_seeded():
    labels = np.repeat(np.arange(10), 50)
    idx = compute.stratified_subset(labels, 100, seed=1)
    assert len(idx) == 100 and np.bincount(labels[idx]).tolist() == [10] * 10
    assert np.array_equal(idx, compute.stratified_subset(labels, 100, seed=1))
    assert not np.array_equal(idx, compute.stratified_subset(labels, 100, seed=2))
    assert len(compute.stratified_subset(labels, 10_000, seed=0)) == 500


def test_load_data_shapes_and_fixed_validation(tiny_data):
    assert tuple(tiny_data.x_train.shape) == (100, 1, 8, 8) and tiny_data.image_size == 8
    other = compute.load_data("digits", 200, 7)
    assert torch.equal(other.x_val, tiny_data.x_val)  # validation does not depend on the run
    assert tiny_data.val_pixels.shape == (360, 8, 8) and 0 <= tiny_data.val_pixels.min()
    assert len(compute.load_data("digits", 4000, 0).x_train) == compute.dataset_train_pool("digits")


def test_build_model_width_depth():
    mlp = compute.build_model(compute.RunSpec(model="mlp", width=8, depth=3), 28)
    assert [m.out_features for m in mlp if isinstance(m, torch.nn.Linear)] == [8, 8, 8, 10]
    cnn = compute.build_model(compute.RunSpec(model="cnn", width=4, depth=3), 8)
    assert cnn(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    convs = [m.out_channels for m in cnn.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [4, 8, 16]


def test_run_spec_from_page_values():
    spec = compute.RunSpec.from_values({"lr": "0.1", "epochs": 7.0, "augment": True, "x_axis": "step"})
    assert spec.lr == 0.1 and spec.epochs == 7 and spec.augment is True
    with pytest.raises(ValueError):
        compute.RunSpec(optimizer="rmsprop")


# ----- a tiny run -------------------------------------------------------------------------------

def test_tiny_run_fills_every_table(tiny_run):
    run, events = tiny_run
    assert run.status == "finished" and run.total_steps == 12
    assert len(run.steps) == 12 and [e["epoch"] for e in run.epochs] == [1, 2, 3]
    assert run.evals[0]["step"] == 0 and len(run.evals) == 4  # short epochs: checked at their ends
    assert [e["val_loss"] for e in run.evals[1:]] == [e["val_loss"] for e in run.epochs]
    assert all(0 <= e["val_loss_wrong"] <= e["val_loss"] and 0.1 <= e["val_conf_wrong"] <= 1 for e in run.epochs)
    assert run.val_probs.shape == (360, 10) and np.allclose(run.val_probs.sum(1), 1, atol=1e-5)
    assert run.first_step_seconds is not None and run.seconds > 0
    assert len(events) == 12 + 3


def test_runs_are_deterministic_and_leave_global_rng_alone(tiny_data, tiny_run):
    before = torch.get_rng_state()
    again = compute.new_run(TINY)
    for _ in compute.train_run(again, tiny_data):
        pass
    assert torch.equal(before, torch.get_rng_state())
    assert [s["loss"] for s in again.steps] == [s["loss"] for s in tiny_run[0].steps]


def test_a_run_marked_stopped_measures_nothing_more(tiny_data):
    """Stop's rerun marks the run "stopped" in a new script thread while the old one trains on until
    its next st call (fast reruns): the old thread must not append steps the new page already drew."""
    run = compute.new_run(TINY)
    events = compute.train_run(run, tiny_data)
    for _ in range(5):  # 4 steps of the first epoch (4 batches of 32 per epoch), then its epoch end
        next(events)
    measured = (len(run.steps), len(run.evals), len(run.epochs))
    assert measured == (4, 2, 1)
    run.status = "stopped"
    assert list(events) == []  # no further event, and nothing appended
    assert (len(run.steps), len(run.evals), len(run.epochs)) == measured
    assert run.status == "stopped" and run.val_probs is None


def test_long_epochs_get_validation_checks_inside():
    assert compute.validation_steps(125) == 32 and compute.validation_steps(4) == 0


def test_curve_frame_step_and_epoch(tiny_run):
    run, _ = tiny_run
    steps = curves.curve_frame(run, "step", 0.6)
    assert set(steps.series) == {"train (raw)", "train (smoothed)", "validation"}
    assert set(steps.metric) == {"loss", "accuracy"} and steps.value.notna().all()
    raw = curves.curve_frame(run, "step", 0.0)
    assert "train (smoothed)" not in set(raw.series)
    per_epoch = curves.curve_frame(run, "epoch")
    val = per_epoch[(per_epoch.series == "validation") & (per_epoch.metric == "loss")]
    assert val.x.tolist() == [0, 1, 2, 3]


def test_divergence_is_recorded_not_raised(tiny_data):
    spec = compute.RunSpec(dataset="digits", train_size=100, model="mlp", width=64, depth=2, optimizer="sgd",
                           lr=10.0, epochs=5, dropout=0.0)
    run = compute.train_to_end(spec, tiny_data)
    assert run.status == "diverged" and run.diverged["step"] <= 20
    assert run.val_probs is None
    frame = curves.curve_frame(run, "step")
    assert np.isfinite(frame.value).all()
    marks = curves.annotations(run, "step", 3)
    assert "diverged" in set(marks.kind) and marks[marks.kind == "diverged"].x.iloc[0] == run.diverged["step"]


# ----- after training, runs, files -------------------------------------------------------------

def hand_run():
    run = compute.new_run(compute.RunSpec())
    run.val_labels = np.array([0, 1, 1, 2])
    run.val_probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.9, 0.05, 0.05], [0.1, 0.1, 0.8]])
    return run


def test_confusion_roc_misclassified_by_hand():
    run = hand_run()
    matrix = evaluation.confusion(run)
    assert matrix[1, 0] == 1 and matrix[1, 1] == 1 and matrix.trace() == 3
    wrong = evaluation.misclassified(run)
    assert wrong.to_dict("records") == [dict(index=2, true=1, predicted=0, confidence=0.9)]
    roc = evaluation.roc_curves(run)
    assert set(roc.digit) == {"0", "1", "2"}
    assert roc[roc.digit == "2"].auc.iloc[0] == pytest.approx(1.0)
    # digit 1: positives score 0.8 and 0.05, negatives 0.05 and 0.1 -> (2 + 0.5 + 0) / 4 pairs
    assert roc[roc.digit == "1"].auc.iloc[0] == pytest.approx(0.625)


def test_runs_keep_at_most_eight_and_export_csv(tiny_run):
    runs = []
    for i in range(10):
        run_store.add_run(runs, compute.Run(spec=TINY, name=f"run {i}", run_id=i, epochs=tiny_run[0].epochs))
    assert [r.run_id for r in runs] == list(range(2, 10))
    csv = run_store.runs_csv(runs)
    frame = pd.read_csv(__import__("io").StringIO(csv))
    assert len(frame) == 8 * 3 and {"run", "epoch", "val_loss", "lr", "optimizer"} <= set(frame.columns)


def test_json_round_trip_keeps_curves_and_divergence(tiny_run):
    run, _ = tiny_run
    back = run_store.run_from_json(json.loads(json.dumps(run_store.run_to_json(run))))
    assert back.spec == run.spec and len(back.steps) == len(run.steps)
    assert back.steps[3]["loss"] == pytest.approx(run.steps[3]["loss"], abs=1e-5)
    assert np.abs(back.val_probs - run.val_probs).max() < 2e-3
    clear = hand_run()
    clear.status = "finished"
    stored = run_store.run_from_json(json.loads(json.dumps(run_store.run_to_json(clear))))
    assert np.array_equal(stored.val_probs.argmax(1), clear.val_probs.argmax(1))
    diverged = compute.Run(spec=TINY, status="diverged", diverged=dict(step=3, epoch=1, loss=float("nan")))
    again = run_store.run_from_json(json.loads(json.dumps(run_store.run_to_json(diverged))))
    assert math.isnan(again.diverged["loss"])


def test_upscale_is_nearest_neighbour():
    big = evaluation.upscale(np.array([[0.0, 1.0], [1.0, 0.0]]), size=4)
    assert big.shape == (4, 4) and big.dtype == np.uint8 and big[0, 1] == 0 and big[0, 2] == 255


# ----- the committed preset file ---------------------------------------------------------------

def test_preset_file_is_small_and_complete():
    assert PRESET_FILE.stat().st_size < 400_000
    presets = run_store.load_presets(PRESET_FILE)
    assert set(presets) == set(compute.PRESETS)
    for key, run in presets.items():
        assert run.spec == compute.PRESETS[key].spec and run.source == "precomputed"


@pytest.mark.parametrize("key", ["overfitting", "diverges"])
def test_preset_file_matches_a_fresh_run(key):
    stored = run_store.load_presets(PRESET_FILE)[key]
    fresh = compute.train_to_end(compute.PRESETS[key].spec)
    assert fresh.status == stored.status
    n = min(len(fresh.epochs), 20)
    for column in ("val_loss", "val_loss_wrong", "val_conf_wrong"):
        assert [e[column] for e in fresh.epochs[:n]] == pytest.approx(
            [e[column] for e in stored.epochs[:n]], abs=2e-3), column
    if stored.diverged:  # at learning rate 10 a rounding difference may move the blow-up by a step
        assert abs(fresh.diverged["step"] - stored.diverged["step"]) <= 1
    else:
        assert len(fresh.steps) == len(stored.steps)


@pytest.mark.parametrize("key", ["lr_too_high", "lr_too_low"])
def test_cnn_presets_start_like_a_fresh_run(key):
    """The long CNN presets: the first 40 steps of a fresh run match the file."""
    stored = run_store.load_presets(PRESET_FILE)[key]
    spec = compute.PRESETS[key].spec
    run = compute.new_run(spec)
    for _ in compute.train_run(run, compute.load_data(spec.dataset, spec.train_size, spec.seed)):
        if len(run.steps) >= 40:
            break
    assert [s["loss"] for s in run.steps[:40]] == pytest.approx([s["loss"] for s in stored.steps[:40]], abs=2e-3)


def test_thinning_keeps_a_one_step_spike_on_the_chart():
    """The page says "At step 2 the batch loss jumped to 21.6": the thinned curve must show it."""
    losses = [2.3, 21.6] + [2.3] * 623  # 625 steps, as the "too high" preset
    run = compute.Run(spec=TINY, steps=[dict(step=i + 1, epoch=1, loss=v, acc=0.1 if i == 400 else 0.5)
                                        for i, v in enumerate(losses)])
    curve = curves.curve_frame(run, "step", 0.6, max_points=300)
    raw = curve[(curve.series == "train (raw)") & (curve.metric == "loss")]
    assert len(raw) <= 303 and raw.value.max() == 21.6 and 2 in set(raw.x)
    acc = curve[(curve.series == "train (raw)") & (curve.metric == "accuracy")]
    assert acc.value.min() == 0.1  # a dip of the accuracy survives too
    frame = pd.DataFrame(dict(step=range(1, 11), loss=[1.0] * 10))
    assert curves.thin_keeping_peaks(frame, "loss", 100) is frame  # short: untouched


def test_thin_keeps_the_last_point_and_smoothing_sees_every_step():
    frame = pd.DataFrame(dict(step=range(1, 1001)))
    thinned = curves.thin(frame, 100)
    assert len(thinned) <= 101 and thinned.step.iloc[-1] == 1000 and thinned.step.iloc[0] == 1
    run = compute.Run(spec=TINY, steps=[dict(step=i, epoch=1, loss=float(i % 2), acc=0.5) for i in range(1, 1001)])
    curve = curves.curve_frame(run, "step", 0.9, max_points=100)
    smooth = curve[(curve.series == "train (smoothed)") & (curve.metric == "loss")]
    assert len(smooth) <= 101 and smooth.value.iloc[-1] == pytest.approx(0.5, abs=0.06)


def test_do_it_yourself_notebook_runs_and_finds_the_overfitting_point(tmp_path):
    import re

    from tests.unit.notebook_run import run_notebook

    out = run_notebook("training", tmp_path)  # diy.py, cell by cell
    best = re.search(r"lowest at epoch (\d+): ([\d.]+)", out)
    end = re.search(r"training loss ([\d.]+), validation loss ([\d.]+)", out)
    assert best and end and (tmp_path / "training_curves.png").stat().st_size > 10_000
    assert int(best.group(1)) < 100  # the validation minimum comes before the end...
    assert float(end.group(2)) > float(best.group(2)) + 0.02  # ...and the validation loss rises after it
    assert float(end.group(1)) < 0.01  # while the training loss goes to ~0


# ----- what the page draws cheaply ----------------------------------------------------------------

def test_confusion_counts_like_scikit_learn():
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(0)
    run = compute.new_run(TINY)
    run.val_labels = rng.integers(0, 10, 300)
    run.val_probs = rng.random((300, 10))
    expected = confusion_matrix(run.val_labels, run.val_probs.argmax(1), labels=list(range(10)))
    assert np.array_equal(evaluation.confusion(run), expected)


def test_validation_pixels_match_the_training_data(tiny_data):
    assert np.array_equal(compute.validation_pixels("digits"), tiny_data.val_pixels)


def test_curve_specs_are_plain_json_with_labels_inside_the_chart(tiny_run):
    from lessons.training import charts

    run, _ = tiny_run
    frame = curves.curve_frame(run, "step", 0.6)
    marks = pd.DataFrame(dict(x=[1.0, 2.0, float(frame.x.max())], kind=["checkpoint kept", "overfitting starts",
                                                                         "early stop"],
                              label=["kept: epoch 1", "overfitting from epoch 1", "stop: epoch 3"]))
    spec, data = charts.curves_spec(frame, marks, "loss", "step", log_scale=True)
    json.dumps(spec, allow_nan=False)  # Streamlit sends it as JSON
    assert spec["layer"][0]["encoding"]["y"]["scale"] == {"type": "log"}
    assert len(data) == (frame.metric == "loss").sum() and list(data.columns) == ["x", "series", "value"]
    smoother, _ = charts.curves_spec(curves.curve_frame(run, "step", 0.9), marks, "loss", "step", log_scale=True)
    assert smoother == spec  # only the data changes with smoothing: the browser keeps its chart
    labels = spec["layer"][-1]["data"]["values"]
    side = {row["label"]: row["side"] for row in labels}
    assert side["stop: epoch 3"] == "right" and side["kept: epoch 1"] == "left"  # no label past the right edge
    assert len({row["y"] for row in labels}) == 3  # stacked, not on top of each other
    accuracy, _ = charts.curves_spec(frame, marks, "accuracy")
    assert accuracy["layer"][0]["encoding"]["y"]["scale"] == {"domain": [0, 1]}


def test_runs_spec_has_one_line_per_run(tiny_run):
    from lessons.training import charts

    runs = [compute.Run(spec=TINY, name=f"run {i}", run_id=i, epochs=tiny_run[0].epochs) for i in range(2)]
    frame = run_store.runs_frame(runs)
    assert list(frame.columns[:10]) == ["run", "run_id", "epoch", "step", "train_loss", "train_acc", "val_loss",
                                        "val_acc", "seconds", "status"]
    spec, data = charts.runs_spec(frame, "val_acc")
    json.dumps(spec, allow_nan=False)
    assert set(data.run) == {"run 0", "run 1"} and data.val_acc.notna().all()
    assert spec["encoding"]["y"]["title"] == "val acc"


def test_the_page_opens_without_torch_or_scikit_learn():
    """The page's first render stays light: torch, torch._dynamo and scikit-learn load only when
    needed (training, ROC curves) or in the lesson's background warm-up (lessons/warmup.py, which
    imports torch in a thread of its own as soon as the lesson opens: switched off here, so that
    what is measured is the page's own code)."""
    import subprocess
    import sys

    script = ("import sys\nfrom streamlit.testing.v1 import AppTest\nfrom lessons import warmup\n"
              "warmup.start = warmup.wait = lambda slug: None\n"
              "at = AppTest.from_string(\"from lessons.registry import get; get('training').render()\","
              " default_timeout=120)\nat.run()\nassert not at.exception, at.exception\n"
              "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
