"""Every sentence the loss-landscape page states as fact, asserted on the bundled and shipped models
(the thresholds are the constants the page's sentences and "Try this" checks use)."""
import functools

import numpy as np
import pytest
import torch
from torch import nn

from lessons.landscapes import compute, content, grid, measures, page, results, store, toy
from lessons.landscapes import results_keys as keys
from lessons.landscapes import settings as S
from lessons.landscapes.settings import DEFAULTS as D
from models import zoo
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


@functools.cache
def default_snapshots() -> np.ndarray:
    return compute.train_trajectory(D["optimizer"], D["traj_seed"])  # (36, D): 10 epochs of Adam


def test_the_pca_plane_explains_the_share_the_page_states():
    snapshots = default_snapshots()
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




# --------------------------------------------------------------------------- the rest of the page's sentences


def test_the_interpolation_sentences_say_what_the_shipped_paths_show():
    path = shipped(keys.interpolation_key(D["samples"], D["reach"]))
    a, init, seed = path["alpha"], path["init_loss"], path["seed_loss"]
    sentences = content.interpolation_sentences(path, "shipped", D["samples"])
    inside = (a >= 0) & (a <= 1)
    assert np.all(np.diff(init[inside]) <= 1e-4) and "falling all the way: no bump" in sentences[0]
    assert "The two minima are not linearly connected" in sentences[1]
    assert float(np.min(path["seed_acc"][inside])) < 0.2  # "accuracy drops to 6.0 %" half-way
    # beyond the ends: higher past each of the three trained solutions, lower past the initial weights
    assert init[-1] > init[np.argmin(np.abs(a - 1))] and seed[0] > seed[np.argmin(np.abs(a))]
    assert seed[-1] > seed[np.argmin(np.abs(a - 1))] and init[0] < init[np.argmin(np.abs(a))]
    assert "higher past each trained solution than at it, and lower past the initial weights" in sentences[2]
    without = content.interpolation_sentences({**path, "alpha": a}, "live", D["samples"])
    assert without[-1] == "Computed on your live paths."


def test_the_beyond_the_ends_sentence_counts_the_solutions_the_loss_rises_past():
    a = np.linspace(-0.5, 1.5, 5)  # -0.5, 0, 0.5, 1, 1.5
    flat_past_one = {"alpha": a, "init_loss": np.array([3.0, 2.0, 1.0, 0.1, 0.05]),
                     "seed_loss": np.array([0.5, 0.1, 2.0, 0.1, 0.4])}
    text = content._beyond_the_ends(flat_past_one)
    assert "higher past 2 of the 3 trained solutions than at them, and higher past the initial weights" in text
    assert content._beyond_the_ends({**flat_past_one, "alpha": np.linspace(0, 1, 5)}).startswith("The paths stop")


def test_the_unnormalised_directions_sizes_are_the_ones_the_slices_sentence_states():
    model, _ = zoo.load("digits_mlp")  # read only
    weights = {n: p.detach() for n, p in model.named_parameters() if p.dim() > 1}
    entries = torch.cat([w.flatten() for w in weights.values()])
    rms = float(entries.pow(2).mean().sqrt())
    assert f"{rms:.1g}" == f"{content.MLP_WEIGHT_RMS:g}"  # "about 0.1 in size (root mean square)"
    for seed in S.SEEDS:  # the Slices view's direction seeds: slices() draws seed 2 * s + 1
        raw = compute.filter_normalized_direction({n: p.detach() for n, p in model.named_parameters()}, 2 * seed + 1,
                                                  "none")
        for layer, stated in content.MLP_RAW_STEP.items():
            ratio = float(raw[f"{layer}.weight"].norm() / weights[f"{layer}.weight"].norm())
            assert round(ratio) == stated, (seed, layer, ratio)
    sentence = content.slices_sentences(shipped(keys.slices_key(D["model"], D["slice_seed"], D["slice_span"],
                                                                D["samples"])), "shipped", D["samples"])[2]
    assert "about 0.1 in size" in sentence and "about 11 times" in sentence and "about 4 times" in sentence


def test_the_surface_and_small_multiples_verdicts_are_the_shipped_surfaces():
    surface = shipped(keys.surface_key(D["model"], D["seed"], D["span"], D["resolution"], D["samples"]))
    share = measures.non_convex_share(surface["loss"], float(surface["axis"][1] - surface["axis"][0]))
    stated = content.surface_sentences(surface, "shipped", D["model"], D["samples"])
    assert f"{share:.0%} of the inner grid points are not locally convex" in stated[1]
    assert share >= content.SMOOTH_SHARE and "the bowl has ridges and shoulders" in stated[1]
    assert "(the trained Digits MLP 784-32-16-10) the loss is" in stated[0]
    many = shipped(keys.multiples_key(D["model"], D["span"], D["samples"]))
    step = float(many["axis"][1] - many["axis"][0])
    shares = [measures.non_convex_share(many[f"loss_{s}"], step) for s in S.SMALL_SEEDS]
    smooth = sum(x < content.SMOOTH_SHARE for x in shares)
    assert 0 < smooth < len(shares)  # the verdict flips with the seed on the shipped slices
    (sentence,) = content.multiples_sentences(many, "shipped", D["span"])
    assert f"{smooth} of 4 slices are a single smooth bowl and {4 - smooth} has ridges" in sentence
    # the quiz: "a different plane (another seed) gives a different picture"
    means = [float(np.mean(many[f"loss_{s}"])) for s in S.SMALL_SEEDS]
    assert measures.slice_spread(means)["relative"] > 0.2
    uniform = {**many, **{f"loss_{s}": many[f"loss_{S.SMALL_SEEDS[1]}"] for s in S.SMALL_SEEDS}}
    assert "the verdict repeats, the exact numbers do not" in content.multiples_sentences(uniform, "live", 1.0)[0]


def test_every_shipped_trajectory_falls_and_its_plane_shows_most_of_it():
    for optimizer in S.OPTIMIZERS:
        data = shipped(keys.trajectory_key(optimizer, D["traj_seed"], D["traj_resolution"], D["samples"]))
        assert data["explained"].sum() > 0.5, optimizer  # "this plane shows most of how ... moved the weights"
        assert data["path_loss"][-1] < data["path_loss"][0] / 10, optimizer  # "its loss falls from ... to ..."
        # the caption: a checkpoint every 25 steps and at each of 10 epoch ends (63 steps each), plus the start
        assert len(data["coords"]) == 1 + (10 * 63) // 25 + 10, optimizer


def test_two_random_directions_show_almost_none_of_the_path():
    """The Trajectory sentence and the third quiz question (Li et al. 2018, section 7)."""
    snapshots = default_snapshots().astype(np.float64)
    moves = snapshots[:-1] - snapshots[-1]
    centred = moves - moves.mean(0)
    net = compute.zoo_net("digits_mlp")
    for seed in (0, 1, 2):
        directions = compute.surface_directions(net, seed).double().numpy()  # (2, D), filter-normalised
        basis = np.linalg.qr(directions.T)[0]  # (D, 2) orthonormal
        share = ((centred @ basis) ** 2).sum() / (centred ** 2).sum()
        assert share < 0.01, (seed, share)
    assert compute.pca_plane(default_snapshots())["explained"].sum() > 0.9  # the quiz's "90 %"


def test_rescaling_one_layer_keeps_the_function_and_only_the_filter_normalised_slice():
    """The second quiz question: fc1 x 10 and fc2 x 1/10 is the same ReLU network; the filter-normalised
    slice is the same, the unnormalised one is not."""
    model, _ = zoo.load("digits_mlp")  # read only: the rescaled copy is a new SliceNet
    net = compute.zoo_net("digits_mlp")
    params = net.unflatten(net.theta.clone())
    scaled = {n: p.clone() for n, p in params.items()}
    scaled["fc1.weight"] *= 10
    scaled["fc1.bias"] *= 10
    scaled["fc2.weight"] /= 10
    rescaled = grid.SliceNet(net.kind, net.flatten(scaled), net.names, net.shapes)
    x, y = compute.evaluation_digits(D["samples"])
    alphas = np.linspace(-1, 1, 9, dtype=np.float32)[:, None]
    for normalization, same in (("filter", True), ("none", False)):
        before = grid.evaluate_points(net, compute.direction_matrix(net, (1,), normalization), alphas, x, y)[0]
        after = grid.evaluate_points(rescaled, compute.direction_matrix(rescaled, (1,), normalization), alphas, x, y)[0]
        if same:
            np.testing.assert_allclose(after, before, rtol=1e-4)
            assert after[4] == pytest.approx(evaluate(model, x, y)[0], rel=1e-4)  # alpha 0: the same function
        else:
            assert np.max(np.abs(np.log(after / before))) > np.log(2), (before, after)


def test_the_comparison_texts_describe_the_lesson_models():
    import lessons.landscapes.compute as c

    skips, noskips = c.LESSON_MODELS["resmlp_skips"], c.LESSON_MODELS["resmlp_noskips"]
    assert skips.config == noskips.config and skips.init_seed == noskips.init_seed  # "same training"
    a, b = skips.build(), noskips.build()
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))  # same init
    assert dict(c.RES_KWARGS) == {"width": 32, "blocks": 4}  # "4 blocks of 2 linear layers ..., width 32"
    assert sum(isinstance(m, nn.Linear) for m in a.modules()) == 10  # "4 blocks (10 linear layers)"
    assert sum(isinstance(m, nn.BatchNorm1d) for m in a.modules()) == 9
    small, large = c.LESSON_MODELS["mlp_batch32"], c.LESSON_MODELS["mlp_batch4000"]
    assert small.init_seed == large.init_seed and small.arch == large.arch == "mlp"  # "from the same weights"
    assert small.config.batch_size == 32 and large.config.batch_size == len(c.training_digits()[0]) == 4000
    assert results.BATCH_DIRECTIONS == 5 and results.SMALL_MULTIPLE_RESOLUTION == 17  # "five slices", "17 x 17"
    assert sum(p.numel() for p in zoo.load("digits_mlp")[0].parameters()) == 25_818  # the WHY and the first question
    assert "25,818" in content.WHY and "25,818" in content.QUIZ[0].prompt


# --------------------------------------------------------------------------- the toy surfaces


def test_ravine_sgd_zig_zags_exactly_above_a_quarter_and_grows_above_a_half():
    for lr in S.TOY_RATES:
        sgd = toy.summary("ravine", lr, D["toy_steps"])["sgd"]
        if lr <= 0.5:
            assert (sgd["crossings"] >= 2) == (lr > 0.25), lr
            assert sgd["gap"] < sgd["start_gap"], lr
        else:
            assert sgd["gap"] > sgd["start_gap"], lr
    default = toy.summary("ravine", D["toy_lr"], D["toy_steps"])
    note = content.toy_sentences("ravine", D["toy_lr"], D["toy_steps"], default)[-1]
    assert "SGD does not zig-zag at this learning rate" in note
    assert default["momentum"]["along"] > default["sgd"]["along"] + 0.05
    assert "momentum builds up speed along the valley" in note
    zig = content.toy_sentences("ravine", 0.3, 60, toy.summary("ravine", 0.3, 60))[-1]
    assert "SGD zig-zags across the steep direction: it crosses the valley floor 60 times" in zig
    assert "SGD's loss grows instead of falling" in content.toy_sentences("ravine", 1.0, 60,
                                                                          toy.summary("ravine", 1.0, 60))[-1]


def test_saddle_adam_leaves_first_and_the_sentence_counts_the_steps():
    summary = toy.summary("saddle", D["toy_lr"], D["toy_steps"])
    assert toy.SURFACES["saddle"].start[1] == 0.001 and abs(toy.SURFACES["saddle"].grad(2.0, 0.001)[1]) < 0.01
    assert summary["sgd"]["left_at"] is None and summary["adam"]["left_at"] is not None
    note = content.toy_sentences("saddle", D["toy_lr"], D["toy_steps"], summary)[-1]
    assert (f"SGD more than {D['toy_steps']}, momentum {summary['momentum']['left_at']}, Adam "
            f"{summary['adam']['left_at']}: Adam rescales the small gradient") in note
    slow = content.toy_sentences("saddle", 0.003, 60, toy.summary("saddle", 0.003, 60))[-1]
    assert "neither SGD nor Adam has left yet" in slow


def test_plateau_adam_leaves_sgd_barely_moves_and_the_check_agrees():
    summary = toy.summary("plateau", 0.1, 60)
    assert summary["adam"]["gap"] < content.TOY_REACHED < 0.5 < summary["sgd"]["gap"]
    assert np.linalg.norm(toy.SURFACES["plateau"].grad(*toy.SURFACES["plateau"].start)) < 0.01  # "almost zero"
    assert summary["sgd"]["moved"] < 0.1 * summary["adam"]["moved"]
    assert summary["adam"]["first_step"] == pytest.approx(0.1 * np.sqrt(2), rel=1e-3)
    note = content.toy_sentences("plateau", 0.1, 60, summary)[-1]
    assert "(it barely moves)" in note and "first step is 0.141 long" in note
    preset = next(e for e in content.EXPERIMENTS if e.key == "plateau")
    assert (preset.setup["toy_lr"], preset.setup["toy_steps"]) == (0.1, 60)  # "learning rate 0.1 and 60 steps"
    entry = {"toy": {"surface": "plateau", "lr": 0.1, "steps": 60, "summary": summary}}
    assert content._check_plateau(entry)[0]


def nested_parentheses(text: str) -> bool:
    """True when a parenthesis opens inside another or they do not balance: "(the trained X (2 blocks))"."""
    depth = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        if depth > 1 or depth < 0:
            return True
    return depth != 0


def test_no_sentence_nests_parentheses():
    n = D["samples"]
    sentences = content.interpolation_sentences(shipped(keys.interpolation_key(n, D["reach"])), "shipped", n)
    sentences += content.slices_sentences(shipped(keys.slices_key(D["model"], D["slice_seed"], D["slice_span"], n)),
                                          "shipped", n)
    surface = shipped(keys.surface_key(D["model"], D["seed"], D["span"], D["resolution"], n))
    for model in S.MODELS:  # the model's name sits inside the sentence's parentheses
        sentences += content.surface_sentences(surface, "live", model, n)
    sentences += content.multiples_sentences(shipped(keys.multiples_key(D["model"], D["span"], n)), "shipped", D["span"])
    trajectories = {o: (shipped(keys.trajectory_key(o, D["traj_seed"], D["traj_resolution"], n)), "shipped")
                    for o in S.OPTIMIZERS}
    for optimizer, (data, source) in trajectories.items():
        sentences += content.trajectory_sentences(data, source, optimizer)
    sentences += content.optimizer_sentences(trajectories)
    sentences += content.skips_sentences(shipped(keys.skips_key(n, D["cmp_seed"])), "shipped")
    sentences += content.batch_sentences(shipped(keys.batch_key(n)), "shipped")
    for surface_name in S.TOY_SURFACES:
        for lr in (0.003, 0.1, 1.0):
            sentences += content.toy_sentences(surface_name, lr, 60, toy.summary(surface_name, lr, 60))
    for experiment in content.EXPERIMENTS:
        sentences += [experiment.title, experiment.question, *experiment.predictions]
    for question in content.QUIZ:
        sentences += [question.prompt, *question.options, question.explanation]
    assert [s for s in sentences if nested_parentheses(s)] == []
    assert nested_parentheses("At the centre (the trained Digits CNN (2 conv blocks)) the loss")
