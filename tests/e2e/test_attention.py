"""The attention lesson in real Chromium: every view draws, a layer change redraws the head view
and enters the share link, and typed HTML is shown as text, never run."""
from tests.e2e.conftest import choose, exceptions, share_popover_link, wait_for_run, wait_until

PICTURES = '[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], .stPlotlyChart'


def body(page) -> str:
    return page.locator("body").inner_text()


def test_a_new_layer_redraws_the_head_view_and_enters_the_share_link(open_page):
    page = open_page("attention")
    assert "Layer 4, head 2: on average" in body(page)
    choose(page, "Layer", "1")
    wait_for_run(page)
    wait_until(page, lambda: "attention.layer=1" in page.url, what="the share link")
    wait_until(page, lambda: "Layer 1, head 2: on average" in body(page), what="the redraw")
    assert exceptions(page) == []
    # The Layer box is in the view's fragment, whose rerun leaves the header alone: its Share link follows too.
    assert "attention.layer=1" in share_popover_link(page)


def test_typed_html_is_shown_as_text_and_never_run(open_page):
    page = open_page("attention")
    box = page.get_by_label("Text (a sentence, or the first of a pair)")
    box.fill("<img src=x onerror=\"window.__attack=1\"><b>boldface</b> \u05e9\u05dc\u05d5\u05dd \U0001f600")
    box.press("Control+Enter")
    wait_for_run(page)
    wait_until(page, lambda: "your live attention" in body(page), timeout_ms=120_000, what="the live run")
    assert exceptions(page) == []
    assert page.evaluate("() => window.__attack === undefined")
    assert page.evaluate("() => [...document.querySelectorAll('b')].every(b => !b.innerText.includes('boldface'))")
    code = page.locator('[data-testid="stCode"]').first.inner_text()
    assert "< im ##g" in code and "< b > bold ##face < / b >" in code  # the wordpieces, as plain text


def test_the_discard_ratio_redraws_the_rollout_and_enters_the_share_link(open_page):
    page = open_page("attention?attention.view=Digits+ViT")
    wait_until(page, lambda: "discarding the lowest 0%" in body(page), what="the ViT view")
    choose(page, "Discard ratio", "90%")
    wait_for_run(page)
    wait_until(page, lambda: "attention.discard=90%25" in page.url or "attention.discard=90%" in page.url,
               what="the share link")
    wait_until(page, lambda: "discarding the lowest 90%" in body(page), what="the redraw")
    assert exceptions(page) == [] and "Could not" not in body(page)
