"""The gradient lesson in real Chromium: the shipped run before the first click, every view, a live
run that keeps training (progress and chart updating) while the student switches views, Stop, and
two students who do not see each other's runs."""
from urllib.parse import urlencode

from tests.e2e.conftest import exceptions, open_view, wait_for_run, wait_until

CHART = '[data-testid="stVegaLiteChart"]'
# Bound widgets put their displayed labels in the URL (as the page's own share links do).
# A run that outlasts the clicks on any machine: 500 steps of a 30-layer CNN take minutes here (a 10-layer
# MLP's 500 steps took about a second, so it could end before the view switch: the test was flaky); Stop ends it.
LONG = {"gradients.architecture": "CNN", "gradients.depth": 30, "gradients.width": 32, "gradients.steps": 500}
SHORT = {"gradients.depth": 3, "gradients.width": 16, "gradients.steps": 20}

RECORD_PROGRESS = """() => {
  window.__progress = [];
  new MutationObserver(() => document.querySelectorAll('[data-testid="stProgress"]')
      .forEach(bar => window.__progress.push(bar.innerText)))
    .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def url(params: dict) -> str:
    return "gradients?" + urlencode(params)


def body(page) -> str:
    return page.locator("body").inner_text()


def button(page, label: str):
    return page.locator("button").filter(has_text=label).first


def test_views_switch_while_a_run_trains_and_after(open_page):
    page = open_page(url(LONG))
    page.evaluate(RECORD_PROGRESS)
    button(page, "Train").click()
    wait_until(page, lambda: page.locator('[data-testid="stProgress"]').count() > 0, what="the progress bar")
    page.get_by_role("radiogroup", name="View").get_by_role("radio", name="Heatmap", exact=True).click()
    wait_until(page, lambda: "gradients.view=Heatmap" in page.url, what="the share link")
    wait_until(page, lambda: len(set(page.evaluate("() => window.__progress"))) >= 3, what="progress while training")
    assert page.locator(CHART).count() >= 1 and exceptions(page) == []
    assert page.locator('[data-testid="stProgress"]').count() == 1  # still training after the switch
    page.get_by_role("radiogroup", name="View").get_by_role("radio", name="Gradient flow", exact=True).click()
    wait_until(page, lambda: "gradients.view=Gradient+flow" in page.url, what="the share link")
    button(page, "Stop").click()
    wait_until(page, lambda: "stopped" in body(page), 120_000, what="the stopped run")
    wait_for_run(page)
    assert "This is your run #1" in body(page) and page.locator('[data-testid="stProgress"]').count() == 0
    for view in ("Diagnosis", "Distributions", "Compare"):
        assert open_view(page, "gradients", view, CHART) >= 1, view
    assert exceptions(page) == []


def test_a_preset_changes_the_picture(open_page):
    page = open_page("gradients")
    page.locator(CHART).first.wait_for(timeout=60_000)
    button(page, "Deep sigmoid").click()
    wait_until(page, lambda: "vanishing" in body(page), what="the deep sigmoid run")
    wait_until(page, lambda: "gradients.activation=sigmoid" in page.url, timeout_ms=15_000,
               what="the preset's values in the share link")
    assert exceptions(page) == []


def test_two_students_do_not_see_each_others_runs(browser, app_url):
    pages = [browser.new_context().new_page() for _ in range(2)]
    try:
        for p in pages:
            p.goto(f"{app_url}/{url(SHORT)}")
            wait_for_run(p)
        button(pages[0], "Train").click()
        wait_until(pages[0], lambda: "This is your run #1" in body(pages[0]) and "finished" in body(pages[0]),
                   120_000, what="the first student's run")
        pages[1].reload()
        wait_for_run(pages[1])
        assert "This is your run" not in body(pages[1])
        assert "press Train to train" in body(pages[1])
    finally:
        for p in pages:
            p.context.close()
