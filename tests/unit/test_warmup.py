"""The per-lesson warm-up: each step once per process, one lock per step, and a lesson waits for its
own steps only (the training page never waits for, nor imports, the CAM library)."""
import importlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from lessons import registry, warmup

ROOT = Path(__file__).resolve().parents[2]
CALLS: list[str] = []
RELEASE = threading.Event()


def slow_step() -> None:
    CALLS.append("slow")
    RELEASE.wait(10)


def quick_step() -> None:
    CALLS.append("quick")


def failing_step() -> None:
    CALLS.append("failing")
    raise RuntimeError("no such library")


@pytest.fixture(autouse=True)
def fresh_warmup_state(monkeypatch):
    monkeypatch.setattr(warmup, "_step_locks", {})
    monkeypatch.setattr(warmup, "_done_steps", set())
    monkeypatch.setattr(warmup, "_failed_steps", {})
    monkeypatch.setattr(warmup, "_lesson_threads", {})
    CALLS.clear()
    RELEASE.clear()


@pytest.mark.parametrize("lesson", [lesson for lesson in registry.LESSONS], ids=lambda lesson: lesson.slug)
def test_every_declared_step_exists(lesson):
    from models import zoo

    assert lesson.warm, f"{lesson.slug} declares no warm-up"
    for step in lesson.warm:
        if step.startswith("model:"):
            assert step.removeprefix("model:") in zoo.NAMES, step
        elif ":" in step:
            module, function = step.split(":")
            assert callable(getattr(importlib.import_module(module), function)), step
        else:
            assert importlib.util.find_spec(step) is not None, step


def test_a_step_runs_once_and_a_second_thread_waits_for_the_first():
    step = f"{__name__}:slow_step"
    results = []
    threads = [threading.Thread(target=lambda: results.append(warmup.run_step(step))) for _ in range(2)]
    for thread in threads:
        thread.start()
    threads[0].join(0.3)
    assert results == [] and CALLS == ["slow"]  # one runs it, the other waits on its lock
    RELEASE.set()
    for thread in threads:
        thread.join(10)
    assert results == [True, True] and CALLS == ["slow"]
    assert warmup.run_step(step) and CALLS == ["slow"]  # done: never again in this process


def test_different_steps_do_not_wait_for_each_other():
    slow = threading.Thread(target=warmup.run_step, args=(f"{__name__}:slow_step",))
    slow.start()
    try:
        assert warmup.run_step(f"{__name__}:quick_step")  # returns while the slow step still runs
        assert CALLS == ["slow", "quick"]
    finally:
        RELEASE.set()
        slow.join(10)


def test_a_failing_step_is_logged_once_and_counts_as_finished(monkeypatch, caplog):
    monkeypatch.setattr(registry, "get", lambda slug: registry.Lesson(
        "demo", "Demo", "", ("before",), "", (), warm=(f"{__name__}:failing_step", f"{__name__}:quick_step")))
    warmup.wait("demo")
    warmup.wait("demo")
    assert CALLS == ["failing", "quick"]
    assert warmup.is_ready("demo")
    assert list(warmup.failures()) == [f"{__name__}:failing_step"]
    assert "no such library" in warmup.failures()[f"{__name__}:failing_step"]
    assert len([r for r in caplog.records if r.name == warmup.__name__]) == 1


def test_start_runs_the_lessons_steps_in_the_background_once(monkeypatch):
    monkeypatch.setattr(registry, "get", lambda slug: registry.Lesson(
        "demo", "Demo", "", ("before",), "", (), warm=(f"{__name__}:slow_step", f"{__name__}:quick_step")))
    warmup.start("demo")
    warmup.start("demo")  # a second student: no second thread
    assert not warmup.is_ready("demo")
    RELEASE.set()
    warmup._lesson_threads["demo"].join(10)
    assert warmup.is_ready("demo") and CALLS == ["slow", "quick"]


# ----- in a fresh process, as on a server that was just started -------------------------------------

def _modules_after_opening(slug: str) -> dict:
    """In a new process: the router's home page, then the lesson as the router draws it, then its
    warm-up thread to the end; which top-level modules are loaded at each point."""
    code = textwrap.dedent(f"""
        import json, sys
        from streamlit.testing.v1 import AppTest
        from lessons import warmup

        def top_level():
            return sorted(m for m in sys.modules if "." not in m)

        home = AppTest.from_file("streamlit_app.py", default_timeout=180)
        home.run()
        at_home = top_level()
        lesson = AppTest.from_string("from lessons.registry import get; get({slug!r}).render()", default_timeout=180)
        lesson.run()
        warmup._lesson_threads[{slug!r}].join(300)
        print(json.dumps({{"home": at_home, "after": top_level(), "ready": warmup.is_ready({slug!r}),
                          "exception": [str(e.value) for e in [*home.exception, *lesson.exception]]}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_home_page_imports_no_torch_and_training_never_imports_the_cam_libraries():
    loaded = _modules_after_opening("training")
    assert "torch" not in loaded["home"]
    assert loaded["exception"] == []
    assert "torch" in loaded["after"]  # its own warm-up ran
    for other in ("pytorch_grad_cam", "torchcam", "torchvision", "torchview", "umap", "cv2"):
        assert other not in loaded["after"], f"the training page loaded {other}, which only other lessons need"


def test_activations_never_imports_the_architecture_lessons_libraries():
    loaded = _modules_after_opening("activations")
    assert loaded["exception"] == []
    assert {"torch", "pytorch_grad_cam", "torchcam"} <= set(loaded["after"])
    for other in ("torchview", "torchviz", "umap"):
        assert other not in loaded["after"], f"the activations page loaded {other}"


def test_process_settings_are_defaults_the_environment_can_override(monkeypatch, tmp_path):
    from lessons import process_settings

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    process_settings.apply()
    assert os.environ["OMP_NUM_THREADS"] == "3"  # set by whoever started the server: kept
    assert os.environ["NUMBA_CACHE_DIR"] == str(process_settings.CACHE_DIR / "numba")
    assert "site-packages" not in os.environ["NUMBA_CACHE_DIR"]


def test_waiting_up_to_a_step_leaves_the_later_steps_undone(monkeypatch):
    monkeypatch.setattr(registry, "get", lambda slug: registry.Lesson(
        "demo", "Demo", "", ("before",), "", (), warm=(f"{__name__}:quick_step", f"{__name__}:failing_step")))
    warmup.wait("demo", up_to=f"{__name__}:quick_step")
    assert CALLS == ["quick"] and not warmup.is_ready("demo")
    with pytest.raises(ValueError, match="not a warm-up step"):
        warmup.wait("demo", up_to="umap")


def test_embeddings_projections_other_than_umap_wait_for_everything_before_umap_only():
    from lessons.embeddings.helpers import WITHOUT_UMAP

    steps = registry.get("embeddings").warm
    assert "umap" in steps[steps.index(WITHOUT_UMAP) + 1]  # the next step imports umap
    assert not any("umap" in step for step in steps[: steps.index(WITHOUT_UMAP) + 1])


def test_the_server_never_loads_triton_which_a_cpu_server_cannot_use():
    """process_settings.apply() marks Triton absent before torch is imported: torchvision (through
    torch._dynamo) then does not load it, as with the CPU wheel, and torch knows it has no Triton."""
    code = textwrap.dedent("""
        import json, sys
        from lessons import process_settings
        process_settings.apply()
        import torchvision, torch._dynamo
        from torch.utils._triton import has_triton
        print(json.dumps({"triton": sys.modules.get("triton") is not None, "has_triton": has_triton(),
                          "dynamo": "torch._dynamo" in sys.modules}))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if k != "LOOK_INSIDE_ALLOW_TRITON"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"triton": False, "has_triton": False, "dynamo": True}
