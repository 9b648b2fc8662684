"""Browser-side measurements: a real `streamlit run` server and headless Chromium (async Playwright).

Times are taken in the page: a MutationObserver records every change of the app's script state, so
"re-rendered" means the run triggered by the interaction has finished, not that a sleep has elapsed.
"""
from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
APP = '[data-testid="stApp"]'
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RECORD_RUNS = """() => {
  window.__runs = [];
  window.__lastMutation = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => window.__runs.push([performance.now(), app.getAttribute('data-test-script-state')]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  new MutationObserver(() => { window.__lastMutation = performance.now(); })
    .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
QUIET_MS = 400  # no DOM change for this long after the response: the page has been re-rendered
SETTLED = """async ([startMs, quietMs, timeoutMs]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const now = performance.now(), last = window.__lastMutation;
    if (app.getAttribute('data-test-script-state') === 'notRunning' && last > startMs && now - last > quietMs)
      return (last - startMs) / 1000;
    await new Promise(resolve => setTimeout(resolve, 25));
  }
  return null;
}"""


# Shared libraries that only the CUDA build of torch maps (CUDA, cuDNN, NCCL... and Triton, which the
# CPU wheel does not install): their resident pages are what the cloud deployment's CPU wheel
# (requirements.txt) does not hold. PyPI's default torch on this machine is the CUDA build.
CUDA_BUILD_ONLY = re.compile(r"/nvidia/|/libtorch_cuda|/libc10_cuda|/libcu[a-z]*\.so|/libnv[A-Za-z_]*\.so|"
                             r"/libnccl|/triton/|/libcaffe2_nvrtc")


def cuda_build_only_bytes(process: psutil.Process) -> int:
    """Resident bytes of `process` in mappings of CUDA-build-only libraries (0 with the CPU wheel)."""
    try:
        return sum(m.rss for m in process.memory_maps(grouped=True) if CUDA_BUILD_ONLY.search(m.path))
    except (psutil.Error, OSError):
        return 0


class Server:
    """`streamlit run <app>` (the course by default) on a free loopback port."""

    def __init__(self, app: str = "streamlit_app.py") -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.port)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.perf_counter() - started > 90:
                    raise RuntimeError("server not healthy after 90 s")
                time.sleep(0.05)
        self.health_seconds = time.perf_counter() - started
        self.peak_rss = 0
        self.peak_cpu_wheel_rss = 0

    def rss(self) -> int:
        """Resident memory of the server and its children, in bytes; also tracks the peak, and the peak
        without the pages of libraries only the CUDA build of torch loads (`cpu_wheel_bytes`)."""
        proc = psutil.Process(self.process.pid)
        processes = [proc, *proc.children(recursive=True)]
        total = sum(p.memory_info().rss for p in processes)
        self.peak_rss = max(self.peak_rss, total)
        self.peak_cpu_wheel_rss = max(self.peak_cpu_wheel_rss, total - sum(map(cuda_build_only_bytes, processes)))
        return total

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system)."""
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def machine_busy_seconds() -> float:
    """CPU time this whole machine has spent busy so far (all cores, every process)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


async def launch(playwright, niceness: int = 0):
    """Headless Chromium; with `niceness` > 0 it and every process it starts run at that lower
    priority, so browsers sharing the server's cores take only the CPU the server leaves free."""
    executable = CHROMIUM
    if niceness:
        wrapper = Path(tempfile.mkdtemp(prefix="bench-chromium-")) / "chromium"
        wrapper.write_text(f'#!/bin/sh\nexec nice -n {niceness} {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
        executable = str(wrapper)
    return await playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


VIEWPORT = {"width": 1400, "height": 1000}


# Usable as a student sees it: the script run has finished, no grey skeleton placeholder is left, and
# a control and the main picture are drawn (a Vega/Plotly/Graphviz chart with its SVG or canvas, or a
# loaded image); a page without pictures (the home page) needs its title and a control.
USABLE = """(needsPicture) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  const control = document.querySelector('[data-testid="stSlider"], [data-testid="stSelectbox"], '
    + '[data-testid="stButtonGroup"], [data-testid="stRadio"], [data-testid="stPills"], [data-testid="stButton"]');
  if (!control) return false;
  if (!needsPicture) return !!document.querySelector('h1');
  const drawn = document.querySelector('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg, '
    + '[data-testid="stGraphVizChart"] svg, [data-testid="stPlotlyChart"] .main-svg');
  const images = [...document.querySelectorAll('[data-testid="stImage"] img')];
  return !!drawn || images.some(img => img.complete && img.naturalWidth > 0);
}"""


async def open_usable(browser, url: str, needs_picture: bool = True, timeout_ms: int = 180_000):
    """Open url in a fresh browser context (a new student: cold cache, no cookies); return
    (context, page, seconds from navigation until the page is usable, see USABLE)."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    started = time.perf_counter()
    await page.goto(url)
    await page.wait_for_function(USABLE, arg=needs_picture, timeout=timeout_ms, polling=50)
    seconds = time.perf_counter() - started
    await page.evaluate(RECORD_RUNS)
    return context, page, seconds


async def open_page(browser_or_context, url: str, timeout_ms: int = 180_000):
    """Open url in a new page (of a browser, or of a context made with VIEWPORT); return
    (page, seconds until the first script run finished)."""
    page = await browser_or_context.new_page(**({} if hasattr(browser_or_context, "browser") else
                                                {"viewport": VIEWPORT}))
    started = time.perf_counter()
    await page.goto(url)
    await page.wait_for_selector(APP, timeout=timeout_ms)
    await page.wait_for_timeout(100)
    await page.wait_for_selector(DONE, timeout=timeout_ms)
    seconds = time.perf_counter() - started
    await page.evaluate(RECORD_RUNS)
    return page, seconds


async def exception_count(page) -> int:
    errors = page.locator('[data-testid="stException"]')
    count = await errors.count()
    for i in range(count):  # say what went wrong: a benchmark that only counts is no help
        print(f"exception on {page.url}: {(await errors.nth(i).inner_text())[:400]}")
    return count


async def interact(page, control: dict, step: int, timeout_ms: int = 60_000) -> float:
    """Change the page's main control once; seconds until the rerun it caused has finished.

    control: {"kind": "slider", "label": ...} (arrow keys on the slider) or
             {"kind": "select", "label": ..., "choices": [1, 0]} (pick the options at these
             positions of the drop-down list in turn).
    """
    now = "() => performance.now()"
    if control["kind"] == "slider":
        sliders = page.locator('[data-testid="stSlider"]')
        if control.get("label"):
            sliders = sliders.filter(has_text=control["label"])
        thumb = sliders.first.locator('input[type="range"]').first  # react-aria's hidden range input
        await thumb.focus()
        start = await page.evaluate(now)
        await thumb.press("ArrowRight" if step % 2 == 0 else "ArrowLeft")
    else:
        choices = control.get("choices", [1, 0])
        option = await open_select(page, control["label"], choices[step % len(choices)], timeout_ms)
        start = await page.evaluate(now)  # from the choice, not from opening the drop-down
        await option.click()
    return await settled(page, start, timeout_ms)


async def open_select(page, label: str, position: int, timeout_ms: int = 60_000):
    """Open the select box whose label is exactly `label` and return its option at `position`.

    The box is found by its label, not by any text inside it (a box whose current value contains the
    label would match too). A page that is still being redrawn (a lesson going live on a fresh
    server) can replace the box between the click and the list: then the list is opened again.
    """
    label_re = re.compile(rf"^\s*{re.escape(label)}\s*$")
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').filter(has_text=label_re)).first
    deadline = time.perf_counter() + timeout_ms / 1000
    while True:
        await box.get_by_role("button", name="Open").click(timeout=timeout_ms)  # the combo box's arrow
        option = page.get_by_role("option").nth(position)
        try:
            await option.wait_for(timeout=5_000)
            return option
        except Exception:
            if time.perf_counter() > deadline:
                raise
            await page.keyboard.press("Escape")


async def settled(page, start_ms: float, timeout_ms: int = 60_000) -> float:
    """Seconds from `start_ms` (the page's performance.now()) until the rerun it caused finished.

    Done = the app is not running and the DOM has been quiet for QUIET_MS; the time reported is that
    of the last DOM change. (A fast rerun or a fragment rerun can finish without the script-state
    attribute ever showing "running", so that attribute alone cannot tell.)
    """
    # One in-page wait instead of polling from Python: with 8 tabs, a round trip every 20 ms per tab
    # cost the browsers seconds of CPU that the server being measured then had to share.
    seconds = await page.evaluate(SETTLED, [start_ms, QUIET_MS, timeout_ms])
    if seconds is not None:
        return seconds
    raise TimeoutError("the page did not settle after the interaction")


async def open_from_sidebar(page, slug: str, timeout_ms: int = 60_000) -> float:
    """Open a lesson the way a student does, from the course's navigation in the sidebar (the app
    is already loaded in the tab); seconds until the lesson has rendered."""
    # The app's own navigation (st.page_link) writes relative addresses: "architecture", "" for home.
    hrefs = f'a[href="{slug}"]' + (f', a[href$="/{slug}"]' if slug else ', a[href="/"]')
    link = page.locator('[data-testid="stSidebar"]').locator(hrefs).first
    start = await page.evaluate("() => performance.now()")
    await link.click()
    await page.wait_for_url(f"**/{slug}*", timeout=timeout_ms)
    return await settled(page, start, timeout_ms)



def chromium_cpu_seconds() -> float:
    """CPU seconds used so far by every running Chromium process (browser, renderers, GPU)."""
    total = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if (proc.info["name"] or "").startswith("chrom") and proc.info["cpu_times"]:
            total += proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return total
