"""The router and the home page (AppTest), and the registry's promises."""
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lessons import registry

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def test_home_page_renders_without_torch():
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Look inside deep learning models"


def test_guide_recommends_lessons_in_course_order():
    picks = [lesson.slug for lesson in registry.recommend("debug", "cnn")]
    assert picks == ["training", "gradients", "landscapes"]
    assert [lesson.slug for lesson in registry.recommend("looks_at", "transformer")] == ["attention"]


def test_every_lesson_is_in_the_recommended_order_once():
    assert sorted(registry.RECOMMENDED_ORDER) == sorted(lesson.slug for lesson in registry.COURSE)
    assert len(registry.COURSE) == 9


def test_home_module_does_not_import_torch():
    code = "import sys; import lessons.home, lessons.registry, lessons.ui; print('torch' in sys.modules)"
    import subprocess
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
