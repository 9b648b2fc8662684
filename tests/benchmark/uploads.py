"""Memory after many uploads (issue #18, "caches are bounded"): one student uploads UPLOADS different
photos, one after the other, on the activations page (each one decoded, run through EfficientNet-Lite0
and explained with a heatmap), and the server's resident memory is read after a few warm-up uploads
and after the last. Every cache on the way is bounded (st.cache_data max_entries, the session keeps
only the current upload), so the growth must stay under UPLOAD_GROWTH_BUDGET_MB whatever the count.
"""
from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image

from tests.benchmark import browser as web
from tests.benchmark.report import Row

PAGE = "activations?activations.image=upload+your+own"
CAPTION = "GradCAM for “"  # the heatmap's caption once an upload is explained
WARM_UPLOADS = 5
UPLOAD_GROWTH_BUDGET_MB = 100


def photo(index: int, side: int = 320) -> bytes:
    """A different photo-like JPEG for every index: smooth colour fields plus noise (side x side)."""
    rng = np.random.default_rng(index)
    y, x = np.mgrid[0:side, 0:side] / side
    base = np.stack([np.sin(6 * x * rng.uniform(0.5, 2) + rng.uniform(0, 6)),
                     np.cos(5 * y * rng.uniform(0.5, 2) + rng.uniform(0, 6)),
                     np.sin(4 * (x + y) * rng.uniform(0.5, 2))], -1)  # (side, side, 3) in [-1, 1]
    pixels = np.clip(127 + 100 * base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=85)
    return out.getvalue()


async def upload_and_wait(page, index: int, timeout_ms: int = 120_000) -> None:
    """Upload photo `index` and wait until the rerun it caused has finished with the photo explained."""
    chooser = page.locator('input[type="file"]').first
    start = await page.evaluate("() => performance.now()")
    await chooser.set_input_files(files=[{"name": f"photo_{index}.jpg", "mimeType": "image/jpeg",
                                          "buffer": photo(index)}])
    await web.settled(page, start, timeout_ms)  # the rerun the upload started has finished ...
    await page.wait_for_function(  # ... and shows this photo explained (a first upload waits for the model)
        """([name, caption]) => {
             const app = document.querySelector('[data-testid="stApp"]');
             const text = document.body.innerText;
             return app.getAttribute('data-test-script-state') === 'notRunning'
               && text.includes(name) && text.includes(caption); }""",
        arg=[f"photo_{index}.jpg", CAPTION], timeout=timeout_ms, polling=100)


async def upload_memory_rows(playwright, uploads: int) -> list[Row]:
    server = web.Server()
    rows: list[Row] = []
    try:
        chromium = await web.launch(playwright)
        page, _ = await web.open_page(chromium, f"{server.url}/{PAGE}")
        for i in range(WARM_UPLOADS):  # the model, the explainer and the caches in place
            await upload_and_wait(page, i)
        before = server.rss()
        started = time.perf_counter()
        for i in range(WARM_UPLOADS, WARM_UPLOADS + uploads):
            await upload_and_wait(page, i)
        seconds = time.perf_counter() - started
        after = server.rss()
        rows.append(Row(f"memory growth over {uploads} different uploads (activations, one student)",
                        (after - before) / 2**20, "MB", UPLOAD_GROWTH_BUDGET_MB,
                        note=f"RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MB, {seconds / uploads:.2f} s an upload"))
        await chromium.close()
    finally:
        server.stop()
    return rows
