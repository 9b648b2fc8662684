"""Router only: page config and navigation over lessons.registry (DESIGN.md)."""
import os

# One intra-op thread per computation: many students share the server's cores, and on 2 cores two
# sessions each asking for 2 threads ran training 3-6x slower than with 1 (measured). Set
# OMP_NUM_THREADS to override. Must happen before anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import streamlit as st  # noqa: E402

from lessons import home, registry, ui  # noqa: E402

st.set_page_config(page_title="Look inside deep learning models", page_icon=":material/biotech:",
                   layout="wide")

lesson_pages = {
    lesson.slug: st.Page(lesson.render, title=lesson.title, icon=lesson.icon, url_path=lesson.slug)
    for lesson in registry.LESSONS
}
home_page = st.Page(lambda: home.render(lesson_pages), title="Course map", icon=":material/map:",
                    url_path="home", default=True)

sections = {"Start": [home_page]}
for phase, phase_title in registry.PHASES.items():
    listed = [lesson_pages[lesson.slug] for lesson in registry.LESSONS if lesson.phases[0] == phase]
    if listed:
        sections[phase_title] = listed

page = st.navigation(sections)
ui.presenter_toggle()
page.run()  # a lesson starts its own warm-up and waits for nothing else (lessons/warmup.py)
