"""Charts of the architecture lesson: parameters per layer, a weight histogram, the neuron picture.

Pure builders: DataFrames or arrays in, Altair charts out. No streamlit here.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from lessons import colours

SIGN_COLOURS = alt.Scale(domain=list(colours.SIGN), range=list(colours.SIGN.values()))


def parameter_bars(table: pd.DataFrame, height: int = 320, max_rows: int = 40) -> alt.Chart:
    """Horizontal bars: parameters of each layer with weights, in the order the layers run."""
    frame = table[table["parameters"] > 0].copy()
    if len(frame) > max_rows:  # keep the largest, still in running order
        frame = frame.loc[frame["parameters"].nlargest(max_rows).index.sort_values()]
    frame["share"] = frame["% of total"].round(2)
    order = list(frame["layer"])
    return alt.Chart(frame, height=max(height, 14 * len(frame))).mark_bar().encode(
        y=alt.Y("layer:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("parameters:Q", title="parameters"),
        color=alt.Color("type:N", title="type"),
        tooltip=["layer", "type", alt.Tooltip("parameters:Q", format=","), alt.Tooltip("share:Q", title="% of total")],
    )


def weight_histogram(frame: pd.DataFrame, title: str = "", height: int = 260) -> alt.Chart:
    """Bars from a histogram frame with columns start, end, count."""
    return alt.Chart(frame, title=title, height=height).mark_bar().encode(
        x=alt.X("start:Q", bin="binned", title="weight value"),
        x2="end:Q",
        y=alt.Y("count:Q", title="how many weights"),
        tooltip=[alt.Tooltip("start:Q", format=".4f"), alt.Tooltip("end:Q", format=".4f"), "count:Q"],
    )


def network_chart(nodes: pd.DataFrame, edges: pd.DataFrame, title: str, selected: tuple[str, int] | None = None,
                  height: int = 520) -> alt.LayerChart:
    """Neurons as dots (shade = activation), weights as lines (width = |w|, colour = sign)."""
    # The layers are named by an axis, not by text marks: Streamlit's chart theme colours axis labels for the
    # light and the dark theme, but leaves text marks black, unreadable on the dark background.
    layer_names = alt.Axis(orient="top", values=[0, 1, 2, 3], title=None, grid=False, domain=False, ticks=False,
                           labelFontWeight="bold", labelFlush=False,
                           labelExpr="['input (strongest)', 'hidden 1', 'hidden 2', 'output'][datum.value]")
    x_axis = alt.X("x:Q", axis=layer_names, scale=alt.Scale(domain=[-0.2, 3.2]))
    y_axis = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
    lines = alt.Chart(edges).mark_rule().encode(
        x=x_axis, y=y_axis, x2="x2:Q", y2="y2:Q",
        strokeWidth=alt.StrokeWidth("strength:Q", scale=alt.Scale(domain=[0, 1], range=[0.1, 4]), legend=None),
        opacity=alt.Opacity("strength:Q", scale=alt.Scale(domain=[0, 1], range=[0.08, 0.95]), legend=None),
        color=alt.Color("sign:N", scale=SIGN_COLOURS, title="weight sign", legend=alt.Legend(orient="bottom")),
        tooltip=["layer", "from", "to", alt.Tooltip("weight:Q", format=".3f")],
    )
    frame = nodes.copy()
    frame["selected"] = False
    if selected is not None:
        frame["selected"] = (frame["layer"] == selected[0]) & (frame["neuron"] == selected[1])
    dots = alt.Chart(frame).mark_circle().encode(
        x=x_axis, y=y_axis,
        size=alt.condition("datum.selected", alt.value(260), alt.value(90)),
        # rings that show on both themes' backgrounds (3:1 or more on white and on #0e1117)
        stroke=alt.condition("datum.selected", alt.value("#D55E00"), alt.value("#888888")),
        strokeWidth=alt.condition("datum.selected", alt.value(3), alt.value(0.5)),
        color=alt.Color("shade:Q", scale=alt.Scale(scheme=colours.GREENS, domain=[0, 1]), title="activation (of layer max)",
                        legend=alt.Legend(orient="bottom")),
        tooltip=["label", alt.Tooltip("activation:Q", format=".3f")],
    )
    return alt.layer(lines, dots, title=title, height=height).resolve_scale(color="independent")


def weight_image(image: np.ndarray, title: str, height: int = 220) -> alt.Chart:
    """A (28, 28) array of weights as a picture, blue positive and red negative."""
    rows, cols = image.shape
    frame = pd.DataFrame({"row": np.repeat(np.arange(rows), cols), "col": np.tile(np.arange(cols), rows),
                          "weight": image.reshape(-1)})
    limit = float(np.abs(image).max()) or 1.0
    return alt.Chart(frame, title=title, height=height, width=height).mark_rect().encode(
        x=alt.X("col:O", axis=None), y=alt.Y("row:O", axis=None),
        color=alt.Color("weight:Q", scale=alt.Scale(scheme=colours.RED_BLUE, domain=[-limit, limit]), title="weight"),
        tooltip=["row", "col", alt.Tooltip("weight:Q", format=".3f")],
    )


def compare_bars(frame: pd.DataFrame, value: str, height: int = 140) -> alt.Chart:
    """One bar per model for `value` (a column of `frame`, which also has a "model" column)."""
    return alt.Chart(frame, height=height).mark_bar().encode(
        x=alt.X(f"{value}:Q"), y=alt.Y("model:N", title=None, sort=None),
        tooltip=["model", alt.Tooltip(f"{value}:Q", format=",")])
