"""After training: the final weights on the validation set (confusion matrix, ROC curves, the
mistakes) and the enlarged digits the page shows.

Plain numpy, pandas and scikit-learn (no Streamlit). ROC curves (one class against the rest):
Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 2006, computed with
scikit-learn.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lessons.training.compute import Run


# --------------------------------------------------------------------------- after training


def confusion(run: Run) -> np.ndarray:
    """Confusion matrix of the final weights on the validation set: rows true, columns predicted."""
    classes = max(10, run.val_probs.shape[1])  # always the ten digits, as the page reads it
    pairs = np.asarray(run.val_labels) * classes + run.val_probs.argmax(1)  # (M,) true * C + predicted
    return np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)


def roc_curves(run: Run) -> pd.DataFrame:
    """Per class, one against the rest (Fawcett 2006): columns digit, fpr, tpr, auc."""
    from sklearn.metrics import auc, roc_curve

    parts = []
    for digit in range(run.val_probs.shape[1]):
        truth = (run.val_labels == digit).astype(int)
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = roc_curve(truth, run.val_probs[:, digit])
        parts.append(pd.DataFrame(dict(digit=str(digit), fpr=fpr, tpr=tpr, auc=auc(fpr, tpr))))
    return pd.concat(parts, ignore_index=True)


def misclassified(run: Run, limit: int = 24) -> pd.DataFrame:
    """Validation examples the final weights get wrong, most confident mistakes first:
    columns index (into the validation set), true, predicted, confidence."""
    predicted = run.val_probs.argmax(1)
    wrong = np.flatnonzero(predicted != run.val_labels)
    confidence = run.val_probs[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:limit]
    return pd.DataFrame(dict(index=order, true=run.val_labels[order], predicted=predicted[order],
                             confidence=run.val_probs[order, predicted[order]]))


def upscale(pixels: np.ndarray, size: int = 56) -> np.ndarray:
    """Nearest-neighbour enlargement of (H, W) images in [0, 1] to about `size` px, uint8."""
    factor = max(1, size // pixels.shape[-1])
    big = np.kron(pixels, np.ones((factor, factor), dtype=pixels.dtype))  # (H*f, W*f)
    return (np.clip(big, 0, 1) * 255).astype(np.uint8)
