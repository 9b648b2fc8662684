"""The architecture page in real Chromium: diagrams draw, controls change them, the builder explains errors.

Every check waits on a condition (the final picture, the share link, the error message), never on a fixed
time: a rerun and the browser's redraw after it take as long as the machine needs.
"""
from urllib.parse import parse_qs, urlparse

from tests.e2e.conftest import exceptions, wait_for_run

GRAPH = '[data-testid="stGraphVizChart"] svg'
TIMEOUT_MS = 60_000
USABLE = """() => { const a = document.querySelector('[data-testid="stApp"]');
  return a && a.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]'); }"""
# the first diagram's drawn size: a top-down chain is taller than wide, a left-right one wider than tall
LAYOUT = """([selector, wide]) => { const svg = document.querySelector(selector);
  if (!svg) return false;
  const box = svg.getBBox();
  return box.width > 0 && box.height > 0 && (wide ? box.width > box.height : box.height > box.width); }"""


def wait_usable(page) -> None:
    """The script run has finished and no grey skeleton placeholder is left (raises on time-out)."""
    wait_for_run(page)
    page.wait_for_function(USABLE, timeout=TIMEOUT_MS, polling=100)


def svg(page) -> str:
    page.locator(GRAPH).first.wait_for(timeout=TIMEOUT_MS)
    return page.locator(GRAPH).first.inner_html()


def share_link(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def wait_for_share_link(page, name: str, value: str) -> None:
    """The address bar carries `name`=`value` (Streamlit updates it while the rerun runs)."""
    page.wait_for_function("([name, value]) => new URLSearchParams(location.search).get(name) === value",
                           arg=[name, value], timeout=TIMEOUT_MS, polling=100)


def test_layer_diagram_draws_and_direction_changes_it(open_page):
    page = open_page("architecture")
    wait_usable(page)
    assert exceptions(page) == []
    page.wait_for_function(LAYOUT, arg=[GRAPH, False], timeout=TIMEOUT_MS, polling=100)  # top-down, drawn
    before = svg(page)
    assert "features.conv1" in before and "params: 160" in before
    page.get_by_text("left-right", exact=True).click()
    # the final picture, not whatever is on screen between the click and the redraw
    page.wait_for_function(LAYOUT, arg=[GRAPH, True], timeout=TIMEOUT_MS, polling=100)
    wait_usable(page)
    after = svg(page)
    assert after != before and "features.conv1" in after and "params: 160" in after
    wait_for_share_link(page, "architecture.direction", "left-right")  # the share link follows
    assert share_link(page)["architecture.direction"] == ["left-right"]
    assert exceptions(page) == []


def test_builder_shape_mismatch_is_explained(open_page):
    page = open_page("architecture?architecture.view=Model+builder")
    wait_usable(page)
    box = page.get_by_role("textbox", name="Layer stack (part of the share link)")
    box.fill("conv:8:3:1:1,relu,linear:10")
    box.press("Enter")
    alert = page.locator('[data-testid="stAlertContentError"]').filter(has_text="layer 2 (Linear)")
    alert.first.wait_for(timeout=TIMEOUT_MS)
    assert "Flatten" in alert.first.inner_text()
    wait_usable(page)
    assert exceptions(page) == []
    wait_for_share_link(page, "architecture.stack", "conv:8:3:1:1,relu,linear:10")
    assert share_link(page)["architecture.stack"] == ["conv:8:3:1:1,relu,linear:10"]
