"""One path through the course (lessons/course_path.py): the recommended order's neighbours, the
progress the home page shows for this browser session, and a lesson page recording itself and its quiz."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lessons import course_path, registry
from tests.app import walk

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def test_neighbours_follow_the_recommended_order_and_stop_at_both_ends():
    order = course_path.ordered_slugs()
    assert order == list(registry.RECOMMENDED_ORDER)
    assert course_path.neighbours(order[0]) == (None, order[1])
    assert course_path.neighbours(order[-1]) == (order[-2], None)
    for before, slug, after in zip(order, order[1:], order[2:]):
        assert course_path.neighbours(slug) == (before, after)
    assert course_path.neighbours("no-such-lesson") == (None, None)


def _captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_home_shows_no_progress_in_a_new_session_and_what_this_session_did():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "you have opened 0 of 9 lessons." in at.info[0].value
    assert "Your progress" not in _captions(at)
    at.session_state[course_path.PROGRESS_KEY] = {"opened": ["architecture", "gradients"],
                                                  "answers": {"architecture": {0: True, 1: False}}}
    at.run()
    assert "opened 2 of 9 lessons and answered 2 quiz questions (1 right)" in at.info[0].value
    captions = _captions(at)
    assert captions.count("Your progress") == 2  # both lessons belong to one phase each, so each is listed once
    assert "Your progress: opened, quiz: 1 of 2 answered right." in captions
    assert "Your progress: opened." in captions


def test_a_lesson_records_that_it_was_opened_and_each_quiz_answer_once():
    at = walk.open_lesson("architecture")
    assert not at.exception
    assert at.session_state[course_path.PROGRESS_KEY]["opened"] == ["architecture"]
    quiz = [r for r in at.radio if r.key == "architecture._quiz.0"][0]
    wrong = next(o for o in quiz.options if o != quiz.options[_right_index(0)])
    quiz.set_value(wrong).run()
    assert at.session_state[course_path.PROGRESS_KEY]["answers"]["architecture"] == {0: False}
    quiz = [r for r in at.radio if r.key == "architecture._quiz.0"][0]
    quiz.set_value(quiz.options[_right_index(0)]).run()  # a second answer replaces the first
    assert at.session_state[course_path.PROGRESS_KEY]["answers"]["architecture"] == {0: True}
    assert at.session_state[course_path.PROGRESS_KEY]["opened"] == ["architecture"]


def _right_index(question: int) -> int:
    from lessons.architecture import page

    return page._quiz()[question].answer
