"""Altair figures for the training lesson: live curves, run overlay, ROC curves, confusion matrix.

Pure functions: DataFrames in, charts out (no Streamlit).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from lessons.charts import matrix_heatmap

SERIES_COLORS = {"train (raw)": "#9ecae1", "train (smoothed)": "#1f77b4", "train": "#1f77b4",
                 "validation": "#ff7f0e"}
MARKER_COLORS = {"checkpoint kept": "#2ca02c", "early stop": "#555555",
                 "overfitting starts": "#9467bd", "diverged": "#d62728"}


def _panel(frame: pd.DataFrame, marks: pd.DataFrame, metric: str, x_title: str, log_scale: bool,
           height: int, width: int | str) -> alt.LayerChart:
    data = frame[frame.metric == metric]
    if metric == "loss" and log_scale:
        data = data.assign(value=data.value.clip(lower=1e-4))
        y_scale = alt.Scale(type="log")
    elif metric == "accuracy":
        y_scale = alt.Scale(domain=[0, 1])
    else:
        y_scale = alt.Scale(zero=True)
    series = [s for s in SERIES_COLORS if s in set(data.series)]
    series_scale = alt.Scale(domain=series, range=[SERIES_COLORS[s] for s in series])
    color = alt.Color("series:N", title=None, scale=series_scale,
                      legend=alt.Legend(orient="bottom", direction="horizontal", columns=2, labelLimit=200))
    base = alt.Chart(data, title=metric.capitalize(), height=height, width=width)
    lines = base.mark_line(strokeWidth=2).encode(
        x=alt.X("x:Q", title=x_title, scale=alt.Scale(zero=True, nice=False)),
        y=alt.Y("value:Q", title=metric, scale=y_scale),
        color=color,
        opacity=alt.condition(alt.datum.series == "train (raw)", alt.value(0.55), alt.value(1.0)),
        tooltip=["series", alt.Tooltip("x:Q", title=x_title), alt.Tooltip("value:Q", format=".4f")],
    )
    points = base.transform_filter(alt.datum.series == "validation").mark_point(filled=True, size=28).encode(
        x="x:Q", y=alt.Y("value:Q", scale=y_scale),
        color=alt.Color("series:N", legend=None, scale=series_scale))
    layers = [lines, points]
    if not marks.empty:
        kinds = [k for k in MARKER_COLORS if k in set(marks.kind)]
        mark_scale = alt.Scale(domain=kinds, range=[MARKER_COLORS[k] for k in kinds])
        mark_color = alt.Color("kind:N", title=None, scale=mark_scale, legend=None)  # each rule has its label
        rules = alt.Chart(marks).mark_rule(strokeDash=[5, 3], strokeWidth=2).encode(
            x="x:Q", color=mark_color, tooltip=["label"])
        labels = alt.Chart(marks).mark_text(align="left", dx=4, dy=0, angle=0, fontSize=11,
                                            baseline="top").encode(
            x="x:Q", y=alt.value(4), text="label", color=alt.Color("kind:N", legend=None, scale=mark_scale))
        layers += [rules, labels]
    return alt.layer(*layers).resolve_scale(color="independent").properties(title=metric.capitalize())


def curves_chart(frame: pd.DataFrame, marks: pd.DataFrame, metric: str, x_axis: str = "step",
                 log_scale: bool = False, height: int = 300) -> alt.LayerChart:
    """One panel ("loss" or "accuracy"): `frame` from compute.curve_frame, `marks` from
    compute.annotations (vertical dashed lines with a label)."""
    x_title = "optimizer step" if x_axis == "step" else "epoch"
    if metric != "loss" and not marks.empty:
        marks = marks[marks.kind != "diverged"]
    return _panel(frame, marks, metric, x_title, log_scale and metric == "loss", height, "container")


def runs_chart(frame: pd.DataFrame, metric: str, height: int = 300, log_scale: bool = False) -> alt.Chart:
    """One line per run (per-epoch `metric`), from compute.runs_frame."""
    data = frame[["run", "epoch", metric]].dropna()
    if log_scale and "loss" in metric:
        data = data.assign(**{metric: data[metric].clip(lower=1e-4)})
    scale = alt.Scale(type="log") if log_scale and "loss" in metric else alt.Scale()
    return alt.Chart(data, height=height).mark_line(point=True).encode(
        x=alt.X("epoch:Q", title="epoch"),
        y=alt.Y(f"{metric}:Q", title=metric.replace("_", " "), scale=scale),
        color=alt.Color("run:N", title=None, legend=alt.Legend(orient="bottom", columns=2, labelLimit=400)),
        tooltip=["run", "epoch", alt.Tooltip(f"{metric}:Q", format=".4f")],
    )


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
    heat = matrix_heatmap(matrix, labels, labels, value="count", scheme="blues", height=height)
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
