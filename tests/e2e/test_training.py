"""The training lesson in real Chromium: curves before the first click, a live run whose progress
and chart update while it trains, divergence reported, and two students who do not share runs."""
from urllib.parse import urlencode

from tests.e2e.conftest import exceptions, wait_for_run, wait_until

CHART = '[data-testid="stVegaLiteChart"]'
PROGRESS = '[data-testid="stProgress"]'
# Bound widgets put their displayed labels in the URL (as the page's own share links do).
TINY = {"training.dataset": "scikit-learn digits (8x8)", "training.model": "MLP", "training.train_size": 1000,
        "training.width": 32, "training.depth": 1, "training.epochs": 40}


def url(params: dict) -> str:
    return "training?" + urlencode(params)


def train(page) -> None:
    page.locator("button").filter(has_text="Train").first.click()


def test_precomputed_curves_before_the_first_click(open_page):
    page = open_page("training")
    page.locator(CHART).first.wait_for(timeout=60_000)
    assert page.locator(CHART).count() >= 3
    assert "precomputed curves of the Healthy preset" in page.locator("body").inner_text()
    assert exceptions(page) == []


RECORD_PROGRESS = """() => {
  window.__progress = [];
  new MutationObserver(() => document.querySelectorAll('[data-testid="stProgress"]')
      .forEach(bar => window.__progress.push(bar.innerText)))
    .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def test_live_training_updates_the_chart_and_progress(open_page):
    page = open_page(url(TINY))
    page.evaluate(RECORD_PROGRESS)  # every progress text shown while it trains, however short the run
    train(page)
    wait_for_run(page)
    seen = page.evaluate("() => window.__progress")
    assert len(set(seen)) >= 2, seen  # the run advanced and the page redrew while it trained
    body = page.locator("body").inner_text()
    assert "After 40 epochs" in body and "precomputed curves" not in body
    assert page.locator(CHART).count() >= 3
    assert exceptions(page) == []


def test_a_control_changes_the_picture(open_page):
    page = open_page("training")
    page.locator(CHART).first.wait_for(timeout=60_000)
    page.locator("button").filter(has_text="Overfitting").first.click()
    wait_for_run(page)
    assert "training.train_size=100" in page.url  # the share link follows the controls
    assert "Overfitting: the validation loss was lowest at epoch" in page.locator("body").inner_text()
    assert exceptions(page) == []


def test_divergence_is_reported(open_page):
    page = open_page(url({**TINY, "training.optimizer": "SGD", "training.lr": 10, "training.width": 64,
                          "training.depth": 2, "training.epochs": 5}))
    train(page)
    wait_for_run(page)
    body = page.locator("body").inner_text()
    assert "Training diverged at step" in body and exceptions(page) == []


def test_two_students_do_not_see_each_others_runs(browser, app_url):
    small = {**TINY, "training.epochs": 3}
    pages = [browser.new_context().new_page() for _ in range(2)]
    try:
        for p in pages:
            p.goto(f"{app_url}/{url(small)}")
            wait_for_run(p)
        train(pages[0])
        wait_for_run(pages[0])
        pages[1].reload()
        wait_for_run(pages[1])
        run_names = '[data-testid="stTextInput"]'
        assert pages[0].locator(run_names).count() == 1
        assert pages[1].locator(run_names).count() == 0
    finally:
        for p in pages:
            p.context.close()


def test_smoothing_redraws_the_curves_without_training_again(open_page):
    """The view controls live in a fragment that reruns with the arguments of the Train run: moving
    the smoothing slider after training must redraw the curves, not start a second run."""
    page = open_page(url({**TINY, "training.epochs": 3}))
    train(page)
    wait_for_run(page)
    run_names = '[data-testid="stTextInput"]'
    assert page.locator(run_names).count() == 1
    loss_chart = page.locator(CHART).first.inner_html()
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Smoothing").first
    slider.locator('input[type="range"]').first.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.wait_for_url("**training.smoothing=0.55*", timeout=30_000)
    wait_for_run(page)
    wait_until(page, lambda: page.locator(CHART).first.inner_html() != loss_chart)
    assert page.locator(run_names).count() == 1  # still one run: the fragment did not train again
    assert page.locator(CHART).first.inner_html() != loss_chart
    assert "After 3 epochs" in page.locator("body").inner_text() and exceptions(page) == []
