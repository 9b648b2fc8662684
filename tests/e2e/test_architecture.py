"""The architecture page in real Chromium: diagrams draw, controls change them, the builder explains errors."""
from tests.e2e.conftest import exceptions, open_view, wait_for_run

GRAPH = '[data-testid="stGraphVizChart"] svg'


def svg(page) -> str:
    page.locator(GRAPH).first.wait_for(timeout=60_000)
    return page.locator(GRAPH).first.inner_html()


def test_layer_diagram_draws_and_direction_changes_it(open_page):
    page = open_page("architecture")
    assert exceptions(page) == []
    before = svg(page)
    assert "features.conv1" in before and "params: 160" in before
    page.get_by_text("left-right", exact=True).click()
    wait_for_run(page)
    page.wait_for_timeout(800)
    assert svg(page) != before
    assert "architecture.direction=left-right" in page.url  # the share link follows
    assert exceptions(page) == []


def test_every_view_renders_without_exceptions(open_page):
    page = open_page("architecture")
    charts = '[data-testid="stGraphVizChart"], [data-testid="stVegaLiteChart"]'
    for view in ("Autograd graph", "Parameter table", "One layer", "Model builder", "Compare", "Neurons"):
        assert open_view(page, "architecture", view, charts) >= 1, view


def test_builder_shape_mismatch_is_explained(open_page):
    page = open_page("architecture?architecture.view=Model+builder")
    box = page.get_by_role("textbox", name="Layer stack (part of the share link)")
    box.fill("conv:8:3:1:1,relu,linear:10")
    box.press("Enter")
    wait_for_run(page)
    alert = page.locator('[data-testid="stAlertContentError"]')
    alert.first.wait_for(timeout=30_000)
    assert "layer 2 (Linear)" in alert.first.inner_text() and "Flatten" in alert.first.inner_text()
    assert exceptions(page) == []
    assert "linear%3A10" in page.url or "linear:10" in page.url
