"""A student's first minute, measured as a student sees it (issue #11).

For each page (the home page, every lesson, and the trivial floor page of trivial_app.py, all served
by the same Streamlit on this machine in the same run):
- fresh server: a new `streamlit run`, and right after /_stcore/health the first visitor opens the
  page in a new browser context (cold cache); the time until it is usable (browser.USABLE: the run
  has finished, no skeleton is left, a control and the main picture are drawn);
- memory: that server's resident memory after the visitor changed the page's main control a number
  of times (a server on which one student used one lesson), without the resident pages of the
  libraries only the CUDA build of torch loads (browser.CUDA_BUILD_ONLY: the deployment installs the
  CPU wheel, PyPI's default on this machine is the CUDA build); the full RSS stands beside it;
- warm server: on the same server, WARM_AFTER seconds after it started, a second student opens the
  page in another new context: its usable time;
- floor rerun: the trivial page's rerun after a control change, the reference for every lesson's
  warm-interaction rows.
Budgets: a lesson usable within 10 s of health on a fresh server and within the floor + 1.5 s on a
warm one; the home page within the floor + 0.5 s; each lesson's memory within its MEMORY_BUDGET_MB.
"""
from __future__ import annotations

import asyncio
import importlib
import statistics
import time

from tests.benchmark import browser as web
from tests.benchmark.report import Row

WARM_AFTER = 40.0  # seconds after the server started
FRESH_BUDGET = 10.0  # a lesson usable within this many seconds of health on a fresh server
WARM_MARGIN = 1.5  # a lesson on a warm server: the floor + this
HOME_MARGIN = 0.5  # the home page on a fresh server: the floor + this
DEFAULT_MEMORY_BUDGET_MB = 850
TRIVIAL_CONTROL = {"kind": "slider", "label": "Frequency"}


def lesson_bench_value(slug: str, name: str, default):
    try:
        return getattr(importlib.import_module(f"lessons.{slug}.bench"), name, default)
    except ModuleNotFoundError:
        return default


def libraries_memory_mb(slug: str) -> tuple[float, float]:
    """Resident memory of a bare Python process, with the server's process settings, that has done
    only the lesson's warm-up steps (its libraries and shared models, no Streamlit server): what the
    lesson needs before any student. (RSS, RSS without CUDA-build-only libraries), in MB."""
    import json
    import os
    import subprocess
    import sys

    code = ("import json, psutil; from lessons import process_settings; process_settings.apply(); "
            "from lessons import warmup; from tests.benchmark.browser import cuda_build_only_bytes; "
            "warmup.wait(%r); p = psutil.Process(); rss = p.memory_info().rss; "
            "print(json.dumps([rss / 2**20, (rss - cuda_build_only_bytes(p)) / 2**20]))" % slug)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=web.ROOT, env=dict(os.environ))
    total, cpu_wheel = json.loads(out.stdout.strip().splitlines()[-1])
    return total, cpu_wheel


async def _one_server(playwright, app: str, path: str, needs_picture: bool, control: dict | None,
                      changes: int, warm_after: float) -> dict:
    server = web.Server(app)
    started = time.perf_counter() - server.health_seconds  # when the process was launched
    result: dict = {"health": server.health_seconds}
    try:
        chromium = await web.launch(playwright)
        context, page, result["fresh"] = await web.open_usable(chromium, f"{server.url}/{path}", needs_picture)
        result["exceptions"] = await web.exception_count(page)
        reruns = []
        try:
            for i in range(changes if control else 0):
                reruns.append(await web.interact(page, control, i))
        except Exception as error:  # report it beside the figures and go on with the other pages
            result["interaction_error"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"[:120]
            print(f"first minute on /{path}: the main control could not be changed: {result['interaction_error']}")
        result["reruns"] = reruns
        server.rss()
        result["memory_mb"] = server.peak_cpu_wheel_rss / 2**20
        result["rss_mb"] = server.peak_rss / 2**20
        await context.close()
        await asyncio.sleep(max(0.0, warm_after - (time.perf_counter() - started)))
        context, page, result["warm"] = await web.open_usable(chromium, f"{server.url}/{path}", needs_picture)
        result["exceptions"] += await web.exception_count(page)
        await context.close()
        await chromium.close()
    finally:
        server.stop()
    return result


async def first_minute_rows(slugs: list[str], playwright, quick: bool = False) -> list[Row]:
    warm_after = 15.0 if quick else WARM_AFTER
    changes = 6 if quick else 16
    rows: list[Row] = []
    floor = await _one_server(playwright, "tests/benchmark/trivial_app.py", "", True, TRIVIAL_CONTROL,
                              changes, warm_after)
    floor_rerun = statistics.median(floor["reruns"])
    rows += [
        Row("floor: trivial page usable, fresh server (first visitor)", floor["fresh"], "s", None),
        Row(f"floor: trivial page usable, warm server ({warm_after:g} s after start), new tab", floor["warm"], "s", None),
        Row("floor: trivial page rerun after a control change, median", floor_rerun, "s", None),
        Row("floor: trivial page server memory", floor["rss_mb"], "MB", None),
    ]
    home = await _one_server(playwright, "streamlit_app.py", "", False, None, 0, warm_after)
    rows.append(Row("home usable, fresh server (first visitor)", home["fresh"], "s",
                    round(floor["fresh"] + HOME_MARGIN, 2), note=f"floor {floor['fresh']:.2f} s + {HOME_MARGIN:g} s"))
    for slug in slugs:
        control = lesson_bench_value(slug, "MAIN_CONTROL", None)
        lesson = await _one_server(playwright, "streamlit_app.py", slug, True, control, changes, warm_after)
        errors = f"; {lesson['exceptions']} exceptions" if lesson["exceptions"] else ""
        if "interaction_error" in lesson:
            errors += f"; main control not changed: {lesson['interaction_error']}"
        rows.append(Row(f"/{slug} usable, fresh server (first visitor, from health)", lesson["fresh"], "s",
                        FRESH_BUDGET, note=errors.lstrip("; ")))
        rows.append(Row(f"/{slug} usable, warm server ({warm_after:g} s after start), new tab", lesson["warm"], "s",
                        round(floor["warm"] + WARM_MARGIN, 2),
                        note=f"floor {floor['warm']:.2f} s + {WARM_MARGIN:g} s"))
        if lesson["reruns"]:
            rows.append(Row(f"/{slug} first {changes} changes of its main control, median", statistics.median(lesson["reruns"]),
                            "s", None, note=f"floor rerun {floor_rerun:.2f} s"))
        needed, needed_cpu_wheel = libraries_memory_mb(slug)
        rows.append(Row(f"/{slug} server memory, one student used only this lesson (without CUDA-only libraries)",
                        lesson["memory_mb"], "MB", lesson_bench_value(slug, "MEMORY_BUDGET_MB", DEFAULT_MEMORY_BUDGET_MB),
                        note=f"RSS {lesson['rss_mb']:.0f} MB with the CUDA build's libraries; its libraries and models "
                             f"alone, in a bare process: {needed_cpu_wheel:.0f} MB ({needed:.0f} MB)",
                        like_for_like=lesson["rss_mb"]))
    return rows
