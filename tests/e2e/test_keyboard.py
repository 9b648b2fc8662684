"""Issue #20: every kind of control the course uses works with the keyboard alone. Each control is
focused (as Tab would: tests/e2e/test_accessibility.py checks that Tab reaches every control of every
view) and operated with keys only, never the mouse; each test asserts what the student then sees: the
share link follows the control, the text or the page changes, a download or a file chooser starts."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from lessons.features.settings import TRANSFORMS

from tests.e2e.conftest import exceptions, wait_for_run, wait_until


def focus(locator) -> None:
    locator.scroll_into_view_if_needed()
    locator.focus()


def in_url(page, text: str, what: str) -> None:
    wait_until(page, lambda: text in page.url, what=what)
    wait_for_run(page)


def query_number(page, key: str) -> float | None:
    """The share link's number for `key` (None while the parameter is absent)."""
    values = parse_qs(urlsplit(page.url).query).get(key)
    return float(values[0]) if values else None


def shared_transforms(page) -> set[str]:
    """The transformations the share link names; all four while the parameter is absent (the default)."""
    values = parse_qs(urlsplit(page.url).query).get("features.transforms")  # one parameter per pill
    return set(values) if values else set(TRANSFORMS)


def labelled(page, testid: str, label: str):
    return page.locator(f'[data-testid="{testid}"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').filter(has_text=label)).first


@pytest.mark.e2e
def test_gradients_controls_work_with_the_keyboard(open_page):
    page = open_page("gradients")
    keys = page.keyboard

    # st.segmented_control (the View): arrow to the next option, Enter picks it
    focus(page.get_by_role("radiogroup", name="View").get_by_role("radio", name="Norms"))
    keys.press("ArrowRight")
    keys.press("Enter")
    in_url(page, "gradients.view=Gradient+flow", "the view picked with the keyboard")

    # st.radio: arrow keys move the choice
    focus(labelled(page, "stRadio", "Step").locator('input[type="radio"]:checked'))
    keys.press("ArrowDown")
    in_url(page, "gradients.at_step=", "the radio moved with the arrow key")

    # st.selectbox: type to filter, Enter chooses
    focus(labelled(page, "stSelectbox", "Activation").get_by_role("combobox"))
    keys.type("sigmoid")
    keys.press("Enter")
    in_url(page, "gradients.activation=sigmoid", "the select box chosen with the keyboard")

    # st.select_slider: the arrow key moves the thumb one step
    focus(labelled(page, "stSlider", "Depth").get_by_role("slider"))
    before = page.url
    keys.press("ArrowRight")
    wait_until(page, lambda: "gradients.depth=" in page.url and page.url != before, what="the depth slider moved")
    wait_for_run(page)

    # st.toggle / st.checkbox: Space flips it
    focus(page.locator('[data-testid="stCheckbox"]').filter(has_text="Residual connections").locator("input"))
    keys.press("Space")
    in_url(page, "gradients.residual=true", "the residual toggle switched with Space")

    # st.number_input: the arrow key steps the value
    focus(page.locator('[data-testid="stNumberInputField"]').first)
    keys.press("ArrowUp")
    in_url(page, "gradients.seed=1", "the seed stepped with the arrow key")

    # st.expander: Enter on its header folds it
    summary = page.locator('[data-testid="stExpander"] summary').filter(has_text="Network").first
    details = summary.locator("xpath=..")  # the <details> element the summary heads
    was_open = details.get_attribute("open") is not None
    focus(summary)
    keys.press("Enter")
    wait_until(page, lambda: (details.get_attribute("open") is not None) != was_open, what="the expander folded")

    # st.popover: Enter opens the Share popover with the link
    focus(page.locator('[data-testid="stPopoverButton"]').filter(has_text="Share").first)
    keys.press("Enter")
    wait_until(page, lambda: page.locator('[data-testid="stPopoverBody"]').count() > 0
               and "gradients.residual=true" in page.locator('[data-testid="stPopoverBody"]').first.inner_text(),
               what="the share popover with the current link")
    keys.press("Escape")

    # st.button: Enter on Reset brings every control back to its default
    focus(page.get_by_role("button", name="Reset"))
    keys.press("Enter")
    wait_until(page, lambda: "gradients.residual" not in page.url and "gradients.activation" not in page.url,
               what="Reset pressed with Enter")
    wait_for_run(page)

    # st.download_button: Enter downloads the lesson's notebook
    with page.expect_download() as download:
        focus(page.get_by_role("button", name="Download as a Jupyter notebook"))
        keys.press("Enter")
    assert download.value.suggested_filename.endswith(".ipynb")

    # st.page_link: Enter follows the next-lesson link
    focus(page.get_by_role("link", name="Next lesson: Loss landscapes"))
    keys.press("Enter")
    wait_until(page, lambda: "/landscapes" in page.url, what="the next lesson opened with Enter")
    wait_for_run(page)
    assert exceptions(page) == []


@pytest.mark.e2e
def test_text_fields_multiselects_and_uploads_work_with_the_keyboard(open_page):
    page = open_page("embeddings")
    keys = page.keyboard

    # st.multiselect: type to filter, Enter adds the label, Escape closes the list
    focus(labelled(page, "stMultiSelect", "Show only these labels").get_by_role("combobox"))
    keys.type("3")
    keys.press("Enter")
    keys.press("Escape")
    in_url(page, "embeddings.labels=3", "a label added with the keyboard")

    # st.text_input: type, Enter submits
    focus(labelled(page, "stTextInput", "Search").locator("input"))
    keys.type("#12")
    keys.press("Enter")
    in_url(page, "embeddings.search=%2312", "the search typed and submitted")
    assert exceptions(page) == []

    page = open_page("attention")
    keys = page.keyboard
    # st.text_area: type, Ctrl+Enter submits
    area = labelled(page, "stTextArea", "Text").locator("textarea")
    focus(area)
    keys.press("Control+A")
    keys.type("The cat sat on the mat.")
    keys.press("Control+Enter")
    in_url(page, "attention.sentence=The+cat+sat", "the sentence typed and submitted")
    assert exceptions(page) == []

    page = open_page("factorization")
    keys = page.keyboard
    # st.file_uploader: Enter on "Browse files" opens the file chooser
    focus(labelled(page, "stSelectbox", "Photo").get_by_role("combobox"))
    keys.type("upload your own")
    keys.press("Enter")
    wait_for_run(page)
    browse = page.locator('[data-testid="stFileUploader"]').get_by_role("button").first
    with page.expect_file_chooser() as chooser:
        focus(browse)
        keys.press("Enter")
    assert chooser.value is not None
    assert exceptions(page) == []


@pytest.mark.e2e
def test_sliders_and_pills_work_with_the_keyboard(open_page):
    page = open_page("training")
    # st.slider: Home jumps to the start, the arrow key moves the thumb one step
    focus(labelled(page, "stSlider", "Smoothing").get_by_role("slider"))
    page.keyboard.press("Home")
    wait_until(page, lambda: query_number(page, "training.smoothing") == 0.0,
               what="the smoothing slider sent to its start with Home")
    wait_for_run(page)
    page.keyboard.press("ArrowRight")
    wait_until(page, lambda: query_number(page, "training.smoothing") == 0.01,
               what="the smoothing slider moved one step")
    wait_for_run(page)
    assert exceptions(page) == []

    page = open_page("features?features.view=Optimize")
    # st.pills (several may be on): Enter switches the focused pill off, and on again
    pad = labelled(page, "stButtonGroup", "Transformation robustness").get_by_role("button", name="pad", exact=True)
    assert pad.get_attribute("aria-pressed") == "true"
    focus(pad)
    page.keyboard.press("Enter")
    wait_until(page, lambda: "features.transforms=jitter" in page.url and pad.get_attribute("aria-pressed") == "false",
               what="the pad pill switched off with Enter")
    wait_for_run(page)
    focus(pad)
    page.keyboard.press("Space")
    # the pill order in the link may change once pad is back, so the check reads the set it names
    wait_until(page, lambda: pad.get_attribute("aria-pressed") == "true" and "pad" in shared_transforms(page),
               what="the pad pill switched on again with Space")
    wait_for_run(page)
    assert exceptions(page) == []
