"""The embeddings lesson in real Chromium: every view draws, a control changes the picture and the
share link, the digit tooltip shows the digit's image."""
from tests.e2e.conftest import exceptions, wait_for_run, wait_until

PICTURES = '[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], .stPlotlyChart'


def test_the_method_redraws_the_projection_and_enters_the_share_link(open_page):
    page = open_page("embeddings")
    before = page.locator(PICTURES).first.inner_html()
    page.get_by_role("radiogroup", name="Method").get_by_role("radio", name="PCA", exact=True).click()
    wait_for_run(page)
    wait_until(page, lambda: "embeddings.method=PCA" in page.url, what="the share link")
    wait_until(page, lambda: page.locator(PICTURES).first.inner_html() != before, what="the redraw")
    wait_until(page, lambda: page.get_by_text("principal components explain").count() > 0, what="the PCA sentence")
    assert exceptions(page) == []


def test_hovering_a_digit_shows_its_image(open_page):
    page = open_page("embeddings")
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    box = chart.locator("canvas, svg").first.bounding_box()
    found = False
    for fx in range(10, 90, 4):  # sweep the chart until the pointer lands on a point
        for fy in (30, 50, 70):
            page.mouse.move(box["x"] + box["width"] * fx / 100, box["y"] + box["height"] * fy / 100)
            tooltip = page.locator("#vg-tooltip-element img")
            if tooltip.count() and tooltip.first.is_visible():
                found = tooltip.first.get_attribute("src").startswith("data:image/png;base64,")
                break
        if found:
            break
    assert found
