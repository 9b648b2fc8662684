"""Upload validation shared by the image lessons (data/uploads.py): each bad file gets a sentence,
each odd-but-valid image comes back as RGB."""
import io

import numpy as np
import pytest
from PIL import Image

from data.uploads import MAX_UPLOAD_BYTES, UploadError, bytes_key, open_upload


def encoded(fmt: str, mode: str = "RGB", size=(64, 48), **save) -> bytes:
    if mode == "I;16":
        image = Image.fromarray((np.arange(size[0] * size[1]).reshape(size[1], size[0]) * 20).astype(np.uint16))
    else:
        image = Image.new(mode, size, {"RGB": (200, 30, 30), "RGBA": (200, 30, 30, 128), "L": 90,
                                       "P": 3, "CMYK": (0, 200, 200, 0)}[mode])
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


@pytest.mark.parametrize("data", [encoded("PNG", "RGBA"), encoded("PNG", "P"), encoded("PNG", "L"),
                                  encoded("JPEG", "CMYK"), encoded("PNG", "I;16"), encoded("WEBP")],
                         ids=["rgba", "palette", "grayscale", "cmyk-jpeg", "16-bit-png", "webp"])
def test_odd_but_valid_images_come_back_as_rgb(data):
    image = open_upload(data)
    assert image.mode == "RGB" and image.size == (64, 48)


def _noisy_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def _animated_gif() -> bytes:
    frames = [Image.new("P", (32, 32), i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _bomb() -> bytes:
    """A 20,000 x 20,000 PNG header: decoding it would take 1.2 GB."""
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"%PDF-1.4 not an image", "not a readable JPEG, PNG or WebP"),
    (_noisy_jpeg()[: len(_noisy_jpeg()) // 2], "damaged"),
    (encoded("PNG", size=(1, 1)), "at least 16 pixels"),
    (encoded("PNG", size=(2000, 20)), "at most 10 times"),
    (_animated_gif(), "GIF files are not supported"),
    (_bomb(), "megapixels"),
    (b"\xff" * (MAX_UPLOAD_BYTES + 1), "the limit is 10 MB"),
], ids=["empty", "pdf", "truncated-jpeg", "1x1", "elongated", "animated-gif", "decompression-bomb", "over-cap"])
def test_bad_uploads_are_refused_with_a_sentence(data, message):
    with pytest.raises(UploadError, match=message):
        open_upload(data)


def test_bytes_key_depends_on_the_content_only():
    assert bytes_key(b"abc") == bytes_key(b"abc") != bytes_key(b"abd")
    assert len(bytes_key(b"abc")) == 16
