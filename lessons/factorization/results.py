"""Each view's computation as one function of plain values -> a dict of numpy arrays. precompute.py
runs `concepts` for the defaults and ships the arrays (store.py); the page draws the shipped result
when there is one and calls these functions live otherwise (inside `zoo.borrow`)."""
from __future__ import annotations

import numpy as np

from lessons.factorization import compute
from lessons.factorization.settings import HEAD, LAYERS, MODEL, SWEEP_KS


def _activations(model, rgbs: list[np.ndarray], layer: str) -> np.ndarray:
    import torch

    x = torch.cat([compute.image_tensor(rgb) for rgb in rgbs])  # (B, 3, 224, 224)
    return compute.layer_activations(model, x, LAYERS[layer])  # (B, C, h, w)


def _labels(model, concepts: np.ndarray, layer: str) -> dict[str, np.ndarray]:
    if layer != HEAD:
        return {}
    classes, scores = compute.top_classes(compute.concept_scores(model, concepts), 5)
    return {"label_classes": classes, "label_scores": np.float32(scores)}  # (k, 5) each


def concepts(rgb: np.ndarray, layer: str, k: int) -> dict[str, np.ndarray]:
    """One image: its k concept maps (k, h, w), the relative error, concept labels at the head layer,
    and the model's own top-5 for the image."""
    import torch
    from models import zoo

    with zoo.borrow(MODEL) as model:
        acts = _activations(model, [rgb], layer)
        result = compute.factorize(acts, k, layer)
        with torch.no_grad():
            probs = model(compute.image_tensor(rgb)).softmax(-1).numpy()  # (1, classes)
        image_classes, image_scores = compute.top_classes(probs, 5)
        out = {"maps": result.maps[0], "error": np.float32(result.error), "channels": np.int64(acts.shape[1]),
               "image_classes": image_classes[0], "image_scores": np.float32(image_scores[0])}
        out.update(_labels(model, result.concepts, layer))
    return out


def cosegmentation(rgbs: list[np.ndarray], layer: str, k: int) -> dict[str, np.ndarray]:
    """Several images factorized together: maps (B, k, h, w) with one set of concepts."""
    from models import zoo

    with zoo.borrow(MODEL) as model:
        acts = _activations(model, rgbs, layer)
        result = compute.factorize(acts, k, layer)
        out = {"maps": result.maps, "error": np.float32(result.error)}
        out.update(_labels(model, result.concepts, layer))
    return out


def sweep(rgb: np.ndarray, layer: str) -> dict[str, np.ndarray]:
    """k from 2 to 10: the error of each, each k's maps, and which concept of k each of k + 1 came from."""
    from models import zoo

    with zoo.borrow(MODEL) as model:
        acts = _activations(model, [rgb], layer)
        runs = compute.k_sweep(acts, SWEEP_KS, layer)
        out = {"ks": np.int64(SWEEP_KS), "errors": np.float32([r.error for r in runs])}
        for k, run in zip(SWEEP_KS, runs):
            out[f"maps_{k}"] = run.maps[0]  # (k, h, w)
            if layer == HEAD:
                out[f"top_{k}"] = compute.top_classes(compute.concept_scores(model, run.concepts), 1)[0][:, 0]
        for k, before, after in zip(SWEEP_KS, runs, runs[1:]):
            parents, similarity = compute.concept_parents(before.maps, after.maps)
            out[f"parents_{k + 1}"], out[f"similarity_{k + 1}"] = parents, np.float32(similarity)
    return out


def three_ways(rgb: np.ndarray, layer: str, k: int, seed: int) -> dict[str, np.ndarray]:
    """The same activations as DFF concepts (k, h, w), EigenCAM's map (224, 224) and k-means segments (h, w)."""
    from models import zoo

    with zoo.borrow(MODEL) as model:
        acts = _activations(model, [rgb], layer)
    return {"maps": compute.factorize(acts, k, layer).maps[0], "eigencam": compute.eigencam_map(acts)[0],
            "segments": compute.kmeans_segments(acts, k, seed)[0]}
