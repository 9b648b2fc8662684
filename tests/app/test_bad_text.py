"""Bad text in every text box of every view of every lesson (issue 18's text rows): empty, whitespace
only, 10,000 characters, right-to-left with emoji, and HTML with a script tag. After each: no exception,
no section that says "Could not ...", and the typed markup never reaches the page as HTML. The text
boxes are discovered (tests/app/walk.py), so a lesson that adds one is covered without editing this."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import TextArea, TextInput

from lessons import registry
from tests.app import walk

MARKUP = "<script>alert('zq')</script><img src=x onerror=alert(1)> <b>zq-bold</b>"
BAD_TEXTS = {
    "empty": "",
    "whitespace only": " \n\t  \n",
    "10,000 characters": ("the quick brown fox jumps over the lazy dog " * 250)[:10_000],
    "right-to-left and emoji": "שלום עולם 😀🧠 مرحبا بالعالم",
    "HTML and a script tag": MARKUP,
}


# Text boxes that only appear once another control is set: the pages' starting points besides the defaults.
STARTS = {"embeddings": [{"source": "words"}, {"source": "sentences"}]}


def _text_boxes(at: AppTest) -> list[str]:
    return [walk.name_of(w) for w in walk.widgets(at) if isinstance(w, (TextInput, TextArea))]


def _html_elements(at: AppTest) -> list[str]:
    """The text of every element the page lets render HTML (markdown with unsafe_allow_html, st.html)."""
    shown = [m.value for m in at.markdown if getattr(m.proto, "allow_html", False)]
    return shown + [h.proto.body for h in at.get("html")]


LESSONS_WITH_TEXT = ["architecture", "attention", "embeddings"]  # the builder's layers, sentences, typed words


@pytest.mark.parametrize("slug", [lesson.slug for lesson in registry.LESSONS])
def test_every_text_box_takes_bad_text_without_breaking_the_page(slug):
    failures, boxes_seen, tested = [], 0, set()
    for view in walk.views_of(walk.open_lesson(slug), slug):
        for start in [None] + STARTS.get(slug, []):
            at = walk.open_lesson(slug, view, start)
            for name in _text_boxes(at):  # one page per view: each text follows the last (a change, as a student types)
                boxes_seen += 1
                if name in tested:  # a box several views share: once (attention's e2e walk types into every view)
                    continue
                tested.add(name)
                for what, text in BAD_TEXTS.items():
                    box = walk.find(at, name, "text_area") or walk.find(at, name, "text_input")
                    if box is None:  # the last text hid it (a failure is reported below): start again
                        at = walk.open_lesson(slug, view, start)
                        box = walk.find(at, name, "text_area") or walk.find(at, name, "text_input")
                    box.set_value(text)
                    at.run()
                    where = f"{slug} / {view} / {start} / {name} = {what}"
                    failures += [f"{where}: {p}" for p in walk.problems(at)]
                    failures += [f"{where}: rendered as HTML: {h[:80]}" for h in _html_elements(at) if "zq" in h]
    assert not failures, "\n".join(failures)
    assert (boxes_seen > 0) == (slug in LESSONS_WITH_TEXT), boxes_seen  # the discovery found them
    if slug == "embeddings":
        assert "embeddings.typed" in tested, tested  # STARTS reached the typed words and sentences box
