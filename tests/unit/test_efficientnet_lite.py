"""EfficientNet-Lite0 (models/efficientnet_lite.py): architecture, pretrained weights, predictions."""
import pytest
import torch
from PIL import Image

from models.efficientnet_lite import (
    EFFICIENTNET_LITE0_STAGES,
    build_efficientnet_lite0,
    imagenet_labels,
    load_efficientnet_lite0,
    preprocess_image,
)


@pytest.fixture(scope="module")
def model():
    return load_efficientnet_lite0()


def top_k(model, image_array, k=3):
    x = preprocess_image(Image.fromarray(image_array))  # (1, 3, 224, 224)
    with torch.no_grad():
        probs = model(x).softmax(-1)[0]  # (1000,)
    labels = imagenet_labels()
    return [labels[i] for i in probs.topk(k).indices.tolist()], probs


def test_random_init_shapes_and_parameter_count():
    net = build_efficientnet_lite0(num_classes=10).eval()
    assert sum(p.numel() for p in net.parameters()) == 4652008 - 1281 * 990  # smaller head
    with torch.no_grad():
        assert net(torch.randn(2, 3, 224, 224)).shape == (2, 10)
        assert net.forward_features(torch.randn(1, 3, 224, 224)).shape == (1, 1280, 7, 7)
        assert net(torch.randn(1, 3, 200, 150)).shape == (1, 10)  # "same" padding works at any size


def test_pretrained_loads_in_eval_mode(model):
    assert not model.training
    assert sum(p.numel() for p in model.parameters()) == 4652008
    bn = model._bn0
    assert bn.eps == 1e-3 and bn.momentum == 0.01


def test_stage_paths_give_the_named_shapes(model):
    outputs = {}
    hooks = [model.get_submodule(path).register_forward_hook(
        lambda m, i, o, name=name: outputs.__setitem__(name, o.shape))
        for name, path in EFFICIENTNET_LITE0_STAGES.items()]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, 224, 224))
    finally:
        for h in hooks:
            h.remove()
    for name, shape in outputs.items():
        channels, pixels = name.split("(")[1].rstrip(")").split(", ")
        assert shape == (1, int(channels.split()[0]), int(pixels.split()[0]), int(pixels.split()[0])), name
    assert list(EFFICIENTNET_LITE0_STAGES.values())[-1] == "_head_act"
    assert all(not m._forward_hooks for m in model.modules())


def test_preprocess_shape_and_range():
    x = preprocess_image(Image.new("RGB", (640, 480), (255, 0, 128)))
    assert x.shape == (1, 3, 224, 224)
    assert torch.allclose(x[0, :, 100, 100], torch.tensor([1.0, -1.0, 128 / 127.5 - 1]), atol=1e-2)


def test_imagenet_labels():
    labels = imagenet_labels()
    assert len(labels) == 1000 and labels[285] == "Egyptian cat" and labels[967] == "espresso"


def test_cat_is_a_cat_and_coffee_is_espresso(model):
    skimage_data = pytest.importorskip("skimage.data")
    cat_top3, _ = top_k(model, skimage_data.chelsea())
    assert set(cat_top3) == {"Egyptian cat", "tabby", "tiger cat"}
    coffee_top3, probs = top_k(model, skimage_data.coffee())
    assert coffee_top3[0] == "espresso" and probs.max() > 0.9



def test_bundled_imagenet_class_names_equal_torchvisions():
    from torchvision.models import ResNet18_Weights

    from models.efficientnet_lite import imagenet_labels

    assert imagenet_labels() == list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])
