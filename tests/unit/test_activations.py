"""lessons/activations/compute.py and its sibling modules (inputs, map_tools, torchcam_compare, layer_statistics,
shortcut_markers, sanity_checks) on tiny hand-built models with answers checkable by hand, plus
hook and state restoration on the shared zoo models."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from lessons.activations import (compute, inputs, layer_statistics, map_tools, sanity_checks, shortcut_markers,
                                 torchcam_compare)
from models import zoo


class TwoChannelNet(nn.Module):
    """Input (B, 2, 4, 4) -> identity 1x1 conv -> ReLU (target layer) -> global average -> linear.

    Class 0 = channel 0 - channel 1, class 1 = channel 1 - channel 0. Grad-CAM's channel weights are
    the gradients averaged over the 4x4 positions: (+1/16, -1/16) for class 0.
    """

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 2)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(2).view(2, 2, 1, 1))
            self.conv.bias.zero_()
            self.fc.weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(self.pool(self.relu(self.conv(x))).flatten(1))  # (B, 2)


def two_squares() -> torch.Tensor:
    """Channel 0 bright in the top-left 2x2, channel 1 bright in the bottom-right 2x2."""
    x = torch.zeros(1, 2, 4, 4)
    x[0, 0, :2, :2] = 1.0
    x[0, 1, 2:, 2:] = 2.0
    return x


@pytest.fixture
def net():
    model = TwoChannelNet().eval()
    model.requires_grad_(False)  # like the zoo's shared models
    return model


TOP_LEFT = map_tools.box_mask((4, 4), (0, 0, 2, 2))
BOTTOM_RIGHT = map_tools.box_mask((4, 4), (2, 2, 4, 4))


@pytest.mark.parametrize("method", ["GradCAM", "HiResCAM", "GradCAM++", "XGradCAM", "LayerCAM"])
def test_gradient_methods_point_at_the_class_square(net, method):
    for class_index, region in ((0, TOP_LEFT), (1, BOTTOM_RIGHT)):
        heat = compute.class_activation_map(net, two_squares(), "relu", method, class_index)
        assert heat.shape == (4, 4)
        assert map_tools.mass_share(heat, region) == pytest.approx(1.0, abs=1e-5)


def test_gradcam_by_hand(net):
    # weights (+1/16, -1/16); map = relu(a0 - a1) / 16 = 1/16 on the top-left square, then scaled to max 1
    heat = compute.class_activation_map(net, two_squares(), "relu", "GradCAM", 0)
    expected = np.zeros((4, 4), np.float32)
    expected[:2, :2] = 1.0
    np.testing.assert_allclose(heat, expected, atol=1e-5)


def test_eigencam_is_class_agnostic(net):
    maps = [compute.class_activation_map(net, two_squares(), "relu", "EigenCAM", c) for c in (0, 1)]
    np.testing.assert_allclose(maps[0], maps[1])


def test_scorecam_with_one_channel_scores_only_the_most_active(net):
    # channel 1 has the larger mean (2 x 4 / 16): its softmax weight is 1, so the map is that channel
    heat = compute.class_activation_map(net, two_squares(), "relu", "ScoreCAM", 1, max_channels=1)
    assert map_tools.mass_share(heat, BOTTOM_RIGHT) == pytest.approx(1.0, abs=1e-5)


def test_progress_is_reported_for_slow_methods(net):
    for method in ("ScoreCAM", "AblationCAM"):
        seen = []
        compute.class_activation_maps(net, two_squares(), ["relu"], method, 0, max_channels=None,
                                      batch_size=1, progress=lambda f, label: seen.append(f))
        assert seen and seen[-1] == pytest.approx(1.0) and all(0 <= f <= 1 for f in seen), method


def test_thin_svd_matches_the_library_projection():
    from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

    acts = np.maximum(np.random.default_rng(0).standard_normal((2, 6, 5, 5)), 0).astype(np.float32)
    np.testing.assert_allclose(compute.thin_svd_projection(acts), get_2d_projection(acts), atol=1e-4)


def test_fast_fullgrad_matches_the_library():
    from pytorch_grad_cam import FullGrad
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 5, 3, stride=2),
                          nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 3)).eval()
    x = torch.randn(1, 3, 12, 12)
    with FullGrad(model, []) as cam:
        expected = cam(x.clone().requires_grad_(True), [ClassifierOutputTarget(2)])[0]
    ours = compute.class_activation_map(model, x, "3", "FullGrad", 2)
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    # eigen smoothing: the library's steps through the thin SVD; a principal component has no sign, so the
    # two may be each other's negative (1 - map after the rescale)
    x = torch.randn(1, 3, 32, 32)
    with FullGrad(model, []) as cam:
        expected = cam(x.clone().requires_grad_(True), [ClassifierOutputTarget(2)], eigen_smooth=True)[0]
    ours = compute.class_activation_map(model, x, "3", "FullGrad", 2, eigen_smooth=True)
    assert min(np.abs(ours - expected).max(), np.abs(ours - (1 - expected)).max()) < 1e-4
    assert ours.std() > 0.1


@pytest.mark.parametrize("method", compute.PLAIN_GRADIENT_METHODS)
def test_plain_gradient_cams_match_the_library(method):
    """The page's fast path (no pytorch-grad-cam import) gives the library's maps, layer by layer."""
    from pytorch_grad_cam import GradCAM, HiResCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, stride=2), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 3)).eval()
    model.requires_grad_(False)
    x = torch.randn(1, 3, 12, 12)
    ours = compute.plain_gradient_cams(model, x, ["1", "3"], method, 2)  # (2, 12, 12)
    for i, layer in enumerate(("1", "3")):
        with {"GradCAM": GradCAM, "HiResCAM": HiResCAM}[method](model, [model.get_submodule(layer)]) as cam:
            expected = cam(x.clone().requires_grad_(True), [ClassifierOutputTarget(2)])[0]
        np.testing.assert_allclose(ours[i], expected, atol=1e-5)
    assert ours.std() > 0.05  # not two flat maps
    assert sum(len(m._forward_hooks) for m in model.modules()) == 0


@pytest.mark.parametrize("method", list(compute.METHODS) + ["Random"])
def test_every_method_removes_its_hooks_and_keeps_the_weights(net, method):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    maps = compute.class_activation_maps(net, two_squares(), ["relu", "conv"], method, 0, max_channels=2)
    assert maps.shape == (2, 4, 4) and np.isfinite(maps).all()
    assert zoo.count_hooks(net) == 0
    assert isinstance(net.relu, nn.ReLU)  # AblationCAM swaps a layer: only on its copy
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key])


def test_unknown_method_is_refused(net):
    with pytest.raises(ValueError, match="unknown method"):
        compute.class_activation_map(net, two_squares(), "relu", "MagicCAM", 0)


def test_grid_has_methods_by_layers(net):
    grid = compute.method_layer_grid(net, two_squares(), ["GradCAM", "EigenCAM", "FullGrad"], ["relu", "conv"], 0)
    assert grid.shape == (3, 2, 4, 4)
    np.testing.assert_allclose(grid[2, 0], grid[2, 1])  # FullGrad ignores the layer


# --------------------------------------------------------------------------- the shared zoo models


def test_zoo_model_hooks_and_state_restored_after_every_view():
    _, info = zoo.load("digits_cnn")
    images, labels = inputs.heldout_digits()
    x, _ = inputs.digit_input(images[0])
    with zoo.borrow("digits_cnn") as model:
        before = {k: v.clone() for k, v in model.state_dict().items()}
        paths = list(info.target_layers.values())
        for method in compute.METHODS:
            compute.class_activation_maps(model, x, paths, method, int(labels[0]), max_channels=8)
        torchcam_compare.torchcam_maps(model, x, paths, int(labels[0]), num_samples=2)
        torchcam_compare.gradcam_agreement(model, x, paths, int(labels[0]))
        layer_statistics.layer_activations(model, x, paths[0])
        sanity_checks.cascading_randomization(model, x, paths[-1], int(labels[0]), ["GradCAM"])
        sanity_checks.faithfulness_scores(model, x, int(labels[0]), {"a": sanity_checks.random_map((28, 28), 0)},
                                          "ROAD", percentiles=(50,))
        assert zoo.count_hooks(model) == 0
    assert zoo.count_hooks(model) == 0
    assert not any(p.requires_grad for p in model.parameters())
    assert not model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


# --------------------------------------------------------------------------- inputs and uploads


def encoded(fmt: str, size=(64, 48), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_upload_accepts_jpeg_png_webp(fmt):
    image = inputs.open_upload(encoded(fmt))
    assert image.mode == "RGB" and image.size == (64, 48)


def test_upload_converts_transparent_png_to_rgb():
    assert inputs.open_upload(encoded("PNG", mode="RGBA")).mode == "RGB"


@pytest.mark.parametrize("data, options, message", [
    (b"", {}, "empty"),
    (b"definitely not an image" * 10, {}, "not a readable"),
    (encoded("GIF"), {}, "GIF files are not supported"),
    (encoded("PNG"), {"max_bytes": 100}, "limit is"),
    (encoded("PNG", size=(400, 400)), {"max_pixels": 100_000}, "megapixels"),
    (encoded("PNG", size=(8, 8)), {}, "at least 16 pixels"),
    (encoded("PNG", size=(400, 20)), {}, "10 times"),
])
def test_upload_refuses_bad_files_with_a_message(data, options, message):
    with pytest.raises(inputs.UploadError, match=message):
        inputs.open_upload(data, **options)


def test_upload_refuses_a_truncated_jpeg():
    data = encoded("JPEG", size=(256, 256))
    with pytest.raises(inputs.UploadError):
        inputs.open_upload(data[: len(data) // 2])


def test_photo_input_framings():
    image = Image.new("RGB", (300, 150), (255, 0, 0))
    for framing in inputs.FRAMINGS:
        x, rgb = inputs.photo_input(image, framing)
        assert x.shape == (1, 3, 224, 224) and rgb.shape == (224, 224, 3)
        assert 0 <= rgb.min() and rgb.max() <= 1
    _, whole = inputs.photo_input(image, "whole image")
    assert whole[0, 0] == pytest.approx([128 / 255] * 3)  # grey padding above a wide photo
    assert whole[112, 112] == pytest.approx([1.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        inputs.photo_input(image, "stretch")


def test_digit_input_and_bytes_key():
    x, rgb = inputs.digit_input(np.full((28, 28), 255, np.uint8))
    assert x.shape == (1, 1, 28, 28) and rgb.shape == (28, 28, 3) and rgb.max() == 1.0
    assert inputs.bytes_key(b"a") == inputs.bytes_key(b"a") != inputs.bytes_key(b"b")


# --------------------------------------------------------------------------- comparing maps


def test_mass_share_box_mask_and_correlations():
    heat = np.zeros((4, 4))
    heat[0, 0] = 3.0
    heat[3, 3] = 1.0
    assert map_tools.mass_share(heat, map_tools.box_mask((4, 4), (0, 0, 1, 1))) == pytest.approx(0.75)
    assert map_tools.mass_share(np.zeros((4, 4)), TOP_LEFT) == 0.0
    assert map_tools.box_mask((6, 6), (2, 2, 3, 3), margin=1).sum() == 9
    a = np.arange(16.0).reshape(4, 4)
    assert map_tools.rank_correlation(a, a ** 2) == pytest.approx(1.0)
    assert map_tools.rank_correlation(a, -a) == pytest.approx(-1.0)
    assert map_tools.rank_correlation(a, np.ones((4, 4))) == 0.0
    assert map_tools.pearson_correlation(a, 2 * a + 1) == pytest.approx(1.0)


def test_overlay_blends_image_and_colormap():
    rgb = np.full((2, 2, 3), 0.5, np.float32)
    heat = np.array([[0.0, 1.0], [0.5, 0.25]])
    assert (map_tools.overlay_heatmap(rgb, heat, opacity=0.0) == 128).all()
    full = map_tools.overlay_heatmap(rgb, heat, opacity=1.0, colormap="gray")
    assert full[0, 0].tolist() == [0, 0, 0] and full[0, 1].tolist() == [255, 255, 255]


def test_resize_map():
    assert map_tools.resize_map(np.ones((2, 2)), (8, 8)).shape == (8, 8)


# --------------------------------------------------------------------------- statistics


def test_channel_statistics_by_hand():
    acts = torch.tensor([[[[0.0, 1.0], [2.0, 5.0]], [[-1.0, -1.0], [-1.0, -1.0]]]])  # (1, 2, 2, 2)
    assert layer_statistics.channel_statistics(acts, "mean").tolist() == [[2.0, -1.0]]
    assert layer_statistics.channel_statistics(acts, "max").tolist() == [[5.0, -1.0]]
    assert layer_statistics.channel_statistics(acts, "min").tolist() == [[0.0, -1.0]]
    assert layer_statistics.channel_statistics(acts, "median").tolist() == [[1.0, -1.0]]  # torch: lower median
    with pytest.raises(ValueError):
        layer_statistics.channel_statistics(acts, "mode")


def test_silent_channels_and_curve():
    # 4 channels on 1 input at 1 x 2 positions; channel 3 never goes above 0.1 but swings to -3: not silent
    acts = torch.tensor([[[[10.0, 0.0]], [[0.2, -0.1]], [[-0.5, 0.3]], [[0.1, -3.0]]]])  # (1, 4, 1, 2)
    peak = layer_statistics.channel_peak_magnitudes(acts)
    np.testing.assert_allclose(peak, [10.0, 0.2, 0.5, 3.0])
    silent, absolute = layer_statistics.silent_channels(peak, 0.05)
    assert silent.tolist() == [False, True, True, False] and absolute == pytest.approx(0.5)
    assert (acts[0, silent].abs() <= absolute).all()  # silent: |activation| within the threshold everywhere
    curve = layer_statistics.silent_share_curve(peak, [0.0, 0.05, 0.5, 1.0])
    assert curve["silent_share"].tolist() == [0.0, 0.5, 0.75, 1.0]


def test_group_rows_and_channel_map():
    values = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 10.0]])
    grouped, names = layer_statistics.group_rows(values, ["a", "a", "b"])
    assert names == ["a", "b"] and grouped.tolist() == [[2.0, 3.0], [10.0, 10.0]]
    acts = torch.arange(8.0).view(1, 2, 2, 2)
    single = layer_statistics.channel_map(acts, 1, (2, 2))
    assert single.min() == 0.0 and single.max() == 1.0
    assert layer_statistics.channel_map(torch.ones(1, 1, 2, 2), 0, (4, 4)).max() == 0.0


def test_layer_activations_shape_and_hook_removed(net):
    acts = layer_statistics.layer_activations(net, torch.cat([two_squares()] * 3), "relu", batch_size=2)
    assert acts.shape == (3, 2, 4, 4)
    assert zoo.count_hooks(net) == 0


# --------------------------------------------------------------------------- shortcut, sanity, faithfulness


def test_markers():
    images = np.zeros((2, 28, 28), np.uint8)
    labels = np.array([0, 3])
    assert shortcut_markers.with_markers(images, labels, "no marker").sum() == 0
    from data.shortcut import marker_box

    marked = shortcut_markers.with_markers(images, labels, "class marker")
    for i, label in enumerate(labels):
        row0, col0, row1, col1 = marker_box(label)
        assert (marked[i, row0:row1, col0:col1] == 255).all() and marked[i].sum() == 9 * 255
    wrong = shortcut_markers.with_markers(images, labels, "wrong marker")
    row0, col0, row1, col1 = marker_box(1)  # class 1's marker on a 0
    assert (wrong[0, row0:row1, col0:col1] == 255).all()
    assert shortcut_markers.marker_region(0, margin=0).sum() == 9
    assert shortcut_markers.marker_region(0, margin=2).sum() > 9
    with pytest.raises(ValueError):
        shortcut_markers.with_markers(images, labels, "big marker")


def test_marker_accuracy_table(net):
    class Constant(nn.Module):
        def forward(self, x):
            return torch.nn.functional.one_hot(torch.full((len(x),), 3), 10).float()

    images = np.zeros((4, 28, 28), np.uint8)
    table = shortcut_markers.marker_accuracy_table({"threes": Constant()}, images, np.array([3, 3, 1, 2]))
    assert table["accuracy"].tolist() == [0.5, 0.5, 0.5]
    # it always says 3: the class marker is a 3's on two digits, the wrong marker (label + 1) on the 2
    follows = table.set_index("markers")["follows_marker"]
    assert np.isnan(follows["no marker"]) and follows["class marker"] == 0.5 and follows["wrong marker"] == 0.25


def test_cascade_steps():
    digits, _ = zoo.load("digits_cnn")
    assert [name for name, _ in sanity_checks.cascade_steps(digits)] == [
        "classifier.fc2", "classifier.fc1", "features.conv2", "features.conv1"]
    from models.efficientnet_lite import build_efficientnet_lite0

    steps = sanity_checks.cascade_steps(build_efficientnet_lite0())
    assert steps[0] == ("classifier (_fc)", ["_fc"]) and steps[-1][0] == "stem" and len(steps) == 10
    blocks = [p for _, paths in steps for p in paths if p.startswith("_blocks")]
    assert sorted(blocks, key=lambda p: int(p.split(".")[1])) == [f"_blocks.{i}" for i in range(16)]


def test_cascading_randomization_leaves_the_model_alone(net):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    table, maps = sanity_checks.cascading_randomization(net, two_squares(), "relu", 0, ["GradCAM", "EigenCAM"], seed=1)
    assert list(table.columns) == ["step", "step_index", "method", "spearman"]
    assert len(table) == 2 * 3 and maps["GradCAM"].shape == (3, 4, 4)  # trained + fc + conv
    assert table[table.step_index == 0]["spearman"].tolist() == [1.0, 1.0]
    # randomizing fc only: EigenCAM ignores the classifier entirely
    eigen = table[(table.method == "EigenCAM") & (table.step_index == 1)]["spearman"].item()
    assert eigen == pytest.approx(1.0)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key])
    again, _ = sanity_checks.cascading_randomization(net, two_squares(), "relu", 0, ["GradCAM", "EigenCAM"], seed=1)
    assert again.equals(table)  # seeded


def test_randomize_changes_batchnorm():
    bn = nn.Sequential(nn.BatchNorm2d(3))
    sanity_checks.randomize_(bn, ["0"], seed=0)
    assert not torch.allclose(bn[0].weight, torch.ones(3))


RAMP = np.linspace(0, 0.05, 16, dtype=np.float32).reshape(4, 4)  # breaks ties: ROAD ranks the pixels
KNOWN_MAPS = {"for class 0": 0.9 * TOP_LEFT.astype(np.float32) + RAMP,  # the evidence for class 0
              "against class 0": 0.9 * BOTTOM_RIGHT.astype(np.float32) + RAMP}  # the evidence for class 1


def test_keep_the_map_raises_the_class_for_its_evidence_and_lowers_it_for_the_other(net):
    scores = sanity_checks.faithfulness_scores(net, two_squares(), 0, KNOWN_MAPS, "keep the map")
    assert list(scores["method"]) == list(KNOWN_MAPS)
    by = scores.set_index("method")["score"]
    assert by["for class 0"] > 0.15 and by["against class 0"] < -0.05  # measured +0.22 and -0.10
    with pytest.raises(ValueError):
        sanity_checks.faithfulness_scores(net, two_squares(), 0, KNOWN_MAPS, "vibes")
    np.testing.assert_array_equal(sanity_checks.random_map((8, 8), 3), sanity_checks.random_map((8, 8), 3))


def test_road_is_positive_for_the_class_evidence_and_negative_for_the_other(net):
    """ROAD = P(least relevant removed) - P(most relevant removed): a map on the class's own square keeps
    the class when its low pixels go and loses it when its high pixels go; the opposite map does the reverse."""
    by = sanity_checks.faithfulness_scores(net, two_squares(), 0, KNOWN_MAPS, "ROAD", seed=0).set_index(
        "method")["score"]
    assert by["for class 0"] > 0.05 and by["against class 0"] < -0.3  # measured +0.09 and -0.49
    flat = sanity_checks.faithfulness_scores(net, two_squares(), 0, {"flat": np.zeros((4, 4), np.float32)}, "ROAD")
    assert np.isnan(flat["score"].item())  # a flat map ranks no pixels: the page says it could not be scored


def test_torchcam_maps_and_agreement(net):
    maps = torchcam_compare.torchcam_maps(net, two_squares(), ["relu"], 0, num_samples=2, seed=0)
    assert maps[0].shape == (4, 4) and zoo.count_hooks(net) == 0
    table = torchcam_compare.gradcam_agreement(net, two_squares(), ["relu"], 0)
    assert table["pearson"].item() == pytest.approx(1.0, abs=1e-4)
    overlay = torchcam_compare.torchcam_overlay(np.zeros((4, 4, 3), np.float32), maps[0])
    assert overlay.shape == (4, 4, 3) and overlay.dtype == np.uint8


def test_collections():
    x, names = inputs.photo_collection()
    assert x.shape == (len(names), 3, 224, 224)
    images, labels = inputs.digit_collection(5)
    assert images.shape == (50, 28, 28) and np.bincount(labels).tolist() == [5] * 10


def test_do_it_yourself_notebook_runs(tmp_path):
    from tests.unit.notebook_run import run_notebook

    out = run_notebook("activations", tmp_path)  # diy.py, cell by cell
    assert "top class: tiger cat" in out and "hottest pixel at row" in out
    saved = Image.open(tmp_path / "gradcam_cat.png")
    assert saved.size == (224, 224) and saved.mode == "RGB"


@pytest.mark.parametrize("method", [m for m in compute.PER_LAYER_METHODS if m in compute.METHODS])  # not Random
def test_one_pass_for_many_layers_equals_one_layer_at_a_time(method):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3)).eval().requires_grad_(False)
    x = torch.randn(1, 3, 8, 8)
    together = compute.class_activation_maps(model, x, ["3", "1"], method, 2)  # out of order on purpose
    apart = np.stack([compute.class_activation_map(model, x, p, method, 2) for p in ["3", "1"]])
    np.testing.assert_allclose(together, apart, atol=1e-6)  # both end with the library's rescale to [0, 1]
    assert zoo.count_hooks(model) == 0
