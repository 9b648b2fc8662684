"""The lesson's figures (data in, figure out): the 2-D scatter in Altair (colour by label, a tooltip
with the word or the digit's image), the 3-D scatter in Plotly, small panels and the layer bars.

Text the student typed reaches the charts only as data: Vega-Lite's tooltip escapes it, and the
Plotly hover text is HTML-escaped here (Plotly would otherwise read tags in it)."""
from __future__ import annotations

import html

import altair as alt
import numpy as np
import pandas as pd

from lessons import colours

OTHER = "#d9d9d9"
RING = "#808080"  # the highlighted points' ring: a mid grey, seen on the light and on the dark theme


def frame(result: dict, highlight=None, shown=None, images: list[str] | None = None) -> pd.DataFrame:
    """One row per point: x, y (z), label, name, highlighted (bool), shown (bool), image (data URL)."""
    coords = np.asarray(result["coords"])
    n = len(coords)
    out = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1]})
    if coords.shape[1] > 2:
        out["z"] = coords[:, 2]
    out["label"] = [str(v) for v in result["labels"]]
    out["name"] = [str(v) for v in result["names"]]
    out["highlighted"] = np.zeros(n, bool) if highlight is None else np.asarray(highlight, bool)
    out["shown"] = np.ones(n, bool) if shown is None else np.asarray(shown, bool)
    if images is not None:
        out["image"] = images
    return out


def _label_scale(labels) -> alt.Scale:
    domain = sorted(set(labels), key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))
    palette = [colours.LABELS[i % len(colours.LABELS)] for i in range(len(domain))]
    return alt.Scale(domain=domain, range=palette)


def scatter_2d(data: pd.DataFrame, height: int, title: str = "", axis_titles=("", ""), point_size: int = 30,
               legend: bool = True) -> alt.Chart:
    """Points coloured by label; hidden labels in grey behind; highlighted points large with a grey ring.

    The layers' marks carry no ARIA of their own (aria=False): a filtered layer can be empty, and an
    empty mark group without a name fails axe's svg-img-alt; the chart's caption describes the picture."""
    tooltip = [alt.Tooltip("name:N", title="item"), alt.Tooltip("label:N", title="label")]
    if "image" in data:
        tooltip.append(alt.Tooltip("image:N", title="image"))  # vega-tooltip draws a data URL as the image
    base = alt.Chart(data).encode(
        x=alt.X("x:Q", title=axis_titles[0], axis=alt.Axis(labels=bool(axis_titles[0]), ticks=bool(axis_titles[0]))),
        y=alt.Y("y:Q", title=axis_titles[1], axis=alt.Axis(labels=bool(axis_titles[1]), ticks=bool(axis_titles[1]))),
        tooltip=tooltip)
    hidden = base.transform_filter("!datum.shown").mark_circle(size=point_size * 0.6, color=OTHER, opacity=0.5,
                                                                  aria=False)
    shown = base.transform_filter("datum.shown").mark_circle(size=point_size, opacity=0.75, aria=False).encode(
        color=alt.Color("label:N", scale=_label_scale(data["label"]), title="label", legend=alt.Legend() if legend else None))
    marked = base.transform_filter("datum.highlighted").mark_point(size=point_size * 6, filled=False, color=RING,
                                                                 strokeWidth=2, aria=False)
    chart = alt.layer(hidden, shown, marked).properties(height=height)
    return chart.properties(title=title) if title else chart


def scatter_3d(data: pd.DataFrame, height: int, title: str = ""):
    """The same points in 3-D (Plotly: drag to turn, scroll to zoom), one trace per label."""
    import plotly.graph_objects as go

    palette = colours.LABELS  # the same colour per label as the 2-D scatter
    figure = go.Figure()
    labels = sorted(set(data["label"]), key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))
    for i, label in enumerate(labels):
        rows = data[(data["label"] == label)]
        colour = [palette[i % len(palette)] if s else OTHER for s in rows["shown"]]
        figure.add_trace(go.Scatter3d(
            x=rows["x"], y=rows["y"], z=rows["z"], mode="markers", name=html.escape(label),
            marker={"size": [7 if h else 2.5 for h in rows["highlighted"]], "color": colour, "opacity": 0.8},
            hovertext=[html.escape(n) for n in rows["name"]], hoverinfo="text"))
    figure.update_layout(height=height, margin={"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
                         title=html.escape(title) if title else None, legend={"itemsizing": "constant"},
                         scene={"xaxis": {"title": ""}, "yaxis": {"title": ""}, "zaxis": {"title": ""}})
    return figure


def knn_bars(rows: pd.DataFrame, height: int) -> alt.Chart:
    """k-NN accuracy per layer and network, in the original space and in the picture (grouped bars)."""
    return alt.Chart(rows).mark_bar().encode(
        x=alt.X("where:N", title=None, axis=alt.Axis(labels=False, ticks=False)),
        xOffset="where:N",
        y=alt.Y("accuracy:Q", title="k-NN accuracy", scale=alt.Scale(domain=(0, 1))),
        color=alt.Color("where:N", title="measured in"),
        column=alt.Column("layer:N", sort=list(dict.fromkeys(rows["layer"])), title=None),
        row=alt.Row("network:N", title=None),
        tooltip=["network", "layer", "where", alt.Tooltip("accuracy:Q", format=".1%")],
    ).properties(height=height, width=90)
