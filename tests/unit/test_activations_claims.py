"""Every claim the activation-heatmap lesson states, and every "Try this" effect, on the bundled models.

Measured once (torch 2.14.1, the bundled weights), thresholds set with margin:
- shortcut CNN, HiResCAM at block 1, 100 held-out digits with their class marker: mean 0.65 of the map
  on the marker box (min 0.51, digit 0: 0.53); honest CNN 0.06; Grad-CAM on the shortcut CNN 0.12 (digit 0: 0.05).
- shortcut CNN with the next class's marker: 0.7 % accuracy, 99.3 % of its answers name the marker's class
  (honest CNN: 96.5 % accuracy, 0.4 %).
- Grad-CAM at the head on the whole cat photo, top class: 0.81 of the mass on the cat, 0.06 on the
  background strip, density ratio 3.1.
- cascading randomization on the cat: Grad-CAM's rank correlation 0.55 after the classifier, ~0 at the
  end; EigenCAM 1.0 after the classifier.
- ROAD (P with the least relevant pixels removed - P with the most relevant removed) on the coffee photo:
  Grad-CAM +0.89, random map +0.15.
- Layer statistics over the 7 bundled photos: the 7 block outputs reach -16 to -62, the stem and the
  head (after ReLU6) never go below 0. At stage 6 and threshold 0.3 a max-only rule would call 12
  channels silent, 6 of which swing below -2 x the threshold; on |activation| none is silent.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from data import load_image
from data.shortcut import marker_box
from lessons.activations import (compute, content, inputs, layer_statistics, map_tools, sanity_checks,
                                 shortcut_markers, torchcam_compare)
from lessons.activations.geometry import layer_geometry
from models import zoo


DIGITS = np.arange(0, 1000, 10)  # 100 held-out digits, every class
HEAD = "_head_act"


def marker_shares(model_name: str, method: str, digits=DIGITS) -> np.ndarray:
    images, labels = inputs.heldout_digits()
    shares = []
    with zoo.borrow(model_name) as model:
        for i in digits:
            x, _ = inputs.digit_input(
                shortcut_markers.with_markers(images[i:i + 1], labels[i:i + 1], "class marker")[0])
            with torch.no_grad():
                predicted = int(model(x).argmax())
            heat = compute.class_activation_map(model, x, "features.relu1", method, predicted)
            shares.append(map_tools.mass_share(heat, shortcut_markers.marker_region(int(labels[i]))))
    return np.array(shares)


@pytest.fixture(scope="module")
def hirescam_shares():
    return {name: marker_shares(name, "HiResCAM") for name in ("digits_cnn", "shortcut_cnn")}


def test_shortcut_heatmap_mass_lies_on_the_marker(hirescam_shares):
    area = shortcut_markers.marker_region(0).mean()
    assert area < 0.05  # the box is a small part of the image
    assert hirescam_shares["shortcut_cnn"].mean() > 0.5  # most of the mass
    assert hirescam_shares["digits_cnn"].mean() < 0.15  # little of it for the honest model


def test_try_this_shortcut_on_the_default_digit():
    """"Most of its mass" means more than half: the sentence and the verdict share MOST_OF_THE_MAP."""
    assert content.MOST_OF_THE_MAP == 0.5
    assert "most (more than 50%) of its mass" in content.EXPERIMENTS[0].question
    share = marker_shares("shortcut_cnn", "HiResCAM", [0])[0]
    assert share > content.MOST_OF_THE_MAP
    appeared, message = content.EXPERIMENTS[0].check(
        {"shortcut_marker_share": {"share": share, "area": 0.03}, "run": "held-out digit 0 with class marker"})
    assert appeared and "more than 50%" in message and "Judged on your current run: held-out digit 0" in message


def test_gradcam_spreads_the_shortcut_over_the_digit():
    shares = marker_shares("shortcut_cnn", "GradCAM")
    assert shares.mean() < 0.25
    assert shares[0] < content.MOST_OF_THE_MAP - 0.3  # the "Grad-CAM can hide the shortcut" experiment, default digit
    appeared, message = content.EXPERIMENTS[1].check({"shortcut_marker_share": {"share": shares[0], "area": 0.03},
                                                      "run": "held-out digit 0"})
    assert appeared and "not more than 50%" in message


def test_verdicts_use_the_thresholds_their_sentences_name():
    shortcut, hides, sanity, faithful = content.EXPERIMENTS
    just = {"share": content.MOST_OF_THE_MAP + 0.01, "area": 0.03}
    under = {"share": content.MOST_OF_THE_MAP - 0.01, "area": 0.03}
    assert shortcut.check({"shortcut_marker_share": just})[0] and not shortcut.check({"shortcut_marker_share": under})[0]
    assert hides.check({"shortcut_marker_share": under})[0] and not hides.check({"shortcut_marker_share": just})[0]
    assert f"above {content.BARELY_CHANGED}" in sanity.question
    assert sanity.check({"first": {"EigenCAM": 0.91, "GradCAM": 0.89}})[0]
    assert not sanity.check({"first": {"EigenCAM": 0.89, "GradCAM": 0.5}})[0]
    assert f"more than {content.CLEAR_MARGIN}" in faithful.question
    assert not faithful.check({"scores": {"GradCAM": 0.2, "random map (baseline)": 0.15}})[0]  # higher, not clearly
    assert faithful.check({"scores": {"GradCAM": 0.3, "random map (baseline)": 0.15}})[0]
    for experiment in content.EXPERIMENTS:  # every verdict names the run it judged
        assert "Judged on your current run" in experiment.check(
            {"shortcut_marker_share": just, "first": {"EigenCAM": 1.0, "GradCAM": 0.5},
             "scores": {"GradCAM": 0.9, "random map (baseline)": 0.1}, "run": "the run"})[1]


def test_shortcut_model_is_perfect_with_markers_and_follows_a_wrong_one():
    images, labels = inputs.heldout_digits()
    table = shortcut_markers.marker_accuracy_table({n: zoo.load(n)[0] for n in ("digits_cnn", "shortcut_cnn")},
                                                   images, labels)
    acc = table.set_index(["model", "markers"])["accuracy"]
    follows = table.set_index(["model", "markers"])["follows_marker"]
    assert acc[("shortcut_cnn", "class marker")] >= 0.99
    assert acc[("shortcut_cnn", "wrong marker")] < 0.1
    assert acc[("shortcut_cnn", "no marker")] < acc[("digits_cnn", "no marker")] - 0.2
    assert min(acc[("digits_cnn", m)] for m in shortcut_markers.MARKER_MODES) > 0.9  # the honest model ignores markers
    # "it reads the marker, not the digit": with a wrong marker its answers are the marker's class
    assert follows[("shortcut_cnn", "wrong marker")] > 0.95
    assert follows[("digits_cnn", "wrong marker")] < 0.05
    predicted = shortcut_markers.predict(zoo.load("shortcut_cnn")[0],
                                         shortcut_markers.with_markers(images, labels, "wrong marker"))
    assert (predicted == (labels + 1) % 10).mean() > 0.95  # the next class's marker: (label + 1) mod 10


@pytest.fixture(scope="module")
def cat():
    x, _ = inputs.photo_input(load_image("cat"), "whole image")
    with zoo.borrow("efficientnet_lite0") as model:
        top = compute.top_predictions(model, x, zoo.info("efficientnet_lite0").labels)
    return x, int(top["class_index"][0]), top


def test_cat_photo_is_a_cat(cat):
    _, _, top = cat
    assert all(label.endswith("cat") or label == "tabby" for label in top["label"][:3])


def test_gradcam_puts_its_mass_on_the_cat_not_the_background(cat):
    x, class_index, _ = cat
    # measured once on the whole-image framing (451 x 300 photo letterboxed to 224): the cat fills
    # columns 0-183 of rows 37-185; the right strip 184-223 is the blurred room behind it
    cat_box = map_tools.box_mask((224, 224), (37, 0, 186, 184))
    background = map_tools.box_mask((224, 224), (37, 184, 186, 224))
    with zoo.borrow("efficientnet_lite0") as model:
        heat = compute.class_activation_map(model, x, HEAD, "GradCAM", class_index)
    on_cat, on_background = map_tools.mass_share(heat, cat_box), map_tools.mass_share(heat, background)
    assert on_cat > 0.7 and on_background < 0.12
    assert (on_cat / cat_box.mean()) > 2 * (on_background / background.mean())


@pytest.fixture(scope="module")
def cascade(cat):
    x, _, _ = cat
    x, _ = inputs.photo_input(load_image("cat"))  # the page's default framing
    with zoo.borrow("efficientnet_lite0") as model:
        top = compute.top_predictions(model, x, zoo.info("efficientnet_lite0").labels)
        table, _ = sanity_checks.cascading_randomization(model, x, HEAD, int(top["class_index"][0]),
                                                         ["GradCAM", "EigenCAM"], seed=0)
        assert zoo.count_hooks(model) == 0
    return table


def test_cascading_randomization_changes_gradcam_substantially(cascade):
    last = cascade["step_index"].max()
    final = cascade[(cascade.step_index == last) & (cascade.method == "GradCAM")]["spearman"].item()
    assert final < 0.5


def test_try_this_eigencam_ignores_the_classifier(cascade):
    first = cascade[cascade.step_index == 1].set_index("method")["spearman"]
    assert first["EigenCAM"] > 0.95 and first["GradCAM"] < 0.8


def test_try_this_gradcam_beats_a_random_map_on_road():
    x, _ = inputs.photo_input(load_image("coffee"))
    with zoo.borrow("efficientnet_lite0") as model:
        top = compute.top_predictions(model, x, zoo.info("efficientnet_lite0").labels)
        class_index = int(top["class_index"][0])
        maps = {"GradCAM": compute.class_activation_map(model, x, HEAD, "GradCAM", class_index),
                "random map (baseline)": sanity_checks.random_map((224, 224), 0)}
        scores = sanity_checks.faithfulness_scores(
            model, x, class_index, maps, "ROAD", seed=0).set_index("method")["score"]
    assert top["label"][0] == "espresso"
    assert scores["GradCAM"] > scores["random map (baseline)"] + 0.5
    appeared, message = content.EXPERIMENTS[3].check({"scores": scores.to_dict(), "run": "the coffee photo"})
    assert appeared and "Judged on your current run: the coffee photo" in message


def test_road_score_is_the_probability_with_least_relevant_removed_minus_with_most_relevant_removed():
    """What the page says ROAD is, on the coffee photo: the text, the chart's axis and the code agree."""
    from pytorch_grad_cam.metrics.road import ROADLeastRelevantFirst, ROADMostRelevantFirst
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    text, axis = sanity_checks.FAITHFULNESS_METRICS["ROAD"], sanity_checks.FAITHFULNESS_AXES["ROAD"]
    assert "least relevant pixels removed minus the class probability with the most relevant pixels removed" in text
    assert "averaged over removing 30 % and 70 % of the pixels" in text
    assert axis == "P(class | least relevant removed) - P(class | most relevant removed)"
    x, _ = inputs.photo_input(load_image("coffee"))
    with zoo.borrow("efficientnet_lite0") as model:
        heat = compute.class_activation_map(model, x, HEAD, "GradCAM", 967)
        score = sanity_checks.faithfulness_scores(model, x, 967, {"GradCAM": heat}, "ROAD", seed=0)["score"].item()
        targets, cams = [ClassifierOutputSoftmaxTarget(967)], heat[None]
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(0)  # the imputer's noise, drawn in the same order as faithfulness_scores draws it
            # the library's percentile p keeps p % of the pixels: 30 and 70 remove 70 % and 30 %
            kept_most = [ROADLeastRelevantFirst(p)(x, cams, targets, model, return_diff=False)[0] for p in (30, 70)]
            kept_least = [ROADMostRelevantFirst(p)(x, cams, targets, model, return_diff=False)[0] for p in (30, 70)]
    assert score == pytest.approx(np.mean(kept_most) - np.mean(kept_least), abs=1e-5)
    assert 0 < np.mean(kept_least) < np.mean(kept_most) <= 1  # both are probabilities


def test_keep_the_map_score_is_the_change_in_class_probability():
    x, _ = inputs.photo_input(load_image("coffee"))
    heat = sanity_checks.random_map((224, 224), 3)
    with zoo.borrow("efficientnet_lite0") as model, torch.no_grad():
        score = sanity_checks.faithfulness_scores(model, x, 967, {"m": heat}, "keep the map")["score"].item()
        before = model(x).softmax(-1)[0, 967].item()
        after = model(x * torch.from_numpy(heat)[None, None]).softmax(-1)[0, 967].item()
    assert sanity_checks.FAITHFULNESS_AXES["keep the map"] == "P(class | image x map) - P(class | image)"
    assert score == pytest.approx(after - before, abs=1e-5)


def test_torchcam_and_pytorch_grad_cam_gradcam_agree():
    x, _ = inputs.photo_input(load_image("cat"))
    info = zoo.info("efficientnet_lite0")
    paths = [info.target_layers[name] for name in ("stage 5 (112 ch, 14 px)", "head conv (1280 ch, 7 px)")]
    with zoo.borrow("efficientnet_lite0") as model:
        before = {k: v.clone() for k, v in model.state_dict().items()}
        table = torchcam_compare.gradcam_agreement(model, x, paths, 282)
        torchcam_compare.torchcam_maps(model, x, paths, 282)
        assert zoo.count_hooks(model) == 0
        assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert (table["pearson"] > 0.99).all()


def test_marker_box_is_where_the_data_module_says():
    images, labels = inputs.heldout_digits()
    marked = shortcut_markers.with_markers(images[:1], labels[:1], "class marker")[0]
    row0, col0, row1, col1 = marker_box(int(labels[0]))
    assert (marked[row0:row1, col0:col1] == 255).all()


# --------------------------------------------------------------------------- layer statistics


@pytest.fixture(scope="module")
def photo_layers():
    """Every EfficientNet target layer's activations over the bundled photos (the statistics view's collection)."""
    batch, _ = inputs.photo_collection()
    info = zoo.info("efficientnet_lite0")
    with zoo.borrow("efficientnet_lite0") as model:
        return {label: layer_statistics.layer_activations(model, batch, path)
                for label, path in info.target_layers.items()}


def test_seven_of_nine_target_layers_have_negative_values_and_the_sentence_says_which(photo_layers):
    negative = [label for label, acts in photo_layers.items() if acts.min() < -1]
    assert negative == [label for label in photo_layers if label.startswith("stage")] and len(negative) == 7
    for label, acts in photo_layers.items():
        sentences = content.statistics_sentences(label, acts.shape[1], len(acts), 1.0, 0, 0.05, 0.05,
                                                 has_negative=bool(acts.min() < 0))
        if label in negative:
            assert "a channel that swings far below zero is not silent" in sentences[2]
        else:
            assert acts.min() >= 0 and "never negative on these inputs" in sentences[2]


@pytest.mark.parametrize("label, threshold", [("stage 6 (192 ch, 7 px)", 0.3), ("stage 7 (320 ch, 7 px)", 0.3),
                                              ("head conv (1280 ch, 7 px)", 0.05)])
def test_silent_means_small_absolute_activation_everywhere(photo_layers, label, threshold):
    acts = photo_layers[label]  # (N, C, h, w)
    peak = layer_statistics.channel_peak_magnitudes(acts)
    silent, absolute = layer_statistics.silent_channels(peak, threshold)
    per_channel = acts.transpose(0, 1).flatten(1)  # (C, N*h*w)
    # the page's count is the number of channels within ±absolute on every input and position
    within = (per_channel.abs() <= absolute).all(1).numpy()
    np.testing.assert_array_equal(silent, within)
    assert absolute == pytest.approx(threshold * float(per_channel.abs().max()))
    max_only = (per_channel.amax(1) <= threshold * float(per_channel.amax())).numpy()
    if label.startswith("stage"):  # a max-only rule calls channels silent that swing far below zero
        assert (max_only & (per_channel.amin(1).numpy() < -2 * absolute)).sum() >= 1
    else:  # after ReLU6 both rules agree
        np.testing.assert_array_equal(silent, max_only)
    first, second, _ = content.statistics_sentences(label, len(peak), len(acts), float(peak.max()),
                                                    int(silent.sum()), threshold, absolute, True)
    assert f"the largest |activation| is {peak.max():.2f}" in first
    assert second.startswith(f"{silent.sum()} channels ({silent.mean():.0%}) stay within ±{absolute:.3f} "
                             f"({threshold:.2f} x that) on every input and position")
    assert "per position to the next layer" not in second  # the next layer's weights decide that
    assert "also depends on the weights that layer gives it" in second


# --------------------------------------------------------------------------- where a map's cells come from


def _linear_receptive_rows(model, layer_path: str, height: int) -> tuple[int, int]:
    """Measured receptive field along the height: the rows of a tall input that reach one middle-row
    cell, in a copy of the model with its ReLUs removed (so no gradient is switched off)."""
    import copy

    from torch import nn

    linear = copy.deepcopy(model)
    for module in list(linear.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, (nn.ReLU, nn.ReLU6)):
                setattr(module, name, nn.Identity())
    captured = {}
    handle = linear.get_submodule(layer_path).register_forward_hook(lambda m, i, o: captured.setdefault("out", o))
    width = min(32, height)  # the digits CNN takes 28 x 28 only
    x = torch.randn(1, model_channels(model), height, width, requires_grad=True)
    linear(x)
    handle.remove()
    out = captured["out"]  # (1, C, h, w)
    out[0, :, out.shape[-2] // 2, :].sum().backward()
    rows = (x.grad[0].abs().sum(dim=(0, 2)) > 0).nonzero().flatten()
    return int(rows.max() - rows.min() + 1), out.shape[-2]


def model_channels(model) -> int:
    return next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d)).in_channels


@pytest.mark.parametrize("model_name, label, stride, receptive_field, tall", [
    ("efficientnet_lite0", "stem (32 ch, 112 px)", 2, 3, 64),
    ("efficientnet_lite0", "stage 3 (40 ch, 28 px)", 8, 67, 256),
    ("efficientnet_lite0", "head conv (1280 ch, 7 px)", 32, 851, 1120),
    ("digits_cnn", "block 1 (16 ch, 28 px)", 1, 3, 28),
    ("digits_cnn", "block 2 (32 ch, 14 px)", 2, 8, 28),
])
def test_stride_and_receptive_field_from_the_architecture_match_the_measured_ones(
        model_name, label, stride, receptive_field, tall):
    model, info = zoo.load(model_name)
    path = info.target_layers[label]
    geo = layer_geometry(model, path, info.input_size)
    assert geo.stride == stride and geo.receptive_field == receptive_field
    assert geo.grid == (info.input_size[1] // stride,) * 2  # the stride is input size / grid size
    measured, _ = _linear_receptive_rows(model, path, tall)
    assert measured == receptive_field
    assert zoo.count_hooks(model) == 0


def test_heatmap_geometry_sentence_says_stride_and_receptive_field():
    model, info = zoo.load("efficientnet_lite0")
    label = "head conv (1280 ch, 7 px)"
    geo = layer_geometry(model, info.target_layers[label], info.input_size)
    sentence = content.geometry_sentence("GradCAM", label, geo)
    assert sentence.startswith("The map comes from the 7 x 7 grid of head conv: neighbouring cells are 32 input "
                               "pixels apart (the layer's stride), and each cell is computed from an 851 x 851-pixel "
                               "window of the input (its receptive field, more than the 224-pixel input itself)")
    assert "covers" not in sentence
    digits, digit_info = zoo.load("digits_cnn")
    first = layer_geometry(digits, "features.relu1", digit_info.input_size)
    assert "cells are 1 input pixel apart" in content.geometry_sentence("HiResCAM", "block 1 (16 ch, 28 px)", first)


def test_fullgrad_uses_no_single_layer_and_the_sentence_says_so(cat):
    x, class_index, _ = cat
    info = zoo.info("efficientnet_lite0")
    with zoo.borrow("efficientnet_lite0") as model:
        head = compute.class_activation_map(model, x, HEAD, "FullGrad", class_index)
        stem = compute.class_activation_map(model, x, "_stem_act", "FullGrad", class_index)
        geo = layer_geometry(model, HEAD, info.input_size)
    np.testing.assert_array_equal(head, stem)  # the target layer does not change it
    sentence = content.geometry_sentence("FullGrad", "head conv (1280 ch, 7 px)", geo)
    assert "FullGrad uses no single layer" in sentence and "no one grid, stride or receptive field applies" in sentence
    assert "7 x 7" not in sentence and "32" not in sentence


# --------------------------------------------------------------------------- ScoreCAM and AblationCAM


def _channel_weights(method: str, max_channels: int):
    """The channel weights ScoreCAM or AblationCAM give the head layer on a 96 px cat, and its activations."""
    import copy

    classes = compute._cam_classes()
    x, _ = inputs.photo_input(load_image("cat"))
    x = torch.nn.functional.interpolate(x, size=96, mode="bilinear", antialias=True)  # (1, 3, 96, 96)
    model = copy.deepcopy(zoo.load("efficientnet_lite0")[0])
    layer = model.get_submodule(HEAD)
    if method == "ScoreCAM":
        cam = classes["ScoreCAM"](model, [layer], max_channels)
    else:
        cam = classes["AblationCAM"](model, [layer], ablation_layer=classes["AblationLayer"](),
                                     ratio_channels_to_ablate=compute._ablation_ratio(1280, max_channels))
    acts = compute.layer_activations(model, x, HEAD).numpy()  # (1, 1280, 3, 3)
    with cam:
        xi = x.clone()
        weights = cam.get_cam_weights(xi, layer, compute._targets(282), acts, None)  # (1, 1280)
    return np.asarray(weights)[0], acts[0]


def test_scorecam_weights_only_the_most_active_channels():
    weights, acts = _channel_weights("ScoreCAM", 64)
    assert compute.scored_channels("ScoreCAM", 1280, 64) == 64
    most_active = set(np.argsort(-acts.reshape(1280, -1).mean(1))[:64].tolist())
    assert set(np.flatnonzero(weights).tolist()) <= most_active and np.count_nonzero(weights) > 50
    assert content.channels_sentence("ScoreCAM", 64, 1280) == (
        "ScoreCAM scored only the 64 of the layer's 1280 channels with the largest mean activation (one masked "
        "forward pass each); the other 1216 get weight 0. Set “Channels scored” to all to score every channel.")


def test_ablationcam_weights_only_the_ablated_channels():
    weights, _ = _channel_weights("AblationCAM", 64)
    assert compute.scored_channels("AblationCAM", 1280, 64) == 64
    assert 0 < np.count_nonzero(weights) <= 64
    assert "ablated only 64 of the layer's 1280 channels (the 32 that overlap its EigenCAM mask most and the 32 " \
           "that overlap it least); the other 1216 get weight 0" in content.channels_sentence("AblationCAM", 64, 1280)
    assert compute.scored_channels("AblationCAM", 16, 64) == 16  # the digits CNN's 16 channels: all of them



def test_augmentation_smoothing_changes_contrast_around_the_mean_not_brightness():
    """The help text: 6 copies, mirrored or not, the normalised input times 0.9, 1 and 1.1."""
    import pytorch_grad_cam as pgc
    import ttach as tta

    from lessons.activations.content import AUG_SMOOTH_FACTORS, AUG_SMOOTH_HELP

    cam = pgc.GradCAM(torch.nn.Sequential(torch.nn.Conv2d(3, 2, 1)), target_layers=[])
    kinds = [type(t).__name__ for t in cam.tta_transforms.aug_transforms]
    assert kinds == ["HorizontalFlip", "Multiply"]
    assert tuple(cam.tta_transforms.aug_transforms[1].params) == AUG_SMOOTH_FACTORS
    assert len(cam.tta_transforms) == 6 and "6 copies" in AUG_SMOOTH_HELP
    # in pixel space (EfficientNet: mean = std = 0.5), x1.1 of the normalised input keeps mid-grey and
    # moves every other pixel 10 % further from it: contrast, while brightness would shift them all
    pixels = torch.tensor([0.1, 0.5, 0.9])
    normalised = (pixels - 0.5) / 0.5
    back = tta.Multiply(factors=[1.1]).apply_aug_image(normalised, factor=1.1) * 0.5 + 0.5
    torch.testing.assert_close(back, torch.tensor([0.06, 0.5, 0.94]))
    assert "contrast" in AUG_SMOOTH_HELP and "bright" not in AUG_SMOOTH_HELP
