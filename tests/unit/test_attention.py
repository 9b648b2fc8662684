"""The attention lesson's compute: rollout and measures checked by hand, the shipped results equal
what the code computes now, head ablation against an independent copy of the model, Grad-CAM
against pytorch-grad-cam, bad text, the shared models untouched, the do-it-yourself script."""
import copy
import hashlib
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

from lessons.attention import compute, flow, measures, precompute, rollout, store, text, toy, vision
from lessons.attention.settings import ANIMAL, DEFAULTS, FOX
from models import zoo


def state_hash(model) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- rollout and measures


def test_rollout_of_identity_attention_is_the_identity_and_rows_sum_to_one():
    eye = np.broadcast_to(np.eye(5), (3, 2, 5, 5))  # (L, H, T, T)
    np.testing.assert_allclose(rollout.attention_rollout(eye), np.eye(5), atol=1e-6)
    rng = np.random.default_rng(0)
    att = rng.random((4, 3, 6, 6))
    att /= att.sum(-1, keepdims=True)
    for fusion in rollout.FUSIONS:
        for discard in (0.0, 0.5, 0.9):
            rolled = rollout.attention_rollout(att, fusion, discard)
            np.testing.assert_allclose(rolled.sum(-1), np.ones(6), atol=1e-5)
            assert (rolled >= 0).all()


def test_rollout_by_hand_for_two_layers():
    a1 = np.array([[0.0, 1.0], [1.0, 0.0]])  # tokens swap
    a2 = np.array([[1.0, 0.0], [0.0, 1.0]])
    att = np.stack([a1[None], a2[None]])  # (2, 1, 2, 2)
    first = 0.5 * a1 + 0.5 * np.eye(2)  # [[.5, .5], [.5, .5]]
    np.testing.assert_allclose(rollout.rollout_by_layer(att)[0], first, atol=1e-6)
    np.testing.assert_allclose(rollout.attention_rollout(att), np.eye(2) @ first, atol=1e-6)


def test_discard_keeps_cls_to_cls_and_zeroes_the_lowest():
    fused = np.array([[0.01, 0.5, 0.49], [0.2, 0.3, 0.5], [0.05, 0.9, 0.05]])
    kept = rollout.discard_lowest(fused, 0.34)  # 3 of 9: 0.01 (index 0, kept), 0.05, 0.05
    assert kept[0, 0] == 0.01 and kept[2, 0] == 0 and kept[2, 2] == 0 and kept[1, 0] == 0.2


def brute_force_max_flow(capacity: np.ndarray, source: int, sink: int) -> float:
    """Max-flow = min-cut (Ford & Fulkerson): the smallest capacity leaving any node set that holds
    the source and not the sink, found by trying every such set."""
    others = [n for n in range(len(capacity)) if n not in (source, sink)]
    best = np.inf
    for bits in range(2 ** len(others)):
        side = {source} | {n for k, n in enumerate(others) if bits >> k & 1}
        best = min(best, sum(capacity[a, b] for a in side for b in range(len(capacity)) if b not in side))
    return float(best)


def test_attention_flow_equals_the_minimum_cut_on_a_hand_graph():
    # 2 layers, 3 tokens: 9 nodes; node l * 3 + i is token i after layer l
    first = np.array([[0.5, 0.5, 0.0], [0.1, 0.8, 0.1], [0.0, 0.3, 0.7]])
    second = np.array([[0.6, 0.0, 0.4], [0.2, 0.6, 0.2], [0.5, 0.0, 0.5]])
    layers = np.stack([first, second])  # (L, T, T)
    capacity = flow.layered_graph(layers)
    assert capacity.shape == (9, 9) and capacity[3 + 1, 0 + 2] == 0.1 and capacity[6 + 0, 3 + 2] == 0.4
    flows = flow.max_flows(layers)  # (T, T)
    for i in range(3):
        for j in range(3):
            assert flows[i, j] == pytest.approx(brute_force_max_flow(capacity, 6 + i, j), abs=1e-5), (i, j)
    # by hand: from output 0 two paths reach input 1, through token 0 of layer 1 (min(0.6, 0.5)) and
    # through token 2 of layer 1 (min(0.4, 0.3)): 0.5 + 0.3
    assert flows[0, 1] == pytest.approx(0.8, abs=1e-5)
    np.testing.assert_allclose(flow.attention_flow(layers).sum(-1), 1.0, atol=1e-6)


def test_attention_flow_equals_networkx_and_identity_flows_nowhere_else():
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(1)
    att = rng.random((3, 2, 5, 5)) ** 3  # (L, H, T, T)
    att /= att.sum(-1, keepdims=True)
    layers = rollout.residual_layers(att)  # (L, T, T)
    graph = nx.from_numpy_array(flow.layered_graph(layers), create_using=nx.DiGraph, edge_attr="capacity")
    ours = flow.max_flows(layers, [0, 4])  # (2, T)
    for row, i in enumerate([0, 4]):
        for j in range(5):
            assert ours[row, j] == pytest.approx(nx.maximum_flow_value(graph, 3 * 5 + i, j), abs=2e-5)
    eye = rollout.residual_layers(np.broadcast_to(np.eye(4), (2, 3, 4, 4)))
    np.testing.assert_allclose(flow.attention_flow(eye), np.eye(4), atol=1e-6)


def test_grad_rollout_by_hand():
    # one layer, one head, 2 tokens: A * grad = [[0.5, -0.5], [0.2, 0.3]] -> clamp -> [[0.5, 0], [0.2, 0.3]]
    att = np.array([[[[0.5, 0.5], [0.4, 0.6]]]])  # (L, H, T, T)
    grad = np.array([[[[1.0, -1.0], [0.5, 0.5]]]])
    mixed = (np.array([[0.5, 0.0], [0.2, 0.3]]) + np.eye(2)) / 2
    np.testing.assert_allclose(rollout.grad_rollout(att, grad), mixed / mixed.sum(-1, keepdims=True), atol=1e-6)


def test_hiding_tokens_renormalises_rows():
    m = np.array([[0.5, 0.25, 0.25], [0.6, 0.2, 0.2], [0.9, 0.05, 0.05]])
    sub, keep = rollout.without_tokens(m, [0])
    assert keep == [1, 2]
    np.testing.assert_allclose(sub, [[0.5, 0.5], [0.5, 0.5]])


def test_head_patterns_on_a_hand_built_head():
    tokens = ["[CLS]", "a", "b", "c", "[SEP]"]
    prev = np.zeros((5, 5))
    prev[np.arange(1, 5), np.arange(0, 4)] = 1
    prev[0, 0] = 1  # (T, T): every token reads the previous one
    parked = np.zeros((5, 5))
    parked[:, 0] = 1
    att = np.stack([prev, parked])[None]  # (1, 2, 5, 5)
    p = measures.head_patterns(att, tokens)
    np.testing.assert_allclose(p["previous"], [[1.0, 1 / 3]])  # the first word's previous token is [CLS]
    np.testing.assert_allclose(p["cls"], [[1 / 3, 1.0]])  # "a" reads [CLS] in the first head
    np.testing.assert_allclose(p["words"], [[2 / 3, 0.0]])
    assert measures.strongest(p["cls"]) == (1, 2, 1.0)


def test_rank_correlation():
    x = np.arange(10.0)
    assert measures.rank_correlation(x, x ** 3) == pytest.approx(1.0)
    assert measures.rank_correlation(x, -x) == pytest.approx(-1.0)
    assert measures.rank_correlation(x, np.ones(10)) == 0.0


def test_the_head_view_spec_is_valid_vega_lite_with_one_line_per_weight_above_the_floor():
    import altair as alt
    import jsonschema

    from lessons.attention import charts

    matrix = np.array([[0.5, 0.495, 0.005], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], dtype=np.float32)  # (T, T)
    tokens = ["[CLS]", "<b>x</b>", "[SEP]"]
    spec = charts.head_view(tokens, matrix, -1, 200, "Layer 1, head 1")
    alt.LayerChart.from_dict(spec, validate=True)  # raises on a spec the schema rejects
    lines = spec["layer"][0]["data"]["values"]
    assert sorted((line["y"], line["y2"]) for line in lines) == [(0, 0), (0, 1), (1, 1), (2, 0), (2, 1), (2, 2)]
    assert all(line["weight"] == pytest.approx(float(matrix[line["y"], line["y2"]])) for line in lines)
    words = spec["layer"][1]["data"]["values"]
    assert [w["token"] for w in words] == tokens * 2  # student text stays data (a Vega text mark), never HTML
    focused = charts.head_view(tokens, matrix, 2, 200, "t")
    assert {line["y"] for line in focused["layer"][0]["data"]["values"]} == {2}
    assert [w["focus"] for w in focused["layer"][1]["data"]["values"]] == [False, False, True, False, False, False]
    broken = dict(spec, layer=[dict(spec["layer"][0], mark={"type": "no such mark"})])
    with pytest.raises(jsonschema.ValidationError):
        alt.LayerChart.from_dict(broken, validate=True)


def test_store_keys_are_stable_and_take_any_text():
    key = compute.text_key("<script>alert(1)</script> \u05e9\u05dc\u05d5\u05dd \U0001f600", "")
    assert key == compute.text_key("<script>alert(1)</script> \u05e9\u05dc\u05d5\u05dd \U0001f600", "")
    assert key != compute.text_key("<script>alert(1)</script>", "") and "/" not in key


# --------------------------------------------------------------------------- shipped == computed now


def test_shipped_results_equal_what_the_code_computes_now():
    jobs = precompute.default_jobs()
    assert sorted(jobs) == store.shipped_keys()
    assert compute.text_key(DEFAULTS["sentence"], DEFAULTS["second"]) in jobs
    for key, (job, *args) in jobs.items():
        fresh, shipped = job(*args), store.shipped(key)
        assert sorted(fresh) == sorted(shipped), key
        for field, value in fresh.items():
            if field == "tokens":
                assert shipped[field] == value, key
            else:
                np.testing.assert_allclose(np.asarray(shipped[field], dtype=float), np.asarray(value, dtype=float),
                                           atol=2e-5, err_msg=f"{key} {field}")


# --------------------------------------------------------------------------- ablation, Grad-CAM, models untouched


def test_ablation_equals_an_independent_copy_with_the_head_zeroed_and_leaves_minilm_untouched():
    model, _ = zoo.load("minilm")
    before, hooks = state_hash(model), zoo.count_hooks(model)
    base, cut, enc = text.ablated_embeddings(ANIMAL)
    assert zoo.count_hooks(model) == hooks and state_hash(model) == before
    twin = copy.deepcopy(model)
    for layer, head in [(0, 2), (3, 1), (5, 11)]:
        with torch.no_grad():
            twin.layers[layer].attn.out.weight[:, head * 32:(head + 1) * 32] = 0.0  # head's output never used
            expected = twin.encode(ANIMAL).embedding.numpy()
            twin.layers[layer].attn.out.weight.copy_(model.layers[layer].attn.out.weight)
        np.testing.assert_allclose(cut[layer, head], expected, atol=1e-5)
    np.testing.assert_allclose(base, model.encode(ANIMAL).embedding.numpy(), atol=1e-6)
    # Chunked batches give the same numbers as one batch.
    _, cut_small, _ = text.ablated_embeddings(ANIMAL, max_batch_tokens=40)
    np.testing.assert_allclose(cut_small, cut, atol=1e-5)


def test_grad_cam_equals_pytorch_grad_cam_on_the_vit_and_leaves_it_untouched():
    cv2 = pytest.importorskip("cv2")
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from models.digits import to_tensor

    model, _ = zoo.load("digits_vit")
    before, hooks = state_hash(model), zoo.count_hooks(model)
    for index in (0, 7):
        pixels, _ = vision.heldout_digit(index)
        target = int(np.argmax(vision.attentions(pixels)[1]))
        ours = vision.grad_cam(pixels, target)  # (4, 4)

        def tokens_to_grid(t):
            return t[:, 1:, :].reshape(t.shape[0], 4, 4, t.shape[2]).permute(0, 3, 1, 2)  # (B, D, 4, 4)

        vit = copy.deepcopy(model).requires_grad_(True)  # the reference library hooks its own copy
        with GradCAM(vit, [vit.blocks[-1].norm1], reshape_transform=tokens_to_grid) as cam:
            theirs = cam(to_tensor(pixels[None]), targets=[ClassifierOutputTarget(target)])[0]  # (28, 28)
        scaled = (ours - ours.min()) / (ours.max() - ours.min() + 1e-7)
        np.testing.assert_allclose(cv2.resize(scaled, (28, 28)), theirs, atol=1e-4)
    assert zoo.count_hooks(model) == hooks and state_hash(model) == before


# --------------------------------------------------------------------------- bad text


@pytest.mark.parametrize("sentence", ["", "   \n\t ", "\U0001f600\U0001f680 emoji \u4f60\u597d\u4e16\u754c",
                                      "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd \u0645\u0631\u062d\u0628\u0627",
                                      "<script>alert('x')</script><b>bold</b>"])
def test_odd_text_gives_valid_attention(sentence):
    out = compute.text_result(sentence, "")
    T = len(out["tokens"])
    assert out["tokens"][0] == "[CLS]" and out["tokens"][-1] == "[SEP]"
    assert out["attentions"].shape == (6, 12, T, T) and not out["truncated"]
    np.testing.assert_allclose(out["attentions"].sum(-1), 1.0, atol=1e-5)
    if not sentence.strip():
        assert out["tokens"] == ["[CLS]", "[SEP]"]


def test_ten_thousand_characters_are_cut_to_256_wordpieces():
    out = compute.text_result("attention " * 1000, "")  # 10,000 characters
    assert out["truncated"] and len(out["tokens"]) == 256 and out["tokens"][-1] == "[SEP]"
    pair = compute.text_result("attention " * 1000, "a second sentence")
    assert pair["truncated"] and len(pair["tokens"]) == 256 and pair["tokens"].count("[SEP]") == 2


def test_a_pair_is_read_as_cls_first_sep_second_sep():
    out = compute.text_result("A man plays.", "Someone plays.")
    assert out["tokens"] == ["[CLS]", "a", "man", "plays", ".", "[SEP]", "someone", "plays", ".", "[SEP]"]


# --------------------------------------------------------------------------- toy model, diy


def test_toy_expected_patterns_and_targets():
    np.testing.assert_array_equal(toy.expected_pattern("reverse", 3), np.fliplr(np.eye(3)))
    np.testing.assert_array_equal(toy.expected_pattern("previous", 3), [[1, 0, 0], [1, 0, 0], [0, 1, 0]])
    tokens = torch.tensor([[1, 2, 3]])
    assert toy.targets("reverse", tokens).tolist() == [[3, 2, 1]]
    assert toy.targets("previous", tokens).tolist() == [[1, 1, 2]]


def test_toy_training_is_reproducible():
    torch.set_num_threads(1)
    a, b = toy.train("reverse", steps=5), toy.train("reverse", steps=5)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


def test_do_it_yourself_notebook_runs(tmp_path):
    from tests.unit.notebook_run import run_notebook

    out = run_notebook("attention", tmp_path, timeout=300)  # diy.py, cell by cell, offline
    assert "6 layers x 12 heads over 16 tokens" in out and "attends most to animal" in out
    assert (tmp_path / "attention_head.png").stat().st_size > 1000


def test_the_digit_slider_interleaves_the_classes_over_the_heldout_digits():
    from data import mnist5k_split

    order = vision.heldout_order()
    assert sorted(order.tolist()) == mnist5k_split(seed=0)[1].tolist()  # every held-out digit once
    assert [vision.heldout_digit(i)[1] for i in range(20)] == list(range(10)) * 2
