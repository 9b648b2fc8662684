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


def test_without_skips_the_surface_near_the_minimum_is_rougher_by_the_pages_measure():
    data = shipped(keys.skips_key(D["samples"], D["cmp_seed"]))  # the shipped 4-block nets' surfaces
    fresh = results.skips(D["samples"], D["cmp_seed"])  # and what the bundled weights give now
    for name in ("resmlp_skips", "resmlp_noskips"):
        np.testing.assert_allclose(fresh[f"loss_{name}"], data[f"loss_{name}"], rtol=2e-3)
    with_skips = measures.roughness(data["axis"], data["loss_resmlp_skips"])
    without = measures.roughness(data["axis"], data["loss_resmlp_noskips"])
    assert without["near"] >= measures.ROUGHER_FACTOR * with_skips["near"]
    assert content._check_skips({"skips": {"data": data, "source": "shipped"}})[0]
    sentences = content.skips_sentences(data, "shipped")
    n = with_skips["near_points"]
    assert f"{round(with_skips['near'] * n)} of {n} points ({with_skips['near']:.0%}) with skip connections, " in sentences[1]
    assert f"{round(without['near'] * n)} of {n} points ({without['near']:.0%}) without: " in sentences[1]
    assert with_skips["near"] < content.SMOOTH_SHARE and "with them it is smooth" in sentences[1]
    # over the whole square the page says the shares are alike (the blow-up dominates): within 10 points
    assert abs(with_skips["all"] - without["all"]) < 0.10
    assert f"{with_skips['all']:.0%} and {without['all']:.0%}" in sentences[2]
    # the measure on the page is the one defined there: the centre's share of the inner 17 x 17 points
    inner = measures.near_centre(data["axis"], data["loss_resmlp_noskips"])
    assert inner.shape == (17, 17)


def test_the_no_skip_net_is_rougher_for_other_direction_seeds_too():
    for seed in (1, 2):
        data = results.skips(D["samples"], seed)
        w, wo = (measures.roughness(data["axis"], data[f"loss_{n}"])["near"] for n in ("resmlp_skips", "resmlp_noskips"))
        assert wo >= measures.ROUGHER_FACTOR * w, (seed, w, wo)


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


def test_sharpness_depends_on_the_distance_as_the_page_says():
    data = shipped(keys.batch_key(D["samples"]))
    values = content.batch_sharpness(data)
    (small_near, large_near), (small_far, large_far) = values[measures.SHARPNESS_NEAR], values[measures.SHARPNESS_DISTANCE]
    assert large_near > small_near  # close in, the full-batch minimum is the sharper one
    assert small_far > large_far  # farther out, the batch-32 one
    sentences = content.batch_sentences(data, "shipped")
    assert f"the full-batch minimum is {large_near / small_near:.1f} times as sharp" in sentences[0]
    assert f"the batch-32 minimum is {small_far / large_far:.1f} times as sharp" in sentences[0]
    assert "depends on how far you look: close in the full-batch minimum" in sentences[1]
    centre = len(data["alpha"]) // 2
    assert data["loss_mlp_batch32"][:, centre].mean() < data["loss_mlp_batch4000"][:, centre].mean()  # "not equally deep"
    assert content._check_batch({"batch": {"data": data, "source": "shipped"}})[0]


def test_toy_sentences_hold_adam_leaves_the_plateau_and_sgd_does_not():
    summary = toy.summary("plateau", 0.1, 60)
    assert summary["adam"]["gap"] < content.TOY_REACHED < 0.5 < summary["sgd"]["gap"]
    ravine = toy.summary("ravine", D["toy_lr"], D["toy_steps"])
    assert ravine["momentum"]["gap"] < ravine["sgd"]["gap"]  # "momentum builds up speed along the valley"
