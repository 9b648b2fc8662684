"""The factorization lesson's compute on small hand-made arrays and on the bundled model: the maths
equals pytorch-grad-cam's, refusals carry a message, the shared model is left alone, the shipped
default equals a fresh computation, the pictures are drawn as the library draws them, diy.py runs."""
from __future__ import annotations


import numpy as np
import pytest
import torch

from lessons.factorization import compute, drawing, inputs, maps, results, store
from lessons.factorization.errors import FactorizationError
from lessons.factorization.precompute import default_jobs
from models import zoo


def two_part_activations() -> np.ndarray:
    """(1, 4, 4, 4): channels 0-1 fire on the left half, channels 2-3 on the right half."""
    acts = np.zeros((1, 4, 4, 4), dtype=np.float32)
    acts[0, :2, :, :2] = [[1.0]], [[2.0]]
    acts[0, 2:, :, 2:] = [[3.0]], [[1.0]]
    return acts


def test_two_concepts_split_left_and_right_exactly():
    result = compute.factorize(two_part_activations(), 2)
    assert result.error < 1e-3  # rank 2: NMF reproduces it
    assignment = maps.strongest_concept(result.maps[0])  # (4, 4)
    assert len(set(assignment[:, :2].ravel())) == 1 and len(set(assignment[:, 2:].ravel())) == 1
    assert assignment[0, 0] != assignment[0, 3]


def test_factorize_is_the_librarys_dff():
    from pytorch_grad_cam.feature_factorization.deep_feature_factorization import dff

    acts = np.float32(np.random.default_rng(1).random((2, 6, 3, 3)))
    ours = compute.factorize(acts, 3)
    concepts, explanations = dff(acts.copy(), 3)
    np.testing.assert_allclose(ours.concepts, concepts, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.maps, explanations, rtol=1e-5, atol=1e-6)


def test_more_concepts_than_channels_or_positions_are_refused():
    acts = np.ones((1, 3, 2, 2), dtype=np.float32)  # 3 channels, 4 positions
    with pytest.raises(FactorizationError, match="min\\(channels, positions\\) = 3"):
        compute.factorize(acts, 4, "a small layer")
    with pytest.raises(FactorizationError, match="4 positions"):
        compute.kmeans_segments(np.ones((1, 8, 2, 2), dtype=np.float32), 5)
    compute.check_rank(3, 3, 4)  # the largest k is accepted


def test_scale_and_resize_is_the_librarys_scale_cam_image():
    from pytorch_grad_cam.utils.image import scale_cam_image

    small = np.float32(np.random.default_rng(2).random((3, 7, 7)))
    np.testing.assert_allclose(maps.scale_and_resize(small, (224, 224)), scale_cam_image(small.copy(), (224, 224)),
                               atol=1e-6)


def test_overlay_is_the_librarys_show_factorization_on_image():
    from pytorch_grad_cam.utils.image import show_factorization_on_image
    from lessons.factorization.settings import colour_rgb

    rng = np.random.default_rng(3)
    rgb = np.uint8(rng.integers(0, 256, (32, 32, 3)))
    heat = np.float32(rng.random((4, 32, 32)))
    library = show_factorization_on_image(rgb / 255.0, heat.copy(), colors=[np.array(colour_rgb(i)) for i in range(4)],
                                          image_weight=0.3)
    np.testing.assert_array_equal(drawing.factorization_overlay(rgb, heat, 0.3), library)


def test_strongest_concept_and_shares():
    heat = np.zeros((3, 2, 2), dtype=np.float32)
    heat[0, 0, 0] = heat[1, 0, 1] = heat[2, 1, :] = 1.0
    assignment = maps.strongest_concept(heat)
    np.testing.assert_array_equal(assignment, [[0, 1], [2, 2]])
    np.testing.assert_allclose(maps.concept_shares(assignment, 3), [0.25, 0.25, 0.5])
    region = maps.box_mask((2, 2), (0, 0, 1, 2))
    assert maps.inside_over_outside(np.float32([[2, 2], [1, 1]]), region) == 2.0


def test_elbow_by_hand():
    assert maps.elbow([1, 2, 3, 4, 5], [10, 4, 3, 2.5, 2]) == 2
    assert maps.elbow([2, 3, 4], [1, 1, 1]) == 2  # flat: the first k
    assert maps.elbow([2, 3, 4, 5, 6], [1.0, 0.95, 0.9, 0.3, 0.25]) == 5


def test_concept_parents_find_the_split():
    before = np.zeros((1, 2, 1, 4), dtype=np.float32)
    before[0, 0, 0, :2] = 1  # left half
    before[0, 1, 0, 2:] = 1  # right half
    after = np.zeros((1, 3, 1, 4), dtype=np.float32)
    after[0, 0, 0, 2:] = 1  # right half again
    after[0, 1, 0, 0] = 1  # the left half split in two
    after[0, 2, 0, 1] = 1
    parents, similarity = compute.concept_parents(before, after)
    np.testing.assert_array_equal(parents, [1, 0, 0])
    assert similarity[0] == pytest.approx(1.0)
    from lessons.factorization.views import split_summary
    assert split_summary(parents) == [(0, [1, 2])]


def test_eigencam_equals_the_librarys_at_the_head():
    from pytorch_grad_cam import EigenCAM

    x = compute.image_tensor(inputs.bundled_rgb("coffee", "centre crop"))
    with zoo.borrow("efficientnet_lite0") as model:
        acts = compute.layer_activations(model, x, "_head_act")
        with EigenCAM(model, [model._head_act]) as cam:
            library = cam(x, targets=None)[0]  # (224, 224)
    np.testing.assert_allclose(compute.eigencam_map(acts)[0], library, atol=1e-4)


def test_centre_crop_is_the_models_preprocessing():
    from data import load_image
    from models.efficientnet_lite import preprocess_image

    rgb = inputs.bundled_rgb("cat", "centre crop")
    torch.testing.assert_close(compute.image_tensor(rgb), preprocess_image(load_image("cat")))
    whole = inputs.bundled_rgb("cat", "whole image")  # 451 x 300 -> 224 x 149 between grey bands
    assert whole.shape == (224, 224, 3) and (whole[:37] == inputs.PAD_GREY).all() and (whole[187:] == inputs.PAD_GREY).all()
    assert not (whole[40:180] == inputs.PAD_GREY).all()


def test_every_view_leaves_the_shared_model_alone():
    model, _ = zoo.load("efficientnet_lite0")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hooks = zoo.count_hooks(model)
    rgb = inputs.bundled_rgb("cat", "whole image")
    results.concepts(rgb, "stage 7 (320 ch, 7 px)", 3)
    results.cosegmentation([rgb, inputs.bundled_rgb("coffee", "whole image")], "head conv (1280 ch, 7 px)", 2)
    results.three_ways(rgb, "stage 6 (192 ch, 7 px)", 3, 0)
    assert zoo.count_hooks(model) == hooks
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.training


def test_the_shipped_default_equals_a_fresh_computation():
    for key, job in default_jobs().items():
        shipped, fresh = store.shipped(key), job()
        assert shipped is not None, key
        assert sorted(shipped) == sorted(fresh)
        for field, value in fresh.items():
            np.testing.assert_allclose(shipped[field], value, rtol=1e-4, atol=1e-5, err_msg=f"{key}/{field}")


def test_do_it_yourself_notebook_runs(tmp_path):
    from tests.unit.notebook_run import run_notebook

    out = run_notebook("factorization", tmp_path)  # diy.py, cell by cell
    assert out.count("concept ") == 5 and "cat" in out
    assert (tmp_path / "dff_cat.png").stat().st_size > 1000
