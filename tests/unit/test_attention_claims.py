"""Every sentence the attention page states as fact, asserted on the bundled models: MiniLM's
attention equals sentence-transformers' (eager) to 1e-4, the presets' named heads show their
pattern, the toy head the page names reaches 90 %, our rollout equals vit-explain's algorithm on the tiny
ViT, and the ablation numbers the page states are recomputed here."""
import copy
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the reference libraries must not reach for the Hub

import numpy as np
import pytest
import torch

from lessons.attention import compute, content, flow, measures, rollout, store, toy, vision
from lessons.attention.settings import ANIMAL, ANIMAL_WIDE, FOX, PRESETS
from models import zoo
from models.minilm import minilm_model_dir

PAIR = PRESETS["A sentence pair"]


def shipped(key):
    value = store.shipped(key)
    assert value is not None, key
    return value


def test_minilm_attention_equals_sentence_transformers_eager_and_rows_sum_to_one():
    st = pytest.importorskip("sentence_transformers")
    reference = st.SentenceTransformer(str(minilm_model_dir()), device="cpu",
                                       model_kwargs={"attn_implementation": "eager"})
    for first, second in [(ANIMAL, ""), (FOX, ""), (PAIR["sentence"], PAIR["second"]),
                          ("\u05e9\u05dc\u05d5\u05dd <b>x</b> \U0001f600", "")]:
        ours = compute.text_result(first, second)
        features = reference.tokenize([[first, second]] if second else [first])
        with torch.no_grad():
            out = reference[0].auto_model(input_ids=features["input_ids"], attention_mask=features["attention_mask"],
                                          output_attentions=True)
        theirs = torch.stack(out.attentions)[:, 0].numpy()  # (6, 12, T, T)
        assert theirs.shape == ours["attentions"].shape == (6, 12, len(ours["tokens"]), len(ours["tokens"]))
        np.testing.assert_allclose(ours["attentions"], theirs, atol=1e-4)
        np.testing.assert_allclose(ours["attentions"].sum(-1), 1.0, atol=1e-5)


def reference_rollout(layers: np.ndarray, discard_ratio: float) -> np.ndarray:
    """The algorithm of vit-explain's `rollout` (jacobgil/vit-explain, vit_rollout.py), written here
    as a plain loop from its description, independently of lessons/attention/rollout.py: per layer,
    fuse the heads by their mean, set the `discard_ratio` lowest fused weights to 0 (never the
    [CLS]-to-[CLS] entry), add the identity and halve, renormalise the rows, multiply onto the
    running product; return the [CLS] row over the patches. layers: (depth, H, T, T)."""
    tokens = layers.shape[-1]
    result = np.eye(tokens)
    for layer in layers:
        fused = layer.mean(axis=0).astype(np.float64)  # (T, T)
        flat = fused.reshape(-1)
        lowest = np.argsort(flat, kind="stable")[: int(flat.size * discard_ratio)]
        flat[lowest[lowest != 0]] = 0.0
        mixed = (fused + np.eye(tokens)) / 2
        for row in range(tokens):
            mixed[row] /= mixed[row].sum()
        result = mixed @ result
    return result[0, 1:]


def test_our_rollout_equals_vit_explain_on_the_tiny_vit():
    for index in (0, 1, 2, 3):
        att = compute.digit_result(index)["attentions"]  # (depth, H, T, T)
        theirs = reference_rollout(np.array(att), 0.0)
        ours = rollout.attention_rollout(att, "mean", 0.0)
        np.testing.assert_allclose(ours[0, 1:], theirs, atol=1e-5)
        np.testing.assert_allclose(ours.sum(-1), 1.0, atol=1e-5)


def reference_grad_rollout(pixels: np.ndarray, category: int, discard_ratio: float) -> np.ndarray:
    """vit-explain's `VITAttentionGradRollout` (jacobgil/vit-explain, vit_grad_rollout.py), written here
    from its description with torch hooks, independently of lessons/attention: a forward hook on each
    block's attention dropout keeps the attention, a backward hook keeps its gradient; backward from the
    class score; per layer, (attention * gradient) averaged over the heads, negative parts set to 0, the
    `discard_ratio` lowest set to 0, (a + I) / 2, rows renormalised, multiplied onto the running product.
    Kept from the lesson's choices, and named in rollout.grad_rollout: the gradients are reversed to
    pair each layer with its own (they arrive last layer first: vit-explain issue 6), the rows (not the
    columns) are renormalised, and the [CLS]-to-[CLS] entry is never discarded (as vit-explain's rollout).
    Returns the [CLS] row over the patches (16,)."""
    from models.digits import to_tensor

    vit = copy.deepcopy(zoo.load("digits_vit")[0]).eval().requires_grad_(True)
    attentions, gradients = [], []
    for block in vit.blocks:
        block.attn.dropout.register_forward_hook(lambda m, i, o: attentions.append(o.detach()))
        block.attn.dropout.register_full_backward_hook(lambda m, gi, go: gradients.append(gi[0].detach()))
    vit(to_tensor(pixels[None]))[0, category].backward()
    gradients = gradients[::-1]
    result = torch.eye(attentions[0].shape[-1], dtype=torch.float64)
    for attention, grad in zip(attentions, gradients):
        fused = (attention * grad).mean(dim=1)[0].double()  # (T, T)
        fused[fused < 0] = 0
        flat = fused.view(-1)
        _, lowest = flat.topk(int(flat.numel() * discard_ratio), largest=False)
        flat[lowest[lowest != 0]] = 0
        a = (fused + torch.eye(fused.shape[-1], dtype=torch.float64)) / 2
        a = a / a.sum(dim=-1, keepdim=True)
        result = a @ result
    return result[0, 1:].numpy()


def test_our_grad_rollout_equals_vit_explain_on_the_tiny_vit():
    model = zoo.load("digits_vit")[0]
    for index, discard in ((0, 0.0), (7, 0.0), (3, 0.9)):
        pixels, _ = vision.heldout_digit(index)
        att, _ = vision.attentions(pixels)
        gradients = vision.attention_gradients(pixels)  # (C, depth, H, T, T)
        for category in (0, 3, 7):
            ours = rollout.grad_rollout(att, gradients[category], discard)
            np.testing.assert_allclose(ours[0, 1:], reference_grad_rollout(pixels, category, discard), atol=1e-5)
            np.testing.assert_allclose(ours.sum(-1), 1.0, atol=1e-5)
    assert zoo.count_hooks(model) == 0


def test_grad_rollout_changes_with_the_class_and_the_page_says_by_how_much():
    data = shipped(compute.digit_key(0))
    probs, att = data["probs"], data["attentions"]
    predicted, runner_up = [int(c) for c in np.argsort(probs)[::-1][:2]]
    mine = measures.grad_rollout_grid(att, data["gradients"][predicted], 0.0)
    theirs = measures.grad_rollout_grid(att, data["gradients"][runner_up], 0.0)
    rho = measures.rank_correlation(mine, theirs)
    assert np.argmax(mine) != np.argmax(theirs) and rho < 0.5  # class-specific
    sentence = content.class_sentence(data, predicted, 0.0)
    assert f"for class {predicted} it puts its strongest patch at {content._patch(int(np.argmax(mine)))}" in sentence
    assert f"for class {runner_up} (the runner-up, <1%) at {content._patch(int(np.argmax(theirs)))}" in sentence
    assert f"rank correlation over the 16 patches is {rho:.2f}" in sentence
    # picking the runner-up compares it with the predicted class
    assert f"for class {predicted} (the predicted class" in content.class_sentence(data, runner_up, 0.0)
    ok, message = content._check_class({"vit": {"data": data, "source": "shipped", "target": 9}})
    rho9 = measures.rank_correlation(measures.grad_rollout_grid(att, data["gradients"][9], 0.0), mine)
    assert ok and f"rank correlation {rho9:.2f}" in message and "the shipped digit:" in message
    # Grad-CAM for every class equals Grad-CAM computed for that class alone
    pixels, _ = vision.heldout_digit(0)
    np.testing.assert_allclose(data["gradcam"][runner_up], vision.grad_cams(pixels, [runner_up])[0], atol=1e-5)


def test_attention_flow_is_nearly_even_and_piles_less_on_cls_than_rollout():
    nx = pytest.importorskip("networkx")
    for sentence in (ANIMAL, FOX):
        out = compute.text_result(sentence, "")
        tokens, att = out["tokens"], out["attentions"]
        flowed = shipped(compute.flow_key(sentence, ""))["flow"]
        words = measures.word_rows(tokens)
        rolled = rollout.attention_rollout(att)
        assert measures.strongest_share(flowed[words]) <= 1.5 / len(tokens)  # "nearly even"
        assert flowed[words, 0].mean() < rolled[words, 0].mean() / 5  # rollout piles on [CLS], flow does not
        text = " ".join(content.flow_sentences(tokens, att, flowed))
        assert f"puts at most {100 * measures.strongest_share(flowed[words]):.0f}% on a single token" in text
        assert f"and {100 * rolled[words, 0].mean():.0f}% on [CLS]" in text
    # the shipped flow is scipy's; networkx gives the same on the real graph (a few pairs: it is slow)
    layers = rollout.residual_layers(compute.text_result(ANIMAL, "")["attentions"])
    graph = nx.from_numpy_array(flow.layered_graph(layers), create_using=nx.DiGraph, edge_attr="capacity")
    L, T, _ = layers.shape
    raw = flow.max_flows(layers, [0, 10])
    for row, i in enumerate([0, 10]):
        for j in (0, 2, 10):
            assert raw[row, j] == pytest.approx(nx.maximum_flow_value(graph, L * T + i, j), abs=1e-4)
    # on the digit, the flow map is nearly even too (top 3 of 16 patches: 3/16 = 19% if even)
    digit = shipped(compute.digit_key(0))
    grid = flow.attention_flow(rollout.residual_layers(digit["attentions"]), [0])[0, 1:].reshape(4, 4)
    assert measures.top_patch_share(grid) < 0.25 < measures.top_patch_share(
        measures.cls_attention_grid(rollout.attention_rollout(digit["attentions"]), 4))


def test_the_preset_heads_show_their_pattern():
    fox = compute.text_result(FOX, "")
    p = measures.head_patterns(fox["attentions"], fox["tokens"])
    for name, pattern in [("A previous-token head", "previous"), ("A next-token head", "next"),
                          ("A head that parks on [CLS]", "cls")]:
        layer, head = PRESETS[name]["layer"], PRESETS[name]["head"]
        assert p[pattern][layer - 1, head - 1] >= measures.PATTERN_SHARE, name
    assert measures.strongest(p["previous"])[:2] == (1, 3) and measures.strongest(p["next"])[:2] == (2, 9)
    # "in this model, heads with nothing to do park on [CLS]", not on [SEP]
    for sentence in (FOX, ANIMAL):
        out = compute.text_result(sentence, "")
        q = measures.head_patterns(out["attentions"], out["tokens"])
        assert (q["cls"] >= measures.PATTERN_SHARE).sum() >= 20 and (q["sep"] >= measures.PATTERN_SHARE).sum() == 0


def test_the_pronoun_head_sends_it_to_animal_even_when_the_street_is_meant():
    preset = PRESETS["A pronoun and its referent"]
    out = compute.text_result(ANIMAL, "")
    assert out["tokens"][preset["token"]] == "it"
    row = out["attentions"][preset["layer"] - 1, preset["head"] - 1, preset["token"]]
    words = measures.word_rows(out["tokens"])
    assert out["tokens"][words[np.argmax(row[words])]] == "animal"
    wide = compute.text_result(ANIMAL_WIDE, "")
    ok, message = content._check_pronoun({"head": {**wide, "layer": 4, "head": 2, "source": "live"}})
    assert ok and "your live attention" in message


def test_the_previous_token_experiment_holds():
    out = compute.text_result(FOX, "")
    ok, message = content._check_previous({"head": {**out, "layer": 1, "head": 3, "source": "shipped"}})
    assert ok and "the shipped attention" in message


def test_the_ablation_numbers_the_page_states_are_recomputed():
    model, _ = zoo.load("minilm")
    twin = copy.deepcopy(model)
    base = model.encode(ANIMAL)
    effect = np.zeros((6, 12))
    for layer in range(6):
        for head in range(12):
            with torch.no_grad():
                twin.layers[layer].attn.out.weight[:, head * 32:(head + 1) * 32] = 0.0
                effect[layer, head] = 1 - float(twin.encode(ANIMAL).embedding @ base.embedding)
                twin.layers[layer].attn.out.weight.copy_(model.layers[layer].attn.out.weight)
    share = measures.head_patterns(base.attentions.numpy(), base.tokens)["words"]
    data = shipped(compute.ablation_key(ANIMAL, ""))
    np.testing.assert_allclose(data["effect"], effect, atol=1e-5)
    np.testing.assert_allclose(data["word_share"], share, atol=1e-5)
    sentences = content.ablation_sentences(data, 1, 3, "shipped")
    aL, aH, aV = measures.strongest(share)
    iL, iH, _ = measures.strongest(effect)
    assert (aL, aH) == (1, 3) and aV >= 0.9 and (iL, iH) != (aL, aH)  # "almost all the words' attention"
    assert f"The head that pays the most attention to the words is {aL}.{aH} ({100 * aV:.0f}%)" in sentences[1]
    assert f"1 \u2212 cos = {effect[aL - 1, aH - 1]:.4f}" in sentences[1]
    assert f"The head whose removal matters most is {iL}.{iH}: it moves the sentence embedding by 1 \u2212 cos = " \
           f"{effect[iL - 1, iH - 1]:.4f}" in sentences[1]
    rho = measures.rank_correlation(share, effect)
    assert rho < measures.AGREEMENT and f"is {rho:.2f}, so on this text attention barely predicts" in sentences[2]
    assert content._check_ablation({"ablation": {"data": data, "source": "shipped"}})[0]


def test_the_pair_similarity_and_its_ablation_are_recomputed():
    model, _ = zoo.load("minilm")
    a, b = model.embed([PAIR["sentence"], PAIR["second"]])
    data = shipped(compute.ablation_key(PAIR["sentence"], PAIR["second"]))
    assert float(data["similarity"]) == pytest.approx(float(a @ b), abs=1e-5)
    twin = copy.deepcopy(model)
    with torch.no_grad():
        twin.layers[2].attn.out.weight[:, 0:32] = 0.0  # head 3.1, the preset's
        a2, b2 = twin.embed([PAIR["sentence"], PAIR["second"]])
    assert float(data["effect"][2, 0]) == pytest.approx(float(a2 @ b2 - a @ b), abs=1e-5)
    assert f"by {float(a2 @ b2 - a @ b):+.4f}" in content.ablation_sentences(data, 3, 1, "shipped")[1]


def test_rollout_sentences_state_the_recomputed_shares():
    for sentence in (FOX, ANIMAL):
        out = compute.text_result(sentence, "")
        words = measures.word_rows(out["tokens"])
        rolled, raw = rollout.attention_rollout(out["attentions"]), out["attentions"][-1].mean(0)
        text = " ".join(content.rollout_sentences(out["tokens"], out["attentions"], "shipped"))
        diag, raw_diag = np.diag(rolled)[words].mean(), np.diag(raw)[words].mean()
        assert f"keeps on average {100 * diag:.0f}% of itself after 6 layers, against {100 * raw_diag:.0f}%" in text
        to_cls, raw_cls = rolled[words, 0].mean(), raw[words, 0].mean()
        assert to_cls > raw_cls and "more than in the raw last layer" in text  # the parked heads pile up on [CLS]
        assert f"trace {100 * to_cls:.0f}% back to [CLS]" in text


@pytest.mark.parametrize("task", toy.TASKS)
def test_the_toy_head_the_page_names_puts_90_percent_on_the_expected_key(task):
    model = toy.load(task)
    scores = toy.head_scores(model, task, toy.evaluation_tokens())
    assert scores["accuracy"] == 1.0
    assert scores["mass"].max() >= measures.TOY_SOLVED  # the head named in the sentence
    assert (scores["mass"] > 0.5).all()  # "each is mostly right"
    np.testing.assert_allclose(shipped(compute.toy_key(task))["mass"], scores["mass"], atol=1e-6)
    sentence = content.toy_sentences(shipped(compute.toy_key(task)), task, "shipped")[1]
    assert f"Head {int(np.argmax(scores['mass'])) + 1} is the one to read" in sentence and "above the 90%" in sentence
    if task == "reverse":
        assert content._check_toy({"toy": {"data": shipped(compute.toy_key(task)), "source": "shipped"}})[0]


def test_the_vit_reads_its_default_digit_right():
    data = shipped(compute.digit_key(0))
    assert int(np.argmax(data["probs"])) == int(data["label"])
    pixels, label = vision.heldout_digit(0)
    assert label == int(data["label"]) and np.array_equal(pixels, data["pixels"])


def test_the_head_view_sentences_state_the_recomputed_counts():
    out = compute.text_result(ANIMAL, "")
    p = measures.head_patterns(out["attentions"], out["tokens"])
    text = " ".join(content.head_sentences(out["tokens"], out["attentions"], 4, 2, 10, "shipped"))
    on_cls = int((p["cls"] >= measures.PATTERN_SHARE).sum())
    assert f"{on_cls} of the 72 heads put at least 50% of the words' attention on [CLS] and 0 on [SEP]: on this text, " \
           "heads with nothing to do park on [CLS]" in text
    row = out["attentions"][3, 1, 10]
    assert f"Token 10 \u201cit\u201d attends most to \u201c{out['tokens'][int(np.argmax(row))]}\u201d" in text
    assert "Among all 72 heads on this text, the most previous-token head is 1.3 (100%); 1 head puts" in text
