"""Real headless Chromium (Debian's `chromium`, driven by Playwright) against `streamlit run`.

Without a browser the tests skip on a laptop; with CI=true a missing browser is a failure.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SERVER_LOG = Path(os.environ.get("E2E_SERVER_LOG", "/tmp/e2e_streamlit_server.log"))
RUN_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# "Usable" as a student sees it: the script run has finished AND no grey skeleton placeholder is
# left (controls stay skeletons for a while after the run, until the browser has loaded their code).
USABLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]'); }"""
# Installed in every page of the shared context before the app's own code: it notes when the student
# last acted (a pointer, a key, typed or pasted text, a chosen file) and when a script run last started
# or ended, so that wait_for_run need not sleep a fixed time to see whether an action started a rerun.
RUN_WATCH = """(() => {
  const now = () => performance.now();
  window.__runWatch = {acted: -1, started: -1, changed: now(), settled: -1};
  for (const type of ['pointerdown', 'keydown', 'input', 'change', 'paste', 'drop'])
    window.addEventListener(type, () => { window.__runWatch.acted = now(); }, true);
  new MutationObserver((records) => {
    for (const record of records) {
      const state = record.target.getAttribute('data-test-script-state');
      if (state === record.oldValue) continue;
      window.__runWatch.changed = now();
      if (record.oldValue === 'notRunning') window.__runWatch.started = now();
    }
  }).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                        attributeFilter: ['data-test-script-state']});
})();"""
# A run started after the last action and after the last wait ended; or `quiet` ms have passed since
# the wait began without one (the action started no rerun, or a fragment rerun that shows no state).
RUN_STARTED_OR_QUIET = """([begun, quiet]) => { const w = window.__runWatch;
  if (w && w.started > Math.max(w.acted, w.settled)) return true;
  return performance.now() - begun > quiet; }"""
# USABLE, with the state unchanged for 100 ms (so that a rerun the run asked for is not missed
# between the two); marks the wait as ended.
SETTLED = """() => { if (!(%s)()) return false;
  const w = window.__runWatch;
  if (!w) return true;
  if (performance.now() - w.changed < 100) return false;
  w.settled = performance.now();
  return true; }""" % USABLE
VIEWPORT = {"width": 1400, "height": 1000}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(SERVER_LOG, "wb"))  # read it when a test fails
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("streamlit did not become healthy within 60 s")


def _serve():
    port = _free_port()
    server = start_server(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="session")
def app_url():
    """The server the e2e tests share."""
    yield from _serve()


@pytest.fixture
def fresh_server():
    """A server of its own for one test: a fresh process, whose lessons have not warmed up yet."""
    yield from _serve()


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but no Chromium at {CHROMIUM}: .ci/run must install Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser_context(browser):
    """One browser context for the tests of a process: each page opened in it still is a session of its
    own (Streamlit's session lives in the page's connection), but the app's code is fetched and
    compiled once, which saves 12-17 % of a page load's CPU (measured)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RUN_WATCH)
    yield context
    context.close()


@pytest.fixture
def open_page(browser_context, app_url):
    """open_page(path) -> a Playwright page whose script run has finished."""
    pages = []

    def _open(path: str, timeout_ms: int = 120_000):
        page = browser_context.new_page()
        pages.append(page)
        page.goto(f"{app_url}/{path.lstrip('/')}")
        wait_for_run(page, timeout_ms)
        return page

    yield _open
    for page in pages:
        page.close()


def wait_for_run(page, timeout_ms: int = 120_000) -> None:
    """Wait until the page is usable: the current script run has finished and no skeleton is left.

    A rerun triggered by a widget starts asynchronously: in a page of `browser_context` (RUN_WATCH),
    the wait goes on as soon as a run has started after the last action, and otherwise after 300 ms;
    elsewhere it always gives the rerun 300 ms to show "running". A fragment rerun need not show the
    "running" state at all: after an action, wait for its effect with `wait_until` too.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    begun = page.evaluate("performance.now()")
    page.wait_for_function(RUN_STARTED_OR_QUIET, arg=[begun, 300], timeout=timeout_ms, polling=20)
    page.wait_for_function(SETTLED, timeout=timeout_ms, polling=50)


def wait_until(page, condition, timeout_ms: int = 60_000, what: str = "the condition") -> None:
    """Poll `condition()` until it is true, and fail if it never is: a fragment rerun need not show
    the "running" state, so wait_for_run alone can return before the redraw it caused. The limit
    is generous: it only ends a test that would otherwise hang, never decides a pass."""
    for _ in range(timeout_ms // 100):
        if condition():
            return
        page.wait_for_timeout(100)
    text = page.locator("body").inner_text()[:3000]  # what the student saw, to tell why it never came
    raise AssertionError(f"waited {timeout_ms / 1000:.0f} s for {what}; the page's text begins with:\n{text}")


def open_view(page, slug: str, view: str, pictures: str, timeout_ms: int = 120_000) -> int:
    """Pick `view` in the lesson's "View" control; check that no exception shows and that the share
    link follows; return how many `pictures` (a selector) are on the page once the first has drawn."""
    page.get_by_role("radiogroup", name="View").get_by_role("radio", name=view, exact=True).click()
    wait_for_run(page, timeout_ms)
    assert exceptions(page) == [], view
    assert f"{slug}.view=" + view.replace(" ", "+") in page.url  # the share link follows
    page.locator(pictures).first.wait_for(timeout=60_000)
    return page.locator(pictures).count()


def exceptions(page) -> list[str]:
    errors = page.locator('[data-testid="stException"]')
    return [errors.nth(i).inner_text()[:300] for i in range(errors.count())]


def choose(page, label: str, option: str) -> None:
    """Open the selectbox labelled `label` and pick `option` (open it again if a redraw closed it).

    The box is scrolled into view before the click: the list closes when the page scrolls, and
    Playwright's own scroll before a click came too late (a box below the fold cost 10 s, the whole
    wait for its option, on its first choice)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True)).first
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        box.scroll_into_view_if_needed()
        box.get_by_role("combobox").click()
        try:
            choice.wait_for(timeout=10_000)
        except Exception:  # noqa: BLE001 - the list closed before it showed: open it again
            page.keyboard.press("Escape")
            continue
        choice.click()
        return
    raise AssertionError(f"the option {option!r} of {label!r} never showed")


def share_popover_link(page) -> str:
    """Open the header's Share popover and return the link it shows (then close it again)."""
    page.get_by_role("button", name="Share").first.click()
    code = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]').first
    code.wait_for(timeout=30_000)
    link = code.inner_text()
    page.keyboard.press("Escape")
    page.locator('[data-testid="stPopoverBody"]').first.wait_for(state="hidden", timeout=30_000)
    return link
