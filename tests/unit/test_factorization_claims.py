"""Every claim the factorization lesson states as fact, and every "Try this" effect, on the bundled
EfficientNet-Lite0.

Measured once (torch 2.14.1, grad-cam 1.5.7, scikit-learn 1.9.1), thresholds set with margin:
- cat photo, whole image, head conv: relative error 0.591 (k = 2) falling to 0.342 (k = 10), never
  rising; the elbow rule picks k = 5. Stage 7: never rising either.
- k = 5 at the head: every concept names a cat somewhere in its top 3 (the two border concepts with
  scores of a few %); three are 5.9, 14.9 and 24.2 times as strong inside the cat's box (rows 37-185,
  columns 0-189 of the 224 x 224 framing) as outside, the two border concepts 1.0.
- astronaut + Grace Hopper, head, k = 4: all 4 concepts win at least 5% of both portraits.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lessons.factorization import compute, content, inputs, maps, results
from lessons.factorization.settings import DEFAULTS, HEAD, LAYERS, SWEEP_KS
from models import zoo

CAT_BOX = (37, 0, 186, 190)  # measured once on the cat photo in the whole-image framing (row0, col0, row1, col1)


@pytest.fixture(scope="module")
def cat():
    return inputs.bundled_rgb("cat", "whole image")


@pytest.fixture(scope="module")
def cat_sweep(cat):
    return results.sweep(cat, HEAD)


def test_the_error_never_rises_with_k_and_the_elbow_is_where_the_page_says(cat, cat_sweep):
    errors = [float(e) for e in cat_sweep["errors"]]
    assert all(b <= a for a, b in zip(errors, errors[1:]))
    assert maps.elbow(SWEEP_KS, errors) == 5
    assert "never rises" in content.monotone_sentence(errors, SWEEP_KS)
    stage7 = results.sweep(cat, "stage 7 (320 ch, 7 px)")["errors"]
    assert all(b <= a for a, b in zip(stage7, stage7[1:]))


def test_every_pixel_of_the_overlay_belongs_to_exactly_one_concept(cat):
    for layer, k in ((HEAD, 5), ("stage 4 (80 ch, 14 px)", 7)):
        data = results.concepts(cat, layer, k)
        upsampled = maps.scale_and_resize(data["maps"], cat.shape[:2])
        assignment = maps.strongest_concept(upsampled)
        assert assignment.shape == cat.shape[:2]  # the overlay covers the image
        assert set(np.unique(assignment)) <= set(range(k))
        counts = np.bincount(assignment.ravel(), minlength=k)
        assert counts.sum() == cat.shape[0] * cat.shape[1]  # each pixel counted once, no pixel left out
        assert maps.concept_shares(assignment, k).sum() == pytest.approx(1.0)


def test_a_cat_concept_lies_on_the_cat(cat):
    assert content.CAT_BOX == CAT_BOX
    data = results.concepts(cat, HEAD, 5)
    upsampled = maps.scale_and_resize(data["maps"], cat.shape[:2])
    labels = zoo.info("efficientnet_lite0").labels
    region = maps.box_mask(cat.shape[:2], CAT_BOX)
    cats = [i for i in range(5) if any(labels[int(c)] in content.CAT_CLASSES for c in data["label_classes"][i, :3])]
    assert cats
    assert max(maps.inside_over_outside(upsampled[i], region) for i in cats) >= content.CLEAR_CONTRAST
    appeared, message = content.EXPERIMENTS[0].check({"cat_contrast": {"best": 2.3, "name": "1", "count": 3},
                                                      "run": "the cat photo"})
    assert appeared and "Judged on the cat photo" in message


def test_our_maps_equal_the_librarys_deep_feature_factorization(cat):
    from pytorch_grad_cam import DeepFeatureFactorization

    data = results.concepts(cat, HEAD, 5)
    with zoo.borrow("efficientnet_lite0") as model:
        dff = DeepFeatureFactorization(model, model._head_act, computation_on_concepts=model._fc)
        _, explanations, logits = dff(compute.image_tensor(cat), n_components=5)
        dff.activations_and_grads.release()
    np.testing.assert_allclose(maps.scale_and_resize(data["maps"], cat.shape[:2]), explanations[0], atol=1e-4)
    library_scores = torch.from_numpy(logits).softmax(-1).numpy()
    classes, scores = compute.top_classes(library_scores, 5)
    np.testing.assert_array_equal(data["label_classes"], classes)
    np.testing.assert_allclose(data["label_scores"], scores, atol=1e-4)


def test_the_head_classifies_the_average_of_the_head_channels(cat):
    """content.head_sentence: the head reads the global average of the head conv's 1280 channels."""
    x = compute.image_tensor(cat)
    with zoo.borrow("efficientnet_lite0") as model:
        acts = compute.layer_activations(model, x, LAYERS[HEAD])  # (1, 1280, 7, 7)
        with torch.no_grad():
            logits = model(x)
            from_average = model._fc(torch.from_numpy(acts).mean(dim=(2, 3)))
        assert acts.shape[1] == model._fc.in_features == 1280
    torch.testing.assert_close(from_average, logits, atol=1e-4, rtol=1e-4)


def test_two_portraits_share_concepts():
    names = DEFAULTS["co_images"]
    data = results.cosegmentation([inputs.bundled_rgb(n, "whole image") for n in names], HEAD, 4)
    shares = np.float32([maps.concept_shares(maps.strongest_concept(maps.scale_and_resize(m, (224, 224))), 4)
                         for m in data["maps"]])
    assert ((shares >= content.PRESENT).all(axis=0)).sum() >= 1


def test_verdicts_use_the_thresholds_their_questions_name():
    cat, error, shared = content.EXPERIMENTS
    assert f"at least {content.CLEAR_CONTRAST} times" in cat.question
    assert cat.check({"cat_contrast": {"best": content.CLEAR_CONTRAST, "name": "1", "count": 1}})[0]
    assert not cat.check({"cat_contrast": {"best": content.CLEAR_CONTRAST - 0.01, "name": "1", "count": 1}})[0]
    assert error.check({"errors": [0.5, 0.4, 0.4]})[0] and not error.check({"errors": [0.5, 0.51, 0.4]})[0]
    assert f"{content.PRESENT:.0%}" in shared.question
    assert not shared.check({"shared": {"count": 0, "names": [], "k": 4}})[0]
    assert "Judged on" in shared.check({"shared": {"count": 1, "names": ["1"], "k": 4}, "run": "x"})[1]
    assert not cat.check({"failed": True})[0]
