"""The loss-landscape lesson in real Chromium: every view draws, a control changes the picture."""
from tests.e2e.conftest import exceptions, wait_for_run, wait_until

PICTURES = '[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], .stPlotlyChart'


def test_new_directions_redraw_the_surface(open_page):
    page = open_page("landscapes")
    before = page.locator(PICTURES).first.inner_html()
    page.get_by_text("Log scale", exact=True).click()
    wait_for_run(page)
    wait_until(page, lambda: "landscapes.log_scale=true" in page.url, what="the share link")
    wait_until(page, lambda: page.locator(PICTURES).first.inner_html() != before, what="the redraw")
    assert exceptions(page) == []
