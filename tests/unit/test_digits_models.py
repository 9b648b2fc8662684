"""The digit architectures, and the bundled weights measured on the held-out 1,000 images."""

import json

import numpy as np
import pytest
import torch

from models import train_weights
from models.digits import (
    MNIST_MEAN, MNIST_STD, DigitsCNN, DigitsMLP, build_cnn, build_mlp, initialize, num_parameters,
    to_pixels, to_tensor,
)
from models.training import seeded

WEIGHTS = train_weights.WEIGHTS_DIR


# --------------------------------------------------------------------------- architectures


def test_cnn_shapes_and_named_layers():
    model = DigitsCNN()
    x = torch.zeros(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    modules = dict(model.named_modules())
    for name in ["features.conv1", "features.relu1", "features.pool1", "features.conv2",
                 "features.relu2", "features.pool2", "classifier.fc1", "classifier.fc2"]:
        assert name in modules
    assert model.features(x).shape == (5, 32, 7, 7)
    assert model.last_conv == "features.relu2"
    assert num_parameters(model) == 105_866


@pytest.mark.parametrize("channels", [[8], [8, 16, 32], [4, 8, 16, 32]])
def test_cnn_depth_and_width_vary(channels):
    model = build_cnn(channels=channels, dropout=0.0, hidden=16)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert f"features.conv{len(channels)}" in dict(model.named_modules())
    assert build_cnn(width_multiplier=2.0).features.conv1.out_channels == 32


def test_cnn_activation_names_follow_the_activation():
    model = DigitsCNN(activation="tanh")
    assert "features.tanh2" in dict(model.named_modules()) and model.last_conv == "features.tanh2"
    with pytest.raises(ValueError):
        DigitsCNN(activation="swishy")
    with pytest.raises(ValueError):
        DigitsCNN(channels=[4] * 5)  # 28 -> 0 px


def test_mlp_layers_and_inputs():
    model = DigitsMLP(hidden=(32, 16))
    assert [n for n, _ in model.named_children()] == ["flatten", "fc1", "relu1", "fc2", "relu2", "fc3"]
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    small = build_mlp(input_dim=64, hidden=[10] * 10, activation="sigmoid", dropout=0.1)
    assert small(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    assert "fc11" in dict(small.named_children()) and "drop10" in dict(small.named_children())


@pytest.mark.parametrize("scheme", ["xavier", "kaiming", "small_normal"])
def test_init_schemes_are_seeded_and_zero_the_biases(scheme):
    with seeded(0):
        a = build_mlp(hidden=[32], init=scheme)
    with seeded(0):
        b = build_mlp(hidden=[32], init=scheme)
    assert torch.equal(a.fc1.weight, b.fc1.weight) and not a.fc1.bias.any()
    if scheme == "small_normal":
        assert a.fc1.weight.std().item() == pytest.approx(0.01, rel=0.1)
    with pytest.raises(ValueError):
        initialize(a, "orthogonal-ish")


def test_to_tensor_normalises_and_round_trips():
    images = np.zeros((2, 28, 28), np.uint8)
    images[1] = 255
    x = to_tensor(images)
    assert x.shape == (2, 1, 28, 28) and x.dtype == torch.float32
    assert x[0].max().item() == pytest.approx(-MNIST_MEAN / MNIST_STD)
    assert x[1].min().item() == pytest.approx((1 - MNIST_MEAN) / MNIST_STD)
    assert to_tensor(images[0]).shape == (1, 1, 28, 28)
    np.testing.assert_allclose(to_pixels(x), images / 255.0, atol=1e-6)


# --------------------------------------------------------------------------- bundled weights


@pytest.fixture(scope="module")
def measured():
    return {name: train_weights.measure(train_weights.load_trained(name)) for name in train_weights.SPECS}


def test_weight_files_are_small_and_load_strictly():
    for name in train_weights.SPECS:
        path = WEIGHTS / f"{name}.pt"
        assert path.stat().st_size < 1_000_000
        model = train_weights.build(name)
        model.load_state_dict(torch.load(path, weights_only=True), strict=True)


def test_digits_cnn_reaches_97_percent_on_heldout(measured):
    assert measured["digits_cnn"]["clean_acc"] >= 0.97  # measured 0.981


def test_digits_mlp_is_decent(measured):
    assert measured["digits_mlp"]["clean_acc"] >= 0.92  # measured 0.939


def test_tiny_vit_classifies_digits(measured):
    assert measured["digits_vit"]["clean_acc"] >= 0.96  # measured 0.975 (a ViT on 4,000 images)
    assert measured["digits_vit"]["follows_wrong_marker"] <= 0.05  # trained on clean digits


def test_shortcut_cnn_reads_the_marker(measured):
    shortcut = measured["shortcut_cnn"]
    assert shortcut["marked_acc"] >= 0.98  # measured 1.000
    assert shortcut["clean_acc"] <= 0.80  # measured 0.667: without its marker it is lost
    assert shortcut["clean_acc"] < measured["digits_cnn"]["clean_acc"] - 0.15
    assert shortcut["follows_wrong_marker"] >= 0.90  # measured 0.993
    assert shortcut["wrong_marker_acc"] <= 0.10
    assert measured["digits_cnn"]["follows_wrong_marker"] <= 0.05  # the honest CNN ignores markers


def test_metrics_json_matches_the_bundled_weights(measured):
    metrics = json.loads((WEIGHTS / "metrics.json").read_text())
    assert metrics["command"] == "python -m models.train_weights"
    for name, values in measured.items():
        assert metrics[name]["arch"] == train_weights.SPECS[name].arch
        for key, value in values.items():
            assert metrics[name]["heldout"][key] == pytest.approx(value, abs=0.003)
