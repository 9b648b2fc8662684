"""Every fact the architecture lesson states, and every "Try this" effect, checked on the real models."""
import numpy as np
import pytest
import torch
from torch import nn

from lessons.architecture import builder, compute, content, graphs, neurons
from lessons.architecture.view_helpers import DEPTHS


@pytest.fixture(scope="module")
def vgg11():
    return compute.build_model("vgg11")


@pytest.mark.parametrize("name", list(compute.MODELS))
def test_parameter_totals_equal_sum_of_numel_for_every_model_offered(name):
    spec = compute.build_model(name)
    truth = sum(p.numel() for p in spec.model.parameters())
    frame, totals = compute.parameter_table(spec, depth=2)
    assert totals["parameters"] == truth == frame["parameters"].sum()
    assert compute.parameter_table(spec)[0]["parameters"].sum() == truth  # every depth adds up
    assert all(p.is_meta for p in spec.model.parameters())  # "costs nothing to inspect": no values


@pytest.mark.parametrize("name", compute.ZOO_MODELS)
def test_meta_architecture_is_the_bundled_model(name):
    trained = compute.trained_model(name)
    assert trained is not None, f"bundled weights for {name} are missing"
    meta = compute.build_model(name).model
    assert {n: tuple(p.shape) for n, p in trained.named_parameters()} == \
           {n: tuple(p.shape) for n, p in meta.named_parameters()}


def test_vgg11_parameters_live_in_the_fully_connected_layers(vgg11):
    """Try this "Where VGG keeps its parameters", the intro's 133 M and the SqueezeNet quiz's 102.8 M."""
    total = compute.parameter_count(vgg11.model)
    assert round(total / 1e6, 1) == 132.9
    kinds = [type(m) for m in vgg11.model.modules()]
    assert kinds.count(nn.Conv2d) == 8 and kinds.count(nn.Linear) == 3
    shares = compute.parameter_share_by_kind(vgg11)
    assert shares["linear"] / total > compute.MOST_OF_THE_PARAMETERS  # measured 93.1 %
    assert shares["attention in-projection"] == 0 and compute.fully_connected_share(vgg11)["fully_connected"] == \
        shares["linear"] / total
    first_fc = vgg11.model.get_submodule("classifier.0")
    assert (first_fc.in_features, first_fc.out_features) == (512 * 7 * 7, 4096)
    assert round(first_fc.weight.numel() / 1e6, 1) == 102.8


def test_all_convolutional_squeezenet_has_few_parameters():
    spec = compute.build_model("squeezenet1_1")
    assert round(compute.parameter_count(spec.model) / 1e6, 1) == 1.2
    assert not any(isinstance(m, nn.Linear) for m in spec.model.modules())
    classifier = list(spec.model.get_submodule("classifier").children())
    assert any(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) for m in classifier)
    assert any(isinstance(m, nn.AdaptiveAvgPool2d) for m in classifier)


def test_conv_quiz_and_conv_experiment():
    assert sum(p.numel() for p in nn.Conv2d(3, 16, 3).parameters()) == 448
    built = builder.build_stack("conv:8:5:2:0", "1x28x28")  # the experiment's preset
    assert built.rows[0].output_shape == (8, 12, 12)
    assert nn.Conv2d(1, 8, 5, stride=2)(torch.zeros(1, 1, 28, 28)).shape == (1, 8, 12, 12)


def test_residual_connection_shows_as_boxes_with_two_arrows():
    """Try this "A residual connection in the graph": ResNet-18 at depth 3 has adds; VGG-11 never has
    ("VGG-11 has none at any depth", said by the verdict: every depth the page offers)."""
    resnet = graphs.layer_diagram(compute.build_model("resnet18"), depth=3)
    adds = [b for b in resnet.merge_boxes if b.type_name == "add"]
    assert len(adds) == 8  # one per BasicBlock
    vgg = compute.build_model("vgg11")
    for depth in DEPTHS:
        for roll in (True, False):
            assert graphs.layer_diagram(vgg, depth=depth, roll=roll).merge_boxes == []


def test_resnet_blocks_roll_up_and_efficientnet_diagram_lists_its_stages():
    rolled = graphs.layer_diagram(compute.build_model("resnet18"), depth=2).rolled_boxes
    assert [(b.type_name, b.repeats) for b in rolled] == [("BasicBlock", 2)]  # layer1.0 and layer1.1
    minilm = graphs.layer_diagram(compute.build_model("minilm"), depth=1).rolled_boxes
    assert [(b.type_name, b.repeats) for b in minilm] == [("EncoderLayer", 6)]


@pytest.mark.parametrize("name", ["digits_cnn", "digits_mlp", "efficientnet_lite0", "minilm", "resnet18", "builder"])
def test_autograd_light_blue_boxes_are_exactly_the_parameters(name):
    spec = compute.build_model(name)
    g = graphs.autograd_graph(spec)
    assert g.counts["lightblue"] == g.parameter_tensors == len(list(spec.model.parameters()))
    assert g.counts["darkolivegreen1"] == 1  # the loss
    assert g.counts["orange"] == 0 and graphs.autograd_graph(spec, show_saved=True).counts["orange"] > 0


def test_untrained_torchvision_models_have_no_values():
    spec = compute.build_model("vit_b_16")
    assert round(compute.parameter_count(spec.model) / 1e6, 1) == 86.6
    assert all(p.device.type == "meta" for p in spec.model.parameters())


@pytest.fixture(scope="module")
def mlp_pair():
    import data

    images, labels = data.load_mnist5k()
    _, heldout = data.mnist5k_split()
    model, source = neurons.trained_mlp()
    assert source == "the bundled digits_mlp (trained)"
    states = [(neurons.mlp_state(model, images[i], source),
               neurons.mlp_state(neurons.untrained_mlp(0), images[i], "u"), labels[i]) for i in heldout[:100]]
    return states


def test_training_made_every_layer_of_the_mlp_larger_on_average(mlp_pair):
    trained, untrained, _ = mlp_pair[0]
    for seed in (0, 1, 2):
        other = neurons.mlp_state(neurons.untrained_mlp(seed), np.zeros((28, 28), np.uint8), "u")
        summary = neurons.weight_summary(trained, other)
        assert (summary["mean |w| trained"] > 1.3 * summary["mean |w| untrained"]).all()  # measured >= 1.8x


def test_trained_first_layer_weights_form_smooth_images(mlp_pair):
    trained, untrained, _ = mlp_pair[0]
    smooth = [neurons.neighbour_correlation(neurons.weight_image(trained, j)) for j in range(32)]
    noise = [neurons.neighbour_correlation(neurons.weight_image(untrained, j)) for j in range(32)]
    assert min(smooth) > 0.5  # measured: every neuron >= 0.71
    assert max(abs(c) for c in noise) < 0.2  # measured <= 0.09


def test_trained_mlp_gets_held_out_digits_right_and_untrained_does_not(mlp_pair):
    trained_acc = np.mean([t.prediction == y for t, _, y in mlp_pair])
    untrained_acc = np.mean([u.prediction == y for _, u, y in mlp_pair])
    assert trained_acc > 0.85 and untrained_acc < 0.3  # measured 0.93 trained


# ----- "Fully connected layers hold X %": what is counted, on every model offered ----------------------------

IN_PROJECTION = 3 * 768 * 768 + 3 * 768  # ViT-B/16: in_proj_weight (3E, E) + in_proj_bias (3E,), E = 768


def by_name_count(spec, *suffixes: str) -> int:
    """An independent count: parameters whose qualified name ends with one of `suffixes`."""
    return sum(p.numel() for n, p in spec.model.named_parameters() if n.endswith(suffixes))


@pytest.mark.parametrize("name", list(compute.MODELS))
def test_parameter_kinds_add_up_and_count_every_projection(name):
    spec = compute.build_model(name)
    shares = compute.parameter_share_by_kind(spec)
    truth = sum(p.numel() for p in spec.model.parameters())
    assert sum(shares.values()) == truth  # each parameter tensor counted once, none left out
    linear = sum(p.numel() for m in spec.model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    conv = sum(p.numel() for m in spec.model.modules() if isinstance(m, nn.Conv2d) for p in m.parameters())
    assert (shares["linear"], shares["convolution"]) == (linear, conv)
    attention = [m for m in spec.model.modules() if isinstance(m, nn.MultiheadAttention)]
    assert shares["attention in-projection"] == by_name_count(spec, ".in_proj_weight", ".in_proj_bias")
    assert (shares["attention in-projection"] > 0) == bool(attention)
    fc = compute.fully_connected_share(spec)
    assert fc["fully_connected"] == pytest.approx((linear + shares["attention in-projection"]) / truth)
    assert fc["fully_connected"] + fc["convolution"] + fc["other"] == pytest.approx(1.0)
    assert sum(fc["other_by_type"].values()) == pytest.approx(fc["other"])


def test_vit_b16_attention_in_projection_counts_as_fully_connected():
    """Before: 24.8 % of ViT-B/16's parameters landed in "other" (the in-projection, 12 x 1,771,776)."""
    spec = compute.build_model("vit_b_16")
    total = compute.parameter_count(spec.model)
    shares = compute.parameter_share_by_kind(spec)
    assert shares["attention in-projection"] == 12 * IN_PROJECTION == 21_261_312
    out_proj = by_name_count(spec, "self_attention.out_proj.weight", "self_attention.out_proj.bias")
    assert out_proj == 12 * (768 * 768 + 768)  # in "linear": out_proj is an nn.Linear subclass
    fc = compute.fully_connected_share(spec)
    assert fc["other"] < 0.005  # measured 0.22 %: position embedding, LayerNorms, class token
    assert set(fc["other_by_type"]) == {"pos_embedding", "LayerNorm", "class_token"}
    assert shares["other"] == 197 * 768 + 768 + 25 * 2 * 768  # pos_embedding, class_token, 25 LayerNorms
    assert round(100 * fc["fully_connected"], 1) == 99.1 and round(100 * fc["attention_in_projection"], 1) == 24.6
    assert (fc["attention_blocks"], fc["widths"]) == (12, [768])


def test_fully_connected_sentences_say_what_is_counted():
    vit = content.fully_connected_sentences(compute.fully_connected_share(compute.build_model("vit_b_16")))
    assert vit[0] == ("Fully connected layers hold 99.1 % of the parameters, counting every nn.Linear (74.5 %, the "
                      "attention blocks' out_proj among them) and the query, key and value in-projection of the 12 "
                      "nn.MultiheadAttention modules (24.6 %, 21,261,312 parameters): in_proj_weight (3E × E) and "
                      "in_proj_bias (3E) with E = 768, three Linear layers stored as the attention module's own "
                      "parameters.")
    assert vit[1] == "That is more than 85 %: most of this model's parameters are in its fully connected layers."
    assert vit[2] == ("Convolutions (nn.Conv2d) hold 0.68 %; the other 0.22 % are in pos_embedding 0.17 %, "
                      "LayerNorm 0.04 %, class_token < 0.01 %.")
    vgg = content.fully_connected_sentences(compute.fully_connected_share(compute.build_model("vgg11")))
    assert vgg == ["Fully connected layers (every nn.Linear) hold 93.1 % of the parameters.",
                   "That is more than 85 %: most of this model's parameters are in its fully connected layers.",
                   "Convolutions (nn.Conv2d) hold 6.9 %; nothing else holds parameters."]
    resnet = content.fully_connected_sentences(compute.fully_connected_share(compute.build_model("resnet18")))
    assert resnet == ["Fully connected layers (every nn.Linear) hold 4.4 % of the parameters.",
                      "Convolutions (nn.Conv2d) hold 95.5 %; the other 0.08 % are in BatchNorm2d 0.08 %."]


@pytest.mark.parametrize("name", list(compute.MODELS))
def test_most_sentence_uses_the_shared_threshold(name):
    fc = compute.fully_connected_share(compute.build_model(name))
    says_most = any("most of this model's parameters" in s for s in content.fully_connected_sentences(fc))
    assert says_most == (fc["fully_connected"] > compute.MOST_OF_THE_PARAMETERS)


# ----- joins in the layer diagram: distinct arrows, as drawn ------------------------------------------------

def distinct_tails(diagram) -> dict[int, set[int]]:
    tails: dict[int, set[int]] = {}
    for tail, head in diagram.edges:
        tails.setdefault(head, set()).add(tail)
    return tails


def test_minilm_rolled_joins_count_distinct_arrows():
    """Rolling the 6 encoder layers turns their 6 arrows into the attention stack into one arrow "x6":
    that box is no join in the rolled picture (the old count said 5)."""
    spec = compute.build_model("minilm")
    rolled = graphs.layer_diagram(spec, depth=1, roll=True)
    assert len(rolled.edges) > len(set(rolled.edges))  # the duplicated arrows that rolling creates
    joins = rolled.merge_boxes
    # by hand: tok_emb + pos_emb, + type_emb, the rolled EncoderLayer (hidden state and mask), the stack of
    # hidden states (emb_ln and the layers); the attention stack gets one arrow (x6) from the rolled layers
    assert sorted(b.type_name for b in joins) == ["EncoderLayer", "add", "add", "stack"]
    tails = distinct_tails(rolled)
    assert all(len(tails[b.id]) >= graphs.JOIN_ARROWS for b in joins)
    assert sum(1 for b in rolled.boxes if len(tails.get(b.id, ())) >= 2) == 4
    unrolled = graphs.layer_diagram(spec, depth=1, roll=False)
    assert len(unrolled.edges) == len(set(unrolled.edges))
    # unrolled: the 6 EncoderLayers each read the previous state and the mask; both stacks read 7 tensors
    assert sorted(b.type_name for b in unrolled.merge_boxes) == ["EncoderLayer"] * 6 + ["add", "add", "stack", "stack"]


@pytest.mark.parametrize("depth", [3, 4, 5, 6])
@pytest.mark.parametrize("roll", [True, False])
def test_resnet18_has_one_residual_join_per_basic_block(depth, roll):
    """Known by hand: ResNet-18 has 2 + 2 + 2 + 2 BasicBlocks, each ending in out + identity (8 additions)."""
    from torchvision.models.resnet import BasicBlock

    spec = compute.build_model("resnet18")
    assert sum(isinstance(m, BasicBlock) for m in spec.model.modules()) == 8
    joins = graphs.layer_diagram(spec, depth=depth, roll=roll).merge_boxes
    assert [b.type_name for b in joins] == ["add"] * 8


def test_residual_joins_of_other_models_by_hand():
    lite = compute.build_model("efficientnet_lite0")
    skips = sum(1 for m in lite.model.modules() if getattr(m, "use_residual", False))
    assert skips == 9  # blocks with stride 1 and as many channels out as in: 1 + 1 + 2 + 2 + 3
    assert [b.type_name for b in graphs.layer_diagram(lite, depth=2).merge_boxes] == ["add"] * skips
    vit = compute.build_model("digits_vit")
    assert [b.type_name for b in graphs.layer_diagram(vit, depth=2).merge_boxes] == ["add"] * 8  # 2 per block


@pytest.mark.parametrize("name", list(compute.MODELS))
def test_no_join_means_a_plain_chain(name):
    """The diagram's "No box receives arrows from two different boxes: ... a plain chain", at every depth."""
    spec = compute.build_model(name, device=compute.trace_device(name))
    for depth in DEPTHS:
        d = graphs.layer_diagram(spec, depth=depth)
        if d.merge_boxes:
            continue
        heads: dict[int, set[int]] = {}
        for tail, head in set(d.edges):
            heads.setdefault(tail, set()).add(head)
        assert all(len(h) == 1 for h in heads.values()), (name, depth)
        assert [b.kind for b in d.boxes].count("input") == 1 and [b.kind for b in d.boxes].count("output") == 1


def test_join_sentence():
    assert content.join_sentence(["add"] * 8) == (
        "8 boxes receive arrows from two or more different boxes (add): there separate data flows join, for "
        "example in a residual connection, where an add joins a block's input to its output.")
    assert content.join_sentence([]) == ("No box receives arrows from two different boxes: the data flows as a "
                                         "plain chain at this depth.")
    minilm = graphs.layer_diagram(compute.build_model("minilm"), depth=1)
    assert minilm.labelled_arrows == 3  # mask -> layers x6, layers -> each stack x6
    assert content.join_sentence([b.type_name for b in minilm.merge_boxes], minilm.labelled_arrows) == (
        "4 boxes receive arrows from two or more different boxes (EncoderLayer, add, stack): there separate data "
        "flows join, for example in a residual connection, where an add joins a block's input to its output. An "
        "arrow labelled xN (from or to N rolled-up blocks) counts once.")


# ----- the parameter table: rows add up to the totals at every depth, for every model offered ---------------

@pytest.mark.parametrize("name", list(compute.MODELS))
def test_table_rows_add_up_to_the_totals_at_every_depth(name):
    spec = compute.build_model(name)
    truth = sum(p.numel() for p in spec.model.parameters())
    for depth in DEPTHS:
        frame, totals = compute.parameter_table(spec, depth)
        assert frame["parameters"].sum() == totals["parameters"] == truth, depth
        assert frame["multiply-adds"].sum() == totals["multiply_adds"], depth
        blank = frame[frame["output shape"] == ""]  # every row has a shape (a Parameter row: the tensor's)
        assert blank.empty, list(blank["layer"])
        assert frame["layer"].is_unique


def test_vit_b16_table_has_the_attention_rows_and_an_independent_total():
    """ViT-B/16 at depth 5 and 6: the attention's own products and out_proj's work have rows (before: the
    rows added up to 11.27 G of 17.56 G, and out_proj showed 590,592 parameters, 0 multiply-adds, no shape)."""
    import torchvision

    spec = compute.build_model("vit_b_16")
    tokens, width, mlp, classes = 197, 768, 3072, 1000  # 14 x 14 patches + the class token
    per_block = (tokens * width * 3 * width  # q, k, v in-projection
                 + 2 * tokens * tokens * width  # Q·Kᵀ and A·V over the 12 heads
                 + tokens * width * width  # out_proj
                 + 2 * tokens * width * mlp)  # the MLP
    by_hand = 196 * width * 3 * 16 * 16 + 12 * per_block + width * classes  # patch conv, blocks, head (class token)
    assert by_hand == 17_563_828_224
    published = torchvision.models.ViT_B_16_Weights.IMAGENET1K_V1.meta["_ops"]  # torchvision's count, in G
    for depth in (4, 5, 6):
        frame, totals = compute.parameter_table(spec, depth)
        assert totals["multiply_adds"] == frame["multiply-adds"].sum() == by_hand
        assert round(totals["multiply_adds"] / 1e9, 3) == published == 17.564
    frame, _ = compute.parameter_table(spec, 6)
    block = "encoder.layers.encoder_layer_0.self_attention"
    rows = frame[frame["layer"].str.startswith(block)].set_index("layer")
    assert list(rows.index) == [f"{block}.in_proj_weight + in_proj_bias", f"{block} (Q·Kᵀ, A·V)", f"{block}.out_proj"]
    assert rows.loc[f"{block}.out_proj", "multiply-adds"] == tokens * width * width
    assert rows.loc[f"{block}.out_proj", "output shape"] == "(1, 197, 768)"
    assert rows.loc[f"{block}.out_proj", "parameters"] == 590_592
    assert rows.loc[f"{block} (Q·Kᵀ, A·V)", "multiply-adds"] == 2 * tokens * tokens * width
    assert rows.loc[f"{block} (Q·Kᵀ, A·V)", "output shape"] == "(1, 12, 197, 64)"
    assert rows.loc[f"{block}.in_proj_weight + in_proj_bias", "multiply-adds"] == tokens * width * 3 * width
    assert rows.loc[f"{block}.in_proj_weight + in_proj_bias", "parameters"] == IN_PROJECTION
    # depth 4 shows the attention as one box with all of it
    frame4, _ = compute.parameter_table(spec, 4)
    row = frame4.set_index("layer").loc[block]
    assert row["multiply-adds"] == tokens * width * 4 * width + 2 * tokens * tokens * width
    assert row["parameters"] == IN_PROJECTION + 590_592


@pytest.mark.parametrize("name, weights", [("resnet18", "ResNet18_Weights"), ("resnet50", "ResNet50_Weights"),
                                           ("vgg11", "VGG11_Weights"), ("mobilenet_v3_small", "MobileNet_V3_Small_Weights"),
                                           ("squeezenet1_1", "SqueezeNet1_1_Weights")])
def test_multiply_add_totals_match_torchvision_published_counts(name, weights):
    import torchvision

    published = getattr(torchvision.models, weights).IMAGENET1K_V1.meta["_ops"]  # G multiply-adds (224 px)
    assert round(compute.multiply_adds_per_module(compute.build_model(name))[""] / 1e9, 3) == published


@pytest.mark.parametrize("name, blocks, tokens, width, heads", [("digits_vit", 4, 17, 64, 4),
                                                                ("minilm", 6, compute.MINILM_EXAMPLE_TOKENS, 384, 12)])
def test_hand_written_attention_products_get_their_own_rows(name, blocks, tokens, width, heads):
    """The course's own attention modules compute Q·Kᵀ and A·V in their forward, outside any submodule:
    below the attention's depth they are a row "<attention> (own matrix products)", 2·T·T·d each by hand."""
    spec = compute.build_model(name)
    attention_depth = 3  # blocks.N.attn / layers.N.attn
    for depth in DEPTHS:
        frame, _ = compute.parameter_table(spec, depth)
        own = frame[frame["layer"].str.endswith("(own matrix products)")]
        if depth <= attention_depth:
            assert own.empty
        else:
            assert len(own) == blocks and (own["multiply-adds"] == 2 * tokens * tokens * width).all()
            assert (own["parameters"] == 0).all() and (own["depth"] == attention_depth + 1).all()
            assert (own["output shape"] == str((1, heads, tokens, width // heads))).all()  # A·V, per head


# ----- "Try this" verdicts: the same threshold as the page's sentence, and they say what they judged --------

def experiment(key: str):
    return next(e for e in content._experiments() if e.key == key)


@pytest.mark.parametrize("share", [compute.MOST_OF_THE_PARAMETERS - 1e-3, compute.MOST_OF_THE_PARAMETERS,
                                   compute.MOST_OF_THE_PARAMETERS + 1e-3, 0.931])
def test_vgg_verdict_and_table_sentence_share_one_threshold(share):
    appeared, message = experiment("vgg").check({"model": "vgg11", "fully_connected": share, "title": "VGG-11"})
    fc = {"fully_connected": share, "linear": share, "convolution": 1 - share, "other": 0.0, "attention_blocks": 0,
          "other_by_type": {}}
    says_most = any("most of this model's parameters" in s for s in content.fully_connected_sentences(fc))
    assert appeared == says_most == (share > compute.MOST_OF_THE_PARAMETERS)
    assert message.startswith(content.CHECKED_ON_YOUR_SETTINGS + " (VGG-11, parameter table)")
    assert (", more than the 85 %" in message) == appeared and (", not more than the 85 %" in message) != appeared
    assert f"more than {100 * compute.MOST_OF_THE_PARAMETERS:.0f} %" in experiment("vgg").question


def test_residual_verdict_uses_the_diagram_sentence():
    joins = ["add"] * 8
    result = {"model": "resnet18", "joins": joins, "labelled_arrows": 0, "title": "ResNet-18", "depth": 3,
              "unroll": False}
    appeared, message = experiment("residual").check(result)
    assert appeared and content.join_sentence(joins) in message
    assert message.startswith(content.CHECKED_ON_YOUR_SETTINGS + " (ResNet-18 at depth 3, repeated blocks rolled up)")
    appeared, message = experiment("residual").check({**result, "joins": []})
    assert not appeared and content.join_sentence([]) in message


def test_conv_verdict_says_which_stack_it_judged():
    built = builder.build_stack("conv:8:5:2:0", "1x28x28")
    result = {"builder_rows": [(r.layer, r.output_shape) for r in built.rows], "stack": "conv:8:5:2:0",
              "input_shape": "1x28x28"}
    appeared, message = experiment("conv_shape").check(result)
    assert appeared and message.startswith(content.CHECKED_ON_YOUR_SETTINGS + " (your stack conv:8:5:2:0 on a "
                                                                              "1x28x28 input)")
