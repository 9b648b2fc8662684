"""The loss-landscape lesson's compute: directions, the batched grid against the straightforward loop,
coarse-then-refine, the measures, the toy optimizers, the shipped results against the code, the
do-it-yourself script, and that nothing touches the shared zoo models."""
import hashlib

import numpy as np
import pytest
import torch
from torch import nn

from lessons.landscapes import compute, grid, measures, precompute, store, toy
from lessons.landscapes.nets import ResidualMLP
from models import zoo
from models.digits import DigitsCNN, DigitsMLP


def small_data(n=40):
    return compute.evaluation_digits(500)[0][:n], compute.evaluation_digits(500)[1][:n]


def _with_running_statistics(model):
    if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):  # non-trivial BatchNorm statistics
        model.train()
        with torch.no_grad():
            model(torch.randn(64, 784) * 2 + 0.5)
    return model.eval()


@pytest.mark.parametrize("kind,model", [("mlp", DigitsMLP(hidden=(32, 16))), ("cnn", DigitsCNN()),
                                        ("cnn", DigitsCNN(channels=(8,), hidden=16)),  # no later convolution
                                        ("cnn", DigitsCNN(channels=(4, 8, 8), hidden=16)),  # 7x7 -> 3x3: odd pool
                                        ("resmlp", ResidualMLP(width=8, blocks=3, skips=True)),
                                        ("resmlp", ResidualMLP(width=8, blocks=3, skips=False))])
def test_batched_grid_equals_the_state_dict_loop(kind, model, monkeypatch):
    monkeypatch.setattr(grid, "CNN_SAMPLES_PER_CALL", 64)  # 150 digits: three CNN chunks, the last one short
    x, y = small_data(150)
    model = _with_running_statistics(model)
    net = grid.SliceNet.from_model(model, kind)
    directions = compute.direction_matrix(net, (1, 2))  # (2, D)
    coeffs = np.array([[0, 0], [0.5, -0.25], [-1, 1], [0.1, 0.9], [0.3, 0.3]], np.float32)  # 5 points: odd groups
    slow = grid.evaluate_points_state_dict_loop(model, net.names, [net.unflatten(d) for d in directions], coeffs, x, y)
    for reuse in (True, False):
        for per_matmul in (1, 2) if kind == "cnn" else (1,):  # CNN: one point's or two points' first conv per matmul
            monkeypatch.setattr(grid, "CNN_POINTS_PER_MATMUL", per_matmul)
            fast, _ = grid.evaluate_points(net, directions, coeffs, x, y, points_per_call=3, reuse_first_layer=reuse)
            np.testing.assert_allclose(fast, slow, rtol=1e-5)


def test_the_bundled_models_grids_equal_the_state_dict_loop_on_500_digits():
    x, y = compute.evaluation_digits(500)
    for name in ("digits_mlp", "digits_cnn"):
        net = compute.zoo_net(name)
        directions = compute.surface_directions(net, 0)
        coeffs = np.array([[0, 0], [0.5, -0.25], [-1, 1]], np.float32)
        model, _ = zoo.load(name)  # read only: the loop works on a private copy
        slow = grid.evaluate_points_state_dict_loop(model, net.names, [net.unflatten(d) for d in directions], coeffs, x, y)
        np.testing.assert_allclose(grid.evaluate_points(net, directions, coeffs, x, y)[0], slow, rtol=1e-5)


def test_the_cnn_grid_pools_like_max_pool2d_and_its_im2col_is_the_convolution():
    h = torch.randn(3, 7, 6, 5)  # (N, H, W, C) with an odd height
    expected = torch.nn.functional.max_pool2d(h.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)
    torch.testing.assert_close(grid._max_pool_nhwc(h), expected, rtol=0, atol=0)
    x, w = torch.randn(2, 1, 9, 9), torch.randn(4, 1, 3, 3)
    by_matmul = (grid.im2col_3x3(x) @ w.reshape(4, 9).t()).permute(0, 3, 1, 2)  # (N, 4, 9, 9)
    torch.testing.assert_close(by_matmul, torch.nn.functional.conv2d(x, w, padding=1), rtol=1e-5, atol=1e-5)
    x = torch.randn(2, 1, 9, 7)  # odd sides: MaxPool2d(2) drops the last row and column
    pooled = (grid.pool_windows_3x3(x) @ w.reshape(4, 9).t()).amax(1)  # (N, 4*3, 4): conv, then the 2x2 max
    expected = torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(x, w, padding=1), 2)  # (N, 4, 4, 3)
    torch.testing.assert_close(pooled.view(2, 4, 3, 4).permute(0, 3, 1, 2), expected, rtol=1e-5, atol=1e-5)


def test_layer_normalization_matches_each_tensors_norm_and_none_is_raw():
    params = {"w": torch.randn(5, 7) * 3, "b": torch.randn(5)}
    layer = compute.filter_normalized_direction(params, 0, "layer")
    assert torch.isclose(layer["w"].norm(), params["w"].norm())
    raw = compute.filter_normalized_direction(params, 0, "none")
    assert abs(raw["w"].std().item() - 1) < 0.4 and torch.equal(raw["b"], torch.zeros(5))
    with pytest.raises(ValueError):
        compute.filter_normalized_direction(params, 0, "unit")


def test_nested_levels_and_the_coarse_grid_comes_first():
    assert grid.nested_levels(33) == [9, 17, 33]
    assert grid.nested_levels(9) == [9] and grid.nested_levels(10) == [10]
    x, y = small_data(20)
    net = grid.SliceNet.from_model(DigitsMLP(hidden=(8,)), "mlp")
    directions = compute.direction_matrix(net, (1, 2))
    updates = list(grid.surface_stream(net, directions, 1.0, 17, x, y))
    assert [u.level for u in updates] == [9, 17] and updates[0].done == 81 and updates[-1].done == 289
    one_shot = grid.evaluate_points(net, directions, np.stack(np.meshgrid(updates[-1].axis, updates[-1].axis,
                                                                          indexing="ij")[::-1], -1).reshape(-1, 2), x, y)[0]
    np.testing.assert_allclose(updates[-1].loss.ravel(), one_shot, rtol=1e-5)
    np.testing.assert_array_equal(updates[0].loss, updates[-1].loss[::2, ::2])  # refined, never recomputed


def test_measures_on_surfaces_checkable_by_hand():
    axis = np.linspace(-1, 1, 21)
    b, a = np.meshgrid(axis, axis, indexing="ij")
    step = axis[1] - axis[0]
    assert measures.non_convex_share(a ** 2 + b ** 2, step) == 0.0
    assert measures.non_convex_share(a ** 2 - b ** 2, step) == 1.0
    path = measures.barrier(np.linspace(0, 1, 11), np.array([1, 1.5, 2, 2.5, 3, 3.5, 3, 2.5, 2, 1.5, 1.0]))
    assert path["height"] == pytest.approx(2.5) and path["alpha_height"] == pytest.approx(0.5)
    assert measures.sharpness(np.array([-0.5, 0, 0.5]), np.array([[2.0, 1.0, 3.0]])) == pytest.approx(1.5)


def test_toy_optimizers_follow_their_update_rules():
    sgd = toy.path("ravine", "sgd", 0.1, 1)
    start = np.array(toy.SURFACES["ravine"].start)
    np.testing.assert_allclose(sgd[1], start - 0.1 * toy.SURFACES["ravine"].grad(*start))
    adam = toy.path("plateau", "adam", 0.1, 1)
    assert np.linalg.norm(adam[1] - adam[0]) == pytest.approx(0.1 * np.sqrt(2), rel=1e-3)  # first Adam step: lr per coordinate
    assert toy.summary("ravine", 1.0, 50)["sgd"]["diverged"]  # lr 1 > 2 / 4 across the ravine


def test_pca_plane_on_a_path_in_a_known_plane():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(50, 2)))[0].T  # (2, 50) orthonormal
    t = np.linspace(0, 1, 12)
    snapshots = (np.stack([3 * (1 - t), np.sin(3 * t)], 1) @ basis).astype(np.float32)  # (12, 50), ends at 0
    plane = compute.pca_plane(snapshots)
    assert plane["explained"].sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(plane["components"] @ plane["components"].T, np.eye(2), atol=1e-5)
    assert np.abs(plane["coords"][-1]).max() < 1e-6  # the final weights are the origin of the plane


def _default_jobs():
    return precompute.default_jobs()


@pytest.mark.parametrize("key", [k for k in sorted(_default_jobs()) if not k.startswith("trajectory")] +
                         ["trajectory|optimizer=adam|resolution=25|samples=500|seed=0"])
def test_shipped_results_equal_what_the_code_computes_now(key):
    shipped = store.shipped(key)
    assert shipped is not None, f"{key} is not shipped: run python -m lessons.landscapes.precompute"
    fresh = _default_jobs()[key]()
    assert set(fresh) == set(shipped)
    for field, value in fresh.items():
        np.testing.assert_allclose(np.asarray(value, np.float64), shipped[field].astype(np.float64),
                                   rtol=2e-3, atol=2e-4, err_msg=f"{key} / {field}")


def test_shipped_files_are_small():
    for path in [store.SHIPPED_FILE, *compute.WEIGHTS.glob("*.pt")]:
        assert path.stat().st_size < 1_000_000, path


def _fingerprint(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode() + tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


def test_slices_never_modify_the_shared_models():
    from lessons.landscapes import results

    models = {name: zoo.load(name)[0] for name in ("digits_mlp", "digits_cnn")}
    before = {name: (_fingerprint(m), zoo.count_hooks(m), m.training) for name, m in models.items()}
    results.surface("digits_cnn", 3, 1.0, 3, 50)
    results.slices("digits_mlp", 3, 0.5, 50)
    results.interpolation(50, 0.0)
    assert {name: (_fingerprint(m), zoo.count_hooks(m), m.training) for name, m in models.items()} == before


def test_do_it_yourself_notebook_runs(tmp_path):
    from tests.unit.notebook_run import run_notebook

    assert "loss at the trained weights" in run_notebook("landscapes", tmp_path)  # diy.py, cell by cell
    assert (tmp_path / "loss_landscape.png").stat().st_size > 10_000


def test_side_by_side_contours_share_bands_of_one_colour_scale():
    """The skip-connection comparison draws two surfaces on one colour scale. A binned colour field takes
    a bin-ordinal scale whose domain is the list of bins, so a [low, high] domain there painted every
    cell one colour (seen in Chromium). With a shared domain the bands are a quantize scale's equal steps."""
    import altair as alt

    from lessons.landscapes import charts

    axis = np.linspace(-1, 1, 9)
    loss = np.exp(3 * (axis[:, None] ** 2 + axis[None] ** 2))  # (9, 9), from 1 to e^6
    frame = charts.grid_frame(axis, loss)
    domain = (0.0, float(np.log10(loss.max())))
    color = charts.contour(frame, True, 300, domain=domain).to_dict()["layer"][0]["encoding"]["color"]
    assert "bin" not in color
    assert color["scale"]["type"] == "quantize" and color["scale"]["domain"] == list(domain)
    assert color["scale"]["scheme"]["count"] == charts.CONTOUR_LEVELS
    alone = charts.contour(frame, True, 300).to_dict()["layer"][0]["encoding"]["color"]
    assert alone["bin"] == {"maxbins": charts.CONTOUR_LEVELS} and "domain" not in alone["scale"]
    small = charts.contour(frame, True, 200, domain=domain).to_dict()["layer"][0]["encoding"]["color"]
    assert small["scale"]["scheme"]["count"] == charts.SMALL_CONTOUR_LEVELS  # a legend that fits beside it
    assert isinstance(charts.contour(frame, False, 200, domain=domain), alt.LayerChart)
