"""Every claim the activation-heatmap lesson states, and every "Try this" effect, on the bundled models.

Measured once (torch 2.14.1, the bundled weights), thresholds set with margin:
- shortcut CNN, HiResCAM at block 1, 100 held-out digits with their class marker: mean 0.65 of the map
  on the marker box (min 0.51); honest CNN 0.06; Grad-CAM on the shortcut CNN 0.12 (digit 0: 0.05).
- Grad-CAM at the head on the whole cat photo, top class: 0.81 of the mass on the cat, 0.06 on the
  background strip, density ratio 3.1.
- cascading randomization on the cat: Grad-CAM's rank correlation 0.55 after the classifier, ~0 at the
  end; EigenCAM 1.0 after the classifier.
- ROAD on the coffee photo: Grad-CAM +0.38, random map +0.04.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from data import load_image
from data.shortcut import marker_box
from lessons.activations import compute, inputs, map_tools, sanity_checks, shortcut_markers, torchcam_compare
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
    assert marker_shares("shortcut_cnn", "HiResCAM", [0])[0] > 0.4


def test_gradcam_spreads_the_shortcut_over_the_digit():
    shares = marker_shares("shortcut_cnn", "GradCAM")
    assert shares.mean() < 0.25
    assert shares[0] < 0.3  # the "Grad-CAM can hide the shortcut" experiment, default digit


def test_shortcut_model_is_perfect_with_markers_and_follows_a_wrong_one():
    images, labels = inputs.heldout_digits()
    table = shortcut_markers.marker_accuracy_table({n: zoo.load(n)[0] for n in ("digits_cnn", "shortcut_cnn")},
                                                   images, labels)
    acc = table.set_index(["model", "markers"])["accuracy"]
    assert acc[("shortcut_cnn", "class marker")] >= 0.99
    assert acc[("shortcut_cnn", "wrong marker")] < 0.1
    assert acc[("shortcut_cnn", "no marker")] < acc[("digits_cnn", "no marker")] - 0.2
    assert min(acc[("digits_cnn", m)] for m in shortcut_markers.MARKER_MODES) > 0.9  # the honest model ignores markers


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
    assert scores["GradCAM"] > scores["random map (baseline)"] + 0.1


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
