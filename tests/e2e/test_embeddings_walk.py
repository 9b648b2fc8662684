"""The embeddings lesson's controls in real Chromium, with their effects: typed words (empty,
duplicates, 10,000 characters, an unknown script, HTML shown as text), more points than t-SNE's
bound, a perplexity larger than the number of points, a live t-SNE run and its
verdict, presenter mode, Reset and a share link whose values no longer exist."""
from urllib.parse import urlencode

from lessons.embeddings.settings import SOURCES
from tests.e2e.conftest import exceptions, wait_for_run, wait_until


def link(**values) -> str:
    """A share link as the page writes it: a select box's value is its label (SOURCES maps key -> label)."""
    return "embeddings?" + urlencode({f"embeddings.{k}": v for k, v in values.items()})


PICTURES = '[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], .stPlotlyChart'


def body(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def settled(page, what, condition, timeout_ms=180_000):
    wait_until(page, condition, timeout_ms=timeout_ms, what=what)
    assert exceptions(page) == [], what


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the select box labelled `label`."""
    field = page.get_by_label(label, exact=True).first
    field.scroll_into_view_if_needed()  # a scroll closes the list: Playwright's own, in the click, came too late
    field.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_run(page)


def type_items(page, text: str) -> None:
    box = page.get_by_role("textbox", name="Add your own (one per line or comma)")
    box.fill(text)
    box.press("Control+Enter")
    wait_for_run(page)


def test_typed_words_duplicates_html_long_text_and_an_unknown_script(open_page):
    page = open_page(link(source=SOURCES["words"], method="PCA"))
    settled(page, "the words", lambda: "the bundled words" in body(page))
    type_items(page, "<b>boldface</b>, kitten, kitten, ,\U00013000\U00013001")
    settled(page, "typed items", lambda: "1 repeated item" in body(page) and "+ 3 typed by you" in body(page))
    assert page.evaluate("() => [...document.querySelectorAll('b')].every(b => !b.innerText.includes('boldface'))")
    assert page.locator(PICTURES).count() >= 1
    type_items(page, "")  # empty: the bundled words alone, no warning
    settled(page, "empty", lambda: "typed by you" not in body(page) and "repeated" not in body(page))
    # 10,000 characters: the box holds at most MAX_TYPED_CHARS, so paste and check nothing breaks
    type_items(page, "x" * 10_000)
    settled(page, "long text", lambda: page.get_by_role("textbox", name="Add your own (one per line or comma)").input_value()
            != "x" * 10_000 and page.locator(PICTURES).count() >= 1)


def test_bounds_are_refused_in_their_section_and_a_live_tsne_run_streams(open_page):
    page = open_page(link(method="t-SNE", points="5,000"))  # the label, as the page writes it
    settled(page, "too many points", lambda: "t-SNE here projects at most 2,000 points" in body(page))
    assert "Check yourself" in body(page)  # the rest of the page still works
    page = open_page(link(source=SOURCES["photos"], method="t-SNE", perplexity=100))
    settled(page, "perplexity", lambda: "must be smaller than the number of points (84)" in body(page))
    # a live t-SNE run on the photos (its progress reports are asserted in tests/unit/test_embeddings.py)
    page.get_by_role("slider", name="Perplexity").focus()
    page.keyboard.press("ArrowLeft")  # 100 -> 50
    settled(page, "live t-SNE", lambda: "your live projection" in body(page) and "perplexity 50" in body(page)
            and page.locator(PICTURES).count() >= 1)  # the text can arrive a moment before the chart
    assert "Trustworthiness" in body(page)
    assert "embeddings.perplexity=50" in page.url


def test_presenter_mode_reset_and_a_stale_share_link(open_page):
    page = open_page("embeddings?embeddings.view=Layers&embeddings.layers_method=PCA")
    settled(page, "layers", lambda: "PCA's trustworthiness" in body(page), timeout_ms=300_000)
    page.get_by_text("Presenter mode", exact=True).click()
    wait_for_run(page)
    settled(page, "presenter", lambda: "Check yourself" not in body(page) and page.locator(PICTURES).count() >= 8)
    page.get_by_text("Presenter mode", exact=True).click()
    wait_for_run(page)
    settled(page, "presenter off", lambda: "Check yourself" in body(page))
    page.get_by_role("button", name="Reset").click()
    wait_for_run(page)
    settled(page, "reset", lambda: "the shipped projection" in body(page) and "embeddings.view" not in page.url)
    stale = ("embeddings?embeddings.view=Nope&embeddings.method=LLE&embeddings.points=123&embeddings.layer=block9"
             "&embeddings.perplexity=7&embeddings.source=audio&embeddings.item=99999&embeddings.k=3")
    page = open_page(stale)
    settled(page, "stale link", lambda: "the shipped projection" in body(page) and "UMAP (15 neighbours" in body(page))
    assert page.locator(PICTURES).count() >= 1


def test_a_photo_upload_joins_the_photos_and_junk_is_named_in_its_section(open_page):
    """An upload is embedded live (EfficientNet-Lite0, loaded on first use: the lesson's warm-up leaves it
    out) as 12 more crops; a file that is not an image gets a warning naming it, and the picture stays."""
    from pathlib import Path

    page = open_page(link(source=SOURCES["photos"], method="PCA"))
    settled(page, "photos", lambda: "84 points" in body(page))
    upload = page.locator('input[type="file"]')
    upload.set_input_files(files=[
        {"name": "mine.jpg", "mimeType": "image/jpeg",
         "buffer": (Path(__file__).resolve().parents[2] / "data" / "images" / "cat.jpg").read_bytes()},
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image" * 50}])
    settled(page, "upload", lambda: "96 points" in body(page) and "notes.png" in body(page)
            and page.locator(PICTURES).count() >= 1)
    assert "your live projection" in body(page)
