"""Figures for the training lesson: live curves, run overlay, ROC curves, confusion matrix.

Pure functions: DataFrames in, charts out (no Streamlit). The curves and the run overlay are
redrawn on every move of a view control and several times a second while a model trains, so
they are plain Vega-Lite dicts and a DataFrame, shown with `st.vega_lite_chart(data, spec)`: a few
milliseconds to build (the same charts built with Altair took 0.1-0.2 s each, mostly schema
validation), and when only the data changes (smoothing, a training step) the spec stays identical,
so the browser swaps the data in the existing chart instead of building a new one. The
after-training figures use Altair.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from lessons import colours
from lessons.charts import matrix_heatmap

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
SERIES_COLORS = colours.TRAINING_SERIES
MARKER_COLORS = colours.TRAINING_MARKERS
LABEL_LINE_PX = 14  # vertical spacing of the marker labels, so labels of nearby lines do not overlap


def _marker_layers(marks: pd.DataFrame, x_min: float, x_max: float) -> list[dict]:
    """Dashed vertical lines with their label. A label is written to the left of its line when the
    line is in the right part of the chart, so that it is never cut off at the right edge; labels
    are stacked one line apart so that lines close together keep readable labels."""
    kinds = [k for k in MARKER_COLORS if k in set(marks.kind)]
    color = {"field": "kind", "type": "nominal", "legend": None,  # each line has its own label
             "scale": {"domain": kinds, "range": [MARKER_COLORS[k] for k in kinds]}}
    span = max(x_max - x_min, 1e-9)
    ordered = marks.sort_values("x", kind="stable").reset_index(drop=True)
    values = [dict(x=float(row.x), kind=row.kind, label=row.label,
                   side="right" if (row.x - x_min) / span > 0.6 else "left", y=4 + LABEL_LINE_PX * i)
              for i, row in enumerate(ordered.itertuples())]
    x = {"field": "x", "type": "quantitative"}
    layers = [{"data": {"values": values}, "mark": {"type": "rule", "strokeDash": [5, 3], "strokeWidth": 2},
               "encoding": {"x": x, "color": color, "tooltip": [{"field": "label", "type": "nominal"}]}}]
    for side, align, dx in (("left", "left", 4), ("right", "right", -4)):
        layers.append({
            "data": {"values": values}, "transform": [{"filter": f"datum.side === '{side}'"}],
            "mark": {"type": "text", "align": align, "dx": dx, "baseline": "top", "fontSize": 11},
            "encoding": {"x": x, "y": {"field": "y", "type": "quantitative", "scale": None},
                         "text": {"field": "label", "type": "nominal"}, "color": color}})
    return layers


def curves_spec(frame: pd.DataFrame, marks: pd.DataFrame, metric: str, x_axis: str = "step",
                log_scale: bool = False, height: int = 300) -> tuple[dict, pd.DataFrame]:
    """One panel ("loss" or "accuracy"): a Vega-Lite spec and its data (columns x, series, value).
    `frame` from compute.curve_frame, `marks` from compute.annotations (vertical dashed lines with
    a label, inlined in the spec)."""
    x_title = "optimizer step" if x_axis == "step" else "epoch"
    log_scale = log_scale and metric == "loss"
    if metric != "loss" and not marks.empty:
        marks = marks[marks.kind != "diverged"]
    data = frame.loc[frame.metric == metric, ["x", "series", "value"]].reset_index(drop=True)
    if log_scale:
        data = data.assign(value=data.value.clip(lower=1e-4))
        y_scale = {"type": "log"}
    elif metric == "accuracy":
        y_scale = {"domain": [0, 1]}
    else:
        y_scale = {"zero": True}
    present = set(data.series)
    series = [s for s in SERIES_COLORS if s in present]
    series_scale = {"domain": series, "range": [SERIES_COLORS[s] for s in series]}
    x = {"field": "x", "type": "quantitative", "title": x_title, "scale": {"zero": True, "nice": False}}
    y = {"field": "value", "type": "quantitative", "title": metric, "scale": y_scale}
    lines = {"mark": {"type": "line", "strokeWidth": 2}, "encoding": {
        "x": x, "y": y,
        "color": {"field": "series", "type": "nominal", "title": None, "scale": series_scale,
                  "legend": {"orient": "bottom", "direction": "horizontal", "columns": 2, "labelLimit": 200}},
        "opacity": {"condition": {"test": "datum.series === 'train (raw)'", "value": 0.55}, "value": 1.0},
        "tooltip": [{"field": "series", "type": "nominal"},
                    {"field": "x", "type": "quantitative", "title": x_title},
                    {"field": "value", "type": "quantitative", "format": ".4f"}]}}
    points = {"transform": [{"filter": "datum.series === 'validation'"}],
              "mark": {"type": "point", "filled": True, "size": 28},
              "encoding": {"x": x, "y": y, "color": {"field": "series", "type": "nominal", "legend": None,
                                                     "scale": series_scale}}}
    layers = [lines, points]
    if not marks.empty and not data.empty:
        layers += _marker_layers(marks, float(data.x.min()), float(data.x.max()))
    spec = {"$schema": VEGA_LITE_SCHEMA, "title": metric.capitalize(), "height": height, "layer": layers,
            "resolve": {"scale": {"color": "independent"}}}
    return spec, data


def runs_spec(frame: pd.DataFrame, metric: str, height: int = 300,
              log_scale: bool = False) -> tuple[dict, pd.DataFrame]:
    """One line per run (per-epoch `metric`), from compute.runs_frame: a Vega-Lite spec and its data."""
    data = frame[["run", "epoch", metric]].dropna().reset_index(drop=True)
    log_scale = log_scale and "loss" in metric
    if log_scale:
        data = data.assign(**{metric: data[metric].clip(lower=1e-4)})
    title = metric.replace("_", " ")
    return {
        "$schema": VEGA_LITE_SCHEMA, "height": height,
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": "epoch"},
            "y": {"field": metric, "type": "quantitative", "title": title,
                  "scale": {"type": "log"} if log_scale else {}, "axis": {"titlePadding": 8}},
            "color": {"field": "run", "type": "nominal", "title": None,
                      "legend": {"orient": "right", "labelLimit": 320}},  # beside: the plot keeps its height
            "tooltip": [{"field": "run", "type": "nominal"}, {"field": "epoch", "type": "quantitative"},
                        {"field": metric, "type": "quantitative", "format": ".4f"}]},
        # room on the left for the axis title, which Streamlit's padding otherwise cut off
        "padding": {"left": 12, "right": 8, "top": 5, "bottom": 5},
    }, data


def roc_chart(frame: pd.DataFrame, height: int = 320) -> alt.LayerChart:
    """Per-class ROC curves (one digit against the rest) and the chance diagonal."""
    labelled = frame.assign(label=frame.digit + " (AUC " + frame.auc.map("{:.3f}".format) + ")")
    curves = alt.Chart(labelled, height=height).mark_line().encode(
        x=alt.X("fpr:Q", title="false positive rate"), y=alt.Y("tpr:Q", title="true positive rate"),
        color=alt.Color("label:N", title="digit", legend=alt.Legend(orient="right")),
        tooltip=["digit", alt.Tooltip("auc:Q", format=".4f")],
    )
    chance = alt.Chart(pd.DataFrame(dict(fpr=[0, 1], tpr=[0, 1]))).mark_line(
        strokeDash=[4, 4], color="gray").encode(x="fpr:Q", y="tpr:Q")
    return alt.layer(chance, curves)


def confusion_chart(matrix: np.ndarray, height: int = 320) -> alt.LayerChart:
    """Counts, rows = true digit, columns = predicted digit, with the count written in each cell."""
    labels = [str(d) for d in range(matrix.shape[0])]
    heat = matrix_heatmap(matrix, labels, labels, value="count", scheme=colours.BLUES, height=height)
    rows, cols = matrix.shape
    frame = pd.DataFrame(dict(row=np.repeat(labels, cols), column=np.tile(labels, rows),
                              count=matrix.reshape(-1)))
    threshold = matrix.max() / 2
    text = alt.Chart(frame).mark_text(fontSize=11).encode(
        x=alt.X("column:N", sort=labels, title="predicted"), y=alt.Y("row:N", sort=labels, title="true"),
        text="count:Q",
        color=alt.condition(f"datum.count > {threshold}", alt.value("white"), alt.value("black")),
    ).transform_filter("datum.count > 0")
    return alt.layer(heat, text)
