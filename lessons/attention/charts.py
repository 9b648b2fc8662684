"""The lesson's figures (data in, figure out): Altair for the head view, heatmaps, digit overlays
and the ablation scatter, Plotly for the 72-head model view. No external scripts: both render with
the JavaScript Streamlit ships. Student text reaches the figures only as data (Vega text marks and
axis labels, Plotly tick labels), never as HTML."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from lessons import colours

LINE_FLOOR = 0.01  # head-view lines below this weight are left out (invisible at that opacity anyway)
COLOR = "#1f6fb4"


def token_labels(tokens: list[str], indices=None) -> list[str]:
    """Unique axis labels: "3 the" (a sentence often repeats a wordpiece)."""
    indices = range(len(tokens)) if indices is None else indices
    return [f"{i} {tokens[i]}" for i in indices]


def head_view(tokens: list[str], matrix: np.ndarray, focus: int, height: int, title: str) -> dict:
    """BertViz's head view: a line from each token (left) to each token it attends to (right),
    opacity = attention weight. `focus` >= 0 keeps only that token's lines.

    Written as a Vega-Lite spec (a plain dict, drawn by st.vega_lite_chart) rather than through
    Altair: this figure is redrawn on every layer, head and token change, and Altair's
    schema validation took about 0.1-0.2 s of each such rerun on this machine (the spec here took
    under 5 ms). tests/unit/test_attention.py validates it against Altair's Vega-Lite schema."""
    T = len(tokens)
    rows, cols = np.nonzero(matrix >= LINE_FLOOR)  # (N,), (N,)
    if focus >= 0:
        keep = rows == focus
        rows, cols = rows[keep], cols[keep]
    weights = matrix[rows, cols].astype(float)
    lines = [{"x": 0.0, "x2": 1.0, "y": int(i), "y2": int(j), "weight": float(w), "from": tokens[i], "to": tokens[j]}
             for i, j, w in zip(rows.tolist(), cols.tolist(), weights.tolist())]
    words = [{"x": float(side), "y": i, "token": tokens[i], "side": "to" if side else "from",
              "focus": bool(i == focus and not side)} for side in (0, 1) for i in range(T)]
    x = {"field": "x", "type": "quantitative", "scale": {"domain": [-0.6, 1.6]}, "axis": None}
    y = {"field": "y", "type": "quantitative", "scale": {"domain": [T - 0.5, -0.5]}, "axis": None}
    rule = {"data": {"values": lines},
            "mark": {"type": "rule", "color": COLOR, "strokeWidth": 2.5},
            "encoding": {"x": x, "x2": {"field": "x2"}, "y": y, "y2": {"field": "y2"},
                         "opacity": {"field": "weight", "type": "quantitative", "legend": None,
                                     "scale": {"domain": [0, 1], "range": [0.02, 1]}},
                         "tooltip": [{"field": "from", "type": "nominal"}, {"field": "to", "type": "nominal"},
                                     {"field": "weight", "type": "quantitative", "format": ".3f"}]}}

    def word_layer(side: str, align: str, dx: int) -> dict:
        return {"data": {"values": words}, "transform": [{"filter": f"datum.side == '{side}'"}],
                "mark": {"type": "text", "align": align, "dx": dx, "fontSize": 13},
                "encoding": {"x": x, "y": y, "text": {"field": "token", "type": "nominal"},
                             "color": {"condition": {"test": "datum.focus", "value": "#c0392b"}, "value": "#222"}}}

    # A white card in both themes (like the model view's plot area): the dark words and the faint lines of weak
    # attention read on white, and vanished on the dark theme's background. The spec's config wins over the theme's.
    return {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "title": title, "height": height,
            "background": "white", "config": {"title": {"color": "#222"}},
            "layer": [rule, word_layer("from", "right", -6), word_layer("to", "left", 6)]}


def heatmap(matrix: np.ndarray, row_labels: list[str], col_labels: list[str], title: str, row_step: int,
            values: bool = False, domain_max: float | None = None, domain_min: float = 0.0) -> alt.Chart:
    """Rows attend to columns, each row `row_step` px high; `values` prints each weight in its cell.
    The colour scale runs from `domain_min` to `domain_max` (the matrix's largest value by default)."""
    r, c = np.meshgrid(np.arange(len(row_labels)), np.arange(len(col_labels)), indexing="ij")
    frame = pd.DataFrame({"query": np.asarray(row_labels)[r.ravel()], "key": np.asarray(col_labels)[c.ravel()],
                          "weight": matrix.ravel().astype(float)})
    top = domain_max if domain_max else max(float(matrix.max()), domain_min + 1e-6)
    scale = alt.Scale(scheme=colours.BLUES, domain=[domain_min, top])
    base = alt.Chart(frame).encode(
        x=alt.X("key:N", sort=list(col_labels), title="attends to (key)", axis=alt.Axis(labelAngle=-60)),
        y=alt.Y("query:N", sort=list(row_labels), title="token (query)"))
    cells = base.mark_rect().encode(color=alt.Color("weight:Q", scale=scale, title="weight"),
                                    tooltip=["query:N", "key:N", alt.Tooltip("weight:Q", format=".3f")])
    chart = cells
    if values:
        text = base.mark_text(fontSize=9).encode(
            text=alt.Text("weight:Q", format=".2f"),
            color=alt.condition(alt.datum.weight > 0.5 * scale.domain[1], alt.value("white"), alt.value("black")))
        chart = cells + text
    return chart.properties(height=alt.Step(row_step), title=title)


def model_view(tokens: list[str], attentions: np.ndarray, selected: tuple[int, int], height: int):
    """All heads as small heatmaps in a layers x heads grid (one Plotly heatmap with gaps)."""
    import plotly.graph_objects as go

    L, H, T, _ = attentions.shape
    gap = max(1, T // 8)
    cell = T + gap
    mosaic = np.full((L * cell - gap, H * cell - gap), np.nan, dtype=np.float32)
    for layer in range(L):
        for head in range(H):
            mosaic[layer * cell:layer * cell + T, head * cell:head * cell + T] = attentions[layer, head]
    figure = go.Figure(go.Heatmap(z=np.round(mosaic, 3), colorscale=colours.PLOTLY_BLUES, zmin=0, zmax=1, hoverongaps=False,
                                  colorbar=dict(title="weight", thickness=12),
                                  hovertemplate="weight %{z:.3f}<extra></extra>"))
    layer, head = selected
    figure.add_shape(type="rect", x0=(head - 1) * cell - 0.5 - gap / 2, x1=(head - 1) * cell + T - 0.5 + gap / 2,
                     y0=(layer - 1) * cell - 0.5 - gap / 2, y1=(layer - 1) * cell + T - 0.5 + gap / 2,
                     line=dict(color="#c0392b", width=2))
    figure.update_xaxes(tickvals=[h * cell + (T - 1) / 2 for h in range(H)], ticktext=[f"head {h + 1}" for h in range(H)],
                        side="top", showgrid=False, zeroline=False)
    figure.update_yaxes(tickvals=[i * cell + (T - 1) / 2 for i in range(L)], ticktext=[f"layer {i + 1}" for i in range(L)],
                        autorange="reversed", showgrid=False, zeroline=False, scaleanchor="x")
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white")
    return figure


def row_bars(rows: dict[str, np.ndarray], labels: list[str], height: int) -> alt.Chart:
    """One row of several (T, T) maps as grouped horizontal bars: token (y) by weight (x), one colour per map."""
    frame = pd.DataFrame([{"map": name, "token": labels[j], "weight": float(row[j])}
                          for name, row in rows.items() for j in range(len(labels))])
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("token:N", sort=list(labels), title=None), yOffset=alt.YOffset("map:N", sort=list(rows)),
        x=alt.X("weight:Q", title="weight", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("map:N", sort=list(rows), legend=alt.Legend(orient="top", title=None)),
        tooltip=["map:N", "token:N", alt.Tooltip("weight:Q", format=".3f")],
    ).properties(height=height)


def ablation_scatter(word_share: np.ndarray, effect: np.ndarray, selected: tuple[int, int], height: int,
                     effect_title: str) -> alt.Chart:
    L, H = effect.shape
    layer, head = np.meshgrid(np.arange(1, L + 1), np.arange(1, H + 1), indexing="ij")
    frame = pd.DataFrame({"layer": layer.ravel(), "head": head.ravel(), "attention to words": word_share.ravel(),
                          "effect": effect.ravel().astype(float)})
    frame["selected"] = (frame["layer"] == selected[0]) & (frame["head"] == selected[1])
    frame["name"] = [f"{l}.{h}" for l, h in zip(frame["layer"], frame["head"])]
    points = alt.Chart(frame).mark_circle(size=80).encode(
        x=alt.X("attention to words:Q", title="share of the words' attention on other words",
                scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("effect:Q", title=effect_title),
        color=alt.Color("layer:O", scale=alt.Scale(scheme=colours.VIRIDIS)),
        stroke=alt.condition("datum.selected", alt.value("#c0392b"), alt.value(None)),
        strokeWidth=alt.condition("datum.selected", alt.value(3), alt.value(0)),
        tooltip=["name:N", alt.Tooltip("attention to words:Q", format=".3f"), alt.Tooltip("effect:Q", format=".4f")])
    # the selected head is named in the title: a text mark would stay black on the dark theme's background
    return points.properties(height=height, title=f"Every head of every layer; ringed in red: head {selected[0]}.{selected[1]}")


def digit_overlays(pixels: np.ndarray, maps: dict[str, np.ndarray], size: int) -> alt.HConcatChart:
    """The digit in grey with each (G, G) map over it in colour (scaled to its own maximum)."""
    h, w = pixels.shape
    yy, xx = np.mgrid[0:h, 0:w]
    digit = pd.DataFrame({"x": xx.ravel() - 0.5, "x2": xx.ravel() + 0.5, "y": yy.ravel() - 0.5,
                          "y2": yy.ravel() + 0.5, "ink": pixels.ravel().astype(float) / 255.0})
    sx = alt.Scale(domain=[-0.5, w - 0.5], nice=False)
    sy = alt.Scale(domain=[h - 0.5, -0.5], nice=False)
    ink = alt.Chart(digit).mark_rect().encode(
        x=alt.X("x:Q", scale=sx, axis=None), x2="x2:Q", y=alt.Y("y:Q", scale=sy, axis=None), y2="y2:Q",
        color=alt.Color("ink:Q", scale=alt.Scale(domain=[0, 1], range=list(colours.INK)), legend=None))
    panels = []
    for title, grid_map in maps.items():
        g = grid_map.shape[0]
        patch = h // g
        gy, gx = np.mgrid[0:g, 0:g]
        top = float(grid_map.max()) or 1.0
        frame = pd.DataFrame({"x": gx.ravel() * patch - 0.5, "x2": (gx.ravel() + 1) * patch - 0.5,
                              "y": gy.ravel() * patch - 0.5, "y2": (gy.ravel() + 1) * patch - 0.5,
                              "value": grid_map.ravel().astype(float), "scaled": grid_map.ravel().astype(float) / top})
        heat = alt.Chart(frame).mark_rect(color="#e4572e").encode(
            x=alt.X("x:Q", scale=sx), x2="x2:Q", y=alt.Y("y:Q", scale=sy), y2="y2:Q",
            opacity=alt.Opacity("scaled:Q", scale=alt.Scale(domain=[0, 1], range=[0, 0.75]), legend=None),
            tooltip=[alt.Tooltip("value:Q", format=".3f")])
        panels.append((ink + heat).properties(width=size, height=size, title=title))
    return alt.hconcat(*panels).resolve_scale(color="independent", opacity="independent")


def pattern_row(patterns: dict[str, np.ndarray], size: int) -> alt.HConcatChart:
    """Query x key heatmaps side by side (the toy model's heads and the expected pattern)."""
    panels = []
    for title, matrix in patterns.items():
        n = matrix.shape[0]
        r, c = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        frame = pd.DataFrame({"query position": r.ravel(), "key position": c.ravel(), "weight": matrix.ravel().astype(float)})
        panels.append(alt.Chart(frame).mark_rect().encode(
            x=alt.X("key position:O"), y=alt.Y("query position:O"),
            color=alt.Color("weight:Q", scale=alt.Scale(scheme=colours.BLUES, domain=[0, 1])),
            tooltip=["query position:O", "key position:O", alt.Tooltip("weight:Q", format=".3f")],
        ).properties(width=size, height=size, title=title))
    return alt.hconcat(*panels)
