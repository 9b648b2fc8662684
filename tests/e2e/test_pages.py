"""The home page and the path through the course in a real browser (every lesson's every view is drawn
and audited in test_accessibility.py)."""
from lessons import registry
from tests.e2e.conftest import exceptions, wait_until


def test_home_page_renders_course_map_and_guide(open_page):
    page = open_page("/")
    assert exceptions(page) == []
    body = page.locator("body").inner_text()
    assert "Course map" in body and "Which visualization do I need?" in body
    for lesson in registry.COURSE:
        assert lesson.title in body
    page.get_by_text("Debug a training run that does not learn").click()
    wait_until(page, lambda: "home.goal=Debug" in page.url, what="the goal in the share link")
    wait_until(page, lambda: "start here" in page.locator("body").inner_text(), what="the guide's answer")


def test_next_lesson_link_leads_along_the_course_and_home_shows_the_progress(open_page):
    """The path through the course in a real browser: the link at the end of a page opens the next lesson
    in the recommended order, and the course map then shows both lessons as opened in this session."""
    first, second = registry.RECOMMENDED_ORDER[:2]
    page = open_page(first)
    page.get_by_role("link", name=f"Next lesson: {registry.get(second).title}").click()
    wait_until(page, lambda: page.url.split("?")[0].endswith(f"/{second}"), what="the next lesson's URL")
    wait_until(page, lambda: f"Previous lesson: {registry.get(first).title}" in page.locator("body").inner_text(),
               120_000, what="the next lesson drawn, with its link back")
    page.get_by_role("link", name="Course map").first.click()
    wait_until(page, lambda: "you have opened 2 of 9 lessons" in page.locator("body").inner_text(), 60_000,
               what="the course map with this session's progress")
    assert page.locator("body").inner_text().count("Your progress: opened") == 2
    assert exceptions(page) == []
