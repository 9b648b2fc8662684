"""Images a student uploads: validated before any model sees them (shared by every image lesson).

No Streamlit and no torch here: a page passes the uploaded bytes in and shows `UploadError`'s message
in its own section. Refused: empty files, files over the cap, anything that is not a JPEG, PNG or
WebP, decompression bombs (too many pixels), tiny or extremely elongated images, truncated files.
Accepted images come back as RGB whatever their mode (CMYK, 16-bit, RGBA, palette, greyscale), turned
upright by their EXIF orientation.
"""
from __future__ import annotations

import hashlib
import io


class UploadError(ValueError):
    """An uploaded file we refuse, with a message for the student."""


MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the same cap as .streamlit/config.toml's maxUploadSize
MAX_UPLOAD_PIXELS = 40_000_000
UPLOAD_FORMATS = ("JPEG", "PNG", "WEBP")


def bytes_key(data: bytes) -> str:
    """A short content hash to key caches on an upload."""
    return hashlib.sha256(data).hexdigest()[:16]


def open_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS):
    """Validate an uploaded file and return it as an RGB PIL image, or raise UploadError."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise UploadError("The file is empty.")
    if len(data) > max_bytes:
        raise UploadError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    unreadable = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format, (width, height) = probe.format, probe.size
            probe.verify()  # checks the structure without decoding the pixels
    except Image.DecompressionBombError as error:  # Pillow refuses to even open it: say why
        raise UploadError(f"The image has too many pixels (over {max_pixels / 1e6:.0f} megapixels); "
                          "upload a smaller one.") from error
    except unreadable as error:
        raise UploadError("This file is not a readable JPEG, PNG or WebP image.") from error
    if image_format not in UPLOAD_FORMATS:
        raise UploadError(f"{image_format} files are not supported: upload a JPEG, PNG or WebP image.")
    if width * height > max_pixels:
        raise UploadError(f"The image has {width * height / 1e6:.0f} megapixels ({width} x {height}); "
                          f"the limit is {max_pixels / 1e6:.0f}.")
    if min(width, height) < 16 or max(width, height) > 10 * min(width, height):
        raise UploadError(f"The image is {width} x {height} pixels: it must be at least 16 pixels on each side "
                          "and at most 10 times as long as it is wide.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every pixel: a truncated file fails here
            return ImageOps.exif_transpose(image).convert("RGB")
    except unreadable as error:
        raise UploadError("The image is damaged (truncated or corrupt) and cannot be decoded.") from error
