"""What the views share: the shipped-or-live lookup and the cached live computations.

A result is shipped (precomputed for the defaults, drawn without torch) or computed live once the
page has gone live (page.go_live() waits for the lesson's warm-up). Cached with st.cache_data on plain
values; the streamed surface keeps its finished grids per student in st.session_state.
"""
from __future__ import annotations

import streamlit as st

from lessons import ui
from lessons.landscapes import store
from lessons.landscapes.settings import SLUG

SURFACES_KEY = f"{SLUG}._surfaces"  # per student: finished live surfaces, newest last
MAX_SURFACES = 6


def source_label(source: str, what: str) -> str:
    return f"the shipped {what} (precomputed for the defaults)" if source == "shipped" else f"your live {what}"


def shipped_or(page: ui.LessonPage, key: str, live, *args):
    """(result, "shipped" | "live"): the shipped arrays for `key`, else `live(*args)` after go_live."""
    hit = store.shipped(key)
    if hit is not None:
        return hit, "shipped"
    page.go_live()
    return live(*args), "live"


@st.cache_data(max_entries=8, show_spinner="Computing the interpolation paths…")
def live_interpolation(samples: int, reach: float):
    from lessons.landscapes import results
    return results.interpolation(samples, reach)


@st.cache_data(max_entries=8, show_spinner="Computing the slices with three normalisations…")
def live_slices(model: str, seed: int, span: float, samples: int):
    from lessons.landscapes import results
    return results.slices(model, seed, span, samples)


@st.cache_data(max_entries=8, show_spinner="Computing four slices along different directions…")
def live_multiples(model: str, span: float, samples: int):
    from lessons.landscapes import results
    return results.multiples(model, span, samples)


@st.cache_data(max_entries=8, show_spinner="Training the MLP and computing the loss on its PCA plane…")
def live_trajectory(optimizer: str, seed: int, resolution: int, samples: int):
    from lessons.landscapes import results
    return results.trajectory(optimizer, seed, resolution, samples)


@st.cache_data(max_entries=4, show_spinner="Computing the residual nets' surfaces…")
def live_skips(samples: int, seed: int):
    from lessons.landscapes import results
    return results.skips(samples, seed)


@st.cache_data(max_entries=4, show_spinner="Computing the small- and large-batch slices…")
def live_batch(samples: int):
    from lessons.landscapes import results
    return results.batch(samples)


def remembered_surface(key: str):
    for stored_key, value in st.session_state.get(SURFACES_KEY, []):
        if stored_key == key:
            return value
    return None


def remember_surface(key: str, value) -> None:
    surfaces = st.session_state.setdefault(SURFACES_KEY, [])
    surfaces[:] = [(k, v) for k, v in surfaces if k != key][-(MAX_SURFACES - 1):] + [(key, value)]
