"""Pure figure builders shared by several lessons: DataFrame or array in, Altair/Plotly chart out.

No Streamlit here. Lesson-specific builders live in lessons/<slug>/charts.py.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from lessons import colours


def bar_chart(frame: pd.DataFrame, category: str, value: str, title: str = "", height: int = 300,
              horizontal: bool = True) -> alt.Chart:
    """Bars of `value` per `category`, in the frame's order."""
    order = list(frame[category])
    if horizontal:
        encoding = dict(y=alt.Y(f"{category}:N", sort=order, title=None), x=alt.X(f"{value}:Q"))
    else:
        encoding = dict(x=alt.X(f"{category}:N", sort=order, title=None), y=alt.Y(f"{value}:Q"))
    return alt.Chart(frame, title=title, height=height).mark_bar().encode(
        **encoding, tooltip=list(frame.columns))


def matrix_heatmap(matrix: np.ndarray, row_labels: list[str], col_labels: list[str], value: str = "value",
                   title: str = "", scheme: str = colours.VIRIDIS, height: int = 300) -> alt.Chart:
    """A labelled heatmap of a 2-D array (rows x columns), with the value in the tooltip."""
    rows, cols = matrix.shape  # (R, C)
    frame = pd.DataFrame({"row": np.repeat(row_labels, cols), "column": np.tile(col_labels, rows),
                          value: matrix.reshape(-1)})
    return alt.Chart(frame, title=title, height=height).mark_rect().encode(
        x=alt.X("column:N", sort=list(col_labels), title=None),
        y=alt.Y("row:N", sort=list(row_labels), title=None),
        color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme=scheme)),
        tooltip=["row", "column", alt.Tooltip(f"{value}:Q", format=".3g")],
    )
