"""The Gallery view: precomputed visualizations of four channels per stage, shown without computing
(PNG files and gallery.json shipped by precompute.py), with their measured spectra."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lessons import ui
from lessons.features import charts, content
from lessons.features.helpers import control, gallery, shipped_image


def picture_name(entry: dict) -> str:
    return f"{entry['stage'].split(' (')[0]} · channel {entry['channel']}"


def stage_centroids(entries: list[dict]) -> dict[str, float]:
    """Mean spectral centroid of the gallery pictures of each stage, in network order."""
    frame = pd.DataFrame(entries)
    order = list(dict.fromkeys(frame["stage"]))
    return {stage: float(frame.loc[frame["stage"] == stage, "centroid"].mean()) for stage in order}


def gallery_view(page: ui.LessonPage, result: dict) -> None:
    data = gallery()
    entries = data["gallery"]
    settings = data["settings"]
    st.markdown(f"**Optimised images, {settings['steps']} steps at {settings['size']} px, the full recipe** "
                "(Fourier parameterization, colour decorrelation, pad, jitter, scale, rotate; seed "
                f"{settings['seed']}). Each row is a stage, from early to late.")
    for stage in dict.fromkeys(e["stage"] for e in entries):
        row = [e for e in entries if e["stage"] == stage]
        label, *cols = st.columns([1.1] + [1] * len(row), vertical_alignment="center")
        label.markdown(f"**{stage.split(' (')[0]}**  \n{stage.split(' (')[1].rstrip(')')}")
        for col, entry in zip(cols, row):
            col.image(shipped_image(entry["file"]), width="stretch", alt=f"Feature visualization of channel {entry['channel']}",
                      caption=f"channel {entry['channel']} · {entry['activation']:.1f}")
    frame = pd.DataFrame([{"stage": e["stage"].split(" (")[0], "channel": e["channel"], "centroid": e["centroid"]}
                          for e in entries])
    chart_col, pick_col = st.columns([1.4, 1], gap="medium")
    with chart_col:
        page.chart(charts.centroid_chart(frame, page.chart_height(220)),
                   "Spectral centroid of each picture's brightness (power-weighted mean frequency; points) and the "
                   "stage's mean (bars): how fine the pattern is that each channel wants.", key="features._centroids")
    options = [picture_name(e) for e in entries]
    with pick_col:
        picked = control(page, st.selectbox, "gallery_pick", "Enlarge a picture", options)
        entry = entries[options.index(picked)] if picked in options else entries[0]
        big, spectrum = st.columns([1, 1.2])
        big.image(shipped_image(entry["file"]), width="stretch", alt=f"Feature visualization of {picked}", caption=f"{picked}: activation {entry['activation']:.1f}")
        radial = pd.DataFrame({"picture": picked, "frequency": [(k + 0.5) / (2 * len(entry["radial"]))
                                                                for k in range(len(entry["radial"]))],
                               "power": [max(v, 1e-9) for v in entry["radial"]]})
        with spectrum:
            page.chart(charts.spectrum_chart(radial, page.chart_height(180)),
                       f"Its radial power spectrum; centroid {entry['centroid']:.3f} cycles per pixel.",
                       key="features._gallery_spectrum")
    centroids = stage_centroids(entries)
    result.update(view="Gallery", run="the shipped gallery (precomputed, seeded)", centroids=centroids)
    result["sentences"] = content.gallery_sentences(entries, centroids)
