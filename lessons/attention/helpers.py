"""What the views share: the text controls, the shipped-or-live lookup and the cached live
computations (st.cache_data on plain values, bounded). No torch at module level."""
from __future__ import annotations

import streamlit as st

from lessons import ui
from lessons.attention import compute, store
from lessons.attention.settings import MAX_TEXT_CHARS, PRESETS, SLUG
from lessons.callbacks import runs_whole

EXAMPLE_KEY = f"{SLUG}._example"


def shipped_or(page: ui.LessonPage, key: str, live, *args):
    """(result, "shipped" | "live"): the shipped result for `key`, else `live(*args)` after go_live."""
    hit = store.shipped(key)
    if hit is not None:
        return hit, "shipped"
    page.go_live()
    return live(*args), "live"


@st.cache_data(max_entries=16, show_spinner="Running all-MiniLM-L6-v2 on your text…")
def live_text(sentence: str, second: str) -> dict:
    return compute.text_result(sentence, second)


@st.cache_data(max_entries=16, show_spinner="Solving a maximum-flow problem for every pair of tokens…")
def live_flow(sentence: str, second: str) -> dict:
    return compute.flow_result(sentence, second)


@st.cache_data(max_entries=8, show_spinner="Zeroing each of the 72 heads in turn…")
def live_ablation(sentence: str, second: str) -> dict:
    return compute.ablation_result(sentence, second)


@st.cache_data(max_entries=32, show_spinner="Running the tiny ViT, its attention gradients and Grad-CAM on the digit…")
def live_digit(index: int) -> dict:
    return compute.digit_result(index)


@st.cache_data(max_entries=2, show_spinner="Scoring the toy model's heads…")
def live_toy(task: str) -> dict:
    return compute.toy_result(task)


@runs_whole
def _apply_example(page: ui.LessonPage) -> None:
    name = st.session_state.get(EXAMPLE_KEY)
    if name in PRESETS:
        page.set_values(PRESETS[name])


def text_controls(page: ui.LessonPage) -> tuple[str, str]:
    """The example picker, the sentence and the optional second sentence; returns (sentence, second)."""
    left, right = st.columns([1, 2])
    with left:
        st.selectbox("Example", list(PRESETS), index=None, placeholder="Pick an example…", key=EXAMPLE_KEY,
                     on_change=_apply_example, args=(page,),
                     help="Each example sets the text and the layer and head where a known pattern shows.")
    with right:
        sentence = page.control(st.text_area, "sentence", "Text (a sentence, or the first of a pair)",
                                max_chars=MAX_TEXT_CHARS, height=68)
    second = page.control(st.text_input, "second", "Second sentence (optional: makes a pair)", max_chars=MAX_TEXT_CHARS)
    return sentence or "", second or ""


def text_result(page: ui.LessonPage, sentence: str, second: str) -> tuple[dict, str]:
    return shipped_or(page, compute.text_key(sentence, second), live_text, sentence, second)


def show_tokens(data: dict, sentence: str, second: str) -> None:
    """The wordpieces as the model reads them (as plain text), and notes on empty or cut text."""
    tokens = data["tokens"]
    if not sentence.strip() and not second.strip():
        st.info("The text is empty: the model sees only [CLS] and [SEP]. Type a sentence or pick an example.")
    if bool(data["truncated"]):
        st.warning(f"Your text is longer than the model reads: it was cut to {len(tokens)} wordpieces (the model's "
                   "limit of 256, counting [CLS] and [SEP]), as sentence-transformers cuts it. The views show those.")
    st.caption(f"{len(tokens)} tokens as the model sees them (wordpieces; ## continues the word before):")
    st.code(" ".join(tokens), language=None, wrap_lines=True)
