"""The training engine (models/training.py) on tiny seeded models, with behaviour checkable by hand."""

import numpy as np
import pytest
import torch
from torch import nn

import data
from models.digits import DigitsCNN, build_mlp, to_tensor
from models.training import (
    DivergedEvent, EpochEvent, GradientStats, History, StepEvent, TrainConfig, WeightSnapshots,
    corrupt_labels, evaluate, learning_rate, random_shift, seeded, train, train_iter,
)


def blobs(n=200, seed=0):
    """Two well-separated Gaussian blobs in 2-D: a linearly separable problem."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2  # (n,)
    x = torch.randn(n, 2, generator=g) * 0.5 + (y[:, None] * 2 - 1) * 2.0  # (n, 2)
    return x, y


def tiny_mlp(seed=0, dropout=0.0):
    with seeded(seed):
        return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 2))


@pytest.fixture(scope="module")
def digits():
    """384 MNIST-5k training images, all classes, normalised."""
    images, labels = data.load_mnist5k()
    train_idx, _ = data.mnist5k_split()
    idx = np.random.default_rng(0).choice(train_idx, 384, replace=False)
    return to_tensor(images[idx]), torch.as_tensor(labels[idx])


def losses(events):
    return [e.loss for e in events if isinstance(e, StepEvent)]


def test_loss_decreases_on_separable_data():
    x, y = blobs()
    model = tiny_mlp()
    history = train(model, x, y, x, y, TrainConfig(optimizer="sgd", lr=0.1, batch_size=20, epochs=5))
    epochs = history.epochs
    assert len(epochs) == 5 and len(history.steps) == 5 * 10
    assert epochs.train_loss.iloc[-1] < 0.5 * epochs.train_loss.iloc[0]
    assert epochs.val_acc.iloc[-1] == 1.0


def test_events_come_in_order_and_count():
    x, y = blobs(100)
    events = list(train_iter(tiny_mlp(), x, y, config=TrainConfig(batch_size=30, epochs=2)))
    kinds = [type(e).__name__ for e in events]
    assert kinds == (["StepEvent"] * 4 + ["EpochEvent"]) * 2  # ceil(100 / 30) = 4 steps per epoch
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [e.step for e in steps] == list(range(1, 9)) and steps[0].total_steps == 8
    assert events[-1].val_loss is None and events[-1].step == 8


def test_sgd_with_huge_learning_rate_diverges_and_stops(digits):
    x, y = digits
    with seeded(0):
        model = DigitsCNN()
    config = TrainConfig(optimizer="sgd", lr=10.0, batch_size=64, epochs=3)
    events = list(train_iter(model, x, y, config=config))  # no exception
    assert isinstance(events[-1], DivergedEvent)
    assert sum(isinstance(e, DivergedEvent) for e in events) == 1
    diverged = events[-1]
    assert not np.isfinite(diverged.loss) or diverged.loss > config.diverge_above
    assert diverged.step == len(losses(events)) + 1  # the diverged step is not a StepEvent
    assert diverged.step < config.epochs * 6
    history = History()
    history.on_diverged(diverged)
    assert history.diverged is diverged


def test_same_seed_same_losses_and_weights(digits):
    x, y = digits
    config = TrainConfig(epochs=1, batch_size=32, augment=True, label_noise=0.1, seed=3)
    runs = []
    for _ in range(2):
        with seeded(0):
            model = DigitsCNN(dropout=0.5)  # dropout: uses the private generator
        runs.append((losses(train_iter(model, x, y, config=config)), model.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
    with seeded(0):
        model = DigitsCNN(dropout=0.5)
    other = losses(train_iter(model, x, y, config=TrainConfig(**{**config.to_dict(), "seed": 4})))
    assert other != runs[0][0]


def test_training_leaves_global_rng_and_model_mode_alone():
    x, y = blobs()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    model = tiny_mlp(dropout=0.5).eval()
    train(model, x, y, config=TrainConfig(epochs=2))
    assert torch.equal(torch.get_rng_state(), before)
    assert not model.training


def test_breaking_out_early_restores_mode_and_memory_format(digits):
    x, y = digits
    with seeded(0):
        model = DigitsCNN().eval()
    for event in train_iter(model, x, y, config=TrainConfig(channels_last=True)):
        if event.step == 2:
            break
    assert not model.training
    assert model.features.conv2.weight.is_contiguous()


def test_seeded_init_is_reproducible_and_restores_the_global_rng():
    before = torch.get_rng_state()
    with seeded(7):
        a = DigitsCNN().features.conv1.weight.detach().clone()
    with seeded(7):
        b = DigitsCNN().features.conv1.weight.detach().clone()
    assert torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw"])
def test_every_optimizer_learns(optimizer):
    x, y = blobs()
    lr = 0.1 if optimizer in ("sgd", "momentum") else 0.02
    history = train(tiny_mlp(), x, y, x, y, TrainConfig(optimizer=optimizer, lr=lr, batch_size=20, epochs=3))
    assert history.epochs.val_acc.iloc[-1] >= 0.98


def test_unknown_optimizer_is_rejected():
    with pytest.raises(ValueError):
        TrainConfig(optimizer="rmsprop")


def test_max_steps_ends_with_a_partial_epoch():
    x, y = blobs(100)
    events = list(train_iter(tiny_mlp(), x, y, x, y, TrainConfig(batch_size=10, epochs=5, max_steps=13)))
    assert len(losses(events)) == 13
    assert isinstance(events[-1], EpochEvent) and events[-1].step == 13 and events[-1].epoch == 1


def test_cosine_schedule_decays_to_zero():
    config = TrainConfig(lr=0.1, schedule="cosine")
    assert learning_rate(config, 0, 100) == pytest.approx(0.1)
    assert learning_rate(config, 50, 100) == pytest.approx(0.05)
    assert learning_rate(config, 99, 100) < 1e-4
    assert learning_rate(TrainConfig(lr=0.1), 99, 100) == 0.1


def test_step_events_carry_grad_norms_keyed_by_parameter_name():
    x, y = blobs(100)
    model = tiny_mlp()
    names = [n for n, _ in model.named_parameters()]
    config = TrainConfig(batch_size=10, epochs=1, grad_stats_every=4)
    events = [e for e in train_iter(model, x, y, config=config) if isinstance(e, StepEvent)]
    with_stats = [e.step for e in events if e.grad_norms is not None]
    assert with_stats == [1, 4, 8]
    for e in events:
        if e.grad_norms is not None:
            assert list(e.grad_norms) == names == list(e.weight_norms) == list(e.update_ratios)
            assert all(v > 0 for v in e.update_ratios.values())


def test_gradient_stats_match_a_hand_computed_gradient():
    # one linear layer, one step, full batch: grad of mean cross-entropy is checkable by hand
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1])
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    stats = GradientStats(model, every=1)
    train(model, x, y, config=TrainConfig(optimizer="sgd", lr=1.0, batch_size=2, epochs=1), callbacks=[stats])
    frame = stats.frame()
    assert frame.param.tolist() == ["weight", "bias"]
    weight = frame.set_index("param").loc["weight"]
    # softmax = (0.5, 0.5): dL/dW = (p - onehot) x^T / 2 = [[-0.25, 0.25], [0.25, -0.25]]
    assert weight.grad_norm == pytest.approx(0.5)
    assert weight.grad_mean == pytest.approx(0.0)
    assert weight.grad_std == pytest.approx(0.25)
    assert weight.grad_max_abs == pytest.approx(0.25)
    assert frame.set_index("param").loc["bias"].grad_norm == pytest.approx(0.0)
    assert weight.weight_norm == 0.0  # before the update
    assert np.isnan(weight.update_ratio)  # zero weights: the ratio is undefined
    layers = stats.layer_frame()
    assert layers.layer.tolist() == [""]  # weight and bias of the root module pooled
    assert layers.grad_norm.item() == pytest.approx(0.5)


def test_gradient_stats_columns_and_layers(digits):
    x, y = digits
    with seeded(0):
        model = DigitsCNN()
    stats = GradientStats(model, every=3)
    train(model, x, y, config=TrainConfig(batch_size=64, epochs=1), callbacks=[stats])  # 6 steps
    frame = stats.frame()
    names = [n for n, _ in model.named_parameters()]
    assert sorted(set(frame.step)) == [1, 3, 6]
    assert frame[frame.step == 3].param.tolist() == names
    for column in ["grad_norm", "grad_mean", "grad_std", "grad_max_abs", "weight_norm", "update_ratio"]:
        assert np.isfinite(frame[column]).all()
    assert (frame.update_ratio > 0).all() and (frame.update_ratio < 1).all()
    layers = stats.layer_frame()
    assert layers[layers.step == 1].layer.tolist() == [
        "features.conv1", "features.conv2", "classifier.fc1", "classifier.fc2"]
    conv1 = frame[(frame.step == 1) & (frame.layer == "features.conv1")]
    pooled = layers[(layers.step == 1) & (layers.layer == "features.conv1")].grad_norm.item()
    assert pooled == pytest.approx(np.sqrt((conv1.grad_norm**2).sum()))


def test_weight_snapshots_count_and_content():
    x, y = blobs(100)
    model = tiny_mlp()
    initial = torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()
    snaps = WeightSnapshots(model, every=4, at_steps=[1], at_epoch_end=True)
    history = train(model, x, y, config=TrainConfig(batch_size=10, epochs=2), callbacks=[snaps])  # 20 steps
    assert snaps.steps == [0, 1, 4, 8, 10, 12, 16, 20]  # initial, step 1, every 4, epoch end 10
    matrix = snaps.matrix()
    assert matrix.shape == (8, sum(p.numel() for p in model.parameters())) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[0], initial)
    final = torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()
    np.testing.assert_array_equal(matrix[-1], final)
    params = snaps.unflatten(matrix[-1])
    assert list(params) == [n for n, _ in model.named_parameters()]
    out = torch.func.functional_call(model, params, (x,))
    assert torch.allclose(out, model(x))
    assert len(history.steps) == 20


def test_evaluate_is_batched_and_restores_mode(digits):
    x, y = digits
    with seeded(0):
        model = DigitsCNN().train()
    loss, acc, logits = evaluate(model, x, y, batch_size=100)
    assert logits.shape == (len(x), 10) and model.training
    assert 0 <= acc <= 1 and loss == pytest.approx(nn.functional.cross_entropy(logits, y).item())
    _, _, logits_big = evaluate(model, x, y, batch_size=1000)
    assert torch.allclose(logits, logits_big, atol=1e-5)


def test_corrupt_labels_flips_exactly_the_fraction():
    y = torch.arange(1000) % 10
    noisy, flipped = corrupt_labels(y, 0.2, seed=0)
    assert flipped.sum() == 200
    assert (noisy[flipped] != y[flipped]).all() and (noisy[~flipped] == y[~flipped]).all()
    assert noisy.min() >= 0 and noisy.max() <= 9
    assert torch.equal(corrupt_labels(y, 0.2, seed=0)[0], noisy)


def test_random_shift_moves_each_image_by_at_most_max_shift():
    x = torch.zeros(50, 1, 28, 28)
    x[:, 0, 14, 14] = 1.0  # one bright pixel in the middle
    shifted = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == x.shape
    positions = shifted[:, 0].flatten(1).argmax(1)  # (50,)
    rows, cols = positions // 28, positions % 28
    assert ((rows - 14).abs() <= 2).all() and ((cols - 14).abs() <= 2).all()
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10  # really random
    assert torch.equal(shifted.sum((1, 2, 3)), torch.ones(50))


def test_mlp_on_sklearn_digits_learns():
    images, labels = data.load_sklearn_digits(normalize=True)
    x, y = torch.as_tensor(images[:, None]), torch.as_tensor(labels)
    with seeded(0):
        model = build_mlp(input_dim=64, hidden=[32])
    history = train(model, x[:1500], y[:1500], x[1500:], y[1500:], TrainConfig(lr=0.01, epochs=5))
    assert history.epochs.val_acc.iloc[-1] > 0.85
