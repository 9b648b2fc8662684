"""Small PNG data URLs of the MNIST digits for the chart's tooltip (no external URLs). numpy + Pillow."""
from __future__ import annotations

import base64
import functools
import io

import numpy as np


def png_data_url(image: np.ndarray) -> str:
    """uint8 (H, W) -> "data:image/png;base64,..." (white ink on black, as MNIST stores it)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@functools.lru_cache(maxsize=1)
def _all_digits() -> tuple[str, ...]:
    from data import load_mnist5k

    images, _ = load_mnist5k()
    return tuple(png_data_url(image) for image in images)  # 5,000 strings of about 0.4 KB


def digit_urls(indices) -> list[str]:
    """The data URLs of these MNIST-5k digits (all 5,000 are encoded once per process)."""
    urls = _all_digits()
    return [urls[int(i)] for i in indices]
