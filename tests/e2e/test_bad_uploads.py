"""Bad uploads on the activations and embeddings pages in real Chromium (issue #18's matrix, where it is
UI): a truncated JPEG, a 20,000 x 20,000 PNG (a decompression bomb) and a file over
the 10 MB cap get a plain message in the upload's own section, no exception, and the rest of the
page keeps working. The factorization and features pages have the same rows in their own files."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from lessons.embeddings.settings import SOURCES
from tests.e2e.bad_files import BAD_UPLOADS, bad_bytes
from tests.e2e.conftest import exceptions, wait_until

ERROR = '[data-testid="stAlertContentError"]'
WARNING = '[data-testid="stAlertContentWarning"]'
PICTURE = '[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], .stPlotlyChart'
OVER_CAP = ("big.jpg", "image/jpeg", "must be 10.0MB or smaller")  # Streamlit's own uploader refuses it
# A corrupt file: test_activations.py and test_embeddings_walk.py. Each page gets a row its decoder
# refuses and one Streamlit refuses (both pages call the decoder that refuses every row of the matrix).
ACTIVATIONS_CASES = ["truncated", "over-cap"]
EMBEDDINGS_CASES = ["bomb", "over-cap"]


def _bad_file(kind: str) -> tuple[str, str, bytes, str]:
    if kind == "over-cap":
        name, mime, message = OVER_CAP
        return name, mime, b"\xff\xd8" + b"\x00" * (11 * 2**20), message
    name, mime, message = BAD_UPLOADS[kind]
    return name, mime, bad_bytes(kind), message


def _texts(page, selector: str) -> list[str]:
    found = page.locator(selector)
    return [found.nth(i).inner_text() for i in range(found.count())]


def _body(page) -> str:
    return page.locator("body").inner_text()


def _upload(page, name: str, mime: str, data: bytes) -> None:
    chooser = page.locator('input[type="file"]').first
    chooser.wait_for(state="attached", timeout=120_000)
    chooser.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


@pytest.mark.parametrize("kind", ACTIVATIONS_CASES)
def test_activations_refuses_a_bad_upload_in_its_section_and_goes_on(open_page, kind):
    name, mime, data, message = _bad_file(kind)
    page = open_page("activations?" + urlencode({"activations.image": "upload your own"}))
    _upload(page, name, mime, data)
    if kind == "over-cap":
        wait_until(page, lambda: message in _body(page), 60_000, what="Streamlit's size message")
    else:
        wait_until(page, lambda: any(message in e for e in _texts(page, ERROR)), 120_000, what=f"the {kind} message")
        assert len(_texts(page, ERROR)) == 1
    assert exceptions(page) == [] and "Check yourself" in _body(page)
    page.goto(page.url.split("?")[0] + "?" + urlencode({"activations.image": "cat"}))  # the rest still works
    wait_until(page, lambda: "GradCAM for “tiger cat”" in _body(page), 180_000, what="the bundled cat explained")
    assert exceptions(page) == [] and _texts(page, ERROR) == []


@pytest.mark.parametrize("kind", EMBEDDINGS_CASES)
def test_embeddings_names_a_bad_upload_and_keeps_its_picture(open_page, kind):
    name, mime, data, message = _bad_file(kind)
    page = open_page("embeddings?" + urlencode({"embeddings.source": SOURCES["photos"], "embeddings.method": "PCA"}))
    wait_until(page, lambda: "84 points" in _body(page), 180_000, what="the photos projected")
    _upload(page, name, mime, data)
    if kind == "over-cap":
        wait_until(page, lambda: message in _body(page), 60_000, what="Streamlit's size message")
    else:  # the warning names the file and says why; the 84 points stay
        wait_until(page, lambda: any(name in w and message in w for w in _texts(page, WARNING)), 180_000,
                   what=f"the {kind} warning naming {name}")
    wait_until(page, lambda: page.locator(PICTURE).count() >= 1, 60_000, what="the projection drawn again")
    assert "84 points" in _body(page) and exceptions(page) == []
