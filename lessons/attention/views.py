"""The lesson's six views. Each draws its controls (page.control: part of the share link), gets its
result (shipped or live, helpers.py), draws its charts and returns the "What you see" sentences;
it stores what the "Try this" checks read in `result`. No torch at module level."""
from __future__ import annotations

import numpy as np
import streamlit as st

from lessons import ui
from lessons.attention import charts, compute, content, flow, helpers, measures, rollout
from lessons.attention import settings as S


def _layer_head(page: ui.LessonPage, layer_label: str = "Layer", head_label: str = "Head") -> tuple[int, int]:
    a, b = st.columns(2)
    with a:
        layer = page.control(st.selectbox, "layer", layer_label, S.LAYERS)
    with b:
        head = page.control(st.selectbox, "head", head_label, S.HEADS)
    return layer, head


def _token_control(page: ui.LessonPage, tokens: list[str]) -> int:
    """The focus token, by index. A token picked for one text means nothing in another, so when the
    student edits the text (and the token stayed as it was) the focus goes back to every token; a
    preset or share link that sets both keeps its token."""
    options = list(range(S.ALL_TOKENS, len(tokens)))
    key, last_key = page.key("token"), page.key("_token_for")
    current = st.session_state.get(key, S.ALL_TOKENS)
    last_tokens, last_token = st.session_state.get(last_key, (tokens, current))
    if current not in options or (last_tokens != tokens and last_token == current):
        st.session_state[key] = S.ALL_TOKENS
    focus = page.control(st.selectbox, "token", "Focus on one token", options,
                         format_func=lambda i: "every token" if i == S.ALL_TOKENS else f"{i} {tokens[i]}",
                         help="Keep only the lines that leave this token.")
    st.session_state[last_key] = (tokens, focus)
    return focus


def _text_input(page: ui.LessonPage) -> tuple[dict, str, str, str]:
    sentence, second = helpers.text_controls(page)
    data, source = helpers.text_result(page, sentence, second)
    helpers.show_tokens(data, sentence, second)
    return data, source, sentence, second


# --------------------------------------------------------------------------- text views


def head_view(page: ui.LessonPage, result: dict) -> list[str]:
    data, source, _, _ = _text_input(page)
    tokens, att = data["tokens"], data["attentions"]
    a, b = st.columns([2, 1])
    with a:
        layer, head = _layer_head(page)
    with b:
        focus = _token_control(page, tokens)
    height = page.chart_height(max(160, 24 * len(tokens)))
    page.chart(charts.head_view(tokens, att[layer - 1, head - 1], focus, height, f"Layer {layer}, head {head}"),
               "Head view: a line from each token on the left to every token it attends to on the right; darker = "
               "more attention (lines under 1% are left out). Hover a line for its weight.", key=f"{S.SLUG}._head_view")
    result["head"] = {"tokens": tokens, "attentions": att, "layer": layer, "head": head, "source": source}
    return content.head_sentences(tokens, att, layer, head, focus, source)


def model_view(page: ui.LessonPage, result: dict) -> list[str]:
    data, source, _, _ = _text_input(page)
    tokens, att = data["tokens"], data["attentions"]
    layer, head = _layer_head(page, "Enlarge: layer", "Enlarge: head")
    shown = min(len(tokens), S.MODEL_VIEW_TOKENS)
    if shown < len(tokens):
        st.info(f"The 72 small heatmaps show the first {shown} of the {len(tokens)} tokens; the enlarged head below "
                "shows all of them.")
    page.chart(charts.model_view(tokens[:shown], att[:, :, :shown, :shown], (layer, head), page.chart_height(560)),
               "Model view: every head of every layer, rows = tokens attending, columns = tokens attended to; the red "
               "frame marks the head enlarged below. Hover a cell for its weight.")
    labels = charts.token_labels(tokens)
    page.chart(charts.heatmap(att[layer - 1, head - 1], labels, labels, f"Layer {layer}, head {head}",
                              page.chart_height(24 if len(tokens) <= S.VALUE_LABEL_TOKENS else 16),
                              values=len(tokens) <= S.VALUE_LABEL_TOKENS, domain_max=1.0),
               "The enlarged head with its weights (each row sums to 1)." +
               ("" if len(tokens) <= S.VALUE_LABEL_TOKENS else " Hover a cell for its value."),
               key=f"{S.SLUG}._enlarged")
    result["head"] = {"tokens": tokens, "attentions": att, "layer": layer, "head": head, "source": source}
    return content.model_sentences(tokens, att, layer, head, source)


def rollout_view(page: ui.LessonPage, result: dict) -> list[str]:
    data, source, sentence, second = _text_input(page)
    tokens, att = data["tokens"], data["attentions"]
    a, b = st.columns(2)
    with a:
        hide_cls = page.control(st.toggle, "hide_cls", "Hide [CLS]")
    with b:
        hide_sep = page.control(st.toggle, "hide_sep", "Hide [SEP]")
    drop = [i for i, t in enumerate(tokens) if (hide_cls and t == "[CLS]") or (hide_sep and t == "[SEP]")]
    raw, keep = rollout.without_tokens(att[-1].mean(0), drop)
    rolled, _ = rollout.without_tokens(rollout.attention_rollout(att), drop)
    flowed = None
    if len(tokens) <= flow.MAX_TOKENS:
        flow_data, _ = helpers.shipped_or(page, compute.flow_key(sentence, second), helpers.live_flow, sentence, second)
        flowed = flow_data["flow"]
    if not keep:
        st.info("Nothing left to draw: the text has no words once [CLS] and [SEP] are hidden.")
        return content.rollout_and_flow_sentences(tokens, att, flowed, source)
    labels = charts.token_labels(tokens, keep)
    height = page.chart_height(18)  # px per row
    left, right = st.columns(2)
    with left:
        page.chart(charts.heatmap(raw, labels, labels, "Raw attention, layer 6 (mean of 12 heads)", height),
                   "What the last layer's heads read, averaged.", key=f"{S.SLUG}._raw")
    with right:
        page.chart(charts.heatmap(rolled, labels, labels, "Attention rollout, layers 1-6", height),
                   "0.5 A + 0.5 I per layer (heads averaged, rows renormalised), multiplied across the 6 layers.",
                   key=f"{S.SLUG}._rollout")
    rows = {"raw, layer 6": raw[0], "rollout": rolled[0]}
    left, right = st.columns(2)
    with left:
        if flowed is None:
            st.info(f"Attention flow solves one maximum-flow problem for every pair of tokens ({len(tokens)}² = "
                    f"{len(tokens) ** 2:,} here), so the page computes it for texts of at most {flow.MAX_TOKENS} "
                    f"tokens; this one has {len(tokens)}. Shorten the text to see it.")
        else:
            shown, _ = rollout.without_tokens(flowed, drop)
            rows["flow"] = shown[0]
            page.chart(charts.heatmap(shown, labels, labels, "Attention flow, layers 1-6", height,
                                      domain_min=float(shown.min())),
                       "The maximum flow from each token after layer 6 to each input token through the graph of the "
                       "same 0.5 A + 0.5 I layers, rows normalised (Abnar & Zuidema 2020). Colours run from this "
                       "map's smallest to its largest value: its differences are small.", key=f"{S.SLUG}._flow")
    with right:
        page.chart(charts.row_bars(rows, labels, page.chart_height(max(200, 10 * len(rows) * len(labels)))),
                   f"One row of each map: what {labels[0]} traces back to.", key=f"{S.SLUG}._rows")
    if drop:
        st.caption("With tokens hidden, each row is renormalised over the tokens that are left.")
    return content.rollout_and_flow_sentences(tokens, att, flowed, source)


def ablation_view(page: ui.LessonPage, result: dict) -> list[str]:
    sentence, second = helpers.text_controls(page)
    data, source = helpers.shipped_or(page, compute.ablation_key(sentence, second), helpers.live_ablation,
                                      sentence, second)
    if bool(data["truncated"]):
        st.warning("Your text is longer than the model reads: the ablation uses its first 256 wordpieces.")
    layer, head = _layer_head(page, "Zero: layer", "Zero: head")
    pair = bool(data["pair"])
    title = "change of the pair's cosine similarity" if pair else "1 \u2212 cos(embedding, embedding without the head)"
    page.chart(charts.ablation_scatter(data["word_share"], data["effect"], (layer, head), page.chart_height(380), title),
               "One point per head (72): how much of the words' attention it puts on other words (x) against how much "
               "zeroing its output moves the " + ("pair's similarity" if pair else "sentence embedding") +
               " (y). The framed point is the head chosen above.", key=f"{S.SLUG}._ablation")
    result["ablation"] = {"data": data, "source": source, "layer": layer, "head": head}
    return content.ablation_sentences(data, layer, head, source)


# --------------------------------------------------------------------------- images and the toy model


def _class_label(c: int) -> str:
    return "the predicted class" if c == S.PREDICTED else f"class {c}"


def vit_view(page: ui.LessonPage, result: dict) -> list[str]:
    a, b, c, d, e = st.columns([3, 1, 1, 1, 2])
    with a:
        digit = page.control(st.slider, "digit", "Held-out digit (index)", 0, S.DIGITS - 1,
                             help="The 1,000 digits the ViT was not trained on, in the order 0, 1, 2, ... 9, 0, 1, ...")
    with b:
        layer = page.control(st.selectbox, "vit_layer", "Layer", S.VIT_LAYERS)
    with c:
        fusion = page.control(st.selectbox, "fusion", "Head fusion", S.FUSIONS,
                              help="How rollout and flow combine the heads of a layer (vit-explain).")
    with d:
        discard = page.control(st.selectbox, "discard", "Discard ratio", S.DISCARDS,
                               format_func=lambda r: f"{r:.0%}",
                               help="Rollout, flow and Grad-rollout drop this share of each layer's lowest weights "
                                    "before adding the identity.")
    with e:
        chosen = page.control(st.selectbox, "vit_class", "Explain class", S.VIT_CLASSES, format_func=_class_label,
                              help="The class whose score Grad-rollout and Grad-CAM follow. Raw attention, rollout "
                                   "and flow do not depend on it.")
    data, source = helpers.shipped_or(page, compute.digit_key(digit), helpers.live_digit, digit)
    att = data["attentions"]  # (depth, H, T, T)
    predicted = int(np.argmax(data["probs"]))
    target = predicted if chosen == S.PREDICTED else int(chosen)
    heads = measures.cls_attention_grid(att[layer - 1], 4)  # (H, 4, 4)
    size = page.chart_height(110)
    per_head = {f"head {h + 1}": heads[h] for h in range(len(heads))} | {"mean of heads": heads.mean(0)}
    page.chart(charts.digit_overlays(data["pixels"], per_head, size),
               f"[CLS] attention to the 16 patches in layer {layer}, per head (each map scaled to its own maximum).",
               key=f"{S.SLUG}._vit_heads")
    layers = rollout.residual_layers(att, fusion, discard)  # (depth, T, T)
    agnostic = {"raw attention (last layer)": measures.cls_attention_grid(att[-1].mean(0), 4),
                "rollout": measures.cls_attention_grid(rollout.multiply_layers(layers)[-1], 4),
                "attention flow": flow.attention_flow(layers, [0])[0, 1:].reshape(4, 4)}
    page.chart(charts.digit_overlays(data["pixels"], agnostic, page.chart_height(150)),
               f"Class-agnostic: the last layer's [CLS] attention (mean of heads), rollout and attention flow through "
               f"the 4 layers ({fusion} fusion, lowest {discard:.0%} discarded). The same for every class.",
               key=f"{S.SLUG}._vit_compare")
    specific = {f"Grad-rollout, class {target}": measures.grad_rollout_grid(att, data["gradients"][target], discard),
                f"Grad-CAM, class {target}": data["gradcam"][target]}
    if target != predicted:
        specific[f"Grad-rollout, class {predicted} (predicted)"] = measures.grad_rollout_grid(att, data["gradients"][predicted], discard)
    page.chart(charts.digit_overlays(data["pixels"], specific, page.chart_height(150)),
               f"Class-specific: Grad-rollout (each head's attention times the gradient of the class-{target} score, "
               "negative parts clamped, heads averaged, rolled out with the identity; vit-explain, Chefer et al. "
               "2021) and Grad-CAM at the last block's attention input for the same class.",
               key=f"{S.SLUG}._vit_specific")
    result["vit"] = {"data": data, "source": source, "target": target}
    return content.vit_sentences(data, layer, fusion, discard, agnostic, target, source)


def toy_view(page: ui.LessonPage, result: dict) -> list[str]:
    task = page.control(st.segmented_control, "task", "Task", list(S.TASKS), format_func=S.TASKS.get, required=True)
    data, source = helpers.shipped_or(page, compute.toy_key(task), helpers.live_toy, task)
    patterns = {f"head {h + 1} (score {m:.0%})": data["mean_pattern"][h] for h, m in enumerate(data["mass"])}
    patterns["expected"] = data["expected"]
    page.chart(charts.pattern_row(patterns, page.chart_height(190)),
               "Learned attention of the toy transformer's two heads (mean over 256 held-out sequences) next to the "
               "pattern a correct head must have. Score = mean mass on the expected key.", key=f"{S.SLUG}._toy")
    result["toy"] = {"data": data, "source": source, "task": task}
    return content.toy_sentences(data, task, source)


VIEW_FUNCTIONS = {"Head view": head_view, "Model view": model_view, "Rollout": rollout_view,
                  "Ablation": ablation_view, "Digits ViT": vit_view, "Known answer": toy_view}
