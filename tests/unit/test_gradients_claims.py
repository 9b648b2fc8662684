"""Every fact the gradient lesson states, on the real networks and MNIST 5k (seeded). Measured first,
thresholds set with margin: 10 sigmoid layers, default init, first/last gradient norm at step 1
2.0e-8 (seed 0) and 3.3e-8 (seed 1); with ReLU + BatchNorm + residual 0.75 and 1.24 (depth 30: 0.65,
0.53); ReLU x10: every layer's gradient norm 4e6 to 1.2e7, the backpropagated gradient 2.2e6 times
larger at the input than at the output; tanh x10: weight-gradient ratio 1.5e3."""
from dataclasses import replace

import numpy as np
import pytest

from lessons.gradients import charts, compute, content, diagnosis, readings, run_store
from lessons.gradients.compute import LAYER_STATS
from lessons.gradients.precompute import PRESET_FILE


@pytest.fixture(scope="module")
def data():
    return compute.load_data()


@pytest.fixture(scope="module")
def shipped():
    return run_store.load_presets(PRESET_FILE)


def first_step(spec, data) -> np.ndarray:
    """(layers, stats) at the first step of `spec`."""
    return np.asarray(compute.train_to_end(replace(spec, steps=1), data).stats[0], dtype=np.float64)


def column(stats: np.ndarray, name: str) -> np.ndarray:
    return stats[:, LAYER_STATS.index(name)]


@pytest.mark.parametrize("depth,seed", [(10, 0), (10, 1), (12, 0)])
def test_ten_or_more_sigmoid_layers_vanish_at_the_first_step(depth, seed, data):
    norms = column(first_step(compute.RunSpec(activation="sigmoid", init="default", depth=depth, seed=seed), data),
                   "grad_norm")
    assert norms[0] / norms[-1] < 1e-3
    assert norms[0] / norms[-1] < 1e-6  # the preset's text: "a millionth of the last one's"


@pytest.mark.parametrize("depth,seed", [(10, 0), (10, 1), (30, 0)])
def test_relu_batchnorm_residual_keeps_the_ratio_within_a_factor_of_ten(depth, seed, data):
    spec = compute.RunSpec(activation="relu", init="default", norm="batchnorm", residual=True, depth=depth, seed=seed)
    norms = column(first_step(spec, data), "grad_norm")
    assert 0.1 < norms[0] / norms[-1] < 10


def test_init_x10_relu_gradients_grow_with_depth_toward_the_input(data):
    stats = first_step(compute.PRESETS["init_x10"].spec, data)
    backprop = column(stats, "backprop_norm")  # |dL/dh| at each block's output, then the logits
    assert np.all(backprop[:-1] > backprop[1:])  # larger at every step down toward the input
    assert backprop[0] / backprop[-1] > 1e5
    assert column(stats, "grad_norm").min() > diagnosis.EXPLODING_NORM  # huge in every layer
    std = column(stats, "act_std")[:-1]
    assert np.all(std[1:] > std[:-1])  # "the signal grows at every layer"


def test_init_x10_tanh_weight_gradients_grow_toward_the_input(data):
    norms = column(first_step(replace(compute.PRESETS["init_x10"].spec, activation="tanh"), data), "grad_norm")
    assert np.all(norms[:-1] > norms[1:]) and norms[0] / norms[-1] > diagnosis.EXPLODING_RATIO


def test_default_relu_init_is_healthy_for_the_healthy_preset(data):
    stats = first_step(compute.RunSpec(), data)
    d_ratio = column(stats, "grad_norm")[0] / column(stats, "grad_norm")[-1]
    assert diagnosis.VANISHING_RATIO < d_ratio < diagnosis.EXPLODING_RATIO
    assert column(stats, "grad_norm").max() < diagnosis.EXPLODING_NORM


def test_clipping_keeps_the_global_norm_at_or_below_the_limit_on_every_step(shipped, data):
    run = compute.train_to_end(replace(compute.PRESETS["cure_clipping"].spec, steps=30), data)
    assert run.status == "finished" and len(run.steps) == 30
    limit = run.spec.clip
    assert all(row["clipped_norm"] <= limit * (1 + content.CLIP_TOLERANCE) for row in run.steps)
    assert all(row["grad_norm"] > 100 * limit for row in run.steps)  # clipping acted on every step
    stored = shipped["cure_clipping"]
    assert all(row["clipped_norm"] <= limit * (1 + content.CLIP_TOLERANCE) for row in stored.steps)
    assert stored.steps[-1]["loss"] > 1e3  # "the loss stays huge: clipping treats the symptom"


def test_an_overflowing_gradient_stops_the_run_with_the_step_marked(data):
    run = compute.train_to_end(compute.PRESETS["init_x10"].spec, data)
    assert run.status == "diverged" and run.diverged["what"] == "gradient"
    assert run.diverged["step"] == len(run.steps) < run.spec.steps
    assert not np.isfinite(run.diverged["value"])
    sentences = content.what_you_see(run)
    assert any(f"At step {run.diverged['step']} the gradient norm overflowed" in s for s in sentences)
    spec, _ = charts.norms_spec(readings.series_frame(run, "grad_norm"), readings.layer_labels(run), "grad_norm",
                                marker_step=run.diverged["step"])
    assert spec["layer"][-1]["data"]["values"][0]["step"] == run.diverged["step"]
    assert diagnosis.diagnose(run, len(run.steps) - 1)["verdict"] == "overflowed"


def test_a_nan_loss_stops_the_run_with_the_step_marked(data):
    run = compute.train_to_end(compute.RunSpec(depth=4, width=32, optimizer="sgd", lr=1e6, steps=50), data)
    assert run.status == "diverged" and run.diverged["step"] <= 10


def test_zero_gradients_do_not_break_the_log_scale(data):
    """30 sigmoid layers: the first layers' gradients underflow to exactly 0 in float32."""
    run = compute.train_to_end(compute.RunSpec(activation="sigmoid", init="default", depth=30, steps=2), data)
    norms = np.asarray(run.stats[0])[:, LAYER_STATS.index("grad_norm")]
    assert (norms == 0).sum() >= 3 and run.status == "finished"
    heat, _ = readings.heatmap_frame(run, "largest value")
    assert np.isfinite(heat.log_norm).all() and np.isfinite(readings.series_frame(run, "grad_norm").value).all()
    assert diagnosis.diagnose(run, 0)["verdict"] == "vanishing"


@pytest.mark.parametrize("experiment", content.EXPERIMENTS, ids=lambda e: e.key)
def test_every_try_this_effect_appears_on_its_shipped_run(experiment, shipped):
    assert experiment.setup == compute.PRESETS[experiment.key].spec.to_dict()
    appeared, message = experiment.check({"runs": [], "presets": shipped})
    assert appeared, message
    assert "shipped precomputed run" in message


@pytest.mark.parametrize("experiment", content.EXPERIMENTS, ids=lambda e: e.key)
def test_try_this_checks_can_fail(experiment, shipped):
    """On a run that shows the opposite effect the check says it did not appear."""
    opposite = "healthy" if experiment.key in ("deep_sigmoid", "init_x10") else \
        "init_x10" if experiment.key == "cure_clipping" else "deep_sigmoid"
    appeared, _ = experiment.check({"runs": [], "presets": {k: shipped[opposite] for k in shipped}})
    assert not appeared


def test_try_this_names_the_students_run_when_it_matches(shipped, data):
    run = compute.train_to_end(compute.PRESETS["deep_sigmoid"].spec, data)
    run.name = "#7 my run"
    check = next(e for e in content.EXPERIMENTS if e.key == "deep_sigmoid").check
    appeared, message = check({"runs": [run], "presets": shipped})
    assert appeared and "your run #7 my run" in message


@pytest.mark.parametrize("key", ["cure_batchnorm", "cure_residual", "all_cures"])
def test_the_cures_make_the_deep_sigmoid_net_healthy_at_step_1(key, data):
    stats = first_step(compute.PRESETS[key].spec, data)
    ratio = column(stats, "grad_norm")[0] / column(stats, "grad_norm")[-1]
    assert diagnosis.VANISHING_RATIO < ratio < diagnosis.EXPLODING_RATIO
    if key == "all_cures":
        assert 0.1 < ratio < 10


def test_healthy_run_update_ratios_are_near_1e_minus_3(shipped):
    summary = diagnosis.update_ratio_summary(shipped["healthy"], len(shipped["healthy"].steps) - 1)
    assert diagnosis.HEALTHY_UPDATE[0] < summary["median"] < diagnosis.HEALTHY_UPDATE[1]
    vanishing = diagnosis.update_ratio_summary(shipped["deep_sigmoid"], 99)
    assert vanishing["lowest"] < 1e-6  # the first layers of the sigmoid net barely move
