"""Figures for the gradient lesson: (Vega-Lite spec, DataFrame) pairs, shown with
`st.vega_lite_chart(data, spec)`.

Pure functions, no Streamlit. Like the training lesson's live curves, they are plain Vega-Lite
dicts rather than Altair objects: they are redrawn up to 4 times a second while a run trains and
on every view change, and building them takes milliseconds (Altair's schema validation took
0.1-0.2 s per chart); when only the data changes, the spec stays identical and the browser swaps
the data in the chart it already shows.

Axes are fixed log scales by default (readings.GRAD_DOMAIN...): autoscaled axes, TensorBoard's
default, fit every chart to its own data and hide vanishing (see diagnosis.AUTOSCALE_HIDES).
Layers are coloured from the input (dark) to the output (light).
"""
from __future__ import annotations

import math

import pandas as pd

from lessons import colours
from lessons.gradients import readings

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
LAYER_SCHEME = colours.VIRIDIS
MEAN_COLOR, MAX_COLOR = colours.GRADIENT_STATISTICS["mean"], colours.GRADIENT_STATISTICS["max"]


LOG_AXIS = {"format": "~e"}  # 1e-12 ... 1e+12, not 0.000000000001


def _log_scale(domain: tuple[float, float], fixed: bool) -> dict:
    return {"type": "log", "domain": list(domain), "clamp": True} if fixed else {"type": "log"}


def _layer_color(labels: list[str], legend: bool = True) -> dict:
    return {"field": "layer", "type": "ordinal", "sort": labels, "title": "layer (input → output)",
            "scale": {"scheme": LAYER_SCHEME},
            "legend": {"orient": "right", "columns": 1 if len(labels) <= 16 else 2, "symbolLimit": 40}
            if legend else None}


def _tooltip(*fields: tuple[str, str, str]) -> list[dict]:
    return [{"field": f, "type": t, "title": title, **({"format": ".3g"} if t == "quantitative" else {})}
            for f, t, title in fields]


def norms_spec(frame: pd.DataFrame, labels: list[str], statistic: str, fixed: bool = True,
               height: int = 320, marker_step: int | None = None) -> tuple[dict, pd.DataFrame]:
    """View 1: one line per layer over the steps, log y (fixed domain unless `fixed` is False).
    `marker_step`: a red dashed rule where the run diverged."""
    title = readings.STATISTICS.get(statistic, statistic)
    layers = [{"mark": {"type": "line", "strokeWidth": 1.6, "clip": True}, "encoding": {
        "x": {"field": "step", "type": "quantitative", "title": "optimizer step", "scale": {"nice": False}},
        "y": {"field": "value", "type": "quantitative", "title": f"{title} (log)",
              "scale": _log_scale(readings.GRAD_DOMAIN, fixed), "axis": LOG_AXIS},
        "color": _layer_color(labels),
        "tooltip": _tooltip(("layer", "nominal", "layer"), ("step", "quantitative", "step"),
                            ("raw", "quantitative", title))}}]
    if marker_step is not None:
        layers.append(_divergence_rule(marker_step))
    return {"$schema": VEGA_LITE_SCHEMA, "height": height, "layer": layers}, frame


def _divergence_rule(step: int) -> dict:
    return {"data": {"values": [{"step": step, "label": f"overflow at step {step}"}]},
            "mark": {"type": "rule", "color": "#d62728", "strokeDash": [5, 3], "strokeWidth": 2},
            "encoding": {"x": {"field": "step", "type": "quantitative"},
                         "tooltip": [{"field": "label", "type": "nominal"}]}}


def flow_spec(frame: pd.DataFrame, fixed: bool = True, height: int = 320) -> tuple[dict, pd.DataFrame]:
    """View 2, the forum's "gradient flow" plot: max |g| (light) and mean |g| (dark) per layer, input
    on the left, as bars on a log axis starting at the axis floor."""
    long = pd.concat([
        frame.assign(kind="max |g|", value=readings.floored(frame.max_abs, readings.GRAD_DOMAIN[0]), raw=frame.max_abs),
        frame.assign(kind="mean |g|", value=readings.floored(frame.mean_abs, readings.GRAD_DOMAIN[0]),
                     raw=frame.mean_abs),
    ], ignore_index=True)[["layer", "depth", "kind", "value", "raw"]]
    floor = readings.GRAD_DOMAIN[0] if fixed else max(float(long.value.min()) / 2, 1e-300) if len(long) else 1e-12
    order = list(frame.layer)
    spec = {"$schema": VEGA_LITE_SCHEMA, "height": height,
            "mark": {"type": "bar", "clip": True},
            "encoding": {
                "x": {"field": "layer", "type": "nominal", "sort": order, "title": "layer (input → output)",
                      "axis": {"labelAngle": -45}},
                "y": {"field": "value", "type": "quantitative", "title": "|gradient| (log)",
                      "scale": _log_scale(readings.GRAD_DOMAIN, fixed), "stack": None, "axis": LOG_AXIS},
                "y2": {"datum": floor},
                "color": {"field": "kind", "type": "nominal", "title": None,
                          "scale": {"domain": ["max |g|", "mean |g|"], "range": [MAX_COLOR, MEAN_COLOR]},
                          "legend": {"orient": "top"}},
                "order": {"field": "kind", "sort": "ascending"},
                "tooltip": _tooltip(("layer", "nominal", "layer"), ("kind", "nominal", "statistic"),
                                    ("raw", "quantitative", "value"))}}
    return spec, long


def heatmap_spec(frame: pd.DataFrame, rows: list[str], fixed: bool = True,
                 height: int = 320) -> tuple[dict, pd.DataFrame]:
    """View 3: layer x step, colour = log10 gradient norm, rows in the given order (top first)."""
    lo, hi = (math.log10(readings.GRAD_DOMAIN[0]), math.log10(readings.GRAD_DOMAIN[1]))
    color_scale = {"scheme": colours.INFERNO, "domain": [lo, hi], "clamp": True} if fixed else {"scheme": colours.INFERNO}
    spec = {"$schema": VEGA_LITE_SCHEMA, "height": max(height, 12 * len(rows)),
            "mark": {"type": "rect"},
            "encoding": {
                "x": {"field": "step", "type": "quantitative", "title": "optimizer step", "scale": {"nice": False}},
                "x2": {"field": "step_end"},
                "y": {"field": "layer", "type": "nominal", "sort": rows, "title": None},
                "color": {"field": "log_norm", "type": "quantitative", "title": "log10 |g|", "scale": color_scale},
                "tooltip": _tooltip(("layer", "nominal", "layer"), ("step", "quantitative", "step"),
                                    ("raw", "quantitative", "gradient norm"))}}
    return spec, frame


def distribution_spec(frame: pd.DataFrame, layers: list[str], fixed: bool = True,
                      height: int = 200) -> tuple[dict, pd.DataFrame]:
    """View 4, TensorBoard's "distributions": per layer, bands of |g| percentiles over the steps
    (5-95 light, 25-75 darker, median line). Fixed: one shared y axis; autoscaled: each panel its own."""
    y_scale = _log_scale(readings.GRAD_DOMAIN, fixed)
    x = {"field": "step", "type": "quantitative", "title": "optimizer step", "scale": {"nice": False}}

    def band(lo: str, hi: str, opacity: float) -> dict:
        return {"mark": {"type": "area", "opacity": opacity, "color": MEAN_COLOR, "clip": True},
                "encoding": {"x": x, "y": {"field": lo, "type": "quantitative", "scale": y_scale,
                                           "title": "|g| percentiles (log)", "axis": LOG_AXIS},
                             "y2": {"field": hi}}}

    median = {"mark": {"type": "line", "color": "#08306b", "strokeWidth": 1.5, "clip": True},
              "encoding": {"x": x, "y": {"field": "q50", "type": "quantitative", "scale": y_scale},
                           "tooltip": _tooltip(("layer", "nominal", "layer"), ("step", "quantitative", "step"),
                                               ("q05", "quantitative", "5th"), ("q50", "quantitative", "median"),
                                               ("q95", "quantitative", "95th"))}}
    spec = {"$schema": VEGA_LITE_SCHEMA,
            "facet": {"field": "layer", "type": "nominal", "sort": layers, "title": None},
            "columns": 3,
            "spec": {"height": height, "width": 175,
                     "layer": [band("q05", "q95", 0.25), band("q25", "q75", 0.5), median]},
            "resolve": {"scale": {"y": "shared" if fixed else "independent"}}}
    return spec, frame


def update_ratio_spec(frame: pd.DataFrame, labels: list[str], fixed: bool = True, healthy=(1e-4, 1e-2),
                      height: int = 280) -> tuple[dict, pd.DataFrame]:
    """View 5a: each layer's update-to-weight ratio over the steps, log y, with the healthy band."""
    y_scale = _log_scale(readings.UPDATE_DOMAIN, fixed)
    band = {"data": {"values": [{"lo": healthy[0], "hi": healthy[1]}]},
            "mark": {"type": "rect", "color": "#2ca02c", "opacity": 0.12},
            "encoding": {"y": {"field": "lo", "type": "quantitative", "scale": y_scale}, "y2": {"field": "hi"}}}
    rule = {"data": {"values": [{"y": 1e-3}]}, "mark": {"type": "rule", "color": "#2ca02c", "strokeDash": [4, 3]},
            "encoding": {"y": {"field": "y", "type": "quantitative", "scale": y_scale}}}
    lines = {"mark": {"type": "line", "strokeWidth": 1.5, "clip": True}, "encoding": {
        "x": {"field": "step", "type": "quantitative", "title": "optimizer step", "scale": {"nice": False}},
        "y": {"field": "value", "type": "quantitative", "title": "|Δw| / |w| (log)", "scale": y_scale, "axis": LOG_AXIS},
        "color": _layer_color(labels),
        "tooltip": _tooltip(("layer", "nominal", "layer"), ("step", "quantitative", "step"),
                            ("raw", "quantitative", "update / weight"))}}
    return {"$schema": VEGA_LITE_SCHEMA, "height": height, "layer": [band, rule, lines]}, frame


def activation_spec(frame: pd.DataFrame, fixed: bool = True, height: int = 220) -> tuple[dict, pd.DataFrame]:
    """View 5b: per block, the activations' std (log) beside the share saturated and the share dead."""
    order = list(frame.layer)
    x = {"field": "layer", "type": "nominal", "sort": order, "title": "layer (input → output)",
         "axis": {"labelAngle": -45}}
    std = frame.assign(std_value=readings.floored(frame["std"], readings.STD_DOMAIN[0]))
    shares = pd.concat([frame.assign(kind="saturated", share=frame.saturated),
                        frame.assign(kind="dead", share=frame.dead)], ignore_index=True)
    data = pd.concat([std.assign(panel="std"), shares.assign(panel="shares")], ignore_index=True)
    std_panel = {"transform": [{"filter": "datum.panel === 'std'"}], "height": height, "width": 250,
                 "mark": {"type": "point", "filled": True, "size": 50},
                 "encoding": {"x": x, "y": {"field": "std_value", "type": "quantitative", "title": "activation std (log)",
                                            "scale": _log_scale(readings.STD_DOMAIN, fixed), "axis": LOG_AXIS},
                              "tooltip": _tooltip(("layer", "nominal", "layer"), ("mean", "quantitative", "mean"),
                                                  ("std", "quantitative", "std"))}}
    share_panel = {"transform": [{"filter": "datum.panel === 'shares'"}], "height": height, "width": 250,
                   "mark": {"type": "bar"},
                   "encoding": {"x": x, "xOffset": {"field": "kind"},
                                "y": {"field": "share", "type": "quantitative", "title": "share of units",
                                      "scale": {"domain": [0, 1]} if fixed else {}},
                                "color": {"field": "kind", "type": "nominal", "title": None,
                                          "scale": {"domain": list(colours.UNIT_STATES), "range": list(colours.UNIT_STATES.values())},
                                          "legend": {"orient": "top"}},
                                "tooltip": _tooltip(("layer", "nominal", "layer"), ("kind", "nominal", "share"),
                                                    ("share", "quantitative", "value"))}}
    return {"$schema": VEGA_LITE_SCHEMA, "hconcat": [std_panel, share_panel],
            "resolve": {"scale": {"color": "independent"}}}, data


def depth_profile_spec(frame: pd.DataFrame, thresholds: dict, fixed: bool = True,
                       height: int = 280) -> tuple[dict, pd.DataFrame]:
    """View 6: gradient norm (and the backpropagated gradient) per layer at one step, input on the
    left, with the exploding-norm threshold drawn as a line."""
    long = pd.concat([
        frame.assign(kind="weight gradient |∂L/∂W|", raw=frame.grad_norm),
        frame.assign(kind="backpropagated |∂L/∂h|", raw=frame.backprop_norm),
    ], ignore_index=True)
    long = long.assign(value=readings.floored(long.raw, readings.GRAD_DOMAIN[0]))[["layer", "depth", "kind", "value", "raw"]]
    y_scale = _log_scale(readings.GRAD_DOMAIN, fixed)
    x = {"field": "layer", "type": "nominal", "sort": list(frame.layer), "title": "layer (input → output)",
         "axis": {"labelAngle": -45}}
    lines = {"mark": {"type": "line", "point": True, "clip": True}, "encoding": {
        "x": x, "y": {"field": "value", "type": "quantitative", "title": "norm (log)", "scale": y_scale, "axis": LOG_AXIS},
        "color": {"field": "kind", "type": "nominal", "title": None, "legend": {"orient": "top"}},
        "tooltip": _tooltip(("layer", "nominal", "layer"), ("kind", "nominal", "what"), ("raw", "quantitative", "norm"))}}
    rule = {"data": {"values": [{"y": thresholds["norm"], "label": f"exploding above {thresholds['norm']:g}"}]},
            "mark": {"type": "rule", "color": "#d62728", "strokeDash": [5, 3]},
            "encoding": {"y": {"field": "y", "type": "quantitative", "scale": y_scale},
                         "tooltip": [{"field": "label", "type": "nominal"}]}}
    return {"$schema": VEGA_LITE_SCHEMA, "height": height, "layer": [lines, rule]}, long


def compare_spec(frame: pd.DataFrame, runs: list[str], labels_by_run: dict[str, list[str]], fixed: bool = True,
                 height: int = 280) -> tuple[dict, pd.DataFrame]:
    """View 7: the gradient norms of two runs side by side, one panel each, with shared (synced)
    x and y axes; colour = depth from input (0) to output (1) so that runs of different depth share it."""
    y_scale = _log_scale(readings.GRAD_DOMAIN, fixed)
    spec = {"$schema": VEGA_LITE_SCHEMA,
            "facet": {"field": "run", "type": "nominal", "sort": runs, "title": None,
                      "header": {"labelLimit": 420, "labelFontSize": 12}},
            "columns": 2,
            "spec": {"height": height, "width": 250,
                     "mark": {"type": "line", "strokeWidth": 1.4, "clip": True},
                     "encoding": {
                         "x": {"field": "step", "type": "quantitative", "title": "optimizer step",
                               "scale": {"nice": False}},
                         "y": {"field": "value", "type": "quantitative", "title": "gradient norm (log)",
                               "scale": y_scale, "axis": LOG_AXIS},
                         "color": {"field": "position", "type": "quantitative", "title": "input → output",
                                   "scale": {"scheme": LAYER_SCHEME, "domain": [0, 1]}},
                         "detail": {"field": "layer", "type": "nominal"},
                         "tooltip": _tooltip(("run", "nominal", "run"), ("layer", "nominal", "layer"),
                                             ("step", "quantitative", "step"), ("raw", "quantitative", "norm"))}},
            "resolve": {"scale": {"y": "shared", "x": "shared"}}}
    return spec, frame
