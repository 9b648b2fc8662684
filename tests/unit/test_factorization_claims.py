"""Every claim the factorization lesson states as fact, and every "Try this" effect, on the bundled
EfficientNet-Lite0.

Sentence (where the page says it) -> the test that asserts it:

| sentence | test |
|---|---|
| WHY: each channel is shifted by its minimum so the matrix has no negative entries | test_the_shifted_activations_have_no_negative_entries_though_stage_outputs_do |
| WHY, labels caption: a concept passed through the classifier head gets a label (softmax over 1,000 classes) | test_our_maps_equal_the_librarys_deep_feature_factorization |
| content.head_sentence, quiz 2: the head reads the global average of the head conv's 1280 channels | test_the_head_classifies_the_average_of_the_head_channels |
| content.no_labels_sentence: other layers' concepts have no labels, the head reads only 1280 channels | test_only_head_concepts_can_be_labelled |
| content.coverage_sentence: every pixel takes exactly one concept's colour, the colours tile the image | test_every_pixel_of_the_overlay_belongs_to_exactly_one_concept |
| Concepts caption: each pixel in its strongest concept's colour, as bright as that concept's map there | test_the_overlay_paints_each_pixel_in_its_strongest_concepts_colour_and_strength |
| "Each concept's map (the NMF coefficients H, scaled to [0, 1] and resized)" | test_our_maps_equal_the_librarys_deep_feature_factorization |
| content.monotone_sentence: the error never rises as k grows (cat, head and stage 7) | test_the_error_never_rises_with_k_and_the_elbow_is_where_the_page_says |
| Choosing k: "Suggested k: 5, the elbow"; "after it each extra concept explains less" | test_the_error_never_rises_with_k_and_the_elbow_is_where_the_page_says, test_after_the_elbow_each_extra_concept_explains_less_and_one_concept_splits_in_two |
| Choosing k caption: same initialisation policy (random, seed 0) | test_our_maps_equal_the_librarys_deep_feature_factorization (the library's dff: init="random", random_state=0) |
| quiz 3: after the elbow an extra concept splits one concept in two | test_after_the_elbow_each_extra_concept_explains_less_and_one_concept_splits_in_two |
| Try this "cat": a cat-labelled concept is >= 1.5 times as strong in the cat's box | test_a_cat_concept_lies_on_the_cat |
| content.CAT_CLASSES are ImageNet's domestic cats | test_the_cat_classes_are_imagenets_domestic_cats |
| Labels view: a concept with no class above 10 % is "as for a background or a border" | test_the_concept_the_head_recognises_nothing_in_lies_off_the_cat |
| Three ways: DFF gives every concept a strength at every position, so concepts can overlap | test_dff_concepts_overlap_where_kmeans_gives_one_cluster |
| Try this "shared", co-segmentation sentences: no head concept shared by cat and coffee; per-photo scaling paints absent concepts | test_the_cat_and_the_coffee_share_no_head_concept_though_per_photo_colours_suggest_they_do |
| the "shared" verdict: at stage 5 the same photos share their concepts | test_at_stage_5_the_same_two_photos_share_their_concepts |
| Co-segmentation caption: a concept weak in a photo stays dark there (joint scaling) | test_joint_scaling_keeps_a_concept_dark_where_it_is_absent |
| every verdict uses the threshold its question names | test_verdicts_use_the_thresholds_their_questions_name |

Checked elsewhere: EigenCAM's map is the library's (tests/unit/test_factorization.py,
test_eigencam_equals_the_librarys_at_the_head); "its line goes to the concept of k - 1 whose map is most
like its own" (test_concept_parents_find_the_split); the elbow rule (test_elbow_by_hand); refusing k above
min(channels, positions) (test_more_concepts_than_channels_or_positions_are_refused); the framing help's
"centre crop is how the model was evaluated" (test_centre_crop_is_the_models_preprocessing).
True by construction, not measured: the co-segmentation caption's "the same colour is the same concept in
every photo" (one NMF of all the photos' activations, one W); "this view always factorizes the head layer";
"concept numbers are NMF's order" (Choosing k); the adjusted Rand index's 1 and 0 (its definition).

Measured once (torch 2.14.1, grad-cam 1.5.7, scikit-learn 1.9.1), thresholds set with margin:
- cat photo, whole image, head conv: relative error 0.591 (k = 2) falling to 0.342 (k = 10), never
  rising; the elbow rule picks k = 5; the drops after it (0.017 to 0.024) are all below the drops before
  it (0.026 to 0.064); from k = 2 to 10 each step splits exactly one concept in two. Stage 7: never rising.
- k = 5 at the head: the top scores are 99.9, 98.2, 83.8, 2.5 and 65.6 %; the 2.5 % concept is 0.99 times
  as strong inside the cat's box (rows 37-185, columns 0-189 of the 224 x 224 framing) as outside; the
  cat concepts 5.9, 14.8 and 24.2 times. 3 % of the pixels have a second concept above 0.5.
- the head conv's activations (after ReLU6) are >= 0; stages 1 to 7 (block outputs, no activation) reach
  -15 to -44.
- cat + coffee, head, k = 4: no concept shared; the most shared is 2 % as strong in its weaker photo, and
  per-photo scaling (the library's) gives absent concepts 56 % of a photo's pixels. At stage 5 all 4 are
  shared (the weakest reach 85 %).
"""
from __future__ import annotations

import colorsys

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
    assert "The error never rises as k grows" in content.monotone_sentence(errors, SWEEP_KS)
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


def test_the_shifted_activations_have_no_negative_entries_though_stage_outputs_do(cat):
    with zoo.borrow("efficientnet_lite0") as model:
        stage5 = compute.layer_activations(model, compute.image_tensor(cat), LAYERS["stage 5 (112 ch, 14 px)"])
    assert stage5.min() < -1  # a block's output has no activation: the raw matrix is not non-negative
    matrix = stage5[0].reshape(stage5.shape[1], -1)
    shifted = matrix - matrix.min(axis=1, keepdims=True)  # what compute.factorize (the library's dff) factorizes
    assert shifted.min() == 0
    result = compute.factorize(stage5, 4)
    assert result.maps.min() >= 0 and result.error < 1


def test_only_head_concepts_can_be_labelled(cat):
    data = results.concepts(cat, "stage 7 (320 ch, 7 px)", 3)
    assert "label_classes" not in data and "have no labels" in content.no_labels_sentence("stage 7 (320 ch, 7 px)")
    with zoo.borrow("efficientnet_lite0") as model:
        assert model._fc.in_features == 1280
        with pytest.raises(compute.FactorizationError):
            compute.concept_scores(model, np.ones((320, 3), np.float32))


def test_the_overlay_paints_each_pixel_in_its_strongest_concepts_colour_and_strength():
    from lessons.factorization import drawing
    from lessons.factorization.settings import colour_rgb

    heat = np.zeros((3, 2, 2), np.float32)
    heat[0, 0, 0], heat[1, 0, 1], heat[2, 1, 0], heat[2, 1, 1] = 1.0, 1.0, 1.0, 0.5
    heat[1, 0, 0] = 0.9  # concept 1 is strong at (0, 0) too, but concept 0 is stronger: 0 wins
    overlay = drawing.factorization_overlay(np.zeros((2, 2, 3), np.uint8), heat, image_weight=0.0)
    for (row, col), index, strength in (((0, 0), 0, 1.0), ((0, 1), 1, 1.0), ((1, 0), 2, 1.0), ((1, 1), 2, 0.5)):
        hue, saturation, value = colorsys.rgb_to_hsv(*(overlay[row, col] / 255.0))
        want_hue, want_saturation, _ = colorsys.rgb_to_hsv(*colour_rgb(index))
        assert hue == pytest.approx(want_hue, abs=0.02) and saturation == pytest.approx(want_saturation, abs=0.03)
        assert value == pytest.approx(strength, abs=0.01)  # as bright (HSV value) as the map


def test_after_the_elbow_each_extra_concept_explains_less_and_one_concept_splits_in_two(cat_sweep):
    from lessons.factorization.views import split_summary

    errors = np.float64(cat_sweep["errors"])
    drops = -np.diff(errors)  # drops[i]: from SWEEP_KS[i] to SWEEP_KS[i + 1]
    at = SWEEP_KS.index(maps.elbow(SWEEP_KS, errors))
    assert drops[at:].max() < drops[:at].min()
    for k in SWEEP_KS[at + 1:]:
        splits = split_summary(cat_sweep[f"parents_{k}"])
        assert [len(children) for _, children in splits] == [2], k


def test_the_cat_classes_are_imagenets_domestic_cats():
    labels = zoo.info("efficientnet_lite0").labels
    assert [labels.index(name) for name in content.CAT_CLASSES] == [281, 282, 283, 284, 285]
    assert labels[280] == "grey fox" and labels[286] == "cougar"  # the neighbours are not house cats


def test_the_concept_the_head_recognises_nothing_in_lies_off_the_cat(cat):
    data = results.concepts(cat, HEAD, 5)
    upsampled = maps.scale_and_resize(data["maps"], cat.shape[:2])
    region = maps.box_mask(cat.shape[:2], CAT_BOX)
    flat = [i for i in range(5) if data["label_scores"][i, 0] < content.FLAT_SCORE]
    assert flat  # measured: one, 2.5 %
    assert all(maps.inside_over_outside(upsampled[i], region) < content.CLEAR_CONTRAST for i in flat)


def test_dff_concepts_overlap_where_kmeans_gives_one_cluster(cat):
    data = results.three_ways(cat, HEAD, 5, 0)
    upsampled = maps.scale_and_resize(data["maps"], cat.shape[:2])
    second = np.sort(upsampled, axis=0)[-2]  # (H, W): the second-strongest concept at each pixel
    assert (second > 0.5).mean() > 0.01  # measured 3 %: two concepts strongly present at once
    assert data["segments"].shape == data["maps"].shape[1:] and data["segments"].dtype.kind == "i"
