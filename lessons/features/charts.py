"""Figures for the feature-visualization lesson: DataFrames in, Altair charts out."""
from __future__ import annotations

import altair as alt
import pandas as pd

from lessons import colours


def centroid_chart(frame: pd.DataFrame, height: int = 220) -> alt.Chart:
    """Spectral centroid of each gallery picture per stage (points) and the stage mean (bar).
    frame: stage, channel, centroid."""
    order = list(dict.fromkeys(frame["stage"]))
    base = alt.Chart(frame, height=height)
    bars = base.mark_bar(opacity=0.35, color="#4c78a8").encode(
        x=alt.X("stage:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=160)),
        y=alt.Y("mean(centroid):Q", title="spectral centroid (cycles / px)"))
    points = base.mark_circle(size=70, color="#e45756").encode(
        x=alt.X("stage:N", sort=order), y="centroid:Q",
        tooltip=["stage", "channel", alt.Tooltip("centroid:Q", format=".3f")])
    return bars + points


def spectrum_chart(frame: pd.DataFrame, height: int = 260) -> alt.Chart:
    """Radial power spectra (log power), one line per picture. frame: picture, frequency, power."""
    return alt.Chart(frame, height=height).mark_line(point=False).encode(
        x=alt.X("frequency:Q", title="spatial frequency (cycles / px, 0.5 = finest)"),
        y=alt.Y("power:Q", scale=alt.Scale(type="log"), title="share of power"),
        color=alt.Color("picture:N", sort=list(dict.fromkeys(frame["picture"])), title=None),
        tooltip=["picture", alt.Tooltip("frequency:Q", format=".3f"), alt.Tooltip("power:Q", format=".2e")])


def share_chart(frame: pd.DataFrame, height: int = 240) -> alt.Chart:
    """Bars of the high-frequency share per picture. frame: picture, hf_share."""
    return alt.Chart(frame, height=height).mark_bar().encode(
        y=alt.Y("picture:N", sort=list(frame["picture"]), title=None),
        x=alt.X("hf_share:Q", title="share of power above 0.25 cycles / px", axis=alt.Axis(format="%")),
        color=alt.condition(alt.datum.picture == "all off", alt.value("#e45756"), alt.value("#4c78a8")),
        tooltip=["picture", alt.Tooltip("hf_share:Q", format=".1%")])


def objective_chart(frame: pd.DataFrame, height: int = 200) -> alt.Chart:
    """The objective per step of a run. frame: step, objective."""
    return alt.Chart(frame, height=height).mark_line().encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("objective:Q", title="objective (maximised)"),
        tooltip=["step", alt.Tooltip("objective:Q", format=".3f")])


def activation_bars(frame: pd.DataFrame, height: int = 240) -> alt.Chart:
    """The channel's activation for each dataset example and for the optimised image.
    frame: example, activation, kind ("dataset" or "optimised")."""
    return alt.Chart(frame, height=height).mark_bar().encode(
        y=alt.Y("example:N", sort=list(frame["example"]), title=None, axis=alt.Axis(labelLimit=200)),
        x=alt.X("activation:Q", title="activation of the channel"),
        color=alt.Color("kind:N", scale=alt.Scale(domain=list(colours.PICTURE_KIND), range=list(colours.PICTURE_KIND.values())),
                        title=None),
        tooltip=["example", "kind", alt.Tooltip("activation:Q", format=".2f")])
