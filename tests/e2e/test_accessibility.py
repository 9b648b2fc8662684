"""Every page and every view of every lesson in headless Chromium, as a student reaches it: it draws
(at least one chart or picture, no exception, no error box, no "page not found", the share link names
the view), and it is accessible (issue #20): axe-core audits it, and no violation of impact "serious" or "critical" is left that the allow-list
(tests/e2e/axe_audit.py, ALLOWED) does not explain. Each view is then switched to the dark theme (the
app follows the system's colour scheme, .streamlit/config.toml) and audited for colour contrast.

Each view is also walked with the Tab key (tests/e2e/keyboard_walk.py): every visible control must
receive focus. One server, one browser tab per page (in the shared browser context); a lesson's views are reached by clicking its "View" control,
as a student does, and each is audited once it is usable (script run finished, no skeleton, no
stale element left from the view before).
"""
from __future__ import annotations

import pytest

from lessons import registry
from tests.e2e import keyboard_walk
from tests.e2e.axe_audit import audit, unexplained
from tests.e2e.conftest import exceptions, wait_for_run, wait_until

PICTURES = ('[data-testid="stVegaLiteChart"], [data-testid="stGraphVizChart"], '
            '[data-testid="stPlotlyChart"], [data-testid="stImage"]')
MIN_PICTURES = {"embeddings / Layers": 8}  # a view of many panels: all of them drew, not only the first
ERRORS = '[data-testid="stAlertContentError"], [data-testid="stDialog"]'  # an error box, "page not found"
PAGES = [""] + [lesson.slug for lesson in registry.LESSONS]  # "" is the home page
NO_STALE = "() => !document.querySelector('[data-stale=\"true\"]')"
# While the theme changes, colours jump to the new theme's at once instead of fading into it for a
# fraction of a second (the audit checks the colours the page settles on, which are the same).
NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; animation: none !important; }"
# Colour transitions still running (an expander's header fades to the new theme's colours).
TRANSITIONS_DONE = "() => !document.getAnimations().some(a => a instanceof CSSTransition && a.playState === 'running')"
DARK_BACKGROUND = """() => { const rgb = getComputedStyle(document.querySelector('[data-testid="stApp"]'))
  .backgroundColor.match(/\\d+/g).map(Number); return rgb[0] + rgb[1] + rgb[2] < 3 * 64; }"""


def open_page(browser_context, app_url: str, slug: str):
    page = browser_context.new_page()
    page.emulate_media(color_scheme="light")
    page.goto(f"{app_url}/{slug}")
    wait_for_run(page, 300_000)
    page.wait_for_function(NO_STALE, timeout=300_000, polling=100)
    assert exceptions(page) == [], slug
    return page


def show_view(page, view: str) -> None:
    """Click `view` in the lesson's View control and wait until it has drawn."""
    radio = page.get_by_role("radiogroup", name="View").get_by_role("radio", name=view, exact=True)
    radio.click()
    wait_until(page, lambda: radio.get_attribute("aria-checked") == "true", what=f"the view {view!r} picked")
    wait_for_run(page, 300_000)
    page.wait_for_function(NO_STALE, timeout=300_000, polling=100)
    assert exceptions(page) == [], view


def other_views(page) -> list[str]:
    """The options of the page's View control except the one shown ([] without such a control)."""
    group = page.get_by_role("radiogroup", name="View")
    if not group.count():
        return []
    shown = group.locator('[aria-checked="true"]').inner_text().strip()
    names = [radio.inner_text().strip() for radio in group.get_by_role("radio").all()]
    return [name for name in names if name != shown]


def drawn(page, slug: str, view: str | None) -> list[str]:
    """What is wrong with how the page or view drew: no picture (fewer than MIN_PICTURES), an error box,
    a share link without the view ([] when nothing is)."""
    wrong = []
    pictures, least = page.locator(PICTURES).count(), MIN_PICTURES.get(f"{slug} / {view}", 1)
    if slug and pictures < least:
        wrong.append(f"{pictures} charts or pictures, fewer than {least}")
    if page.locator(ERRORS).count():
        wrong.append("an error: " + page.locator(ERRORS).first.inner_text()[:200])
    if view and f"{slug}.view=" + view.replace(" ", "+") not in page.url:
        wrong.append(f"the share link {page.url} does not name the view")
    return wrong


def report(found: dict[str, list]) -> str:
    return "\n".join(f"{where}:\n" + "\n".join(f"  {finding}" for finding in findings)
                     for where, findings in found.items() if findings)


def audit_both_themes(page, where: str, light: dict, dark: dict, unreached: dict) -> None:
    """Every rule in the light theme; then colour contrast in the dark theme, into which the app switches
    live when the system's colour scheme changes (no base in .streamlit/config.toml); then light again."""
    light[where] = unexplained(audit(page), "light")
    unreached[where] = keyboard_walk.unreached(page)
    style = page.add_style_tag(content=NO_TRANSITIONS)
    page.emulate_media(color_scheme="dark")
    page.wait_for_function(DARK_BACKGROUND, timeout=30_000, polling=50)  # fails if the app ignores the scheme
    page.wait_for_function(TRANSITIONS_DONE, timeout=30_000, polling=50)
    dark[where] = unexplained(audit(page, rules=["color-contrast"]), "dark")
    page.emulate_media(color_scheme="light")
    page.wait_for_function(f"() => !({DARK_BACKGROUND})()", timeout=30_000, polling=50)
    style.evaluate("element => element.remove()")


@pytest.mark.e2e
def test_every_page_and_view_draws_and_has_no_serious_violation_in_either_theme(browser_context, app_url):
    badly_drawn, light, dark, unreached = {}, {}, {}, {}
    for slug in PAGES:
        page = open_page(browser_context, app_url, slug)
        try:
            badly_drawn[slug or "home"] = drawn(page, slug, None)
            audit_both_themes(page, slug or "home", light, dark, unreached)
            for view in other_views(page):
                show_view(page, view)
                badly_drawn[f"{slug} / {view}"] = drawn(page, slug, view)
                audit_both_themes(page, f"{slug} / {view}", light, dark, unreached)
        finally:
            page.close()
    assert len(light) >= len(PAGES) + 30, sorted(light)  # every lesson's views were reached
    assert not any(badly_drawn.values()), "views that did not draw:\n" + report(badly_drawn)
    assert not any(light.values()), "axe found serious or critical violations:\n" + report(light)
    assert not any(dark.values()), "colour contrast in the dark theme:\n" + report(dark)
    assert not any(unreached.values()), "controls the Tab key never reaches:\n" + report(unreached)
