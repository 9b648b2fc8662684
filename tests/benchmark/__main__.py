"""The benchmark: `python -m tests.benchmark [--quick] [--only SLUG ...]`.

Measures, in one run on this machine, against the budgets of issues #3 and #11: a student's first
minute on each page (usable time on a fresh and on a warm server, beside a trivial page served the
same way as the floor; tests/benchmark/first_minute.py), warm interactions in the browser beside the
floor's rerun, server memory (one lesson used, all lessons visited) and its growth, 8 concurrent sessions, each lesson's compute figures (lessons/<slug>/bench.py)
and the compute kernels' achieved FLOP/s against this machine's fp32 matrix-multiply rate.
Writes tests/benchmark/results/latest.json and latest.md (partial.* for a run limited by --only,
--no-browser or --concurrency-only). Prints misses; never fails.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

from lessons import process_settings

# Before torch is imported: the compute rows run as the server computes, one torch thread per
# computation (lessons/process_settings.py). Without it torch took both cores in this process.
process_settings.apply()

from lessons import registry  # noqa: E402
from tests.benchmark import browser as web  # noqa: E402
from tests.benchmark import protocol  # noqa: E402
from tests.benchmark.report import Row, matmul_gflops, markdown_table, with_peer

RESULTS = Path(__file__).with_name("results")
DEFAULT_CONTROL = {"kind": "slider", "label": None}


def main_control(slug: str) -> dict:
    try:
        return getattr(importlib.import_module(f"lessons.{slug}.bench"), "MAIN_CONTROL", DEFAULT_CONTROL)
    except ModuleNotFoundError:
        return DEFAULT_CONTROL


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def warm_session(rows: list[Row], slugs: list[str], changes: int, growth_interactions: int,
                       playwright, floor_rerun: float | None = None) -> None:
    """One server, one browser: every lesson opened in turn and its main control changed `changes`
    times (median and p95 beside the trivial page's rerun, the floor), then memory over more work."""
    floor = f"floor rerun {floor_rerun:.2f} s" if floor_rerun is not None else ""
    server = web.Server()
    rows.append(Row("server start to /_stcore/health", server.health_seconds, "s", None))
    try:
        chromium = await web.launch(playwright)
        page, seconds = await web.open_page(chromium, server.url)
        rows.append(Row("home page rendered after health", seconds, "s", 2.0))
        await page.close()
        pages = {}
        for slug in slugs:
            page, _ = await web.open_page(chromium, f"{server.url}/{slug}")
            pages[slug] = page
            try:
                times = [await web.interact(page, main_control(slug), i) for i in range(changes)]
            except Exception as error:  # report the lesson as a miss and go on with the others
                rows.append(Row(f"/{slug} warm interaction median", float("nan"), "s", 0.3,
                                note=f"{type(error).__name__}: {error}"[:120]))
                continue
            rows.append(Row(f"/{slug} warm interaction median", statistics.median(times), "s", 0.3, note=floor))
            rows.append(Row(f"/{slug} warm interaction p95", p95(times), "s", 1.0, note=floor))
            server.rss()
        rows.append(Row("server peak memory, all lessons visited (without CUDA-only libraries)",
                        server.peak_cpu_wheel_rss / 2**20, "MB", 1536, note=f"RSS {server.peak_rss / 2**20:.0f} MB",
                        like_for_like=server.peak_rss / 2**20))
        before = server.rss()
        for i in range(growth_interactions):
            slug = slugs[i % len(slugs)]
            try:
                await web.interact(pages[slug], main_control(slug), i + changes)
            except Exception:  # already reported above as a miss of that lesson
                pass
        after = server.rss()
        rows.append(Row(f"memory growth over {growth_interactions} interactions", (after - before) / 2**20, "MB", 50))
        rows.append(Row("server peak memory (end, without CUDA-only libraries)", server.peak_cpu_wheel_rss / 2**20, "MB",
                        1536, note=f"RSS {server.peak_rss / 2**20:.0f} MB", like_for_like=server.peak_rss / 2**20))
        await chromium.close()
    finally:
        server.stop()


async def concurrency(rows: list[Row], slugs: list[str], sessions: int, playwright) -> None:
    """`sessions` students at once, each opening a lesson and changing its main control.

    A class works on one server while each student's browser runs on the student's own computer.
    Here all 8 browsers share the server's 2 cores, and loading Streamlit's front end costs a tab
    over 10x the CPU the server spends on it, so the browsers run at a lower priority (nice 10): the
    server gets the CPU it would have in a class, the browsers the rest. Two bursts:
    - budgeted: each student has the course open in a tab and has visited every lesson once (the
      front end's chart and graph code is loaded), then all at once open a lesson from the sidebar
      and change its main control;
    - for reference, brand-new tabs loading the whole app at once (no budget: mostly browser CPU).
    """
    server = web.Server()
    try:
        chromium = await web.launch(playwright, niceness=10)
        contexts = [await chromium.new_context(viewport=web.VIEWPORT) for _ in range(sessions)]
        tabs = [(await web.open_page(context, server.url))[0] for context in contexts]
        requests = await record_requests(chromium, server.url, slugs)
        for tab in tabs:  # every student has been through the lessons once, then back home
            for slug in slugs:
                await web.open_from_sidebar(tab, slug)
            await web.open_from_sidebar(tab, "")

        async def from_sidebar(i: int) -> tuple[float, int]:
            slug = slugs[i % len(slugs)]
            try:
                opened = await web.open_from_sidebar(tabs[i], slug)
                changed = await web.interact(tabs[i], main_control(slug), 0)  # step 0 always changes
                return opened + changed, await web.exception_count(tabs[i])
            except Exception as error:  # counted as an error of that student's session
                print(f"concurrent session {i} on /{slug}: {type(error).__name__}: {error}"[:300])
                return float("nan"), 1

        await burst(rows, server, sessions, from_sidebar, "open from the sidebar + change", budget=3.0)
        for context in contexts:
            await context.close()

        new_contexts = []  # closed after the burst, so their CPU time is still counted

        async def new_tab(i: int) -> tuple[float, int]:
            slug = slugs[i % len(slugs)]
            context = await chromium.new_context(viewport=web.VIEWPORT)
            new_contexts.append(context)
            try:
                page, opened = await web.open_page(context, f"{server.url}/{slug}")
                changed = await web.interact(page, main_control(slug), 0)
                return opened + changed, await web.exception_count(page)
            except Exception as error:
                print(f"concurrent new tab {i} on /{slug}: {type(error).__name__}: {error}"[:300])
                return float("nan"), 1

        await burst(rows, server, sessions, new_tab, "new tab loading the app + change", budget=None)
        for context in new_contexts:
            await context.close()
        await chromium.close()
        await server_alone(rows, server, sessions, slugs, requests)
        await replica_capacity(rows, server, slugs, requests)
    finally:
        server.stop()


async def record_requests(chromium, url: str, slugs: list[str]) -> dict[str, list[bytes]]:
    """In a tab of its own, the requests a student's browser sends to open each lesson from the
    sidebar and change its main control (replayed by `server_alone`)."""
    context = await chromium.new_context(viewport=web.VIEWPORT)
    tab, _ = await web.open_page(context, url)
    requests = {}
    for slug in slugs:
        async def open_and_change(slug=slug):
            await web.open_from_sidebar(tab, slug)
            await web.interact(tab, main_control(slug), 0)
        try:
            requests[slug] = await protocol.capture_requests(context, tab, open_and_change)
        except Exception as error:  # that lesson is left out of the replay, and the table says so
            print(f"recording /{slug} for the replay failed: {type(error).__name__}: {error}"[:300])
        await web.open_from_sidebar(tab, "")
    await context.close()
    return requests


async def replay_class(server, requests: dict[str, list[bytes]], recorded: list[str],
                       students: int) -> tuple[list[float], int, int]:
    """`students` replays at once, lesson by lesson in turn: (each finished student's seconds, errors
    counted as failed replays plus exceptions drawn, elements drawn)."""
    results = await asyncio.gather(*(protocol.replay(server.url, requests[recorded[i % len(recorded)]])
                                     for i in range(students)), return_exceptions=True)
    done = [r for r in results if not isinstance(r, BaseException)]
    errors = len(results) - len(done) + sum(exceptions for _, _, exceptions in done)
    return [sum(seconds) for seconds, _, _ in done], errors, sum(elements for _, elements, _ in done)


async def server_alone(rows: list[Row], server, sessions: int, slugs: list[str],
                       requests: dict[str, list[bytes]]) -> None:
    """The same open + change for `sessions` students at once, replayed over the websocket protocol
    without browsers: what the server itself takes when a class clicks together."""
    label = f"{sessions} concurrent sessions, the server alone (a browser's open + change replayed)"
    cpu = server.cpu_seconds()
    recorded = [slug for slug in slugs if slug in requests]
    if not recorded:
        return
    if len(recorded) < len(slugs):
        label += f" (not recorded: {', '.join(sorted(set(slugs) - set(recorded)))})"
    times, errors, elements = await replay_class(server, requests, recorded, sessions)
    rows.append(Row(f"{label}: errors", errors, "count", 0, note=f"{elements} elements drawn"))
    if times:
        rows.append(Row(f"{label}: median", statistics.median(times), "s", None))
        rows.append(Row(f"{label}: p95", p95(times), "s", None,
                        note=f"server CPU {server.cpu_seconds() - cpu:.2f} s"))


CAPACITY_P95_SECONDS = 1.0  # issue 19: a replica serves N students if N clicking at once see p95 under this
CAPACITY_STEPS = (4, 8, 12, 16, 24, 32, 48, 64)


async def replica_capacity(rows: list[Row], server, slugs: list[str], requests: dict[str, list[bytes]]) -> None:
    """How many students one replica (this server, this machine's cores) serves: the largest class in
    CAPACITY_STEPS whose open + change, replayed for every student at the same moment without browsers,
    finishes with no error and p95 under CAPACITY_P95_SECONDS. The README's "Serving a class" rule
    rests on this figure. Students clicking at exactly the same moment is the worst case of a class."""
    recorded = [slug for slug in slugs if slug in requests]
    if not recorded:
        return
    served, tried = 0, []
    for students in CAPACITY_STEPS:
        times, errors, _ = await replay_class(server, requests, recorded, students)
        worst = p95(times) if times else float("nan")
        tried.append(f"{students}: p95 {worst:.2f} s" + (f", {errors} errors" if errors else ""))
        if errors or not worst < CAPACITY_P95_SECONDS:
            break
        served = students
    rows.append(Row(f"students one replica serves at once (p95 < {CAPACITY_P95_SECONDS:g} s, no error; "
                    f"{len(recorded)} lessons' open + change replayed, the server alone)", served, "students",
                    None, better="higher",
                    note=("at least: the largest class tried; " if served == CAPACITY_STEPS[-1] else "") + "; ".join(tried)))


async def burst(rows: list[Row], server, sessions: int, student, what: str, budget: float | None) -> None:
    """Run `student(i)` for every session at once; rows for errors, median, p95 and CPU shares."""
    label = f"{sessions} concurrent sessions, {what}"
    server_cpu, machine_cpu = server.cpu_seconds(), web.machine_busy_seconds()
    chromium_cpu = web.chromium_cpu_seconds()
    started = time.perf_counter()
    results = await asyncio.gather(*(student(i) for i in range(sessions)))
    wall = time.perf_counter() - started
    server_used = server.cpu_seconds() - server_cpu
    browsers = web.chromium_cpu_seconds() - chromium_cpu
    others = web.machine_busy_seconds() - machine_cpu - server_used - browsers
    times = [t for t, _ in results if t == t]
    rows.append(Row(f"{label}: errors", sum(e for _, e in results), "count", 0))
    if times:
        rows.append(Row(f"{label}: median", statistics.median(times), "s", None))
        rows.append(Row(f"{label}: p95", p95(times), "s", budget))
    rows.append(Row(f"{label}: wall time", wall, "s", None,
                    note=f"CPU used meanwhile: server {server_used:.1f} s, the {sessions} Chromium tabs "
                         f"{browsers:.1f} s, everything else {others:.1f} s"))


def home_script_row() -> Row:
    """The home page's script run, server side, in a fresh process (no torch may be imported)."""
    import subprocess
    import sys

    code = ("import time, sys; from streamlit.testing.v1 import AppTest; at = AppTest.from_file('streamlit_app.py');"
            "t = time.perf_counter(); at.run(); print(time.perf_counter() - t, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2], env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    seconds, torch_imported = out.stdout.split()[-2:]
    return Row("home page script run, fresh process", float(seconds), "s", 0.5,
               note="torch imported!" if torch_imported == "True" else "no torch")


def lesson_compute_rows(slugs: list[str], peak_gflops: float) -> list[Row]:
    """Each lesson's own figures (lessons/<slug>/bench.py), then the reference kernels of issue #3
    whose lessons do not exist yet (tests/benchmark/kernels.py)."""
    from tests.benchmark import kernels

    rows: list[Row] = []
    benched = set()
    for slug in slugs:
        try:
            bench = importlib.import_module(f"lessons.{slug}.bench")
        except ModuleNotFoundError:
            continue
        benched.add(slug)
        rows += figure_rows(bench.compute_figures(), slug, peak_gflops)
    rows += figure_rows(kernels.compute_figures(benched), "kernel", peak_gflops)
    return rows


def figure_rows(figures: list[dict], prefix: str, peak_gflops: float) -> list[Row]:
    """Rows for figures named like "<kernel> seconds", with "<kernel> flops" turned into achieved
    GFLOP/s as a share of the machine's matrix-multiply rate."""
    rows: list[Row] = []
    flops = {f["name"][:-6]: f["value"] for f in figures if f["name"].endswith(" flops")}
    for fig in figures:
        if fig["name"].endswith(" flops"):
            continue
        name = fig["name"] if fig["name"].startswith(prefix) else f"{prefix}: {fig['name']}"
        rows.append(Row(name, fig["value"], fig.get("unit", ""), fig.get("budget"),
                        better=fig.get("better", "lower"), note=fig.get("note", "")))
        kernel = fig["name"][:-8] if fig["name"].endswith(" seconds") else None
        if kernel in flops and fig["value"] > 0:
            achieved = flops[kernel] / fig["value"] / 1e9
            label = kernel if kernel.startswith(prefix) else f"{prefix}: {kernel}"
            rows.append(Row(f"{label} achieved GFLOP/s / matmul peak", achieved / peak_gflops,
                            "ratio", None, better="higher", note=f"{achieved:.1f} GFLOP/s"))
    return rows


async def concurrency_rows(slugs: list[str]) -> list[Row]:
    from playwright.async_api import async_playwright

    rows: list[Row] = []
    async with async_playwright() as playwright:
        await concurrency(rows, slugs, sessions=8, playwright=playwright)
    return rows


async def upload_rows(uploads: int) -> list[Row]:
    from playwright.async_api import async_playwright

    from tests.benchmark.uploads import upload_memory_rows

    async with async_playwright() as playwright:
        return await upload_memory_rows(playwright, uploads)


async def first_minute_only_rows(slugs: list[str], quick: bool) -> list[Row]:
    from playwright.async_api import async_playwright

    from tests.benchmark.first_minute import first_minute_rows

    async with async_playwright() as playwright:
        return await first_minute_rows(slugs, playwright, quick)


async def browser_rows(slugs: list[str], quick: bool) -> list[Row]:
    from playwright.async_api import async_playwright

    from tests.benchmark.first_minute import first_minute_rows

    rows: list[Row] = []
    async with async_playwright() as playwright:
        first = await first_minute_rows(slugs, playwright, quick)
        floor_rerun = next(r.value for r in first if r.name.startswith("floor: trivial page rerun"))
        await warm_session(rows, slugs, changes=5 if quick else 10, growth_interactions=20 if quick else 100,
                           playwright=playwright, floor_rerun=floor_rerun)
        if slugs:
            try:
                await concurrency(rows, slugs, sessions=8, playwright=playwright)
            except Exception as error:  # keep every figure measured so far
                rows.append(Row("8 concurrent sessions: could not run", float("nan"), "s", None,
                                note=f"{type(error).__name__}: {error}"[:120]))
        if "activations" in slugs:
            from tests.benchmark.uploads import upload_memory_rows

            rows += await upload_memory_rows(playwright, 20 if quick else 100)
    return first + rows


def write_into_readme(table: str) -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    text = readme.read_text()
    start, end = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
    head, rest = text.split(start, 1)
    readme.write_text(f"{head}{start}\n{table}{end}{rest.split(end, 1)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, a shorter wait for the warm server")
    parser.add_argument("--only", nargs="*", help="lesson slugs (default: every registered lesson)")
    parser.add_argument("--no-browser", action="store_true", help="compute figures only")
    parser.add_argument("--readme", action="store_true", help="also put the table into README.md")
    parser.add_argument("--concurrency-only", action="store_true", help="only the concurrent sessions")
    parser.add_argument("--first-minute-only", action="store_true", help="only the first-minute rows")
    parser.add_argument("--uploads-only", action="store_true", help="only the memory after 100 uploads")
    args = parser.parse_args()
    slugs = args.only or [lesson.slug for lesson in registry.LESSONS]
    started = time.time()
    peak = matmul_gflops()
    rows = [Row("fp32 matrix multiply (this machine)", peak, "GFLOP/s", None, better="higher")]
    if not (args.concurrency_only or args.first_minute_only or args.uploads_only):
        rows.append(home_script_row())
        rows += lesson_compute_rows(slugs, peak)
    if args.concurrency_only:
        rows += asyncio.run(concurrency_rows(slugs))
    elif args.first_minute_only:
        rows += asyncio.run(first_minute_only_rows(slugs, args.quick))
    elif args.uploads_only:
        rows += asyncio.run(upload_rows(20 if args.quick else 100))
    elif not args.no_browser:
        rows += asyncio.run(browser_rows(slugs, args.quick))
    rows = [with_peer(row) for row in rows]
    machine = f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.mkdir(exist_ok=True)
    partial = bool(args.only or args.no_browser or args.concurrency_only or args.first_minute_only or args.uploads_only)
    stem = "partial" if partial else "latest"  # a partial run never replaces the full table
    (RESULTS / f"{stem}.json").write_text(json.dumps(
        {"date": stamp, "machine": machine, "seconds": time.time() - started, "quick": args.quick,
         "rows": [row.as_dict() for row in rows]}, indent=1))
    table = markdown_table(rows, stamp, machine)
    (RESULTS / f"{stem}.md").write_text(table)
    if args.readme and not partial:
        write_into_readme(table)
    print(table)
    misses = [row for row in rows if row.missed]
    print(f"{len(misses)} of {sum(r.budget is not None for r in rows)} budgets missed" +
          "".join(f"\n  MISS {r.name}: {r.value:.3g} {r.unit} (budget {r.budget:g})" for r in misses))


if __name__ == "__main__":
    main()
