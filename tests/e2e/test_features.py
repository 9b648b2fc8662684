"""The feature-visualization lesson in real Chromium: the shipped gallery at once, every view, a live
optimization whose image and progress appear while it runs, Stop, the NaN stop, and an upload.

Nothing here depends on how fast the machine is: after a click the tests wait for what the click
must produce (a text, an image), never for a fixed time.
"""
from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
from PIL import Image

from tests.e2e.conftest import exceptions, open_view, wait_for_run, wait_until

IMAGES = '[data-testid="stImage"] img'


def url(params: dict) -> str:
    return "features?" + urlencode({f"features.{k}": v for k, v in params.items()})


def body(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_the_gallery_shows_at_once_and_every_view_draws(open_page):
    page = open_page("features")
    assert exceptions(page) == []
    assert page.locator(IMAGES).count() >= 17
    assert "spectral centroid" in body(page)
    for view in ("Feature maps", "Optimize", "Regularizers", "Dataset examples"):
        assert open_view(page, "features", view, IMAGES) >= 1, view
        assert "What you see" in body(page)


def test_a_live_optimization_redraws_and_stops(open_page):
    page = open_page(url({"view": "Optimize", "steps": 512, "size": 96}))
    page.locator('[data-testid="stBaseButton-primary"]').filter(has_text="Optimize").first.click()
    wait_until(page, lambda: "Optimising: step" in body(page), what="the progress bar")
    wait_until(page, lambda: page.get_by_text("Step ", exact=False).count() > 0, what="a preview image")
    page.locator('[data-testid="stBaseButton-secondary"]').filter(has_text="Stop").first.click()
    wait_for_run(page)
    wait_until(page, lambda: "(stopped)" in body(page), what="the stopped run")
    assert exceptions(page) == []


def test_the_absurd_learning_rate_experiment_stops_the_run_with_a_message(open_page):
    page = open_page("features")
    page.get_by_text("the image becomes NaN and the run stops", exact=True).click()
    wait_for_run(page)
    page.get_by_role("button", name="Set up this experiment").last.click()  # the last card: the absurd rate
    wait_until(page, lambda: "features.view=Optimize" in page.url, what="the experiment's view")
    wait_for_run(page)
    page.locator('[data-testid="stBaseButton-primary"]').filter(has_text="Optimize").first.click()
    wait_until(page, lambda: "the image became NaN" in body(page), what="the NaN message")
    wait_until(page, lambda: "Judged on your run" in body(page), what="the experiment's verdict")
    assert exceptions(page) == []


def test_an_upload_gets_feature_maps(open_page, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(1).random((80, 120, 4)) * 255).astype(np.uint8), "RGBA").save(path)
    page = open_page(url({"view": "Feature maps", "image": "upload your own"}))
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    wait_until(page, lambda: "The maps go from 112 x 112" in body(page), what="the upload's feature maps")
    assert exceptions(page) == []
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"definitely not a picture")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    wait_until(page, lambda: "This upload cannot be used" in body(page), what="the upload message")
    assert exceptions(page) == []
