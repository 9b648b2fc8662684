"""Every part of lessons/ui.py, exercised through a small page under tests/ with AppTest."""
import runpy
from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).with_name("scaffold") / "page.py")


def run_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.run()
    assert not at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [s.value for s in at.success] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [e.value for e in at.error]
    return "\n".join(parts)


def test_header_objectives_and_what_you_see():
    at = run_page()
    assert at.title[0].value == "Scaffold test page"
    body = texts(at)
    assert "Objective one" in body and "Why: a paragraph" in body
    assert "3 squared is 9." in body
    assert at.subheader.values[:2] == ["What you see", "Try this"]


def test_a_failing_section_shows_its_message_and_the_page_goes_on():
    at = run_page()
    assert [m.label for m in at.metric] == ["result", "quotient"]  # 3 squared: nothing fails
    at.selectbox(key="scaffold.shape").set_value("cube").run()
    assert not at.exception  # no page-wide error
    assert [m.label for m in at.metric] == ["result"]
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("Could not divide by the result minus 27.") and "division by zero" in message
    assert "Traceback" not in message
    assert at.subheader.values[:2] == ["What you see", "Try this"]  # the sections after it are drawn


def test_experiment_needs_a_prediction_then_sets_controls_and_checks():
    at = run_page()
    setup = at.button(key="scaffold._setup.five")
    assert setup.disabled
    at.radio(key="scaffold._predict.five").set_value("25").run()
    assert not at.button(key="scaffold._setup.five").disabled
    at.button(key="scaffold._setup.five").click().run()
    assert at.slider(key="scaffold.n").value == 5
    assert "The expected effect appeared on this run. The result is 25." in texts(at)
    assert "Your prediction matched." in texts(at)
    at.slider(key="scaffold.n").set_value(6).run()
    assert "You changed n since setting up this experiment" in texts(at)


def test_experiment_that_does_not_show_its_effect_says_so():
    at = run_page()
    at.radio(key="scaffold._predict.wrong").set_value("yes").run()
    at.button(key="scaffold._setup.wrong").click().run()
    assert at.selectbox(key="scaffold.shape").value == "cube"
    assert "did not appear on this run. The result is 8." in texts(at)


def test_quiz_feedback_right_and_wrong():
    at = run_page()
    at.radio(key="scaffold._quiz.0").set_value("3").run()
    assert "Not quite. Two and two make four." in texts(at)
    at.radio(key="scaffold._quiz.0").set_value("4").run()
    assert "Right. Two and two make four." in texts(at)


def test_reset_restores_defaults():
    at = run_page()
    at.slider(key="scaffold.n").set_value(8).run()
    at.selectbox(key="scaffold.shape").set_value("cube").run()
    at.button(key="scaffold._reset_button").click().run()
    assert at.slider(key="scaffold.n").value == 3
    assert at.selectbox(key="scaffold.shape").value == "square"


def test_presenter_mode_hides_prose_but_keeps_the_picture():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["presenter"] = True
    at.run()
    body = texts(at)
    assert "Objective one" not in body
    assert "Check yourself" not in at.subheader.values and "Do it yourself" not in at.subheader.values
    assert at.metric[0].value == "9"
    assert "What you see" in at.subheader.values


def test_controls_come_from_the_share_link():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["scaffold.n"] = "7"
    at.run()
    assert not at.exception
    assert at.slider(key="scaffold.n").value == 7
    assert at.metric[0].value == "49"


def test_a_share_link_value_that_no_longer_exists_is_named_and_the_default_shown():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["scaffold.n"] = "50"  # beyond the slider's range
    at.query_params["scaffold.shape"] = "[tesseract](http://example.org)"  # not an option; markdown in a link
    at.run()
    assert not at.exception
    assert at.slider(key="scaffold.n").value == 3 and at.selectbox(key="scaffold.shape").value == "square"
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2
    assert warnings[0].startswith("This link asked for n “50”, which the page no longer offers")
    assert "shape “?tesseract??http???example.org?”" in warnings[1]  # no markdown survives from the URL
    at.slider(key="scaffold.n").set_value(4).run()  # the next change: the link's values are gone, so is the notice
    assert at.warning.values == [] and at.metric[0].value == "16"


def test_a_share_link_that_spells_out_a_default_gets_no_notice():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["scaffold.n"] = "3"
    at.query_params["scaffold.shape"] = "Square"
    at.run()
    assert at.warning.values == [] and at.metric[0].value == "9"


def test_do_it_yourself_code_is_shown_and_runs(capsys):
    at = run_page()
    script = Path(PAGE).with_name("diy.py")
    assert script.read_text().strip() in [c.value.strip() for c in at.code]
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip() == "9"


def test_share_link_carries_a_value_equal_to_the_widgets_first_option():
    """A bound widget drops its own default from the URL: the lesson default must be that default."""
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["scaffold.n"] = "1"  # the slider's minimum
    at.query_params["scaffold.shape"] = "square"  # the first option, also the lesson default
    at.run()
    assert at.slider(key="scaffold.n").value == 1
    assert at.metric[0].value == "1"


def test_at_defaults_follows_the_controls():
    import streamlit as st  # noqa: F401

    at = AppTest.from_string(
        "import streamlit as st\nfrom lessons import ui\n"
        "page = ui.LessonPage('s', 'S', defaults={'n': 3, 'shape': 'square'})\n"
        "page.control(st.slider, 'n', 'n', 1, 10)\n"
        "st.write('defaults' if page.at_defaults() else 'changed')\n"
        "st.write('n default' if page.at_defaults(['n']) else 'n changed')", default_timeout=30)
    at.run()
    assert [m.value for m in at.markdown] == ["defaults", "n default"]
    at.slider(key="s.n").set_value(4).run()
    assert [m.value for m in at.markdown] == ["changed", "n changed"]


def share_links(at: AppTest) -> list[str]:
    """The Share popover's link (a code block without a language; AppTest has no base URL, so it starts
    with the page's own path). AppTest has no browser to write a moved control into the URL, so these
    tests start from a link; Chromium checks the link after a change (tests/e2e: attention, training)."""
    return [c.value for c in at.code if c.value.startswith("/")]


def test_a_page_without_a_view_fragment_has_its_share_link_once_also_in_presenter_mode():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["scaffold.n"] = "5"
    at.run()
    assert not at.exception
    assert share_links(at) == ["/scaffold?scaffold.n=5"]  # drawn by try_this, the first section after the view
    at.session_state["presenter"] = True
    at.run()  # presenter mode hides the prose sections, not the link
    assert "Check yourself" not in at.subheader.values and share_links(at) == ["/scaffold?scaffold.n=5"]


def test_a_view_fragment_draws_the_share_link():
    at = AppTest.from_string(
        "import streamlit as st\nfrom lessons import ui\n"
        "page = ui.LessonPage('s', 'S', defaults={'k': 2})\n"
        "page.header('Why.', ['One'])\n"
        "def draw(page, result):\n"
        "    k = page.control(st.slider, 'k', 'k', 1, 5)\n"
        "    return [f'k is {k}.']\n"
        "page.view_fragment('Only', draw, {})\n"
        "page.try_this([], None)\npage.quiz([])\n", default_timeout=30)
    at.query_params["s.k"] = "4"
    at.run()
    assert not at.exception and at.slider(key="s.k").value == 4
    assert share_links(at) == ["/s?s.k=4"]
