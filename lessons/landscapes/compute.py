"""Loss landscapes: directions in weight space, slices, interpolation paths and training trajectories.

Tensors in, arrays out; no streamlit (usable from a notebook). The fast grid evaluator is grid.py, the
numbers read off a surface (barrier, roughness, sharpness) are measures.py (numpy only), the
two-parameter toy surfaces are toy.py.

Papers: Li, Xu, Taylor, Studer & Goldstein, "Visualizing the loss landscape of neural nets",
NeurIPS 2018 (filter normalisation, 2-D slices, PCA trajectories, skip connections); Goodfellow,
Vinyals & Saxe, "Qualitatively characterizing neural network optimization problems", ICLR 2015
(linear interpolation); Keskar et al., "On large-batch training for deep learning: generalization
gap and sharp minima", ICLR 2017.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

import data
from lessons.landscapes import grid
from lessons.landscapes.nets import ResidualMLP
from models import zoo
from models.digits import DigitsCNN, DigitsMLP, to_tensor
from models.training import TrainConfig, WeightSnapshots, seeded, train_iter

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE / "weights"
NORMALIZATIONS = ("filter", "layer", "none")
MODEL_KINDS = {"digits_mlp": "mlp", "digits_cnn": "cnn"}
INIT_SEED = 0  # models/train_weights.py builds every bundled model from this seed
EVAL_SPLIT_SEED = 0


# --------------------------------------------------------------------------- directions


def filter_normalized_direction(params: dict, seed: int, normalization: str = "filter") -> dict:
    """A random Gaussian direction in weight space, one tensor per parameter.

    "filter" (Li et al. 2018, section 4): each filter of the direction (a row of a Linear weight, an
    output channel of a conv weight) is rescaled to the norm of the same filter of the weights, so a
    step of 1 moves every filter by its own size whatever the scale of the layer.
    "layer": each whole tensor rescaled to the weight tensor's norm. "none": raw N(0, 1) entries.
    Biases and BatchNorm parameters (every tensor of dim <= 1) get 0, the paper's default.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    generator = torch.Generator().manual_seed(seed)
    direction = {}
    for name, weight in params.items():
        if weight.dim() <= 1:
            direction[name] = torch.zeros_like(weight)
            continue
        d = torch.randn(weight.shape, generator=generator)  # same shape as the weight
        if normalization == "filter":
            d_norms = d.flatten(1).norm(dim=1).view(-1, *[1] * (weight.dim() - 1))  # (out, 1, ...)
            w_norms = weight.flatten(1).norm(dim=1).view(-1, *[1] * (weight.dim() - 1))
            d = d * w_norms / (d_norms + 1e-10)
        elif normalization == "layer":
            d = d * weight.norm() / (d.norm() + 1e-10)
        direction[name] = d
    return direction


def direction_matrix(net: grid.SliceNet, seeds: tuple[int, ...], normalization: str = "filter") -> torch.Tensor:
    """One flat direction per seed, (len(seeds), D), for the net's weights."""
    params = net.unflatten(net.theta)
    return torch.stack([net.flatten(filter_normalized_direction(params, s, normalization)) for s in seeds])


# --------------------------------------------------------------------------- data and models


@functools.lru_cache(maxsize=4)
def evaluation_digits(samples: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `samples` of the 4,000 MNIST-5k training digits the models were trained on (the
    landscape is that of the training loss, as in the paper): x (N, 1, 28, 28), y (N,)."""
    images, labels = data.load_mnist5k()
    train_idx, _ = data.mnist5k_split(EVAL_SPLIT_SEED)
    chosen = train_idx[:samples]
    return to_tensor(images[chosen]), torch.as_tensor(labels[chosen])


@functools.lru_cache(maxsize=1)
def training_digits() -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = data.load_mnist5k()
    train_idx, _ = data.mnist5k_split(EVAL_SPLIT_SEED)
    return to_tensor(images[train_idx]), torch.as_tensor(labels[train_idx])


def zoo_net(name: str) -> grid.SliceNet:
    """A bundled model as a SliceNet: its weights are copied under the zoo's lock; the shared
    model itself is never written to."""
    with zoo.borrow(name) as model:
        return grid.SliceNet.from_model(model, MODEL_KINDS[name])


def initial_model(name: str) -> nn.Module:
    """The bundled model's weights before training (models/train_weights.py: seed 0)."""
    with seeded(INIT_SEED):
        return DigitsMLP(hidden=(32, 16)) if name == "digits_mlp" else DigitsCNN()


def lesson_model(name: str) -> nn.Module:
    """A model trained by this lesson's precompute.py (weights in lessons/landscapes/weights/)."""
    spec = LESSON_MODELS[name]
    model = spec.build()
    model.load_state_dict(torch.load(WEIGHTS / f"{name}.pt", map_location="cpu", weights_only=True))
    return model.eval()


@dataclass(frozen=True)
class LessonModel:
    """A model the lesson trains itself (precompute.py): architecture, init seed, recipe."""

    arch: str  # "mlp" (DigitsMLP 784-32-16-10) or "resmlp"
    init_seed: int
    config: TrainConfig
    kwargs: tuple = ()

    def build(self) -> nn.Module:
        with seeded(self.init_seed):
            if self.arch == "mlp":
                return DigitsMLP(hidden=(32, 16))
            return ResidualMLP(**dict(self.kwargs))

    @property
    def kind(self) -> str:
        return self.arch


_MLP_RECIPE = TrainConfig(optimizer="adam", lr=2e-3, schedule="cosine", batch_size=64, epochs=60, augment=True, seed=1)
RES_KWARGS = (("width", 32), ("blocks", 4))
_RES_RECIPE = TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, epochs=10, seed=0)
LESSON_MODELS = {
    # the digits_mlp recipe (models/train_weights.py) from another initial seed: a second solution
    "mlp_seed1": LessonModel("mlp", 1, _MLP_RECIPE),
    "resmlp_skips": LessonModel("resmlp", 0, _RES_RECIPE, RES_KWARGS + (("skips", True),)),
    "resmlp_noskips": LessonModel("resmlp", 0, _RES_RECIPE, RES_KWARGS + (("skips", False),)),
    # Keskar et al. 2017: the same MLP from the same init, small against large batches
    "mlp_batch32": LessonModel("mlp", 0, TrainConfig(optimizer="sgd", lr=0.1, batch_size=32, epochs=20, seed=0)),
    "mlp_batch4000": LessonModel("mlp", 0, TrainConfig(optimizer="sgd", lr=0.3, batch_size=4000, epochs=400,
                                                       seed=0)),
}


def train_lesson_model(name: str) -> nn.Module:
    """Train one of LESSON_MODELS from its seed (precompute.py calls this)."""
    spec = LESSON_MODELS[name]
    model = spec.build()
    x, y = training_digits()
    for _ in train_iter(model, x, y, config=spec.config):
        pass
    return model.eval()


def slice_net(name: str) -> grid.SliceNet:
    """Any model the lesson slices: a bundled one (zoo) or one of its own."""
    if name in MODEL_KINDS:
        return zoo_net(name)
    return grid.SliceNet.from_model(lesson_model(name), LESSON_MODELS[name].kind)


# --------------------------------------------------------------------------- slices


def centre_loss(net: grid.SliceNet, samples: int) -> tuple[float, float]:
    x, y = evaluation_digits(samples)
    loss, acc = grid.evaluate_points(net, torch.zeros(1, len(net.theta)), np.zeros((1, 1)), x, y)
    return float(loss[0]), float(acc[0])


def slice_1d(net: grid.SliceNet, seed: int, normalization: str, span: float, points: int,
             samples: int) -> dict[str, np.ndarray]:
    """Loss and accuracy along theta + a*d for a in linspace(-span, span, points)."""
    x, y = evaluation_digits(samples)
    d = direction_matrix(net, (seed,), normalization)  # (1, D)
    alphas = np.linspace(-span, span, points).astype(np.float32)
    loss, acc = grid.evaluate_points(net, d, alphas[:, None], x, y)
    return {"alpha": alphas, "loss": loss, "acc": acc}


def slice_2d(net: grid.SliceNet, seeds: tuple[int, int], normalization: str, span: float, resolution: int,
             samples: int, progress=None) -> grid.SurfaceUpdate:
    x, y = evaluation_digits(samples)
    d = direction_matrix(net, seeds, normalization)  # (2, D)
    return grid.full_surface(net, d, span, resolution, x, y, progress)


def surface_directions(net: grid.SliceNet, seed: int, normalization: str = "filter") -> torch.Tensor:
    """The two directions of a 2-D slice drawn with one seed: (2, D)."""
    return direction_matrix(net, (2 * seed + 1, 2 * seed + 2), normalization)


# --------------------------------------------------------------------------- interpolation


def interpolation(start: grid.SliceNet, end: grid.SliceNet, alphas: np.ndarray, samples: int) -> dict[str, np.ndarray]:
    """Goodfellow et al. 2015: theta(a) = (1 - a) * start + a * end, loss and accuracy along a."""
    x, y = evaluation_digits(samples)
    direction = (end.theta - start.theta)[None]  # (1, D)
    loss, acc = grid.evaluate_points(start, direction, np.asarray(alphas, np.float32)[:, None], x, y)
    return {"alpha": np.asarray(alphas, np.float32), "loss": loss, "acc": acc}


def init_net(name: str) -> grid.SliceNet:
    return grid.SliceNet.from_model(initial_model(name), MODEL_KINDS[name])


# --------------------------------------------------------------------------- trajectories


TRAJECTORY_OPTIMIZERS = {"sgd": 0.1, "momentum": 0.02, "adam": 2e-3}  # optimizer -> learning rate


def trajectory_config(optimizer: str, seed: int, epochs: int = 10) -> TrainConfig:
    return TrainConfig(optimizer=optimizer, lr=TRAJECTORY_OPTIMIZERS[optimizer], batch_size=64, epochs=epochs,
                       seed=seed)


def train_trajectory(optimizer: str, seed: int, epochs: int = 10, every: int = 25, on_step=None) -> np.ndarray:
    """Train DigitsMLP(32, 16) from init `seed`, keeping the weights every `every` steps (the training
    engine's WeightSnapshots callback): returns the (K, D) snapshot matrix, first row the initial
    weights, last row the final ones."""
    with seeded(seed):
        model = DigitsMLP(hidden=(32, 16))
    x, y = training_digits()
    snapshots = WeightSnapshots(model, every=every, at_epoch_end=True)
    for event in train_iter(model, x, y, config=trajectory_config(optimizer, seed, epochs), callbacks=[snapshots]):
        if on_step is not None:
            on_step(event)
    return snapshots.matrix()


def pca_plane(snapshots: np.ndarray) -> dict[str, np.ndarray]:
    """Li et al. 2018, section 7: PCA of the matrix [theta_i - theta_n] (every checkpoint minus the
    final weights). Returns the two unit components (2, D), the share of the variance each explains
    and the checkpoints' coordinates (K, 2) on the plane through theta_n that they span."""
    final = snapshots[-1].astype(np.float64)
    moves = snapshots[:-1].astype(np.float64) - final  # (K-1, D)
    centred = moves - moves.mean(0)
    gram = centred @ centred.T  # (K-1, K-1): cheaper than the (D, D) covariance
    eigvals, eigvecs = np.linalg.eigh(gram)
    order = np.argsort(eigvals)[::-1]
    eigvals, eigvecs = eigvals[order].clip(min=0), eigvecs[:, order]
    components = (centred.T @ eigvecs[:, :2] / np.sqrt(eigvals[:2] + 1e-30)).T  # (2, D) unit rows
    coords = (snapshots.astype(np.float64) - final) @ components.T  # (K, 2)
    return {"components": components.astype(np.float32), "explained": eigvals[:2] / eigvals.sum(),
            "coords": coords.astype(np.float32)}


def trajectory_surface(snapshots: np.ndarray, resolution: int, samples: int, margin: float = 0.2) -> dict:
    """The loss on the PCA plane around the final weights, on a square that holds the whole path."""
    plane = pca_plane(snapshots)
    model = DigitsMLP(hidden=(32, 16))
    net = grid.SliceNet.from_model(model, "mlp")
    net.theta = torch.as_tensor(snapshots[-1]).float().clone()
    span = float(np.abs(plane["coords"]).max() * (1 + margin))
    x, y = evaluation_digits(samples)
    surface = grid.full_surface(net, torch.as_tensor(plane["components"]), span, resolution, x, y)
    path_loss, _ = grid.evaluate_points(net, torch.as_tensor(plane["components"]), plane["coords"], x, y)
    return {"axis": surface.axis, "loss": surface.loss, "coords": plane["coords"], "explained": plane["explained"],
            "path_loss": path_loss}


def copy_of(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model)


def warm_up() -> None:
    """The lesson's one-off costs in the server's background warm-up: the evaluation digits and one
    small batched grid call (the first matmuls of a process pay for their thread pool)."""
    net = zoo_net("digits_mlp")
    x, y = evaluation_digits(500)
    grid.evaluate_points(net, surface_directions(net, 0), np.zeros((4, 2), np.float32), x, y)
