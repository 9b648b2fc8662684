"""The Optimize view (activation maximization, streamed: progress bar, the image redrawn at most 4 times
a second, Stop) and the Regularizers view (the same seed and objective with each regularizer off).

A run happens only in the script run that the Optimize (or Compare) button started (page.py draws the
buttons outside the view's fragment, so Stop reruns the whole page and interrupts the loop). The
session's runs live in st.session_state (helpers.RUNS_KEY, COMPARISONS_KEY), never in module globals.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import streamlit as st

from lessons import ui
from lessons.features import charts, content
from lessons.features.helpers import (COMPARISONS_KEY, DEFAULT_STAGE, LEARNING_RATES, MAX_RUNS, OPTIMIZE_STAGES,
                                      PHOTO_MODEL, REDRAW_SECONDS, RUNS_KEY, SIZES, STEPS, channels_of, control,
                                      describe, gallery, lr_label, settings_from_controls, shipped_image)
from lessons.features.precompute import DEFAULT_CHANNEL, default_settings
from lessons.features.settings import MAX_LR, OBJECTIVES, PARAMETERIZATIONS, TRANSFORMS, VARIANTS, Settings, variant
from models.catalogue import info

PARAMETERIZATION_TITLES = {"pixels": "plain pixels", "fourier": "Fourier (1/f)"}


@dataclass
class Run:
    """One student's optimization: settings, the latest image, the objective per step, how it ended."""

    settings: Settings
    image: np.ndarray | None = None  # uint8 (S, S, 3)
    objectives: list[float] = field(default_factory=list)
    status: str = "running"  # running, finished, stopped, diverged
    seconds: float = 0.0
    source: str = "yours"  # or "shipped"


@dataclass
class Comparison:
    """The regularizer comparison for one objective: variant name -> image and measures."""

    base: Settings  # variant(settings, "all on")
    images: dict[str, np.ndarray] = field(default_factory=dict)
    hf_share: dict[str, float] = field(default_factory=dict)
    radial: dict[str, list[float]] = field(default_factory=dict)
    status: str = "running"
    source: str = "yours"


def session_list(key: str) -> list:
    """This session's runs (or comparisons). A click starts the next script run in a new thread while
    the old one optimises on until its next st call (Streamlit's fast reruns): marking its item
    "stopped" here is what ends the old loop, before it changes what this run draws."""
    items = st.session_state.setdefault(key, [])
    for item in items:  # a run interrupted by a click (Stop, or any control) keeps what it made
        if item.status == "running":
            item.status = "stopped"
    return items


def _remember(items: list, item, limit: int = MAX_RUNS) -> None:
    items.append(item)
    del items[:-limit]


# --------------------------------------------------------------------------- live loops


def optimize_live(settings: Settings, slots: dict) -> Run:
    """Run `settings`, redrawing the progress bar and the image at most 4 times a second."""
    from lessons.features import optimize
    from models import zoo

    run = Run(settings)
    _remember(session_list(RUNS_KEY), run)
    start = last_draw = time.perf_counter()
    last_draw -= REDRAW_SECONDS
    with zoo.borrow(PHOTO_MODEL) as model:
        for event in optimize.optimize(model, settings):
            if run.status != "running":  # stopped by the next script run (session_list): see its docstring
                return run
            run.objectives.append(event.objective)
            now = time.perf_counter()
            finished = event.step == settings.steps or event.diverged
            if now - last_draw >= REDRAW_SECONDS or finished:
                run.image = optimize.current_image(event.image)
                run.seconds = now - start
                slots["progress"].progress(event.step / settings.steps,
                                           text=f"Optimising: step {event.step} of {settings.steps}, objective "
                                                f"{event.objective:.3g}, {run.seconds:.1f} s")
                slots["image"].image(run.image, width="stretch", caption=f"Step {event.step}",
                                     alt="The image being optimised")
                last_draw = time.perf_counter()
            if event.diverged:
                run.status = "diverged"
                break
    if run.status == "running":
        run.status = "finished"
    run.seconds = time.perf_counter() - start
    slots["progress"].empty()
    return run


def compare_live(base: Settings, slots: list, progress) -> Comparison:
    """Run the eight variants one after the other, each image redrawn while it optimises."""
    from lessons.features import compute, optimize
    from models import zoo

    comparison = Comparison(base)
    _remember(session_list(COMPARISONS_KEY), comparison, limit=2)
    last_draw = 0.0
    with zoo.borrow(PHOTO_MODEL) as model:
        for i, name in enumerate(VARIANTS):
            settings = variant(base, name)
            for event in optimize.optimize(model, settings):
                if comparison.status != "running":  # stopped by the next script run
                    return comparison
                now = time.perf_counter()
                if now - last_draw >= REDRAW_SECONDS or event.step == settings.steps or event.diverged:
                    image = optimize.current_image(event.image)
                    comparison.images[name] = image
                    progress.progress((i + event.step / settings.steps) / len(VARIANTS),
                                      text=f"Run {i + 1} of {len(VARIANTS)} ({name}): step {event.step} of "
                                           f"{settings.steps}")
                    slots[i].image(image, width="stretch", caption=f"{name} (step {event.step})",
                                   alt=f"The image optimised {name}")
                    last_draw = time.perf_counter()
                if event.diverged:
                    break
            image = comparison.images[name]
            comparison.hf_share[name] = compute.high_frequency_share(image)
            comparison.radial[name] = compute.radial_spectrum(image)[1].tolist()
    comparison.status = "finished"
    progress.empty()
    return comparison


# --------------------------------------------------------------------------- what is shown


def shipped_run(settings: Settings) -> Run | None:
    for entry in gallery()["gallery"]:
        if default_settings(entry["layer"], entry["channel"]) == settings:
            return Run(settings, shipped_image(entry["file"]), [entry["final_objective"]], "finished", 0.0, "shipped")
    return None


def shipped_comparison() -> Comparison:
    data = gallery()["regularizers"]
    comparison = Comparison(variant(default_settings(data["layer"], data["channel"]), "all on"),
                            status="finished", source="shipped")
    for item in data["variants"]:
        comparison.images[item["name"]] = shipped_image(item["file"])
        comparison.hf_share[item["name"]] = item["hf_share"]
        comparison.radial[item["name"]] = item["radial"]
    return comparison


def choose_run(settings: Settings) -> tuple[Run | None, str | None]:
    """The run the view shows, and a note when it is not a finished run of the current controls."""
    runs = session_list(RUNS_KEY)
    latest = runs[-1] if runs else None
    if latest is not None and latest.settings == settings:
        return latest, None
    shipped = shipped_run(settings)
    if shipped is not None:
        return shipped, "Showing the shipped picture for these settings (precomputed, seeded): press Optimize to " \
                        "watch it being made."
    if latest is not None:
        return latest, "Showing your latest run: the controls have changed since, press Optimize to run them."
    return None, "Press Optimize to run these settings."


def choose_comparison(settings: Settings) -> tuple[Comparison, str | None]:
    base = variant(settings, "all on")
    comparisons = session_list(COMPARISONS_KEY)
    latest = comparisons[-1] if comparisons else None
    if latest is not None and latest.base == base:
        return latest, None
    shipped = shipped_comparison()
    if shipped.base == base:
        return shipped, "Showing the shipped comparison (precomputed, seeded): press Compare to run it yourself."
    if latest is not None:
        return latest, "Showing your latest comparison: the objective has changed since, press Compare to run it."
    return shipped, (f"Showing the shipped comparison for {describe(shipped.base)}: press Compare to run the "
                     "current objective.")


# --------------------------------------------------------------------------- views


def objective_controls(page: ui.LessonPage, with_regularizers: bool = True) -> None:
    objective = control(page, st.selectbox, "objective", "Objective", OBJECTIVES,
                        help="channel: its mean over all positions; neuron: the centre position only; class "
                             "logit: the classifier's score before softmax; layer: the mean square of every "
                             "activation (DeepDream).")
    if objective == "class logit":
        labels = info(PHOTO_MODEL).labels
        control(page, st.selectbox, "class_index", "Class", list(range(len(labels))),
                format_func=lambda i: f"{i}: {labels[i]}")
    else:
        stage = control(page, st.selectbox, "stage", "Layer", list(OPTIMIZE_STAGES))
        if objective != "layer (DeepDream)":
            top = channels_of(stage) - 1
            if not 0 <= int(page.value("channel")) <= top:
                page.set_values({"channel": min(max(0, int(page.value("channel"))), top)})
            control(page, st.number_input, "channel", f"Channel (0 to {top})", min_value=0, max_value=top, step=1)
    if with_regularizers:
        control(page, st.radio, "parameterization", "Parameterization", PARAMETERIZATIONS, horizontal=True,
                format_func=PARAMETERIZATION_TITLES.get,
                help="Fourier: the image is a spectrum scaled by 1/frequency, so low frequencies move as fast as "
                     "high ones.")
        control(page, st.toggle, "decorrelate", "Colour decorrelation",
                help="Mix the colour channels by the square root of ImageNet's colour covariance.")
        control(page, st.pills, "transforms", "Transformation robustness", list(TRANSFORMS), selection_mode="multi",
                help="Random pad, jitter, scale (0.9 to 1.1) and rotation (±10°) before every step.")
    control(page, st.select_slider, "steps", "Steps", STEPS)
    control(page, st.select_slider, "lr", "Learning rate (Adam)", LEARNING_RATES, format_func=lr_label,
            help=f"The last choice ({MAX_LR:g}) is absurd on purpose: the image turns into NaN.")
    control(page, st.select_slider, "size", "Image size (px)", SIZES)
    control(page, st.number_input, "seed", "Seed", min_value=0, max_value=9999, step=1)


def optimize_view(page: ui.LessonPage, result: dict) -> None:
    left, right = st.columns([1, 1.6], gap="medium")
    with left:
        objective_controls(page)
    settings = settings_from_controls(page)
    with right:
        slots = {"progress": st.empty(), "image": st.empty()}
        if st.session_state.get("features._optimize"):  # True only in the run the button started
            page.go_live()
            optimize_live(settings, slots)
        run, note = choose_run(settings)
        if run is None:
            slots["image"].info(note)
            result.update(view="Optimize", run=None)
            result["sentences"] = ["Nothing optimised yet for these settings: press Optimize."]
            return
        slots["image"].image(run.image, width="stretch", alt="The optimised image",
                             caption=f"{'Shipped' if run.source == 'shipped' else 'Your'} picture: {describe(run.settings)}"
                                     f" ({run.status}).")
        if note:
            st.info(note)
        if run.status == "diverged":
            st.error(f"The run stopped at step {len(run.objectives)}: the image became NaN (not a number). The "
                     f"learning rate {run.settings.lr:g} is far too large; pick a smaller one.")
        if len(run.objectives) > 1:
            frame = pd.DataFrame({"step": np.arange(1, len(run.objectives) + 1), "objective": run.objectives})
            page.chart(charts.objective_chart(frame.replace([np.inf, -np.inf], np.nan).dropna(),
                                              page.chart_height(200)),
                       "The objective at every step (measured on the transformed image the step saw).",
                       key="features._objective")
    result.update(view="Optimize", run=run, describe=describe(run.settings))
    result["sentences"] = content.optimize_sentences(run)


def regularizers_view(page: ui.LessonPage, result: dict) -> None:
    left, right = st.columns([1, 2.6], gap="medium")
    with left:
        objective_controls(page, with_regularizers=False)
    settings = settings_from_controls(page)
    with right:
        progress = st.empty()
        rows = [st.columns(4) for _ in range(2)]
        slots = [rows[i // 4][i % 4].empty() for i in range(len(VARIANTS))]
        if st.session_state.get("features._compare"):
            page.go_live()
            compare_live(variant(settings, "all on"), slots, progress)
        comparison, note = choose_comparison(settings)
        for slot, name in zip(slots, VARIANTS):
            if name in comparison.images:
                slot.image(comparison.images[name], width="stretch", alt=f"The image optimised {name}",
                           caption=f"{name} · {comparison.hf_share.get(name, float('nan')):.0%} high-freq.")
        st.caption(f"{'Shipped' if comparison.source == 'shipped' else 'Your'} comparison ({comparison.status}): "
                   f"{describe(comparison.base)}; each picture switches the regularizer it names off.")
        if note:
            st.info(note)
        names = [n for n in VARIANTS if n in comparison.hf_share]
        if names:
            shares = pd.DataFrame({"picture": names, "hf_share": [comparison.hf_share[n] for n in names]})
            spectra = pd.DataFrame([{"picture": n, "frequency": (k + 0.5) / (2 * len(comparison.radial[n])),
                                     "power": max(v, 1e-9)} for n in ("all on", "all off") if n in comparison.radial
                                    for k, v in enumerate(comparison.radial[n])])
            a, b = st.columns(2)
            with a:
                page.chart(charts.share_chart(shares, page.chart_height(240)),
                           "Share of each picture's brightness power above 0.25 cycles per pixel.",
                           key="features._shares")
            with b:
                page.chart(charts.spectrum_chart(spectra, page.chart_height(240)),
                           "Radial power spectrum with every regularizer on and with every one off.",
                           key="features._spectra")
    result.update(view="Regularizers", comparison=comparison, describe=describe(comparison.base))
    result["sentences"] = content.regularizer_sentences(comparison)
