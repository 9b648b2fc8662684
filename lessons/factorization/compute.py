"""Deep feature factorization: split one layer's activations into k concepts with non-negative matrix
factorization (Collins, Achanta & Süsstrunk, "Deep Feature Factorization for Concept Discovery",
ECCV 2018, https://arxiv.org/abs/1806.10206), label each concept with the classifier head, and
compare with EigenCAM's first principal component (Muhammad & Yeasin, IJCNN 2020) and k-means.

The maths is pytorch-grad-cam's `dff` (github.com/jacobgil/pytorch-grad-cam): the activations
(B, C, h, w) become a (C, B*h*w) matrix A, each channel shifted by its minimum so A >= 0, and
sklearn's NMF (random init, seed 0) gives A ~ W H with W (C, k) the concepts and H (k, B*h*w) their
maps. Several images factorized together share W: the same concept in each (co-segmentation).

No Streamlit here. The caller holds the model (for the shared zoo model: inside `zoo.borrow`);
nothing here changes its weights, and the one forward hook is removed before returning.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lessons.factorization.errors import FactorizationError  # noqa: F401  (re-exported)
from lessons.factorization.inputs import SIZE


@dataclass(frozen=True)
class Factorization:
    concepts: np.ndarray  # (C, k): each concept a point in the layer's channel space (the library's W + offset)
    maps: np.ndarray  # (B, k, h, w): how strongly each concept is present at each position (H)
    error: float  # ||A - W H||_F / ||A||_F on the shifted activations


def image_tensor(rgb: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> the model's input (1, 3, H, W) normalised with mean and std 0.5."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float() / 255.0  # (3, H, W) in [0, 1]
    return ((x - 0.5) / 0.5)[None]  # (1, 3, H, W)


def layer_activations(model: nn.Module, x: torch.Tensor, layer_path: str) -> np.ndarray:
    """The output of `layer_path` for a batch x (B, 3, H, W): float32 (B, C, h, w). The hook is removed."""
    captured = {}
    hook = model.get_submodule(layer_path).register_forward_hook(
        lambda module, inputs, output: captured.__setitem__("a", output.detach()))
    try:
        with torch.no_grad():
            model(x)
    finally:
        hook.remove()
    return captured["a"].float().numpy()  # (B, C, h, w)


def check_rank(k: int, channels: int, positions: int, layer: str = "this layer") -> None:
    """NMF cannot find more concepts than the matrix has rows (channels) or columns (positions)."""
    if k < 1:
        raise FactorizationError("Ask for at least one concept.")
    if k > min(channels, positions):
        raise FactorizationError(
            f"{k} concepts cannot come out of {layer}: it has {channels} channels and {positions} positions, and "
            f"NMF finds at most min(channels, positions) = {min(channels, positions)}. Choose a smaller k.")


def factorize(activations: np.ndarray, k: int, layer: str = "this layer") -> Factorization:
    """pytorch-grad-cam's `dff` on (B, C, h, w) activations, plus its relative reconstruction error.

    NMF runs on one BLAS thread: on a busy 2-core server the threaded BLAS was 30x slower for k >= 9."""
    from pytorch_grad_cam.feature_factorization.deep_feature_factorization import dff
    from threadpoolctl import threadpool_limits

    batch, channels, h, w = activations.shape
    check_rank(k, channels, batch * h * w, layer)
    matrix = np.nan_to_num(activations.transpose(1, 0, 2, 3).reshape(channels, -1))  # (C, B*h*w)
    offset = matrix.min(axis=1, keepdims=True)  # (C, 1): the library shifts each channel by its minimum
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NMF often stops at max_iter (200) with the library's settings
        concepts, maps = dff(activations.copy(), n_components=k)  # (C, k) = W + offset, (B, k, h, w)
    codes = maps.transpose(1, 0, 2, 3).reshape(k, -1)  # (k, B*h*w): H
    shifted = matrix - offset  # (C, B*h*w): A, what NMF factorized
    error = np.linalg.norm(shifted - (concepts - offset) @ codes) / max(float(np.linalg.norm(shifted)), 1e-12)
    return Factorization(np.float32(concepts), np.float32(maps), float(error))


def concept_scores(model: nn.Module, concepts: np.ndarray) -> np.ndarray:
    """Each concept vector through the classifier head, as pytorch-grad-cam's DFF tutorial does:
    softmax(fc(concept)) (k, classes). The head reads the global average of the 1280 head channels,
    so a concept of that layer is a point in the space it classifies."""
    head = model._fc
    if concepts.shape[0] != head.in_features:
        raise FactorizationError(f"The classifier head reads {head.in_features} channels; this layer has "
                                 f"{concepts.shape[0]}. Concept labels need the head conv layer.")
    with torch.no_grad():
        return head(torch.from_numpy(np.float32(concepts.T))).softmax(-1).numpy()  # (k, classes)


def top_classes(scores: np.ndarray, n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(k, classes) -> the n best class indices (k, n) and their scores (k, n), best first."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :n]
    return order, np.take_along_axis(scores, order, axis=1)


def k_sweep(activations: np.ndarray, ks: Sequence[int], layer: str = "this layer") -> list[Factorization]:
    """One factorization per k, each with the library's initialisation policy (random, seed 0)."""
    return [factorize(activations, k, layer) for k in ks]


def concept_parents(maps_k: np.ndarray, maps_next: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of the k concepts each of the k + 1 concepts came from: the one whose map (over every
    image and position) is most similar (cosine). maps (B, k, h, w) and (B, k + 1, h, w) ->
    parents (k + 1,) ints and their similarities (k + 1,)."""
    before = maps_k.transpose(1, 0, 2, 3).reshape(maps_k.shape[1], -1)  # (k, B*h*w)
    after = maps_next.transpose(1, 0, 2, 3).reshape(maps_next.shape[1], -1)  # (k + 1, B*h*w)
    before = before / (np.linalg.norm(before, axis=1, keepdims=True) + 1e-12)
    after = after / (np.linalg.norm(after, axis=1, keepdims=True) + 1e-12)
    similarity = after @ before.T  # (k + 1, k)
    parents = similarity.argmax(axis=1)
    return parents, similarity[np.arange(len(parents)), parents]


def eigencam_projection(activations: np.ndarray) -> np.ndarray:
    """EigenCAM's map before scaling: each position's channel vector (centred) projected on the first
    principal component. (B, C, h, w) -> (B, h, w). pytorch-grad-cam's `get_2d_projection` with the
    economy SVD (the full one builds an (h*w) x (h*w) matrix: 1.2 GB at 112 px)."""
    projections = []
    for single in np.nan_to_num(activations):  # (C, h, w)
        rows = single.reshape(single.shape[0], -1).T  # (h*w, C)
        rows = rows - rows.mean(axis=0)
        _, _, vt = np.linalg.svd(rows, full_matrices=False)  # vt: (min(h*w, C), C)
        projections.append((rows @ vt[0]).reshape(single.shape[1:]))  # (h, w)
    return np.float32(projections)  # (B, h, w)


def eigencam_map(activations: np.ndarray, size: tuple[int, int] = (SIZE, SIZE)) -> np.ndarray:
    """EigenCAM as the library's BaseCAM finishes it: clip at 0, scale to [0, 1], resize; (B, H, W)."""
    from lessons.factorization.maps import scale_and_resize

    projection = np.maximum(eigencam_projection(activations), 0)  # (B, h, w)
    return np.float32([scale_and_resize(np.maximum(scale_and_resize(p[None], size), 0), size)[0]
                       for p in projection])  # (B, H, W)


def kmeans_segments(activations: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """k-means (scikit-learn, 4 restarts) on the positions' channel vectors: (B, C, h, w) -> labels (B, h, w)."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    batch, channels, h, w = activations.shape
    check_rank(k, channels, batch * h * w)
    rows = np.nan_to_num(activations).transpose(0, 2, 3, 1).reshape(-1, channels)  # (B*h*w, C)
    with threadpool_limits(1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(rows)
    return labels.reshape(batch, h, w)


def warm_up() -> None:
    """The one-off costs of a first factorization in a process (sklearn's NMF and k-means code paths)."""
    rng = np.random.default_rng(0)
    acts = np.float32(rng.random((1, 8, 4, 4)))
    factorize(acts, 2)
    kmeans_segments(acts, 2)
