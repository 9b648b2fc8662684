"""A small page that uses every part of the lesson scaffold; it lives under tests/, not in the app."""
from pathlib import Path

import streamlit as st

from lessons import ui

page = ui.LessonPage("scaffold", "Scaffold test page", defaults={"n": 3, "shape": "square"})
page.header("Why: a paragraph for students.", ["Objective one", "Objective two"], phases=["Before training"])
n = page.control(st.slider, "n", "n", 1, 10)
shape = page.control(st.selectbox, "shape", "shape", ["square", "cube"])
result = n ** (2 if shape == "square" else 3)
st.metric("result", result)
with ui.shown_failure("divide by the result minus 27"):
    st.metric("quotient", 1 / (result - 27))  # n = 3, cube: a ZeroDivisionError in this section only
page.what_you_see([f"{n} {shape}d is {result}."])
page.try_this([
    ui.Experiment("five", "Five squared", {"n": 5, "shape": "square"}, "What is 5 squared?",
                  ("25", "10"), 0, lambda r: (r == 25, f"The result is {r}.")),
    ui.Experiment("wrong", "A check that fails", {"n": 2, "shape": "cube"}, "Is 2 cubed 9?",
                  ("yes", "no"), 0, lambda r: (r == 9, f"The result is {r}.")),
], result)
page.quiz([ui.QuizQuestion("2 + 2?", ("3", "4"), 1, "Two and two make four.")])
page.do_it_yourself(Path(__file__).with_name("diy.py"), "Square a number:")
page.reading([ui.Reading("A paper", "https://example.org/paper", "why it matters")])
