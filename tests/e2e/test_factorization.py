"""The factorization lesson in real Chromium: every view draws, the k slider changes the overlay and the
share link, an uploaded photo is factorized in every view and a junk upload gets a message.

Every wait is on a condition the new picture or text satisfies (a sentence only that view writes)
together with the page being usable: never on a fixed time.
"""
import json
from urllib.parse import urlencode

from data import IMAGES_DIR
from tests.e2e.conftest import exceptions, wait_for_run, wait_until

IMAGE = '[data-testid="stImage"] img'
ERROR = '[data-testid="stAlertContentError"]'
VIEW_SENTENCES = {
    "Concepts": "so the colours tile the whole image", "Concept labels": "The most confident concept is",
    "Co-segmentation": "photos, one set of", "Choosing k": "Suggested k:", "Three ways": "adjusted Rand index",
}


def shows(page, text: str) -> bool:
    return page.evaluate(f"document.body.innerText.includes({json.dumps(text)})")


def healthy(page) -> None:
    assert exceptions(page) == []
    assert not shows(page, "This app has encountered an error")
    assert page.locator(ERROR).count() == 0, page.locator(ERROR).first.inner_text()


def switch_view(page, view: str) -> None:
    page.get_by_role("radiogroup", name="View").get_by_role("radio", name=view, exact=True).click()
    wait_for_run(page, 180_000)
    wait_until(page, lambda: shows(page, VIEW_SENTENCES[view]), 180_000, what=f"the {view} view")
    if view != "Concepts":
        assert "factorization.view=" + view.replace(" ", "+") in page.url  # the share link follows
    healthy(page)


def test_every_view_draws_and_k_changes_the_overlay(open_page):
    page = open_page("factorization")
    wait_until(page, lambda: shows(page, VIEW_SENTENCES["Concepts"]), what="the shipped concepts")
    assert page.locator(IMAGE).count() == 6  # the overlay and 5 concept maps
    before = page.locator(IMAGE).first.get_attribute("src")
    slider = page.get_by_role("slider", name="Number of concepts k")
    slider.focus()
    slider.press("ArrowRight")  # k = 6
    wait_until(page, lambda: "factorization.k=6" in page.url, what="k in the share link")
    wait_until(page, lambda: shows(page, "6 concepts at head conv") and page.locator(IMAGE).count() == 7,
               120_000, what="the overlay for k = 6")
    wait_for_run(page)
    assert page.locator(IMAGE).first.get_attribute("src") != before
    healthy(page)
    for view in ("Concept labels", "Co-segmentation", "Choosing k", "Three ways"):
        switch_view(page, view)
        assert page.locator(f'{IMAGE}, [data-testid="stVegaLiteChart"]').count() >= 1, view


def test_an_upload_is_factorized_in_every_view_and_junk_gets_a_message(open_page):
    page = open_page("factorization?" + urlencode({"factorization.image": "upload your own"}))
    upload = page.locator('input[type="file"]')
    upload.wait_for(state="attached", timeout=60_000)
    upload.set_input_files(files=[{"name": "coffee.jpg", "mimeType": "image/jpeg",
                                   "buffer": (IMAGES_DIR / "coffee.jpg").read_bytes()}])
    wait_until(page, lambda: shows(page, "your live factorization") and shows(page, VIEW_SENTENCES["Concepts"]),
               180_000, what="the uploaded photo's concepts")
    assert shows(page, "For the whole image the model says **espresso**".replace("**", ""))
    healthy(page)
    for view in ("Concept labels", "Choosing k", "Three ways"):
        switch_view(page, view)
    switch_view(page, "Concepts")
    upload = page.locator('input[type="file"]')
    upload.set_input_files(files=[{"name": "junk.png", "mimeType": "image/png", "buffer": b"not an image" * 50}])
    wait_until(page, lambda: page.locator(ERROR).count() > 0, 60_000, what="the upload's message")
    assert "This upload cannot be used" in page.locator(ERROR).first.inner_text()
    assert page.locator(IMAGE).count() == 0
    assert exceptions(page) == []
