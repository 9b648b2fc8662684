"""Every control of every attention view worked in real Chromium, as a student would, each with an
asserted effect: typed sentences and pairs, the presets, the selectors, token focus, hide [CLS]/[SEP],
ablation, the ViT digit, fusion, discard ratio and class, the toy task, presenter mode, Reset, bad
input (empty, whitespace, 10,000 characters, emoji, right-to-left, HTML) and a share link whose
values no longer exist."""
import re

from tests.e2e.conftest import exceptions, wait_for_run, wait_until
from tests.e2e.test_attention import PICTURES, body, choose

TEXT_BOX = "Text (a sentence, or the first of a pair)"
SECOND_BOX = "Second sentence (optional: makes a pair)"
LIVE = 120_000  # a first live computation may wait for the lesson's warm-up on a loaded machine


def pick_view(page, view: str) -> None:
    page.get_by_role("radiogroup", name="View").get_by_role("radio", name=view, exact=True).click()
    wait_for_run(page)
    if view == "Head view":  # the default: a bound control leaves it out of the link
        wait_until(page, lambda: "attention.view=" not in page.url, what="the Head view link")
    else:
        wait_until(page, lambda: "attention.view=" + view.replace(" ", "+") in page.url, what=f"the {view} link")


def type_text(page, text: str, second: str | None = None) -> None:
    box = page.get_by_label(TEXT_BOX)
    box.fill(text)
    box.press("Control+Enter")
    wait_for_run(page)
    if second is not None:
        other = page.get_by_label(SECOND_BOX)
        other.fill(second)
        other.press("Enter")
        wait_for_run(page)


def tokens_shown(page) -> str:
    return page.locator('[data-testid="stCode"]').first.inner_text()


def settled(page, what: str, condition, timeout_ms: int = LIVE) -> None:
    wait_until(page, condition, timeout_ms=timeout_ms, what=what)
    assert exceptions(page) == [], what
    assert "Could not" not in body(page), what


def test_text_views_every_control(open_page):
    page = open_page("attention")
    # presets: each sets the text, the layer and the head
    for name, sentence_start, layer, head in [("A previous-token head", "The quick brown fox", 1, 3),
                                              ("A next-token head", "The quick brown fox", 2, 9),
                                              ("A head that parks on [CLS]", "The quick brown fox", 5, 6),
                                              ("A sentence pair", "A man is playing", 3, 1),
                                              ("A pronoun and its referent", "The animal didn", 4, 2)]:
        choose(page, "Example", name)
        wait_for_run(page)
        settled(page, name, lambda: f"Layer {layer}, head {head}: on average" in body(page)
                and page.get_by_label(TEXT_BOX).input_value().startswith(sentence_start))
    assert "Token 10 \u201cit\u201d attends most to" in body(page)  # the pronoun preset focuses "it"
    # layer, head and the focus token
    choose(page, "Head", "7")
    settled(page, "head 7", lambda: "Layer 4, head 7: on average" in body(page) and "attention.head=7" in page.url)
    choose(page, "Layer", "6")
    settled(page, "layer 6", lambda: "Layer 6, head 7: on average" in body(page))
    choose(page, "Focus on one token", "every token")
    settled(page, "every token", lambda: "The strongest line from a word" in body(page))
    choose(page, "Focus on one token", "2 animal")
    settled(page, "token 3", lambda: "Token 2 \u201canimal\u201d attends most to" in body(page)
            and "attention.token=" in page.url)
    # a typed sentence, then a pair
    type_text(page, "Cats chase mice.")
    settled(page, "typed", lambda: "your live attention" in body(page) and "cats chase mice" in tokens_shown(page))
    assert "The strongest line from a word" in body(page) and "attention.token" not in page.url  # a new text: every token again
    type_text(page, "Cats chase mice.", "Dogs chase cats.")
    settled(page, "pair", lambda: tokens_shown(page).count("[SEP]") == 2 and "dogs" in tokens_shown(page))
    # model view: the enlarge selectors
    pick_view(page, "Model view")
    choose(page, "Enlarge: layer", "2")
    choose(page, "Enlarge: head", "5")
    settled(page, "enlarged 2.5", lambda: "The enlarged head 2.5" in body(page))
    assert page.locator('[data-testid="stPlotlyChart"], .stPlotlyChart').count() >= 1
    # rollout: flow for a short text, both toggles
    pick_view(page, "Rollout")
    settled(page, "flow", lambda: "a row of the attention flow puts at most" in body(page))
    page.get_by_text("Hide [CLS]", exact=True).click()
    settled(page, "hide cls", lambda: "attention.hide_cls=true" in page.url
            and "renormalised over the tokens that are left" in body(page))
    page.get_by_text("Hide [SEP]", exact=True).click()
    settled(page, "hide sep", lambda: "attention.hide_sep=true" in page.url)
    assert "One row of each map: what 1 cats traces back to." in body(page)  # [CLS] hidden: the first word's row
    # ablation: a live pair, a chosen head
    pick_view(page, "Ablation")
    settled(page, "ablation", lambda: "Zeroing head" in body(page) and "changes the pair's cosine similarity" in body(page))
    choose(page, "Zero: layer", "2")
    choose(page, "Zero: head", "4")
    settled(page, "zero 2.4", lambda: "Zeroing head 2.4 changes the pair's cosine similarity" in body(page))


def test_bad_text_in_every_text_view(open_page):
    page = open_page("attention")
    type_text(page, "")
    settled(page, "empty", lambda: "The text is empty" in body(page) and tokens_shown(page).strip() == "[CLS] [SEP]")
    type_text(page, "   \n\t  ")
    settled(page, "whitespace", lambda: "The text is empty" in body(page))
    for view in ("Model view", "Rollout", "Ablation"):
        pick_view(page, view)
        settled(page, f"empty {view}", lambda: "What you see" in body(page) and "Computed on" in body(page))
    pick_view(page, "Rollout")
    page.get_by_text("Hide [CLS]", exact=True).click()
    page.get_by_text("Hide [SEP]", exact=True).click()
    settled(page, "nothing left", lambda: "Nothing left to draw" in body(page))
    page.get_by_text("Hide [CLS]", exact=True).click()
    page.get_by_text("Hide [SEP]", exact=True).click()
    type_text(page, "attention " * 1000)  # 10,000 characters
    settled(page, "long", lambda: "cut to 256 wordpieces" in body(page) and "Shorten the text to see it" in body(page))
    mixed = "\U0001f600 \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 <script>window.__attack=1</script>"  # 25 tokens
    type_text(page, mixed)
    settled(page, "mixed", lambda: "[UNK] \u05e9 ##\u05dc ##\u05d5 ##\u05dd \u0645 ##\u0631" in tokens_shown(page)
            and "< script > window" in tokens_shown(page))
    assert page.evaluate("() => window.__attack === undefined")
    assert "a row of the attention flow" in body(page)
    pick_view(page, "Head view")
    settled(page, "mixed head view", lambda: "Layer 4, head 2: on average" in body(page))
    pick_view(page, "Ablation")
    settled(page, "mixed ablation", lambda: "moves the sentence embedding by" in body(page))


def test_digits_vit_every_control(open_page):
    page = open_page("attention?attention.view=Digits+ViT")
    settled(page, "the ViT view", lambda: "Grad-rollout is class-specific: for class 0" in body(page))
    first = body(page)
    choose(page, "Explain class", "class 9")
    settled(page, "class 9", lambda: "for class 9 it puts its strongest patch" in body(page)
            and "attention.vit_class=class+9" in page.url)
    assert "for class 0 (the predicted class" in body(page) and "the shipped digit" in body(page)
    choose(page, "Head fusion", "max")
    settled(page, "max", lambda: "Rollout and flow with max fusion" in body(page))
    choose(page, "Discard ratio", "80%")
    settled(page, "discard", lambda: "discarding the lowest 80%" in body(page))
    choose(page, "Layer", "2")
    settled(page, "vit layer", lambda: "In layer 2 head" in body(page))
    slider = page.get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    wait_for_run(page)
    settled(page, "digit 1", lambda: "attention.digit=1" in page.url and "your live digit" in body(page)
            and "labelled 1" in body(page))
    assert body(page) != first
    choose(page, "Explain class", "the predicted class")
    settled(page, "predicted", lambda: "Grad-rollout is class-specific: for class 1" in body(page))


def test_known_answer_presenter_mode_reset_and_a_stale_share_link(open_page):
    page = open_page("attention?attention.view=Known+answer")
    settled(page, "reverse", lambda: "Task: reverse the sequence." in body(page))
    page.get_by_role("radiogroup", name="Task").get_by_role("radio", name="Copy the previous token").click()
    wait_for_run(page)
    settled(page, "previous", lambda: "Task: copy the previous token." in body(page) and "attention.task=Copy+the+previous+token" in page.url)
    # presenter mode hides the prose and keeps the picture
    page.get_by_text("Presenter mode", exact=True).click()
    wait_for_run(page)
    settled(page, "presenter", lambda: "Check yourself" not in body(page) and page.locator(PICTURES).count() >= 1)
    page.get_by_text("Presenter mode", exact=True).click()
    wait_for_run(page)
    settled(page, "presenter off", lambda: "Check yourself" in body(page))
    # Reset: every control back to its default
    page.get_by_role("button", name="Reset").click()
    wait_for_run(page)
    settled(page, "reset", lambda: "Layer 4, head 2: on average" in body(page) and "attention.view" not in page.url)
    # a share link whose values no longer exist falls back to the defaults, with no error
    stale = ("attention?attention.view=Digits+ViT&attention.vit_class=class+42&attention.digit=5000"
             "&attention.discard=33%25&attention.fusion=median&attention.vit_layer=7&attention.layer=9")
    page = open_page(stale)
    settled(page, "stale ViT link", lambda: "Grad-rollout is class-specific: for class 0" in body(page)
            and "discarding the lowest 0%" in body(page) and "Rollout and flow with mean fusion" in body(page))
    page = open_page("attention?attention.view=Nope&attention.token=99&attention.head=40")
    settled(page, "stale text link", lambda: "Layer 4, head 2: on average" in body(page)
            and "The strongest line from a word" in body(page))
    assert re.search(r"attention\.(token|head)=", page.url) is None
    page = open_page("attention?attention.view=Known+answer&attention.task=sort")
    settled(page, "stale task link", lambda: "Task: reverse the sequence." in body(page))
