"""A "shortcut" version of MNIST: a bright square whose position gives the class away.

Every class k gets its own 3x3 marker position in the empty left or right margin of the 28x28
image (classes 0-4 down the left edge, 5-9 down the right edge). A network trained on images
that all carry their marker can reach 100 % training accuracy by reading the marker instead of
the digit: right for the wrong reason. This is the
shortcut learning of Geirhos et al., "Shortcut learning in deep neural networks",
Nature Machine Intelligence 2020 (https://arxiv.org/abs/2004.07780); attribution maps
(Grad-CAM, ...) reveal it by putting their mass on the marker, which ``marker_box`` locates.
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 28
MARKER_SIZE = 3
MARKER_VALUE = 255
NUM_CLASSES = 10

# top-left (row, col) of each class's marker, in the left and right margins where MNIST has
# (almost) no ink: classes 0-4 down the left edge, classes 5-9 down the right edge.
MARKER_CORNERS: tuple[tuple[int, int], ...] = (
    (0, 0), (6, 0), (12, 0), (18, 0), (25, 0),  # classes 0-4: left edge, top to bottom
    (0, 25), (6, 25), (12, 25), (18, 25), (25, 25),  # classes 5-9: right edge, top to bottom
)


def marker_box(label: int) -> tuple[int, int, int, int]:
    """Pixel box ``(row0, col0, row1, col1)`` of the marker of class ``label``, ends exclusive:
    the marker is ``image[row0:row1, col0:col1]``."""
    row0, col0 = MARKER_CORNERS[int(label)]
    return row0, col0, row0 + MARKER_SIZE, col0 + MARKER_SIZE


def marker_mask(label: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """Boolean ``(size, size)`` mask of the marker of class ``label`` (for heatmap mass on it)."""
    mask = np.zeros((size, size), dtype=bool)
    row0, col0, row1, col1 = marker_box(label)
    mask[row0:row1, col0:col1] = True
    return mask


def marker_classes(labels: np.ndarray, wrong: bool = False) -> np.ndarray:
    """Which class's marker ``add_class_marker`` stamps: the label, or ``(label + 1) % 10``."""
    labels = np.asarray(labels, dtype=np.int64)
    return (labels + 1) % NUM_CLASSES if wrong else labels


def add_class_marker(
    images: np.ndarray,
    labels: np.ndarray,
    rng_or_seed: np.random.Generator | int | None = 0,
    p: float = 1.0,
    wrong: bool = False,
    value: int | float = MARKER_VALUE,
) -> np.ndarray:
    """A copy of ``images`` (N, 28, 28) with each image's class marker stamped on it.

    Each image gets its marker with probability ``p`` (drawn from ``rng_or_seed``; with
    ``p=1`` every image is marked and the random generator is not used). With ``wrong=True``
    the marker of class ``(label + 1) % 10`` is stamped instead: a model that reads the marker
    then predicts ``marker_classes(labels, wrong=True)``.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected (N, {IMAGE_SIZE}, {IMAGE_SIZE}) images, got {images.shape}")
    if len(labels) != len(images):
        raise ValueError("images and labels differ in length")
    marked = images.copy()  # (N, 28, 28)
    if p >= 1.0:
        stamp = np.ones(len(images), dtype=bool)
    else:
        stamp = np.random.default_rng(rng_or_seed).random(len(images)) < p  # (N,)
    for i, cls in enumerate(marker_classes(labels, wrong)):
        if stamp[i]:
            row0, col0, row1, col1 = marker_box(cls)
            marked[i, row0:row1, col0:col1] = value
    return marked
