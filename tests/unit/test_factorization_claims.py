"""Every claim the factorization lesson states as fact, and every "Try this" effect, on the bundled
EfficientNet-Lite0.

Measured once (torch 2.14.1, grad-cam 1.5.7, scikit-learn 1.9.1), thresholds set with margin:
- cat photo, whole image, head conv: relative error 0.591 (k = 2) falling to 0.342 (k = 10), never
  rising; the elbow rule picks k = 5. Stage 7: never rising either.
- k = 5 at the head: every concept names a cat somewhere in its top 3 (the two border concepts with
  scores of a few %); three are 5.9, 14.9 and 24.2 times as strong inside the cat's box (rows 37-185,
  columns 0-189 of the 224 x 224 framing) as outside, the two border concepts 1.0.
- cat + coffee, head, k = 4: no concept shared; the most shared is 2 % as strong in its weaker photo, and
  per-photo scaling (the library's) gives absent concepts 56 % of a photo's pixels. At stage 5 all 4 are
  shared (the weakest reach 85 %).
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


def coseg_sharing(names, layer, k):
    from lessons.factorization import helpers

    data = results.cosegmentation([inputs.bundled_rgb(n, "whole image") for n in names], layer, k)
    return helpers.concept_sharing(data["maps"], helpers.concept_names(data, k))


def test_the_cat_and_the_coffee_share_no_head_concept_though_per_photo_colours_suggest_they_do():
    shared = content.EXPERIMENTS[2]
    preset = shared.setup
    assert (preset["co_images"], preset["co_layer"], preset["co_k"]) == (["cat", "coffee"], HEAD, 4)
    sharing = coseg_sharing(preset["co_images"], HEAD, 4)
    assert sharing["count"] == 0 and sharing["best_reach"] < 0.1  # measured 2 %
    assert sharing["painted"] > 0.3  # measured 56 %: the library's per-photo scaling paints absent concepts
    appeared, message = shared.check({"shared": sharing, "run": "cat, coffee (whole image), head conv with k = 4"})
    assert appeared and shared.predictions[shared.expected].startswith("no")
    assert f"{sharing['best_reach']:.0%} as strong" in message and f"{sharing['painted']:.0%} of its pixels" in message
    assert "Judged on cat, coffee" in message


def test_at_stage_5_the_same_two_photos_share_their_concepts():
    """The verdict's suggestion: an earlier stage's concepts are shared (textures, not objects)."""
    sharing = coseg_sharing(["cat", "coffee"], "stage 5 (112 ch, 14 px)", 4)
    assert sharing["count"] >= 3 and sharing["best_reach"] > 0.5  # measured 4 of 4, 85 %
    assert not content.EXPERIMENTS[2].check({"shared": sharing})[0]


def test_joint_scaling_keeps_a_concept_dark_where_it_is_absent():
    raw = np.zeros((2, 2, 2, 2), np.float32)
    raw[0, 0] = [[4, 0], [0, 0]]  # concept 0 strong in image 0
    raw[1, 0] = [[0.04, 0], [0, 0]]  # and 1 % as strong in image 1
    raw[:, 1] = 1.0
    raw[1, 1, 0, 0] = 2.0
    joint = maps.jointly_scale_and_resize(raw, (2, 2))
    assert joint[0, 0, 0, 0] == pytest.approx(1) and joint[1, 0].max() == pytest.approx(0.01, abs=1e-3)
    assert maps.scale_and_resize(raw[1], (2, 2))[0].max() == pytest.approx(1, abs=1e-3)  # per photo it would shine
    reach = maps.concept_reach(raw)
    np.testing.assert_allclose(reach[:, 0], [1, 0.01], atol=1e-6)


def test_verdicts_use_the_thresholds_their_questions_name():
    cat, error, shared = content.EXPERIMENTS
    assert f"at least {content.CLEAR_CONTRAST} times" in cat.question
    assert cat.check({"cat_contrast": {"best": content.CLEAR_CONTRAST, "name": "1", "count": 1}})[0]
    assert not cat.check({"cat_contrast": {"best": content.CLEAR_CONTRAST - 0.01, "name": "1", "count": 1}})[0]
    assert error.check({"errors": [0.5, 0.4, 0.4]})[0] and not error.check({"errors": [0.5, 0.51, 0.4]})[0]
    assert f"{content.PRESENT:.0%}" in shared.question
    one = {"count": 1, "names": ["1"], "k": 4, "best_name": "1", "best_reach": content.PRESENT, "painted": 0.0}
    assert not shared.check({"shared": one})[0]
    assert shared.check({"shared": {**one, "count": 0, "best_reach": content.PRESENT - 0.01}})[0]
    assert "Judged on x" in shared.check({"shared": one, "run": "x"})[1]
    assert not cat.check({"failed": True})[0]
