"""Warm the heavy imports and the shared models in a background thread once per server process.

The home page imports no torch, so a student who lands there sees it at once; by the time they open
a lesson, torch, the CAM library, the bundled models and each lesson's one-off costs (a lesson can
offer `warm_up()` in its compute or graphs module) are usually already paid.
"""
from __future__ import annotations

import gc
import importlib
import logging
import threading
import time

_started = threading.Event()  # process-wide and not per student: it only records that warm-up began
_finished = threading.Event()
DELAY_SECONDS = 1.0
MODULES = ("torch", "torchvision", "pandas", "altair", "models.zoo", "pytorch_grad_cam")
MODELS = ("digits_cnn", "efficientnet_lite0")
LESSON_WARMERS = ("lessons.architecture.graphs", "lessons.training.compute")  # modules with warm_up()


def _warm() -> None:
    try:
        _warm_everything()
    finally:
        _finished.set()


def _warm_everything() -> None:
    time.sleep(DELAY_SECONDS)  # let the first page reach the browser before the imports take the CPU
    log = logging.getLogger(__name__)
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional library must not stop the server
            log.warning("warm-up could not import %s", name, exc_info=True)
    try:
        zoo = importlib.import_module("models.zoo")
        for model_name in MODELS:
            zoo.load(model_name)
    except Exception:
        log.warning("warm-up could not load the models", exc_info=True)
    for name in LESSON_WARMERS:
        try:
            importlib.import_module(name).warm_up()
        except Exception:
            log.warning("warm-up of %s failed", name, exc_info=True)
    # Streamlit runs a full garbage collection after every script run; with torch, the models and
    # the chart libraries in memory that took ~200 ms of each interaction (measured). What is alive
    # now lives for the whole process, so move it out of the collector's way.
    gc.freeze()


def wait_until_warm(timeout: float = 60.0) -> None:
    """Block while the background warm-up runs (a no-op before it starts and after it ends).

    Two threads importing the same large packages for the first time (torch._dynamo, sympy,
    pytorch_grad_cam...) can deadlock or see half-initialised modules; script runs wait instead.
    """
    if _started.is_set():
        _finished.wait(timeout)


def start() -> None:
    """Start the warm-up thread unless it already ran in this process."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_warm, name="warmup", daemon=True).start()
