"""Files a student might upload, built in memory for the browser tests: a real photo's bytes, and the
bad ones of issue #18's matrix with the sentence the app answers each with (lessons/uploads.py;
tests/unit/test_uploads.py checks the whole matrix on the decoder itself)."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from data import IMAGES_DIR


def jpeg_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def huge_png(side: int = 20_000) -> bytes:
    """A valid greyscale PNG of side x side black pixels, written row by row (never held in memory)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), b"\x00" * (side + 1)  # filter byte 0, then the row's pixels
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


BAD_UPLOADS = {
    "corrupt": ("junk.jpg", "image/jpeg", "This file is not a readable JPEG, PNG or WebP image."),
    "truncated": ("cut.jpg", "image/jpeg", "The image is damaged (truncated or corrupt) and cannot be decoded."),
    "bomb": ("huge.png", "image/png", "The image has too many pixels (over 40 megapixels)"),
}


def bad_bytes(kind: str) -> bytes:
    if kind == "corrupt":
        return np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    if kind == "truncated":
        whole = jpeg_bytes(Image.open(IMAGES_DIR / "astronaut.jpg").convert("RGB"))
        return whole[: len(whole) // 2]
    return huge_png()


