"""The activation-heatmap lesson in real Chromium: the overlay and the top-5 chart render, changing the
method changes the picture, a good upload is explained and a junk upload gets a message, every view
renders, and every method survives every smoothing option.

Every wait is on a condition the new picture or text satisfies (its caption, a sentence only that view
writes) together with the page being usable (the script run finished, no grey skeleton left): never
on a state between two redraws, which a fast machine skips and a slow one shows late.
"""
import json
from urllib.parse import urlencode

from data import IMAGES_DIR
from lessons.activations import compute
from tests.e2e.conftest import exceptions

IMAGE = '[data-testid="stImage"] img'
CAPTION = '[data-testid="stImageCaption"]'
CHART = '[data-testid="stVegaLiteChart"]'
ERROR = '[data-testid="stAlertContentError"]'
PAGE_WIDE_ERROR = "This app has encountered an error"
USABLE = """(() => { const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]'); })()"""
# A sentence of "What you see" that only this view writes: once it shows, the view has been drawn.
VIEW_SENTENCES = {
    "Heatmap": "The model's top guess is", "TorchCam": "The two libraries' Grad-CAM maps agree",
    "Method grid": "On the same layer, two methods' maps correlate", "Layer statistics": "the largest |activation| is",
    "Find the mistake": "With their class marker the shortcut CNN scores", "Sanity check": "After randomizing everything",
    "Faithfulness": "methods beat the random map",
}


def wait_for(page, condition_js: str, timeout_ms: int = 120_000) -> None:
    """Wait until `condition_js` (a JS expression) holds on a usable page."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"() => ({condition_js}) && {USABLE}", timeout=timeout_ms, polling=100)
    except PlaywrightTimeout:
        captions = [page.locator(CAPTION).nth(i).inner_text() for i in range(page.locator(CAPTION).count())]
        raise AssertionError(f"not reached in {timeout_ms / 1000:.0f} s: {condition_js}; captions now {captions}; "
                             f"exceptions {exceptions(page)}") from None


def caption_is(text: str) -> str:
    return (f"[...document.querySelectorAll('{CAPTION}')].some(c => c.innerText.trim() === {json.dumps(text)})")


def page_shows(text: str) -> str:
    return f"document.body.innerText.includes({json.dumps(text)})"


def first_caption(page) -> str:
    return page.locator(CAPTION).first.inner_text().strip()


def assert_healthy(page) -> None:
    assert exceptions(page) == []
    assert PAGE_WIDE_ERROR not in page.locator("body").inner_text()
    assert page.locator(ERROR).count() == 0, page.locator(ERROR).first.inner_text()


def choose(page, label: str, option: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.scroll_into_view_if_needed()  # a scroll closes the list: Playwright's own, in the click, came too late
    box.get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


def switch_view(page, view: str, timeout_ms: int = 180_000) -> None:
    page.get_by_role("radiogroup", name="View").get_by_role("radio", name=view, exact=True).click()
    wait_for(page, page_shows(VIEW_SENTENCES[view]), timeout_ms)
    if view != "Heatmap":  # the default view is left out of the link
        assert "activations.view=" + view.replace(" ", "+") in page.url  # the share link follows
    assert_healthy(page)


def test_heatmap_renders_and_the_method_changes_the_picture(open_page):
    page = open_page("activations")
    wait_for(page, caption_is("GradCAM for “tiger cat” at head conv (1280 ch, 7 px)"))
    page.locator(CHART).first.wait_for(timeout=60_000)
    before = page.locator(IMAGE).first.get_attribute("src")
    choose(page, "Method", "EigenCAM")
    page.wait_for_url("**activations.method=EigenCAM*", timeout=30_000)  # the share link follows the control
    wait_for(page, caption_is("EigenCAM for “tiger cat” at head conv (1280 ch, 7 px)"))
    assert page.locator(IMAGE).first.get_attribute("src") != before
    assert_healthy(page)


def test_upload_a_photo_then_junk(open_page):
    page = open_page("activations?" + urlencode({"activations.image": "upload your own"}))
    upload = page.locator('input[type="file"]')
    upload.wait_for(state="attached", timeout=60_000)
    upload.set_input_files(files=[{"name": "cat.jpg", "mimeType": "image/jpeg",
                                   "buffer": (IMAGES_DIR / "cat.jpg").read_bytes()}])
    # the uploaded cat is explained as the bundled one is: the caption names the top class
    wait_for(page, caption_is("GradCAM for “tiger cat” at head conv (1280 ch, 7 px)"))
    assert_healthy(page)
    upload.set_input_files(files=[{"name": "junk.png", "mimeType": "image/png", "buffer": b"not an image" * 50}])
    wait_for(page, f"document.querySelector('{ERROR}') !== null")
    assert "This upload cannot be used" in page.locator(ERROR).first.inner_text()
    assert page.locator(IMAGE).count() == 0  # the cat's picture is gone with it
    assert exceptions(page) == []


def test_every_view_renders_with_a_photo_and_with_an_upload(open_page):
    page = open_page("activations")
    wait_for(page, page_shows(VIEW_SENTENCES["Heatmap"]))
    for view in ("TorchCam", "Method grid", "Layer statistics", "Find the mistake", "Sanity check", "Faithfulness"):
        switch_view(page, view)
        assert page.locator(f"{IMAGE}, {CHART}").count() >= 1, view
    # The same views on an uploaded photo (the upload stays while the student switches views).
    switch_view(page, "Heatmap")
    choose(page, "Photo", "upload your own")
    upload = page.locator('input[type="file"]')
    upload.wait_for(state="attached", timeout=60_000)
    upload.set_input_files(files=[{"name": "coffee.jpg", "mimeType": "image/jpeg",
                                   "buffer": (IMAGES_DIR / "coffee.jpg").read_bytes()}])
    wait_for(page, caption_is("GradCAM for “espresso” at head conv (1280 ch, 7 px)"))
    for view in ("Method grid", "Layer statistics", "Faithfulness"):
        switch_view(page, view)
        assert page.locator(f"{IMAGE}, {CHART}").count() >= 1, view
    assert page.evaluate(page_shows("The model gives “espresso”"))  # still the uploaded coffee, not the cat


def test_every_method_survives_every_smoothing_option(open_page):
    """Each of the 40 combinations on the digits CNN (its maps take milliseconds; tests/unit runs the same
    matrix on EfficientNet too): the caption names the combination, so each wait ends on its own picture."""
    page = open_page("activations?" + urlencode({"activations.model": "Digits CNN"}))  # the link carries the label
    wait_for(page, page_shows(VIEW_SENTENCES["Heatmap"]))
    explained = first_caption(page).split(" for ", 1)[1].split(" at ")[0]  # “7”: the top class of digit 0
    toggles = {"aug": "Augmentation smoothing (6 passes)", "eigen": "Eigen smoothing (first principal component)"}
    on = set()
    methods = list(compute.METHODS)
    for step, wanted in enumerate([set(), {"eigen"}, {"eigen", "aug"}, {"aug"}]):
        for name in on ^ wanted:  # one toggle click per change of smoothing
            page.get_by_text(toggles[name], exact=True).click()
        on = wanted
        order = methods if step % 2 == 0 else methods[::-1]  # the last method of a pass starts the next
        for method in order:
            if first_caption(page).split(" ")[0] != method:
                choose(page, "Method", method)
            smoothing = " and ".join(n for n, key in (("augmentation", "aug"), ("eigen", "eigen")) if key in on)
            where = "every bias layer" if method == "FullGrad" else "block 2 (32 ch, 14 px)"
            expected = f"{method}{f' with {smoothing} smoothing' if smoothing else ''} for {explained} at {where}"
            wait_for(page, caption_is(expected))
            assert_healthy(page)
            assert page.locator(IMAGE).first.get_attribute("src"), expected
