"""Every fact the architecture lesson states, and every "Try this" effect, checked on the real models."""
import numpy as np
import pytest
import torch
from torch import nn

from lessons.architecture import builder, compute, graphs, neurons


@pytest.fixture(scope="module")
def vgg11():
    return compute.build_model("vgg11")


@pytest.mark.parametrize("name", list(compute.MODELS))
def test_parameter_totals_equal_sum_of_numel_for_every_model_offered(name):
    spec = compute.build_model(name)
    truth = sum(p.numel() for p in spec.model.parameters())
    frame, totals = compute.parameter_table(spec, depth=2)
    assert totals["parameters"] == truth == frame["parameters"].sum()
    assert compute.parameter_table(spec)[0]["parameters"].sum() == truth  # every depth adds up
    assert all(p.is_meta for p in spec.model.parameters())  # "costs nothing to inspect": no values


@pytest.mark.parametrize("name", compute.ZOO_MODELS)
def test_meta_architecture_is_the_bundled_model(name):
    trained = compute.trained_model(name)
    assert trained is not None, f"bundled weights for {name} are missing"
    meta = compute.build_model(name).model
    assert {n: tuple(p.shape) for n, p in trained.named_parameters()} == \
           {n: tuple(p.shape) for n, p in meta.named_parameters()}


def test_vgg11_parameters_live_in_the_fully_connected_layers(vgg11):
    """Try this "Where VGG keeps its parameters", the intro's 133 M and the SqueezeNet quiz's 102.8 M."""
    total = compute.parameter_count(vgg11.model)
    assert round(total / 1e6, 1) == 132.9
    kinds = [type(m) for m in vgg11.model.modules()]
    assert kinds.count(nn.Conv2d) == 8 and kinds.count(nn.Linear) == 3
    shares = compute.parameter_share_by_kind(vgg11)
    assert shares["fully connected"] / total > 0.85  # measured 93.1 %
    first_fc = vgg11.model.get_submodule("classifier.0")
    assert (first_fc.in_features, first_fc.out_features) == (512 * 7 * 7, 4096)
    assert round(first_fc.weight.numel() / 1e6, 1) == 102.8


def test_all_convolutional_squeezenet_has_few_parameters():
    spec = compute.build_model("squeezenet1_1")
    assert round(compute.parameter_count(spec.model) / 1e6, 1) == 1.2
    assert not any(isinstance(m, nn.Linear) for m in spec.model.modules())
    classifier = list(spec.model.get_submodule("classifier").children())
    assert any(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) for m in classifier)
    assert any(isinstance(m, nn.AdaptiveAvgPool2d) for m in classifier)


def test_conv_quiz_and_conv_experiment():
    assert sum(p.numel() for p in nn.Conv2d(3, 16, 3).parameters()) == 448
    built = builder.build_stack("conv:8:5:2:0", "1x28x28")  # the experiment's preset
    assert built.rows[0].output_shape == (8, 12, 12)
    assert nn.Conv2d(1, 8, 5, stride=2)(torch.zeros(1, 1, 28, 28)).shape == (1, 8, 12, 12)


def test_residual_connection_shows_as_boxes_with_two_arrows():
    """Try this "A residual connection in the graph": ResNet-18 at depth 3 has adds; VGG-11 never has."""
    resnet = graphs.layer_diagram(compute.build_model("resnet18"), depth=3)
    adds = [b for b in resnet.merge_boxes if b.type_name == "add"]
    assert len(adds) == 8  # one per BasicBlock
    vgg = compute.build_model("vgg11")
    for depth in (1, 2, 3, 6):
        assert graphs.layer_diagram(vgg, depth=depth).merge_boxes == []


def test_resnet_blocks_roll_up_and_efficientnet_diagram_lists_its_stages():
    rolled = graphs.layer_diagram(compute.build_model("resnet18"), depth=2).rolled_boxes
    assert [(b.type_name, b.repeats) for b in rolled] == [("BasicBlock", 2)]  # layer1.0 and layer1.1
    minilm = graphs.layer_diagram(compute.build_model("minilm"), depth=1).rolled_boxes
    assert [(b.type_name, b.repeats) for b in minilm] == [("EncoderLayer", 6)]


@pytest.mark.parametrize("name", ["digits_cnn", "digits_mlp", "efficientnet_lite0", "minilm", "resnet18", "builder"])
def test_autograd_light_blue_boxes_are_exactly_the_parameters(name):
    spec = compute.build_model(name)
    g = graphs.autograd_graph(spec)
    assert g.counts["lightblue"] == g.parameter_tensors == len(list(spec.model.parameters()))
    assert g.counts["darkolivegreen1"] == 1  # the loss
    assert g.counts["orange"] == 0 and graphs.autograd_graph(spec, show_saved=True).counts["orange"] > 0


def test_untrained_torchvision_models_have_no_values():
    spec = compute.build_model("vit_b_16")
    assert round(compute.parameter_count(spec.model) / 1e6, 1) == 86.6
    assert all(p.device.type == "meta" for p in spec.model.parameters())


@pytest.fixture(scope="module")
def mlp_pair():
    import data

    images, labels = data.load_mnist5k()
    _, heldout = data.mnist5k_split()
    model, source = neurons.trained_mlp()
    assert source == "the bundled digits_mlp (trained)"
    states = [(neurons.mlp_state(model, images[i], source),
               neurons.mlp_state(neurons.untrained_mlp(0), images[i], "u"), labels[i]) for i in heldout[:100]]
    return states


def test_training_made_every_layer_of_the_mlp_larger_on_average(mlp_pair):
    trained, untrained, _ = mlp_pair[0]
    for seed in (0, 1, 2):
        other = neurons.mlp_state(neurons.untrained_mlp(seed), np.zeros((28, 28), np.uint8), "u")
        summary = neurons.weight_summary(trained, other)
        assert (summary["mean |w| trained"] > 1.3 * summary["mean |w| untrained"]).all()  # measured >= 1.8x


def test_trained_first_layer_weights_form_smooth_images(mlp_pair):
    trained, untrained, _ = mlp_pair[0]
    smooth = [neurons.neighbour_correlation(neurons.weight_image(trained, j)) for j in range(32)]
    noise = [neurons.neighbour_correlation(neurons.weight_image(untrained, j)) for j in range(32)]
    assert min(smooth) > 0.5  # measured: every neuron >= 0.71
    assert max(abs(c) for c in noise) < 0.2  # measured <= 0.09


def test_trained_mlp_gets_held_out_digits_right_and_untrained_does_not(mlp_pair):
    trained_acc = np.mean([t.prediction == y for t, _, y in mlp_pair])
    untrained_acc = np.mean([u.prediction == y for _, u, y in mlp_pair])
    assert trained_acc > 0.85 and untrained_acc < 0.3  # measured 0.93 trained
