"""The activation-heatmap lesson in real Chromium: the overlay and the top-5 chart render, changing the
method changes the picture, a good upload is explained and a junk upload gets a message."""
from urllib.parse import urlencode

from data import IMAGES_DIR
from tests.e2e.conftest import exceptions, open_view, wait_for_run, wait_until

IMAGE = '[data-testid="stImage"] img'
CHART = '[data-testid="stVegaLiteChart"]'
ERROR = '[data-testid="stAlertContentError"]'


def test_heatmap_renders_and_the_method_changes_the_picture(open_page):
    page = open_page("activations")
    page.locator(IMAGE).first.wait_for(timeout=60_000)
    page.locator(CHART).first.wait_for(timeout=60_000)
    before = page.locator(IMAGE).first.get_attribute("src")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Method").first.click()
    page.get_by_role("option", name="EigenCAM", exact=True).click()
    page.wait_for_url("**activations.method=EigenCAM*", timeout=30_000)  # the share link follows the control
    wait_for_run(page)
    wait_until(page, lambda: page.locator(IMAGE).first.get_attribute("src") != before)
    assert page.locator(IMAGE).first.get_attribute("src") != before
    assert exceptions(page) == []


def test_upload_a_photo_then_junk(open_page):
    page = open_page("activations?" + urlencode({"activations.image": "upload your own"}))
    upload = page.locator('input[type="file"]')
    upload.wait_for(state="attached", timeout=60_000)
    upload.set_input_files(files=[{"name": "cat.jpg", "mimeType": "image/jpeg",
                                   "buffer": (IMAGES_DIR / "cat.jpg").read_bytes()}])
    wait_for_run(page)
    page.locator(IMAGE).first.wait_for(timeout=60_000)
    assert "cat" in page.locator("body").inner_text()  # the top-5 names a cat class
    assert page.locator(ERROR).count() == 0
    upload.set_input_files(files=[{"name": "junk.png", "mimeType": "image/png", "buffer": b"not an image" * 50}])
    wait_for_run(page)
    page.locator(ERROR).first.wait_for(timeout=60_000)
    assert "This upload cannot be used" in page.locator(ERROR).first.inner_text()
    assert exceptions(page) == []


def test_every_view_renders_with_a_photo_and_with_an_upload(open_page):
    page = open_page("activations")
    for view in ("TorchCam", "Method grid", "Layer statistics", "Find the mistake", "Sanity check", "Faithfulness"):
        assert open_view(page, "activations", view, f"{IMAGE}, {CHART}", 180_000) >= 1, view
    # The same views on an uploaded photo (the upload stays while the student switches views).
    page.get_by_role("radio", name="Heatmap", exact=True).click()
    wait_for_run(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Photo").first.click()
    page.get_by_role("option", name="upload your own", exact=True).click()
    wait_for_run(page)
    upload = page.locator('input[type="file"]')
    upload.wait_for(state="attached", timeout=60_000)
    upload.set_input_files(files=[{"name": "coffee.jpg", "mimeType": "image/jpeg",
                                   "buffer": (IMAGES_DIR / "coffee.jpg").read_bytes()}])
    wait_for_run(page)
    for view in ("Method grid", "Layer statistics", "Faithfulness"):
        assert open_view(page, "activations", view, f"{IMAGE}, {CHART}", 180_000) >= 1, view
        assert page.locator(ERROR).count() == 0, view
    assert "espresso" in page.locator("body").inner_text()  # still the uploaded coffee, not the cat
