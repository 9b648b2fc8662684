"""Can a heatmap be trusted? The cascading-randomization sanity check (Adebayo et al. 2018) and
perturbation faithfulness scores (pytorch-grad-cam's metrics, ROAD). Functions that change weights
work on a copy; pytorch_grad_cam is imported inside the functions. No streamlit here.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from lessons.activations.compute import Progress, class_activation_map
from lessons.activations.map_tools import rank_correlation, resize_map


# --------------------------------------------------------------------------- sanity check


def cascade_steps(model: nn.Module) -> list[tuple[str, list[str]]]:
    """Groups of modules to randomize, from the output layer down to the input.

    EfficientNet-Lite0: classifier, head, then each of the 7 stages, then the stem. Other models:
    every module with its own parameters, last first (for the digits CNN: fc2, fc1, conv2, conv1).
    """
    from models.efficientnet_lite import LITE0_STAGE_CONFIG, EfficientNetLite0

    if isinstance(model, EfficientNetLite0):
        steps = [("classifier (_fc)", ["_fc"]), ("head conv", ["_conv_head", "_bn1"])]
        start, stages = 0, []
        for number, (repeats, *_rest) in enumerate(LITE0_STAGE_CONFIG, start=1):
            stages.append((f"stage {number}", [f"_blocks.{i}" for i in range(start, start + repeats)]))
            start += repeats
        return steps + stages[::-1] + [("stem", ["_conv_stem", "_bn0"])]
    leaves = [name for name, module in model.named_modules() if name and any(True for _ in module.parameters(recurse=False))]
    return [(name, [name]) for name in reversed(leaves)]


def randomize_(model: nn.Module, paths: Sequence[str], seed: int) -> None:
    """Re-initialise every parameterised module under `paths` in place (use on a copy), seeded."""
    from models.training import seeded

    with seeded(seed), torch.no_grad():
        for path in paths:
            for module in model.get_submodule(path).modules():
                if hasattr(module, "reset_parameters") and any(True for _ in module.parameters(recurse=False)):
                    module.reset_parameters()
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.weight.normal_(1.0, 0.5)  # a BN reset alone is the identity: make it random
                    module.bias.normal_(0.0, 0.5)


def cascading_randomization(
    model: nn.Module,
    x: torch.Tensor,
    layer_path: str,
    class_index: int,
    methods: Sequence[str],
    seed: int = 0,
    progress: Progress | None = None,
    **options,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018 (arXiv:1810.03292).

    Randomize the model's layers cumulatively from the top down (on a deep copy: the model passed
    in is never changed) and compare each method's map with its map on the trained model.
    Returns a table (step, step_index, method, spearman) with step 0 = "trained", and the maps
    {method: (S+1, H, W)}. A map that stays the same while the weights that produce the class
    score are destroyed does not explain the model's decision.
    """
    steps = cascade_steps(model)
    work = copy.deepcopy(model)
    maps = {m: [class_activation_map(work, x, layer_path, m, class_index, **options)] for m in methods}
    total = len(steps) * len(methods)
    for s, (step_name, paths) in enumerate(steps, start=1):
        randomize_(work, paths, seed + s)
        for j, method in enumerate(methods):
            if progress:
                progress(((s - 1) * len(methods) + j) / total, f"{step_name}: {method}")
            maps[method].append(class_activation_map(work, x, layer_path, method, class_index, **options))
    rows = [dict(step=(["trained"] + [name for name, _ in steps])[s], step_index=s, method=method,
                 spearman=rank_correlation(stack[0], stack[s]))
            for method, stack in maps.items() for s in range(len(stack))]
    return pd.DataFrame(rows), {m: np.stack(v) for m, v in maps.items()}


# --------------------------------------------------------------------------- faithfulness

FAITHFULNESS_METRICS = {
    "keep the map": "the class probability of the image multiplied by the map minus that of the image itself "
                    "(pytorch-grad-cam's CamMultImageConfidenceChange); higher is better",
    "ROAD": "ROAD (Rong et al. 2022): the class probability with the least relevant pixels removed minus the class "
            "probability with the most relevant pixels removed, each averaged over removing 30 % and 70 % of the "
            "pixels (removed pixels are filled in from their neighbours); higher is better",
}
FAITHFULNESS_AXES = {  # the x axis of the faithfulness chart: what the score is
    "keep the map": "P(class | image x map) - P(class | image)",
    "ROAD": "P(class | least relevant removed) - P(class | most relevant removed)",
}
ROAD_REMOVED_PERCENTS = (30, 70)  # pytorch-grad-cam's percentile p removes 100 - p % of the pixels: the same pair


def random_map(shape: tuple[int, int], seed: int, cells: int = 7) -> np.ndarray:
    """A baseline: uniform noise on a coarse cells x cells grid, resized to shape, in [0, 1]."""
    coarse = np.random.default_rng(seed).random((cells, cells))  # (cells, cells)
    return np.clip(resize_map(coarse, shape), 0, 1)


def faithfulness_scores(model: nn.Module, x: torch.Tensor, class_index: int, maps: dict[str, np.ndarray],
                        metric: str = "keep the map", seed: int = 0,
                        percentiles: Sequence[int] = (30, 70)) -> pd.DataFrame:
    """A score per map (method -> (H, W) in [0, 1]) in units of the class probability (0-1), as
    FAITHFULNESS_METRICS says: for ROAD, the mean probability with the least relevant pixels removed
    minus the mean probability with the most relevant removed (pytorch-grad-cam's metrics return
    each as a change from the unperturbed probability, which cancels in the difference). A flat map
    ranks no pixels: ROAD's imputation fails on it and its score is NaN."""
    from pytorch_grad_cam.metrics.cam_mult_image import CamMultImageConfidenceChange
    from pytorch_grad_cam.metrics.road import ROADLeastRelevantFirst, ROADMostRelevantFirst
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    targets = [ClassifierOutputSoftmaxTarget(int(class_index))]
    with torch.no_grad():
        base = float(model(x).softmax(-1)[0, class_index])
    rows = []
    for name, heatmap in maps.items():
        cams = np.float32(heatmap)[None]  # (1, H, W)
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)  # ROAD's imputer adds noise
            if metric == "keep the map":
                score = float(CamMultImageConfidenceChange()(x, cams, targets, model)[0])
            elif metric == "ROAD":
                lerf = np.mean([ROADLeastRelevantFirst(p)(x, cams, targets, model)[0] for p in percentiles])
                morf = np.mean([ROADMostRelevantFirst(p)(x, cams, targets, model)[0] for p in percentiles])
                score = float(lerf - morf)
            else:
                raise ValueError(f"metric must be one of {list(FAITHFULNESS_METRICS)}, got {metric!r}")
        rows.append(dict(method=name, score=score, base_probability=base))
    return pd.DataFrame(rows)
