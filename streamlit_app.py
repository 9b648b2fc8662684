"""Router only: page config and navigation over lessons.registry (DESIGN.md)."""
import streamlit as st

from lessons import home, registry, ui, warmup

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
page.run()
warmup.start()  # after the page, so the first page a student opens does not wait for it
