"""The floor of the first-minute figures: the simplest page this Streamlit can serve with the same
kinds of parts as a lesson (a slider, a select box, a segmented control, one Altair chart). Served by
the same Streamlit on the same machine in the same run as the lessons (tests/benchmark/first_minute.py)."""
import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

st.title("Trivial page")
view = st.segmented_control("View", ["Line", "Points"], default="Line", key="view")
frequency = st.slider("Frequency", 1, 10, 3, key="frequency")
colour = st.selectbox("Colour", ["steelblue", "darkorange", "seagreen"], key="colour")
x = np.linspace(0, 1, 200)
frame = pd.DataFrame({"x": x, "y": np.sin(2 * np.pi * frequency * x)})
mark = alt.Chart(frame).mark_line(color=colour) if view == "Line" else alt.Chart(frame).mark_point(color=colour)
st.altair_chart(mark.encode(x="x", y="y"), width="stretch")
