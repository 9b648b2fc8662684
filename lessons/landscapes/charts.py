"""The lesson's figures: data in, Altair or Plotly figure out (no streamlit, no torch)."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lessons import colours
from lessons.landscapes import toy

CONTOUR_LEVELS = 14
SMALL_CONTOUR_LEVELS = 6  # charts under 260 px: the legend lists one entry per band and must fit beside them


def _loss_field(log_scale: bool) -> tuple[str, str]:
    return ("log10_loss", "log10(loss)") if log_scale else ("loss", "loss")


def grid_frame(axis: np.ndarray, loss: np.ndarray, **extra) -> pd.DataFrame:
    """(R, C) surface -> long table: alpha (columns), beta (rows), loss, log10_loss."""
    beta, alpha = np.meshgrid(axis, axis, indexing="ij")
    frame = pd.DataFrame({"alpha": alpha.ravel(), "beta": beta.ravel(), "loss": np.asarray(loss, float).ravel()})
    frame["log10_loss"] = np.log10(frame["loss"].clip(lower=1e-6))
    for key, value in extra.items():
        frame[key] = value
    return frame.dropna()


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Each grid point as a cell centred on it (edges half a grid step either side)."""
    values = np.unique(frame["alpha"])
    half = float(np.diff(values).min()) / 2 if len(values) > 1 else 0.5
    return frame.assign(a0=frame.alpha - half, a1=frame.alpha + half, b0=frame.beta - half, b1=frame.beta + half)


def contour_levels(height: int) -> int:
    """Colour bands of a contour chart: fewer on a small chart, whose legend lists one entry per band."""
    return CONTOUR_LEVELS if height >= 260 else SMALL_CONTOUR_LEVELS


def contour(frame: pd.DataFrame, log_scale: bool, height: int, title: str = "", domain=None,
            x_title: str = "\u03b1 (direction 1)", y_title: str = "\u03b2 (direction 2)",
            square: float | None = None) -> alt.Chart:
    """Filled contour bands (the loss binned into levels) on the (alpha, beta) plane; + marks the centre;
    `square`: a dashed square of that half-width around the centre."""
    field, label = _loss_field(log_scale)
    levels = contour_levels(height)
    if domain is None:  # bands binned by Vega-Lite over this chart's own range
        color = alt.Color(f"{field}:Q", title=label, bin=alt.Bin(maxbins=levels), scale=alt.Scale(scheme=colours.VIRIDIS))
    else:  # the same bands on charts shown side by side: equal steps of the shared domain. (A binned field
        # takes a bin-ordinal scale, whose domain is the list of bins: [low, high] there drew every cell one colour.)
        color = alt.Color(f"{field}:Q", title=label, scale=alt.Scale(
            type="quantize", domain=[float(v) for v in domain], nice=False,
            scheme=alt.SchemeParams(name=colours.VIRIDIS, count=levels)))
    heat = alt.Chart(_cells(frame)).mark_rect().encode(
        x=alt.X("a0:Q", title=x_title), x2="a1:Q", y=alt.Y("b0:Q", title=y_title), y2="b1:Q",
        color=color,
        tooltip=[alt.Tooltip("alpha:Q", format=".3f"), alt.Tooltip("beta:Q", format=".3f"),
                 alt.Tooltip("loss:Q", format=".4f")])
    centre = alt.Chart(pd.DataFrame({"alpha": [0.0], "beta": [0.0]})).mark_point(
        shape="cross", size=120, color="white", filled=True).encode(x="alpha:Q", y="beta:Q")
    layers = heat + centre
    if square is not None:
        layers += alt.Chart(pd.DataFrame({"a0": [-square], "a1": [square], "b0": [-square], "b1": [square]})).mark_rect(
            fill=None, stroke="white", strokeDash=[4, 3], strokeWidth=1.5).encode(x="a0:Q", x2="a1:Q", y="b0:Q", y2="b1:Q")
    return layers.properties(height=height, title=title)


def surface_3d(axis: np.ndarray, loss: np.ndarray, log_scale: bool, height: int) -> go.Figure:
    z = np.log10(np.clip(loss, 1e-6, None)) if log_scale else loss
    figure = go.Figure(go.Surface(x=axis, y=axis, z=z, colorscale=colours.PLOTLY_VIRIDIS, showscale=True,
                                  colorbar=dict(title="log10(loss)" if log_scale else "loss"),
                                  contours=dict(z=dict(show=True, usecolormap=True, project_z=True))))
    figure.update_layout(height=height, margin=dict(l=0, r=0, t=10, b=0),
                         scene=dict(xaxis_title="\u03b1", yaxis_title="\u03b2",
                                    zaxis_title="log10(loss)" if log_scale else "loss"))
    return figure


def lines(frame: pd.DataFrame, x: str, y: str, color: str, height: int, x_title: str, y_title: str,
          log_y: bool = False, rules=(), detail: str | None = None) -> alt.Chart:
    encoding = dict(x=alt.X(f"{x}:Q", title=x_title),
                    y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False)),
                    color=alt.Color(f"{color}:N", title=None, legend=alt.Legend(orient="bottom")),
                    tooltip=[color, alt.Tooltip(f"{x}:Q", format=".2f"), alt.Tooltip(f"{y}:Q", format=".4f")])
    if detail:
        encoding["detail"] = f"{detail}:N"
    chart = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=14)).encode(**encoding)
    if rules:
        chart = chart + alt.Chart(pd.DataFrame({x: list(rules)})).mark_rule(strokeDash=[4, 3], color="gray").encode(
            x=f"{x}:Q")
    return chart.properties(height=height)


def trajectory(frame: pd.DataFrame, path: pd.DataFrame, log_scale: bool, height: int, explained) -> alt.Chart:
    """The loss on the PCA plane (filled contour bands) with the checkpoints' path in red."""
    heat = contour(frame, log_scale, height, x_title=f"PC 1 ({explained[0]:.1%} of the variance)",
                   y_title=f"PC 2 ({explained[1]:.1%})")
    line = alt.Chart(path).mark_line(color="red", point=alt.OverlayMarkDef(color="red", size=18)).encode(
        x="pc1:Q", y="pc2:Q", order="step:Q", tooltip=["step:Q", alt.Tooltip("loss:Q", format=".4f")])
    return (heat + line).properties(height=height)


def toy_animation(surface: str, lr: float, steps: int, height: int, frames: int = 40) -> go.Figure:
    """The toy surface as a contour plot with the three optimizers' paths, animated step by step."""
    xs, ys, zs = toy.surface_grid(surface)
    runs = toy.paths(surface, lr, steps)
    colors = colours.OPTIMIZERS
    base = go.Contour(x=xs, y=ys, z=zs, colorscale=colours.PLOTLY_VIRIDIS, ncontours=25, showscale=False,
                      contours=dict(coloring="heatmap"))

    def path_traces(upto: int):
        return [go.Scatter(x=p[:upto + 1, 0], y=p[:upto + 1, 1], mode="lines+markers", name=toy.OPTIMIZER_TITLES[k],
                           line=dict(color=colors[k], width=2), marker=dict(size=4)) for k, p in runs.items()]

    marks = sorted(set(np.linspace(0, steps, min(frames, steps + 1)).round().astype(int)))
    figure = go.Figure(data=[base, *path_traces(steps)],
                       frames=[go.Frame(data=path_traces(k), traces=[1, 2, 3], name=str(k)) for k in marks])
    x0, x1, y0, y1 = toy.SURFACES[surface].box
    figure.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.12),
        xaxis=dict(range=[x0, x1], title="x"), yaxis=dict(range=[y0, y1], title="y"),
        updatemenus=[dict(type="buttons", showactive=False, x=0.0, y=1.08, xanchor="left", direction="left", buttons=[
            dict(label="\u25b6 Play", method="animate",
                 args=[None, dict(frame=dict(duration=120, redraw=False), fromcurrent=True, transition=dict(duration=0))]),
            dict(label="\u275a\u275a Pause", method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])])],
        sliders=[dict(active=len(marks) - 1, currentvalue=dict(prefix="step "), pad=dict(t=30),
                      steps=[dict(label=str(k), method="animate",
                                  args=[[str(k)], dict(frame=dict(duration=0, redraw=False), mode="immediate")])
                             for k in marks])])
    return figure
