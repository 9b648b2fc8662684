"""Feature visualization: the compute pieces on tiny hand-built inputs whose answers are known."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lessons.features import compute, optimize
from lessons.features.settings import TRANSFORMS, VARIANTS, Settings, variant


def tiny_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2, padding=1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5)).eval().requires_grad_(False)


def test_fourier_scale_is_one_over_frequency_with_the_zero_frequency_capped():
    scale = optimize.fourier_scale(8)
    assert scale.shape == (8, 5)
    assert scale[0, 0] == pytest.approx(8.0)  # 1 / (1/8)
    assert scale[0, 4] == pytest.approx(2.0)  # f = 0.5 cycles per pixel
    assert scale[4, 4] == pytest.approx(1 / np.sqrt(0.5), rel=1e-5)


@pytest.mark.parametrize("parameterization", ["pixels", "fourier"])
@pytest.mark.parametrize("decorrelate", [True, False])
def test_image_parameterizations_give_images_in_range(parameterization, decorrelate):
    image = optimize.ImageParam(16, parameterization, decorrelate, seed=3)().detach()
    assert image.shape == (1, 3, 16, 16)
    assert 0 < float(image.min()) and float(image.max()) < 1
    with pytest.raises(ValueError):
        optimize.ImageParam(16, "wavelets")


def test_transforms_have_the_documented_sizes_and_one_size_for_every_step():
    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 224, 224)
    assert optimize.random_transform(image, (), g) is image
    padded = optimize.random_transform(image, ("pad",), g)
    assert padded.shape[-1] == 224 + 24 and float(padded[0, :, 0, 0].mean()) == pytest.approx(0.5)
    assert optimize.random_transform(image, ("jitter",), g).shape[-1] == 224 - 8 - 4
    assert optimize.random_transform(image, ("rotate",), g).shape == image.shape
    assert optimize.random_transform(image, ("scale",), g).shape == image.shape
    sizes = {optimize.random_transform(torch.rand(1, 3, 128, 128), TRANSFORMS, g).shape for _ in range(30)}
    assert sizes == {(1, 3, 128 + 14 - 5 - 2, 128 + 14 - 5 - 2)}  # pad 7, jitters 5 and 2 at 128 px


def test_the_draws_cover_the_documented_ranges():
    g = torch.Generator().manual_seed(1)
    draws = [optimize.draw_transform(224, TRANSFORMS, g) for _ in range(400)]
    assert {d.factor for d in draws} == set(optimize.SCALES) and min(optimize.SCALES) == pytest.approx(0.9)
    assert {d.degrees for d in draws} == set(range(-10, 11))
    assert {v for d in draws for v in d.first_offset} == set(range(0, 9))
    assert {v for d in draws for v in d.second_offset} == set(range(0, 5))


def lucent_chain(image, draw, pad, d1, d2):
    """Lucent's standard_transforms one after the other (pad, jitter, rotate about the centre with the border
    repeated, jitter), written here from its description, at scale 1 (where its size does not change)."""
    (x1, y1), (x2, y2) = draw.first_offset, draw.second_offset
    x = F.pad(image, (pad,) * 4, value=0.5)
    x = x[..., y1:x.shape[-2] - d1 + y1, x1:x.shape[-1] - d1 + x1]
    a = math.radians(draw.degrees)
    theta = torch.tensor([[[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]]])
    x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), padding_mode="border",
                      align_corners=False)
    return x[..., y2:x.shape[-2] - d2 + y2, x2:x.shape[-1] - d2 + x2]


@pytest.mark.parametrize("degrees", [0, 7, -10])
def test_one_sampling_equals_lucents_chain_at_scale_one(degrees):
    image = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(2))
    pad, d1, d2 = optimize.transform_geometry(96, TRANSFORMS)
    draw = optimize.TransformDraw((3, 1), 1.0, degrees, (0, 2))
    ours = optimize.apply_transform(image, TRANSFORMS, draw)
    torch.testing.assert_close(ours, lucent_chain(image, draw, pad, d1, d2), atol=1e-4, rtol=0)


@pytest.mark.parametrize("factor, degrees", [(1.1, 0), (0.9, 0), (1.06, -8), (0.92, 10)])
def test_one_sampling_equals_pad_crop_torchvision_affine_crop(factor, degrees):
    """Scale and rotation about the crop's centre, checked against torchvision's own affine (its matrix,
    its grid): pad grey, crop, affine at a fixed size, crop."""
    from torchvision.transforms.v2 import functional as TF

    image = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(3))
    pad, d1, d2 = optimize.transform_geometry(128, TRANSFORMS)
    draw = optimize.TransformDraw((4, 2), factor, degrees, (1, 2))
    (x1, y1), (x2, y2) = draw.first_offset, draw.second_offset
    crop = 128 + 2 * pad - d1
    x = TF.crop(TF.pad(image, [pad], fill=0.5), y1, x1, crop, crop) - 0.5  # grey = 0 outside, as zeros padding
    # torchvision's angle turns counter-clockwise on the screen (rows down); ours is the clockwise matrix
    x = TF.affine(x, angle=-degrees, translate=[0, 0], scale=factor, shear=[0.0, 0.0],
                  interpolation=TF.InterpolationMode.BILINEAR) + 0.5
    reference = TF.crop(x, y2, x2, crop - d2, crop - d2)
    torch.testing.assert_close(optimize.apply_transform(image, TRANSFORMS, draw), reference, atol=1e-4, rtol=0)


def test_objectives_by_hand():
    act = torch.arange(2 * 3 * 3, dtype=torch.float32).view(1, 2, 3, 3)  # channel 1 holds 9..17
    assert float(optimize.objective_value(act, "channel", 1)) == pytest.approx(13.0)
    assert float(optimize.objective_value(act, "neuron", 1)) == pytest.approx(13.0)  # centre (1, 1)
    assert float(optimize.objective_value(act, "neuron", 0)) == pytest.approx(4.0)
    assert float(optimize.objective_value(act, "layer (DeepDream)", 0)) == pytest.approx(float((act**2).mean()))
    assert float(optimize.objective_value(torch.tensor([[1.0, 7.0]]), "class logit", 1)) == 7.0
    with pytest.raises(ValueError):
        optimize.objective_value(act, "everything", 0)


def test_layer_output_stops_after_the_layer_and_leaves_no_hook():
    class Boom(nn.Module):
        def forward(self, x):
            raise AssertionError("the layer after the target ran")

    net = nn.Sequential(nn.Identity(), nn.ReLU(), Boom())
    out = optimize.layer_output(net, "1", torch.tensor([[-1.0, 2.0]]))
    assert out.tolist() == [[0.0, 2.0]]
    assert not net[1]._forward_hooks


def test_optimization_raises_the_objective_and_touches_only_the_image():
    net = tiny_net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    settings = Settings(layer="2", channel=1, steps=30, size=16, lr=0.1, transforms=("jitter",))
    events = list(optimize.optimize(net, settings))
    assert len(events) == 30 and events[-1].objective > events[0].objective
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())
    assert sum(len(m._forward_hooks) for m in net.modules()) == 0
    image, values, diverged = optimize.run(net, settings)
    assert image.shape == (16, 16, 3) and image.dtype == np.uint8 and not diverged
    assert values == [e.objective for e in events]  # seeded: the same run twice


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), 0.0, -1.0, 1e37])
def test_a_learning_rate_that_is_not_a_sane_number_is_refused(lr):
    with pytest.raises(ValueError, match="learning rate"):
        next(optimize.optimize(tiny_net(), Settings(layer="2", steps=2, size=8, lr=lr)))


def test_variants_switch_exactly_one_regularizer_off():
    base = Settings(parameterization="pixels", decorrelate=False, transforms=())
    assert variant(base, "all on").regularizers() == dict.fromkeys(
        ["Fourier", "decorrelation", *TRANSFORMS], True)
    assert not any(variant(base, "all off").regularizers().values())
    for name in VARIANTS[1:-1]:
        off = [k for k, v in variant(base, name).regularizers().items() if not v]
        assert len(off) == 1 and off[0].lower() in name.lower(), name
    with pytest.raises(ValueError):
        variant(base, "no gravity")
    assert Settings.from_dict(Settings().to_dict()) == Settings()


def test_spectral_measures_on_known_images():
    y, x = np.mgrid[:32, :32]
    checkerboard = ((x + y) % 2).astype(float)  # all power at (0.5, 0.5)
    stripes = np.cos(2 * np.pi * x / 8)  # 1/8 cycle per pixel
    assert compute.high_frequency_share(checkerboard) == pytest.approx(1.0)
    assert compute.high_frequency_share(stripes) == pytest.approx(0.0, abs=1e-9)
    assert compute.spectral_centroid(stripes) == pytest.approx(0.125)
    assert compute.spectral_centroid(checkerboard) == pytest.approx(np.sqrt(0.5))
    freq, power = compute.radial_spectrum(stripes, bins=8)
    peak = freq[int(power.argmax())]
    assert power.sum() == pytest.approx(1.0) and peak - 1 / 32 <= 0.125 < peak + 1 / 32  # bins 1/16 wide


def test_top_channels_and_filters():
    act = np.zeros((3, 2, 2))
    act[1] += 5
    act[2] += 1
    assert compute.top_channels(act, 2).tolist() == [1, 2]
    conv = nn.Conv2d(3, 2, 3, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0, 0] = -2.0
        conv.weight[1, 2, 1, 1] = 4.0
    filters = compute.first_conv_filters(nn.Sequential(conv), "0")
    assert filters.shape == (2, 3, 3, 3)
    assert filters[0, 0, 0, 0] == 0.0 and filters[1, 1, 1, 2] == 1.0 and filters[0, 2, 2, 1] == 0.5


def test_layer_geometry_follows_the_receptive_field_recurrence():
    net = tiny_net()  # conv 3 (s1), conv 3 (s2): r = 1 + 2 + 2 = 5, jump 2
    geometry = compute.layer_geometry(net, "2", torch.zeros(1, 3, 16, 16))
    assert (geometry.receptive_field, geometry.jump, geometry.start) == (5, 2, 0.0)
    assert sum(len(m._forward_hooks) for m in net.modules()) == 0


def test_dataset_examples_rank_positions_and_clip_boxes():
    acts = np.zeros((2, 4, 4))
    acts[1, 0, 0], acts[1, 0, 1], acts[0, 3, 3] = 9.0, 8.0, 7.0
    geometry = compute.Geometry(receptive_field=6, jump=4, start=1.5)
    examples = compute.dataset_examples(acts, geometry, input_size=16, count=3)
    assert [(e.image_index, e.row, e.col, e.activation) for e in examples] == [(1, 0, 0, 9.0), (1, 0, 1, 8.0),
                                                                             (0, 3, 3, 7.0)]
    assert examples[0].box == (0, 0, 5, 5)  # clipped at the top left
    assert examples[2].box[2:] == (16, 16)  # clipped at the bottom right
    one_each = compute.dataset_examples(acts, geometry, input_size=16, count=3, one_per_image=True)
    assert [e.image_index for e in one_each] == [1, 0]


def test_an_optimization_marked_stopped_by_the_next_script_run_ends_at_once(monkeypatch):
    """Stop's script run runs in a new thread while the old loop goes on until its next st call
    (Streamlit's fast reruns); once the new run marks the item "stopped", the old loop must end
    without touching it."""
    from lessons.features import views_optimize

    runs: list = []
    monkeypatch.setattr(views_optimize, "session_list", lambda key: runs)

    class Slot:  # the first redraw is where the next script run marks the run stopped
        def progress(self, *args, **kwargs):
            runs[-1].status = "stopped"

        def image(self, *args, **kwargs):
            pass

        def empty(self):
            pass

    settings = Settings(layer="_blocks.4", channel=3, steps=20, size=32)
    run = views_optimize.optimize_live(settings, {"progress": Slot(), "image": Slot()})
    assert run.status == "stopped"
    assert len(run.objectives) == 1  # the step drawn before the stop, and nothing after it
