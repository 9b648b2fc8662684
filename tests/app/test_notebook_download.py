"""Every lesson page offers its notebook (lessons/notebooks.py) under "Do it yourself", as <slug>.ipynb;
presenter mode hides it with the rest of the section."""
from __future__ import annotations

import pytest
from streamlit.runtime.memory_media_file_storage import _calculate_file_id

from lessons import notebooks
from lessons.registry import COURSE
from tests.app.lesson import open_lesson

MIME = "application/x-ipynb+json"


def notebook_button(at, slug: str):
    return next((b for b in at.get("download_button") if b.key == f"{slug}._notebook"), None)


@pytest.mark.parametrize("slug", [lesson.slug for lesson in COURSE if lesson.ready])
def test_the_page_offers_its_notebook(slug):
    at = open_lesson(slug)
    button = notebook_button(at, slug)
    assert button is not None and button.proto.label == "Download as a Jupyter notebook"
    # The media file's id is Streamlit's hash of the bytes, the type and the file name: all three are checked.
    data = notebooks.notebook_json(slug, str(notebooks.LESSONS / slug / "diy.py")).encode()
    assert button.proto.url.rsplit("/", 1)[1].split(".")[0] == _calculate_file_id(data, MIME, f"{slug}.ipynb")
    assert button.proto.ignore_rerun  # a click does not rerun the page


def test_presenter_mode_hides_the_download():
    at = open_lesson("gradients", session={"presenter": True})
    assert notebook_button(at, "gradients") is None
