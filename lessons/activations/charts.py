"""Figures for the activation-heatmap lesson: DataFrames and arrays in, Altair charts or images out."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from lessons import colours


def enlarge(image: np.ndarray, size: int = 224) -> np.ndarray:
    """Nearest-neighbour upscaling of a small uint8 image (H, W, 3) so its pixels stay visible."""
    factor = max(1, size // max(image.shape[:2]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def top_predictions_chart(predictions: pd.DataFrame, highlight: int | None = None, bar_height: int = 34) -> alt.Chart:
    """Horizontal bars of the top-k probabilities; the class being explained is highlighted.

    The height is given per bar (a band step), so every class name gets its own line on the axis."""
    frame = predictions.assign(explained=predictions["class_index"] == highlight)
    return alt.Chart(frame, height=alt.Step(bar_height), title="Top-5 predictions").mark_bar().encode(
        y=alt.Y("label:N", sort=list(frame["label"]), title=None,
                axis=alt.Axis(labelOverlap=False, labelLimit=170, labelFontSize=12)),
        x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("explained:N", legend=None, scale=alt.Scale(domain=list(colours.EXPLAINED), range=list(colours.EXPLAINED.values()))),
        tooltip=["rank", "label", "class_index", alt.Tooltip("probability:Q", format=".1%")],
    )


def channel_statistics_chart(values: np.ndarray, row_labels: list[str], statistic: str, silent: np.ndarray,
                             height: int = 260) -> alt.Chart:
    """Rows (inputs or classes) x channels; silent channels are marked with a tick under the map."""
    rows, channels = values.shape  # (R, C)
    frame = pd.DataFrame({"row": np.repeat(row_labels, channels), "channel": np.tile(np.arange(channels), rows),
                          "value": values.reshape(-1)})
    frame["channel_end"] = frame["channel"] + 1
    heat = alt.Chart(frame, height=height, title=f"{statistic} activation per channel").mark_rect().encode(
        x=alt.X("channel:Q", title="channel", scale=alt.Scale(domain=[0, channels], nice=False)),
        x2="channel_end:Q",
        y=alt.Y("row:N", sort=list(row_labels), title=None),
        color=alt.Color("value:Q", scale=alt.Scale(scheme=colours.INFERNO), title=statistic),
        tooltip=["row", "channel", alt.Tooltip("value:Q", format=".3g")],
    )
    marks = pd.DataFrame({"channel": np.flatnonzero(silent)})
    marks["channel_end"] = marks["channel"] + 1
    ticks = alt.Chart(marks, height=18, title="silent channels: |activation| never above the threshold").mark_rect(color="#1f77b4").encode(
        x=alt.X("channel:Q", title=None, scale=alt.Scale(domain=[0, channels], nice=False)), x2="channel_end:Q",
        tooltip=["channel"])
    return alt.vconcat(heat, ticks).resolve_scale(x="shared")


def silent_share_chart(curve: pd.DataFrame, threshold: float, height: int = 200) -> alt.Chart:
    """Share of silent channels as the (relative) threshold grows, with the current threshold."""
    line = alt.Chart(curve, height=height, title="Share of silent channels").mark_line().encode(
        x=alt.X("threshold:Q", title="threshold (fraction of the layer's largest |activation|)"),
        y=alt.Y("silent_share:Q", title="share of channels", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("threshold:Q", format=".2f"), alt.Tooltip("silent_share:Q", format=".0%")])
    rule = alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(color="#d62728").encode(x="threshold:Q")
    return line + rule


def marker_accuracy_chart(table: pd.DataFrame, height: int = 220) -> alt.Chart:
    """Accuracy of the honest and the shortcut model with no marker, the right one, a wrong one."""
    return alt.Chart(table, height=height, title="Accuracy on 1,000 held-out digits").mark_bar().encode(
        x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        y=alt.Y("markers:N", title=None, sort=["no marker", "class marker", "wrong marker"]),
        color=alt.Color("markers:N", legend=None),
        row=alt.Row("model:N", title=None),
        tooltip=["model", "markers", alt.Tooltip("accuracy:Q", format=".1%")],
    )


def sanity_chart(table: pd.DataFrame, height: int = 280) -> alt.Chart:
    """Rank correlation with the trained model's map as layers are randomized from the top."""
    order = list(dict.fromkeys(table["step"]))
    return alt.Chart(table, height=height, title="Map similarity to the trained model").mark_line(point=True).encode(
        x=alt.X("step:N", sort=order, title="randomized down to", axis=alt.Axis(labelAngle=-40, labelOverlap=False)),
        y=alt.Y("spearman:Q", title="Spearman rank correlation", scale=alt.Scale(domain=[-0.2, 1])),
        color=alt.Color("method:N"),
        tooltip=["method", "step", alt.Tooltip("spearman:Q", format=".2f")],
    )


def faithfulness_chart(scores: pd.DataFrame, metric: str, axis_title: str, bar_height: int = 28) -> alt.Chart:
    """One bar per method; the random-map baseline in grey. `axis_title` says what the score is.
    The height is given per bar (a band step), so every method gets its own readable line."""
    frame = scores.assign(baseline=scores["method"].str.startswith("random"))
    order = list(frame.sort_values("score", ascending=False)["method"])
    return alt.Chart(frame, height=alt.Step(bar_height), title=f"Faithfulness: {metric}").mark_bar().encode(
        y=alt.Y("method:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=180)),
        x=alt.X("score:Q", title=axis_title),
        color=alt.Color("baseline:N", legend=None, scale=alt.Scale(domain=list(colours.BASELINE), range=list(colours.BASELINE.values()))),
        tooltip=["method", alt.Tooltip("score:Q", format=".3f")],
    )


def agreement_chart(table: pd.DataFrame, height: int = 220) -> alt.Chart:
    """Correlation of TorchCam's and pytorch-grad-cam's Grad-CAM per layer."""
    return alt.Chart(table, height=height, title="TorchCam vs pytorch-grad-cam Grad-CAM").mark_bar().encode(
        y=alt.Y("layer:N", sort=list(table["layer"]), title=None, axis=alt.Axis(labelOverlap=False)),
        x=alt.X("pearson:Q", scale=alt.Scale(domain=[0, 1]), title="Pearson correlation of the two maps"),
        tooltip=["layer", alt.Tooltip("pearson:Q", format=".3f"), alt.Tooltip("spearman:Q", format=".3f")],
    )
