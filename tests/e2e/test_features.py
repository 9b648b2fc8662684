"""The feature-visualization lesson in real Chromium: a live optimization whose image and progress appear
while it runs, Stop, and the NaN stop (every view, control and upload: test_features_walk.py).

Nothing here depends on how fast the machine is: after a click the tests wait for what the click
must produce (a text, an image), never for a fixed time.
"""
from __future__ import annotations

from urllib.parse import urlencode

from tests.e2e.conftest import exceptions, wait_for_run, wait_until

IMAGES = '[data-testid="stImage"] img'


def url(params: dict) -> str:
    return "features?" + urlencode({f"features.{k}": v for k, v in params.items()})


def body(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


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
