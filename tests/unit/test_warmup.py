"""The background warm-up imports what it names and runs each lesson's warm_up once."""
import importlib

from lessons import warmup


def test_every_warm_up_target_exists():
    for name in warmup.MODULES:
        assert importlib.util.find_spec(name) is not None, name
    for name in warmup.LESSON_WARMERS:
        assert callable(importlib.import_module(name).warm_up)


def test_warm_up_runs_without_error(caplog, monkeypatch):
    monkeypatch.setattr(warmup, "DELAY_SECONDS", 0)
    warmup._warm()
    assert not [r for r in caplog.records if r.name == warmup.__name__], caplog.text


def test_script_runs_wait_while_the_warm_up_runs(monkeypatch):
    import threading
    import time

    monkeypatch.setattr(warmup, "_started", threading.Event())
    monkeypatch.setattr(warmup, "_finished", threading.Event())
    started = time.perf_counter()
    warmup.wait_until_warm(timeout=5)  # not started: no wait
    assert time.perf_counter() - started < 0.5
    warmup._started.set()
    threading.Timer(0.3, warmup._finished.set).start()
    warmup.wait_until_warm(timeout=5)
    assert warmup._finished.is_set()
