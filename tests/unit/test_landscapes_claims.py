"""Every sentence the loss-landscape page states as fact, asserted on the bundled and shipped models
(the thresholds are the constants the page's sentences and "Try this" checks use)."""
import numpy as np
import pytest
import torch
from torch import nn

from lessons.landscapes import compute, content, measures, results, store, toy
from lessons.landscapes import results_keys as keys
from lessons.landscapes.settings import DEFAULTS as D
from models.training import evaluate


def shipped(key):
    value = store.shipped(key)
    assert value is not None, key
    return value


def test_the_centre_of_every_slice_is_the_trained_models_loss_on_the_same_digits():
    x, y = compute.evaluation_digits(D["samples"])
    with compute.zoo.borrow("digits_mlp") as model:
        trained_loss, _, _ = evaluate(model, x, y)
    surface = shipped(keys.surface_key(D["model"], D["seed"], D["span"], D["resolution"], D["samples"]))
    middle = len(surface["axis"]) // 2
    assert surface["loss"][middle, middle] == pytest.approx(trained_loss, rel=1e-4)
    slices = shipped(keys.slices_key(D["model"], D["slice_seed"], D["slice_span"], D["samples"]))
    for norm in compute.NORMALIZATIONS:
        assert slices[f"loss_{norm}"][len(slices["alpha"]) // 2] == pytest.approx(trained_loss, rel=1e-4)
        assert slices[f"surface_{norm}"][8, 8] == pytest.approx(trained_loss, rel=1e-4)


def test_interpolation_starts_at_the_initial_loss_and_ends_at_the_trained_loss():
    x, y = compute.evaluation_digits(D["samples"])
    path = shipped(keys.interpolation_key(D["samples"], D["reach"]))
    start, end = np.argmin(np.abs(path["alpha"])), np.argmin(np.abs(path["alpha"] - 1))
    init_loss, _, _ = evaluate(compute.initial_model("digits_mlp"), x, y)
    with compute.zoo.borrow("digits_mlp") as model:
        trained_loss, _, _ = evaluate(model, x, y)
    assert path["init_loss"][start] == pytest.approx(init_loss, rel=1e-4)
    assert path["init_loss"][end] == pytest.approx(trained_loss, rel=1e-4)
    assert path["seed_loss"][start] == pytest.approx(trained_loss, rel=1e-4)


def test_filter_normalized_directions_match_filter_norms_with_zero_bias_and_batchnorm():
    model = nn.Sequential(nn.Conv2d(1, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 26 * 26, 10))
    with torch.no_grad():
        model[0].weight.mul_(torch.arange(1, 7).view(6, 1, 1, 1))
    params = dict(model.named_parameters())
    d = compute.filter_normalized_direction({n: p.detach() for n, p in params.items()}, seed=3)
    for name in ("0.weight", "4.weight"):
        torch.testing.assert_close(d[name].flatten(1).norm(dim=1), params[name].detach().flatten(1).norm(dim=1),
                                   atol=1e-5, rtol=1e-5)
    for name in ("0.bias", "1.weight", "1.bias", "4.bias"):  # biases and BatchNorm's scale and shift
        assert torch.equal(d[name], torch.zeros_like(params[name]))


@pytest.mark.xfail(strict=True, reason="measured 40 % with skips vs 44 % without on the shipped 8-block nets: "
                   "not yet rougher by ROUGHER_FACTOR; the page states the measured shares only")
def test_the_no_skip_surface_is_rougher_by_the_pages_measure():
    data = results.skips(D["samples"], D["cmp_seed"])  # the real shipped residual nets
    step = float(data["axis"][1] - data["axis"][0])
    with_skips = measures.non_convex_share(data["loss_resmlp_skips"], step)
    without = measures.non_convex_share(data["loss_resmlp_noskips"], step)
    assert without >= measures.ROUGHER_FACTOR * with_skips
    assert content._check_skips({"skips": {"data": data, "source": "live"}})[0]
    assert f"{with_skips:.0%} with skip connections, {without:.0%} without" in content.skips_sentences(data, "live")[0]


def test_the_pca_plane_explains_the_share_the_page_states():
    snapshots = compute.train_trajectory(D["optimizer"], D["traj_seed"])
    plane = compute.pca_plane(snapshots)
    centred = snapshots[:-1].astype(np.float64) - snapshots[-1]
    centred -= centred.mean(0)
    total = (centred ** 2).sum()
    projected = ((centred @ plane["components"].T.astype(np.float64)) ** 2).sum(0)
    np.testing.assert_allclose(projected / total, plane["explained"], rtol=1e-3)
    data = shipped(keys.trajectory_key(D["optimizer"], D["traj_seed"], D["traj_resolution"], D["samples"]))
    np.testing.assert_allclose(data["explained"], plane["explained"], rtol=1e-3)
    sentence = content.trajectory_sentences(data, "shipped", D["optimizer"])[0]
    assert f"{plane['explained'].sum():.1%} together" in sentence
    assert plane["explained"].sum() > 0.5  # "this plane shows most of how the optimizer moved the weights"


def test_two_seeds_are_separated_by_a_barrier_and_the_initial_path_falls():
    path = shipped(keys.interpolation_key(D["samples"], D["reach"]))
    assert measures.barrier(path["alpha"], path["seed_loss"])["height"] >= content.BARRIER_THRESHOLD
    assert content._check_barrier({"interpolation": {"data": path, "source": "shipped"}})[0]


def test_unnormalized_directions_blow_the_slice_up():
    data = shipped(keys.slices_key(D["model"], D["slice_seed"], D["slice_span"], D["samples"]))
    appeared, message = content._check_blowup({"slices": {"data": data, "source": "shipped"}})
    assert appeared and "Checked on the shipped slices" in message


@pytest.mark.xfail(strict=True, reason="measured sharpness 0.53 (batch 32) vs 0.41 (full batch) on the shipped "
                   "MLPs: the effect does not appear; the page states the measured values only")
def test_the_large_batch_minimum_is_sharper():
    data = shipped(keys.batch_key(D["samples"]))
    small = measures.sharpness(data["alpha"], data["loss_mlp_batch32"])
    large = measures.sharpness(data["alpha"], data["loss_mlp_batch4000"])
    assert large >= content.SHARPER_FACTOR * small


def test_toy_sentences_hold_adam_leaves_the_plateau_and_sgd_does_not():
    summary = toy.summary("plateau", 0.1, 60)
    assert summary["adam"]["gap"] < content.TOY_REACHED < 0.5 < summary["sgd"]["gap"]
    ravine = toy.summary("ravine", D["toy_lr"], D["toy_steps"])
    assert ravine["momentum"]["gap"] < ravine["sgd"]["gap"]  # "momentum builds up speed along the valley"
