"""The lesson's text: introduction, "What you see" computed from each view's result, the "Try this"
experiments (their checks use the thresholds of measures.py, as the sentences do), the quiz, the
reading. No streamlit, no torch."""
from __future__ import annotations

import numpy as np

from lessons import ui
from lessons.attention import flow, measures, rollout
from lessons.attention.settings import ANIMAL, ANIMAL_WIDE, FOX, TASKS

WHY = """A transformer mixes its tokens with **attention**: every token (a wordpiece of a sentence, or a patch
of an image) takes a weighted average of the others, with weights that sum to 1. Those weights can be drawn,
one picture per head and layer, and they are the first thing people look at **after training and at
inference** to ask what a transformer looks at. This page draws them for a real sentence encoder
(all-MiniLM-L6-v2, 6 layers x 12 heads) and the course's tiny Vision Transformer for digits, combines them
across layers (attention rollout), and tests them: against a toy model whose right attention is known, and
against what happens when a head is switched off. Attention shows where information *can* flow; whether it
explains a prediction is a separate question ("Attention is not Explanation", Jain & Wallace 2019)."""

OBJECTIVES = [
    "Read a head view and a model view: previous-token heads, next-token heads, heads that park on [CLS].",
    "Combine the layers with attention rollout, and see what the residual connection does to it.",
    "Compare raw attention, rollout and attention flow (the same for every class) with Grad-rollout and Grad-CAM "
    "(one class) on the same digit and the same Vision Transformer.",
    "Check attention against ground truth (a toy task) and against ablation: high attention is not high importance.",
]


def source_text(source: str, what: str) -> str:
    return f"the shipped {what} (precomputed for this text)" if source == "shipped" else f"your live {what}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _heads(count: int) -> str:
    return "1 head puts" if count == 1 else f"{count} heads put"


def _q(token: str) -> str:
    return "\u201c" + token + "\u201d"


# --------------------------------------------------------------------------- what you see: text


def head_sentences(tokens: list[str], attentions: np.ndarray, layer: int, head: int, focus: int,
                   source: str) -> list[str]:
    p = measures.head_patterns(attentions, tokens)
    l, h = layer - 1, head - 1
    matrix = attentions[l, h]
    out = [f"Layer {layer}, head {head}: on average the words put {_pct(p['previous'][l, h])} of their attention "
           f"on the previous token, {_pct(p['next'][l, h])} on the next one, {_pct(p['cls'][l, h])} on [CLS] and "
           f"{_pct(p['sep'][l, h])} on [SEP]."]
    if 0 <= focus < len(tokens):
        order = np.argsort(matrix[focus])[::-1][:3]
        out.append(f"Token {focus} {_q(tokens[focus])} attends most to " +
                   ", then ".join(f"{_q(tokens[j])} ({j}, {_pct(matrix[focus, j])})" for j in order) + ".")
    else:
        rows = measures.word_rows(tokens)
        rows = rows if len(rows) else np.arange(len(tokens))
        i, j = np.unravel_index(int(np.argmax(matrix[rows])), (len(rows), len(tokens)))
        i = int(rows[i])
        out.append(f"The strongest line from a word goes from {_q(tokens[i])} ({i}) to {_q(tokens[j])} ({j}), weight "
                   f"{matrix[i, j]:.2f}.")
    for name, label in (("previous", "previous-token"), ("next", "next-token")):
        L, H, v = measures.strongest(p[name])
        out.append(f"Among all 72 heads on this text, the most {label} head is {L}.{H} ({_pct(v)}); "
                   f"{_heads(int((p[name] >= measures.PATTERN_SHARE).sum()))} at least "
                   f"{_pct(measures.PATTERN_SHARE)} of the words' attention there.")
    on_cls, on_sep = int((p["cls"] >= measures.PATTERN_SHARE).sum()), int((p["sep"] >= measures.PATTERN_SHARE).sum())
    out.append(f"{on_cls} of the 72 heads put at least {_pct(measures.PATTERN_SHARE)} of the words' attention on [CLS] "
               f"and {on_sep} on [SEP]" + (": on this text, heads with nothing to do park on [CLS] (in BERT-base, "
                                           "Clark et al. 2019 found them parking on [SEP])." if on_cls > on_sep else "."))
    out.append(f"Computed on {source_text(source, 'attention')}.")
    return out


def model_sentences(tokens: list[str], attentions: np.ndarray, layer: int, head: int, source: str) -> list[str]:
    p = measures.head_patterns(attentions, tokens)
    parked = p["cls"] >= measures.PATTERN_SHARE  # (L, H)
    per_layer = ", ".join(f"{int(n)} in layer {i + 1}" for i, n in enumerate(parked.sum(1)))
    matrix = attentions[layer - 1, head - 1]
    return [f"{int(parked.sum())} of the 72 heads put at least {_pct(measures.PATTERN_SHARE)} of the words' "
            f"attention on [CLS]: {per_layer}. They are the squares with one dark column on the left.",
            f"Heads with a dark diagonal just below (or above) the main one are previous- (next-) token heads: "
            f"{int((p['previous'] >= measures.PATTERN_SHARE).sum())} and "
            f"{int((p['next'] >= measures.PATTERN_SHARE).sum())} of them on this text.",
            f"The enlarged head {layer}.{head}: its rows put on average {_pct(matrix.max(-1).mean())} on their single "
            f"strongest token (1/{len(tokens)} = {_pct(1 / len(tokens))} would be uniform).",
            f"Computed on {source_text(source, 'attention')}."]


def rollout_sentences(tokens: list[str], attentions: np.ndarray, source: str) -> list[str]:
    rolled = rollout.attention_rollout(attentions)  # (T, T)
    raw = attentions[-1].mean(0)  # (T, T)
    words = measures.word_rows(tokens)
    out = [f"Every row of the rollout sums to 1 (largest deviation here {np.abs(rolled.sum(-1) - 1).max():.1e}): "
           "row i shares token i's final representation out among the input tokens."]
    if len(words):
        diag = float(np.mean(np.diag(rolled)[words]))
        raw_diag = float(np.mean(np.diag(raw)[words]))
        to_cls, raw_cls = float(rolled[words, 0].mean()), float(raw[words, 0].mean())
        out.append(f"On the rollout's diagonal, a word keeps on average {_pct(diag)} of itself after 6 layers, against "
                   f"{_pct(raw_diag)} in the raw attention of layer 6. Averaged over the words, the rows trace "
                   f"{_pct(to_cls)} back to [CLS], "
                   + (f"more than in the raw last layer ({_pct(raw_cls)}): the heads that park on [CLS] pile up across "
                      "the layers, which is why hiding [CLS] helps to read the rest." if to_cls > raw_cls
                      else f"less than in the raw last layer ({_pct(raw_cls)})."))
        cls_row = rolled[0]
        best = int(words[np.argmax(cls_row[words])])
        out.append(f"[CLS] traces {_pct(cls_row[0])} back to itself and {_pct(cls_row[words].sum())} to the words, "
                   f"most to {_q(tokens[best])} ({_pct(cls_row[best])}). In the raw last layer [CLS] puts "
                   f"{_pct(raw[0, words].sum())} on the words.")
    out.append(f"Computed on {source_text(source, 'attention')}.")
    return out


def flow_sentences(tokens: list[str], attentions: np.ndarray, flowed: np.ndarray | None) -> list[str]:
    """Attention flow against rollout, on the full maps (before hiding any token)."""
    if flowed is None:
        return [f"Attention flow is left out: the text has {len(tokens)} tokens, more than the {flow.MAX_TOKENS} the "
                "page computes it for."]
    words = measures.word_rows(tokens)
    if not len(words):
        return ["Attention flow of [CLS] and [SEP] alone says nothing: type some words."]
    rolled = rollout.attention_rollout(attentions)  # (T, T)
    even = 1 / len(tokens)
    return [f"Averaged over the words, a row of the attention flow puts at most {_pct(measures.strongest_share(flowed[words]))} "
            f"on a single token (an even spread over the {len(tokens)} tokens would be {_pct(even)}), and "
            f"{_pct(flowed[words, 0].mean())} on [CLS]; a row of the rollout puts {_pct(measures.strongest_share(rolled[words]))} "
            f"on its strongest token and {_pct(rolled[words, 0].mean())} on [CLS].",
            "Why: rollout multiplies the layers, so it adds up every path and a path through [CLS] in layer after layer "
            "compounds; flow lets each edge carry at most its weight, and with the residual 0.5 I every token has "
            "wide paths to every input, so flow comes out nearly even. It ranks the inputs "
            f"(rank correlation with rollout, averaged over the words' rows: "
            f"{np.mean([measures.rank_correlation(rolled[i], flowed[i]) for i in words]):.2f}) but its differences are "
            "small: read its colours, scaled to its own maximum, as a ranking."]


def rollout_and_flow_sentences(tokens: list[str], attentions: np.ndarray, flowed: np.ndarray | None,
                               source: str) -> list[str]:
    rolled = rollout_sentences(tokens, attentions, source)
    return rolled[:-1] + flow_sentences(tokens, attentions, flowed) + rolled[-1:]  # "Computed on" last


def ablation_sentences(data: dict, layer: int, head: int, source: str) -> list[str]:
    effect, share = data["effect"], data["word_share"]
    pair = bool(data["pair"])
    l, h = layer - 1, head - 1
    magnitude = np.abs(effect)

    def moved(value: float) -> str:
        return (f"changes the pair's cosine similarity by {value:+.4f}" if pair
                else f"moves the sentence embedding by 1 \u2212 cos = {value:.4f}")

    out = []
    if pair:
        out.append(f"The two sentences' embeddings have cosine similarity {float(data['similarity']):.4f}.")
    out.append(f"Zeroing head {layer}.{head} {moved(float(effect[l, h]))}; that head puts {_pct(share[l, h])} of "
               "the words' attention on other words.")
    aL, aH, aV = measures.strongest(share)
    iL, iH, _ = measures.strongest(magnitude)
    out.append(f"The head that pays the most attention to the words is {aL}.{aH} ({_pct(aV)}); zeroing it "
               f"{moved(float(effect[aL - 1, aH - 1]))}. The head whose removal matters most is {iL}.{iH}: it "
               f"{moved(float(effect[iL - 1, iH - 1]))} and pays {_pct(share[iL - 1, iH - 1])} attention to the words.")
    rho = measures.rank_correlation(share, magnitude)
    verdict = ("so on this text attention barely predicts importance" if rho < measures.AGREEMENT
               else "so on this text the two agree fairly well, which is not guaranteed on another")
    out.append(f"Across the 72 heads the rank correlation between attention to words and effect is {rho:.2f}, "
               f"{verdict}: high attention is not high importance (Jain & Wallace 2019).")
    out.append(f"Computed on {source_text(source, 'ablation')}" + (" (each sentence embedded on its own)." if pair else "."))
    return out


# --------------------------------------------------------------------------- what you see: ViT and toy


def _patch(index: int, grid: int = 4) -> str:
    return f"row {index // grid + 1}, column {index % grid + 1}"


def vit_sentences(data: dict, layer: int, fusion: str, discard: float, agnostic: dict[str, np.ndarray],
                  target: int, source: str) -> list[str]:
    probs = data["probs"]
    predicted = int(np.argmax(probs))
    head_maps = measures.cls_attention_grid(data["attentions"][layer - 1], 4)  # (H, 4, 4)
    best_head = int(np.argmax([m.max() for m in head_maps]))
    out = [f"The ViT predicts {predicted} ({_pct(probs[predicted])}) for this digit, labelled {int(data['label'])}.",
           f"In layer {layer} head {best_head + 1} is the most focused: it puts {_pct(head_maps[best_head].max())} of "
           f"[CLS]'s attention on one patch ({_patch(int(np.argmax(head_maps[best_head])))}); [CLS] keeps "
           f"{_pct(data['attentions'][layer - 1][:, 0, 0].mean())} on itself, averaged over the heads."]
    maps = agnostic | {"Grad-CAM": data["gradcam"][target]}
    tops = {name: int(np.argmax(m)) for name, m in maps.items()}
    out.append("The three strongest of the 16 patches hold " + ", ".join(
        f"{_pct(measures.top_patch_share(m))} of the {name} map" for name, m in maps.items()) +
        " (3 of 16 patches evenly would hold 19%).")
    same = len(set(tops.values())) == 1
    out.append("Strongest patch: " + "; ".join(f"{name} {_patch(t)}" for name, t in tops.items()) +
               (" — all agree." if same else " — they do not all agree: they answer different questions "
                "(where [CLS] reads, where information can flow, what raises the class score)."))
    out.append(class_sentence(data, target, discard))
    out.append(f"Rollout and flow with {fusion} fusion, discarding the lowest {_pct(discard)} of each layer's weights. "
               f"Computed on {source_text(source, 'digit').replace('this text', 'this digit')}.")
    return out


def other_class(probs: np.ndarray, target: int) -> int:
    """The class Grad-rollout is compared with: the predicted one, or the runner-up if `target` is predicted."""
    order = [int(c) for c in np.argsort(probs)[::-1]]
    return order[1] if order[0] == target else order[0]


def class_sentence(data: dict, target: int, discard: float) -> str:
    """Grad-rollout depends on the class (rollout and flow do not): the maps of two classes compared."""
    other = other_class(data["probs"], target)
    mine = measures.grad_rollout_grid(data["attentions"], data["gradients"][target], discard)
    theirs = measures.grad_rollout_grid(data["attentions"], data["gradients"][other], discard)
    rho = measures.rank_correlation(mine, theirs)
    role = "the runner-up" if other != int(np.argmax(data["probs"])) else "the predicted class"
    return (f"Grad-rollout is class-specific: for class {target} it puts its strongest patch at "
            f"{_patch(int(np.argmax(mine)))}, for class {other} ({role}, {_prob(data['probs'][other])}) at "
            f"{_patch(int(np.argmax(theirs)))}; the two maps' rank correlation over the 16 patches is {rho:.2f}. "
            "Raw attention, rollout and flow are the same whichever class you pick.")


def _prob(p: float) -> str:
    return "<1%" if p < 0.005 else _pct(p)


def toy_sentences(data: dict, task: str, source: str) -> list[str]:
    mass = data["mass"]
    best = int(np.argmax(mass))
    others = ", ".join(f"head {h + 1} {_pct(m)}" for h, m in enumerate(mass))
    solved = mass[best] >= measures.TOY_SOLVED
    return [f"Task: {TASKS[task].lower()}. On 256 held-out random sequences the model gets "
            f"{_pct(float(data['accuracy']))} of the output tokens right.",
            f"Mass on the expected key, per head: {others}. Head {best + 1} is the one to read: it puts "
            f"{_pct(mass[best])} on the expected position" +
            (f", above the {_pct(measures.TOY_SOLVED)} the page asks of it." if solved
             else f", below the {_pct(measures.TOY_SOLVED)} the page asks of it."),
            "The two heads share the job: each is mostly right and the read-out combines them. Here the right "
            "pattern is known, so a head's attention can be scored; on a real sentence nobody knows it.",
            f"Computed on {source_text(source, 'toy model scores').replace(' (precomputed for this text)', '')}."]


# --------------------------------------------------------------------------- try this


def _check_previous(result: dict) -> tuple[bool, str]:
    run = result.get("head")
    if run is None:
        return False, "Open the head view to check this."
    p = measures.head_patterns(run["attentions"], run["tokens"])
    share = float(p["previous"][run["layer"] - 1, run["head"] - 1])
    ok = share >= measures.PATTERN_SHARE
    return ok, (f"Checked on {source_text(run['source'], 'attention')}: in head {run['layer']}.{run['head']} the "
                f"words put {_pct(share)} of their attention on the previous token (the page calls it a "
                f"previous-token head from {_pct(measures.PATTERN_SHARE)}).")


def _check_pronoun(result: dict) -> tuple[bool, str]:
    run = result.get("head")
    if run is None or "it" not in run["tokens"] or "street" not in run["tokens"] or "animal" not in run["tokens"]:
        return False, "Set up the experiment again: the sentence must contain \u201cit\u201d, \u201canimal\u201d and \u201cstreet\u201d."
    t = run["tokens"]
    row = run["attentions"][run["layer"] - 1, run["head"] - 1, t.index("it")]
    animal, street = float(row[t.index("animal")]), float(row[t.index("street")])
    return animal > street, (f"Checked on {source_text(run['source'], 'attention')}: in head "
                             f"{run['layer']}.{run['head']} \u201cit\u201d puts {_pct(animal)} on \u201canimal\u201d and "
                             f"{_pct(street)} on \u201cstreet\u201d, though now the street is what was too wide.")


def _check_ablation(result: dict) -> tuple[bool, str]:
    run = result.get("ablation")
    if run is None:
        return False, "Open the ablation view to check this."
    share, effect = run["data"]["word_share"], np.abs(run["data"]["effect"])
    aL, aH, aV = measures.strongest(share)
    iL, iH, iV = measures.strongest(effect)
    rho = measures.rank_correlation(share, effect)
    ok = (aL, aH) != (iL, iH) and rho < measures.AGREEMENT
    return ok, (f"Checked on {source_text(run['source'], 'ablation')}: the most attentive head {aL}.{aH} "
                f"({_pct(aV)} to the words) moves the embedding by {effect[aL - 1, aH - 1]:.4f}; the head that "
                f"matters most is {iL}.{iH} ({iV:.4f}); rank correlation {rho:.2f} (the page calls it agreement "
                f"from {measures.AGREEMENT}).")


def _check_toy(result: dict) -> tuple[bool, str]:
    run = result.get("toy")
    if run is None:
        return False, "Open the known-answer view to check this."
    mass = run["data"]["mass"]
    best = int(np.argmax(mass))
    return bool(mass[best] >= measures.TOY_SOLVED), (
        f"Checked on {source_text(run['source'], 'toy model scores').replace(' (precomputed for this text)', '')}: "
        f"head {best + 1} puts {_pct(mass[best])} of its attention on the anti-diagonal (the page asks "
        f"{_pct(measures.TOY_SOLVED)}).")


def _check_class(result: dict) -> tuple[bool, str]:
    run = result.get("vit")
    if run is None:
        return False, "Open the Digits ViT view to check this."
    data, target = run["data"], run["target"]
    predicted = int(np.argmax(data["probs"]))
    if target == predicted:
        return False, "Pick a class other than the predicted one in “Explain class” to check this."
    mine = measures.grad_rollout_grid(data["attentions"], data["gradients"][target], 0.0)
    theirs = measures.grad_rollout_grid(data["attentions"], data["gradients"][predicted], 0.0)
    rho = measures.rank_correlation(mine, theirs)
    return rho < measures.AGREEMENT, (
        f"Checked on {source_text(run['source'], 'digit').replace(' (precomputed for this text)', '')}: Grad-rollout "
        f"for class {target} and for the predicted class {predicted} have rank correlation {rho:.2f} over the 16 "
        f"patches (the page calls two maps alike from {measures.AGREEMENT}); raw attention, rollout and flow do not "
        "take the class as an input, so they stay as they were.")


EXPERIMENTS = [
    ui.Experiment("previous", "A head that reads the previous word",
                  {"view": "Head view", "sentence": FOX, "second": "", "layer": 1, "head": 3, "token": -1},
                  "In layer 1, head 3, where does each word's strongest line go?",
                  ("To the previous token", "To itself", "To [CLS]"), 0, _check_previous),
    ui.Experiment("pronoun", "Does the pronoun head resolve the pronoun?",
                  {"view": "Head view", "sentence": ANIMAL_WIDE, "second": "", "layer": 4, "head": 2, "token": 10},
                  "In \u201c\u2026because it was too tired\u201d head 4.2 sends \u201cit\u201d to \u201canimal\u201d. "
                  "Now the sentence ends \u201ctoo wide\u201d, so \u201cit\u201d means the street. Where does the head "
                  "send \u201cit\u201d?",
                  ("To \u201cstreet\u201d: it follows the meaning", "Still more to \u201canimal\u201d than to \u201cstreet\u201d"),
                  1, _check_pronoun),
    ui.Experiment("ablation", "Is the most attentive head the most important one?",
                  {"view": "Ablation", "sentence": ANIMAL, "second": "", "layer": 1, "head": 3},
                  "Head 1.3 puts almost all the words' attention on other words. Zero each head in turn: is 1.3 the "
                  "head whose removal moves the sentence embedding most?",
                  ("Yes: most attention, most effect", "No: another head matters more"), 1, _check_ablation),
    ui.Experiment("class", "Which maps change with the class?",
                  {"view": "Digits ViT", "digit": 0, "discard": 0.0, "vit_class": 9},
                  "The ViT reads this 0 as a 0. Ask it about class 9 instead: which of the five maps change?",
                  ("Only Grad-rollout and Grad-CAM: they follow one class's score", "All five",
                   "None: the digit is the same"), 0, _check_class),
    ui.Experiment("toy", "A head whose right answer is known",
                  {"view": "Known answer", "task": "reverse"},
                  "The toy transformer reverses 8-token sequences. What pattern must a head that does it learn?",
                  ("The anti-diagonal (position i reads n \u2212 1 \u2212 i)", "The diagonal (itself)",
                   "Uniform over the sequence"), 0, _check_toy),
]

QUIZ = [
    ui.QuizQuestion("A head puts 90% of every word's attention on [CLS]. What can you conclude?",
                    ("It is the most important head for the sentence embedding",
                     "Little: heads with nothing to do often park on a special token; only an intervention such as "
                     "ablation tells whether it matters",
                     "The model ignores the sentence"), 1,
                    "Attention shows where a head reads, not how much its output changes the result. Parking on "
                    "[CLS] or [SEP] is how many heads do (almost) nothing; the ablation view measures the effect."),
    ui.QuizQuestion("What does attention rollout add to the raw attention of the last layer?",
                    ("It follows the mixing through every layer, counting the residual connection as 0.5 I",
                     "It uses the gradient of the class score", "It removes [CLS] and [SEP]"), 0,
                    "Rollout multiplies 0.5 A + 0.5 I (rows renormalised) across the layers (Abnar & Zuidema 2020); "
                    "it uses no gradients, which is what Grad-rollout and Grad-CAM add (and why they depend on the class)."),
    ui.QuizQuestion("Why can the toy model's heads be scored while MiniLM's cannot?",
                    ("Its task fixes which position must be read, and only attention moves information between "
                     "positions, so the right pattern is known",
                     "It is smaller", "It has no softmax"), 0,
                    "In the toy model every output depends on one known input position, so a head that solves the "
                    "task must put its mass there. A real sentence has no such answer key."),
]

READING = [
    ui.Reading("Jain & Wallace, Attention is not Explanation (NAACL 2019)", "https://arxiv.org/abs/1902.10186",
               "attention weights often disagree with gradient and leave-one-out importance"),
    ui.Reading("Wiegreffe & Pinter, Attention is not not Explanation (EMNLP 2019)", "https://arxiv.org/abs/1908.04626",
               "when attention can and cannot serve as an explanation"),
    ui.Reading("Abnar & Zuidema, Quantifying Attention Flow in Transformers (ACL 2020)",
               "https://arxiv.org/abs/2005.00928", "attention rollout and attention flow"),
    ui.Reading("Clark et al., What Does BERT Look At? (BlackboxNLP 2019)", "https://arxiv.org/abs/1906.04341",
               "previous/next-token heads, heads that attend to [SEP], coreference heads"),
    ui.Reading("Michel, Levy & Neubig, Are Sixteen Heads Really Better than One? (NeurIPS 2019)",
               "https://arxiv.org/abs/1905.10650", "head ablation"),
    ui.Reading("Chefer, Gur & Wolf, Transformer Interpretability Beyond Attention Visualization (CVPR 2021)",
               "https://arxiv.org/abs/2012.09838", "relevance propagation for transformers"),
    ui.Reading("Chefer, Gur & Wolf, Generic Attention-model Explainability for Interpreting Bi-Modal and "
               "Encoder-Decoder Transformers (ICCV 2021)", "https://arxiv.org/abs/2103.15679",
               "attention weighted by its gradient, the idea behind Grad-rollout"),
    ui.Reading("Vaswani et al., Attention Is All You Need (NeurIPS 2017)", "https://arxiv.org/abs/1706.03762"),
    ui.Reading("Dosovitskiy et al., An Image is Worth 16x16 Words (ICLR 2021)", "https://arxiv.org/abs/2010.11929"),
    ui.Reading("BertViz (Vig 2019): head view, model view, neuron view", "https://github.com/jessevig/bertviz"),
    ui.Reading("vit-explain: attention rollout with head fusion and discard ratio, Grad-rollout",
               "https://github.com/jacobgil/vit-explain"),
    ui.Reading("Transformer Explainer (Cho et al. 2024)", "https://poloclub.github.io/transformer-explainer/"),
    ui.Reading("pytorch-grad-cam: Grad-CAM for vision transformers", "https://github.com/jacobgil/pytorch-grad-cam"),
]

DIY_CAPTION = ("The attention of every head of all-MiniLM-L6-v2 with Hugging Face transformers (eager "
               "attention, which returns the weights), attention rollout in a few lines of numpy, and one "
               "head drawn with matplotlib.")
