"""Router only: page config and navigation over lessons.registry (DESIGN.md)."""
from lessons import process_settings

process_settings.apply()  # before anything imports torch or numba: one torch thread, numba's disk cache

import streamlit as st  # noqa: E402

from lessons import course_path, home, registry, ui  # noqa: E402

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


def draw_navigation(sections: dict[str, list]) -> None:
    """The course's navigation in the sidebar: one heading per section, one `st.page_link` per page.
    It replaces Streamlit's own sidebar navigation, whose markup puts `div`s between `ul` and `li`
    (axe's rules list and listitem, serious; tests/e2e/test_accessibility.py)."""
    with st.sidebar:
        for title, pages in sections.items():
            st.markdown(f"**{title}**")
            for listed_page in pages:
                st.page_link(listed_page)


page = st.navigation(sections, position="hidden")
draw_navigation(sections)
ui.presenter_toggle()
page.run()  # a lesson starts its own warm-up and waits for nothing else (lessons/warmup.py)
if page.url_path in lesson_pages:
    course_path.next_lesson_links(page.url_path, lesson_pages)
