"""Inputs of the activation-heatmap lesson: upload validation, photos and digits as model inputs,
and the collections (every bundled photo, held-out digits) the statistics view runs over.

No Streamlit here: the page passes the uploaded bytes in and shows `UploadError`'s message. No torch at
import either (the page's first render reads FRAMINGS and the upload checks before torch is loaded): the
functions that build tensors import it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

# The upload checks are shared by every image lesson and need no torch (data/uploads.py).
from data.uploads import (MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, UPLOAD_FORMATS, UploadError,  # noqa: F401
                          bytes_key, open_upload)

if TYPE_CHECKING:
    import torch

FRAMINGS = ("centre crop", "whole image")


def photo_input(image, framing: str = "centre crop") -> tuple[torch.Tensor, np.ndarray]:
    """An RGB PIL image -> (EfficientNet input (1, 3, 224, 224), the same pixels as RGB (224, 224, 3) in [0, 1]).

    "centre crop" is the ImageNet evaluation recipe (resize, crop the middle square); "whole image"
    shrinks the photo to fit and pads it with grey, so nothing is cut off (letterboxing).
    """
    import torch

    from models.efficientnet_lite import (EFFICIENTNET_LITE0_INPUT_SIZE, EFFICIENTNET_LITE0_MEAN,
                                          EFFICIENTNET_LITE0_STD, preprocess_image)
    from PIL import Image

    mean = torch.tensor(EFFICIENTNET_LITE0_MEAN).view(3, 1, 1)
    std = torch.tensor(EFFICIENTNET_LITE0_STD).view(3, 1, 1)
    if framing == "centre crop":
        x = preprocess_image(image)  # (1, 3, 224, 224)
        rgb = (x[0] * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()  # (224, 224, 3)
        return x, np.float32(rgb)
    if framing != "whole image":
        raise ValueError(f"framing must be one of {FRAMINGS}, got {framing!r}")
    size = EFFICIENTNET_LITE0_INPUT_SIZE
    image = image.convert("RGB")
    scale = size / max(image.size)
    fitted = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BICUBIC)
    canvas = Image.new("RGB", (size, size), (128, 128, 128))
    canvas.paste(fitted, ((size - fitted.width) // 2, (size - fitted.height) // 2))
    rgb = np.float32(np.asarray(canvas)) / 255.0  # (224, 224, 3)
    x = ((torch.from_numpy(rgb).permute(2, 0, 1) - mean) / std)[None]  # (1, 3, 224, 224)
    return x, rgb


def digit_input(image: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
    """A uint8 digit (28, 28) -> (CNN input (1, 1, 28, 28), grey RGB (28, 28, 3) in [0, 1])."""
    from models.digits import to_tensor

    grey = np.float32(image) / 255.0  # (28, 28)
    return to_tensor(image[None]), np.repeat(grey[:, :, None], 3, axis=2)


def digits_input(images: np.ndarray) -> torch.Tensor:
    """uint8 digits (N, 28, 28) -> CNN input (N, 1, 28, 28)."""
    from models.digits import to_tensor

    return to_tensor(images)


def photo_collection(framing: str = "centre crop") -> tuple[torch.Tensor, list[str]]:
    """Every bundled photo as one batch (N, 3, 224, 224) and their names."""
    import torch

    from data import list_images, load_image

    names = list_images()
    return torch.cat([photo_input(load_image(n), framing)[0] for n in names]), names


def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,000 held-out MNIST-5k digits (never trained on): uint8 (1000, 28, 28), labels (1000,)."""
    from data import load_mnist5k, mnist5k_split

    images, labels = load_mnist5k()
    _, heldout = mnist5k_split()
    return images[heldout], labels[heldout]


def digit_collection(per_class: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` held-out digits of each class: uint8 (10*per_class, 28, 28), labels."""
    from data import load_mnist5k, mnist5k_split

    images, labels = load_mnist5k()
    _, heldout = mnist5k_split()
    chosen = np.concatenate([heldout[labels[heldout] == d][:per_class] for d in range(10)])
    return images[chosen], labels[chosen]
