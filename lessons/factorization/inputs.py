"""Photos as the model sees them, without torch: a bundled photo or an upload -> uint8 RGB (224, 224, 3).

"centre crop" is EfficientNet-Lite0's evaluation preprocessing (models/efficientnet_lite.preprocess_image:
bicubic resize of the shorter side to 256, centre crop 224); "whole image" scales the longer side to
224 and pads the rest with mid grey, so nothing is cut off (the background stays in the picture).
"""
from __future__ import annotations

import numpy as np

SIZE = 224
PAD_GREY = 128


def photo_rgb(pil_image, framing: str = "whole image", size: int = SIZE) -> np.ndarray:
    """An RGB PIL image -> uint8 (size, size, 3) framed as `framing`."""
    from PIL import Image

    image = pil_image.convert("RGB")
    if framing == "centre crop":
        scale = round(size * 256 / 224) / min(image.size)
        image = image.resize((max(size, round(image.width * scale)), max(size, round(image.height * scale))),
                             Image.BICUBIC)
        left, top = (image.width - size) // 2, (image.height - size) // 2
        return np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8).copy()
    if framing != "whole image":
        raise ValueError(f"unknown framing {framing!r}")
    scale = size / max(image.size)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    canvas = Image.new("RGB", (size, size), (PAD_GREY,) * 3)
    canvas.paste(image.resize((width, height), Image.BICUBIC), ((size - width) // 2, (size - height) // 2))
    return np.asarray(canvas, dtype=np.uint8).copy()


def bundled_rgb(name: str, framing: str) -> np.ndarray:
    from data import load_image

    return photo_rgb(load_image(name), framing)


def upload_rgb(data: bytes, framing: str) -> np.ndarray:
    """Raises data.uploads.UploadError with a message for the student."""
    from data.uploads import open_upload

    return photo_rgb(open_upload(data), framing)
