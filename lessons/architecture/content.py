"""The architecture lesson's text: the sentences the views state as fact about a model, the "Try this"
experiments with the checks that read the views' results, the quiz and the further reading.

Used by page.py and the views. Imports no streamlit and no torch itself: the records (ui.Experiment,
ui.QuizQuestion, ui.Reading) come from the lesson scaffold, lessons/ui.py. A sentence and the verdict of the
experiment that tests it share one threshold from settings.py: MOST_OF_THE_PARAMETERS ("most of the
parameters") and JOIN_ARROWS (a box where data flows join).
"""
from __future__ import annotations

from lessons import ui
from lessons.architecture.settings import JOIN_ARROWS, MOST_OF_THE_PARAMETERS

MOST = MOST_OF_THE_PARAMETERS
NUMBER_WORDS = {2: "two", 3: "three", 4: "four"}
CHECKED_ON_YOUR_SETTINGS = "Checked on the page as it is now"  # every verdict here judges the current settings


def percent(share: float) -> str:
    """A share (0..1) as a percentage with enough digits to tell a small one from zero."""
    value = 100 * share
    if value == 0:
        return "0 %"
    if value < 0.01:
        return "< 0.01 %"
    return f"{value:.2f} %" if value < 1 else f"{value:.1f} %"


# ----- sentences the views state as fact ------------------------------------------------------------------

def fully_connected_sentences(fc: dict) -> list[str]:
    """Where a model keeps its parameters, from compute.fully_connected_share (what is counted, said)."""
    if fc["attention_blocks"]:
        widths = "/".join(str(w) for w in fc["widths"])
        out = [f"Fully connected layers hold {percent(fc['fully_connected'])} of the parameters, counting every "
               f"nn.Linear ({percent(fc['linear'])}, the attention blocks' out_proj among them) and the query, key "
               f"and value in-projection of the {fc['attention_blocks']} nn.MultiheadAttention modules "
               f"({percent(fc['attention_in_projection'])}, {fc['attention_in_projection_parameters']:,} "
               f"parameters): in_proj_weight (3E × E) and in_proj_bias (3E) with E = {widths}, three Linear "
               "layers stored as the attention module's own parameters."]
    else:
        out = [f"Fully connected layers (every nn.Linear) hold {percent(fc['fully_connected'])} of the parameters."]
    if fc["fully_connected"] > MOST:
        out.append(f"That is more than {100 * MOST:.0f} %: most of this model's parameters are in its fully "
                   "connected layers.")
    rest = ", ".join(f"{kind} {percent(share)}" for kind, share in list(fc["other_by_type"].items())[:3])
    out.append(f"Convolutions (nn.Conv2d) hold {percent(fc['convolution'])}"
               + (f"; the other {percent(fc['other'])} are in {rest}"
                  + (" and more" if len(fc["other_by_type"]) > 3 else "") + "." if fc["other"] else
                  "; nothing else holds parameters."))
    return out


def join_sentence(joins: list[str], labelled_arrows: int = 0) -> str:
    """The layer diagram's sentence on boxes where data flows join: `joins` are the types of
    graphs.LayerDiagram.merge_boxes, `labelled_arrows` how many arrows stand for several ("xN")."""
    if not joins:
        return (f"No box receives arrows from {NUMBER_WORDS.get(JOIN_ARROWS, JOIN_ARROWS)} different "
                "boxes: the data flows as a plain chain at this depth.")
    return (f"{len(joins)} box{'es receive' if len(joins) > 1 else ' receives'} arrows from "
            f"{NUMBER_WORDS.get(JOIN_ARROWS, JOIN_ARROWS)} or more different boxes ({', '.join(sorted(set(joins)))}): there separate data flows join, for "
            "example in a residual connection, where an add joins a block's input to its output."
            + (" An arrow labelled xN (from or to N rolled-up blocks) counts once." if labelled_arrows else ""))


def diagram_caption(d: dict, depth: int) -> str:
    """The layer diagram's caption, from graphs.diagram_data's result `d` drawn at `depth`."""
    return (f"{d['title']} at depth {depth}: {d['boxes']} boxes, traced with torchview from {d['input']}. Each box: "
            "name : type, input and output shape (batch of 1), parameters.")


def diagram_sentences(d: dict, depth: int) -> list[str]:
    """The layer diagram's "What you see", from graphs.diagram_data's result `d` drawn at `depth`."""
    out = [f"At depth {depth}, {d['title']} is drawn as {d['boxes']} boxes.",
           join_sentence(d["joins"], d["labelled_arrows"])]
    for type_name, repeats, first_name, last_name in d["rolled"]:
        out.append(f"{repeats} identical {type_name} blocks ({first_name} … {last_name}) are rolled into one box.")
    return out


# ----- try this, quiz -------------------------------------------------------------------------------------

def _experiments() -> list[ui.Experiment]:
    def conv_check(r):
        rows = r.get("builder_rows") or []
        if not rows:
            return False, "Open the Model builder view to see the result."
        shape = rows[0][1]
        return shape[1:] == (12, 12), (f"{CHECKED_ON_YOUR_SETTINGS} (your stack {r['stack']} on a "
                                       f"{r['input_shape']} input): {rows[0][0]} turns it into {shape}.")

    def vgg_check(r):
        if "fully_connected" not in r:
            return False, "Open the Parameter table view to see the result."
        share = r["fully_connected"]
        return r["model"] == "vgg11" and share > MOST, \
            (f"{CHECKED_ON_YOUR_SETTINGS} ({r['title']}, parameter table): the fully connected layers hold "
             f"{percent(share)} of this model's parameters, {'more' if share > MOST else 'not more'} than the "
             f"{100 * MOST:.0f} % this lesson calls most.")

    def residual_check(r):
        if "joins" not in r:
            return False, "Open the Layer diagram view to see the result."
        joins = r["joins"]
        return r["model"] == "resnet18" and len(joins) > 0, \
            (f"{CHECKED_ON_YOUR_SETTINGS} ({r['title']} at depth {r['depth']}, "
             f"{'repeated blocks shown one by one' if r['unroll'] else 'repeated blocks rolled up'}): "
             f"{join_sentence(joins, r['labelled_arrows'])} VGG-11 has none at any depth.")

    return [
        ui.Experiment("conv_shape", "Predict a conv output shape",
                      {"view": "Model builder", "input_shape": "1x28x28", "stack": "conv:8:5:2:0"},
                      "A 28x28 image goes through Conv2d(1, 8, kernel_size=5, stride=2, padding=0). What height "
                      "and width come out?", ("24 x 24", "12 x 12", "14 x 14", "28 x 28"), 1, conv_check),
        ui.Experiment("vgg", "Where VGG keeps its parameters",
                      {"view": "Parameter table", "model": "vgg11", "depth": 2},
                      "VGG-11 has 8 convolution layers and 3 fully connected ones. Which hold most (more than "
                      f"{100 * MOST:.0f} %) of its 132.9 M parameters?",
                      ("the convolutions", "the fully connected layers", "about half each"), 1, vgg_check),
        ui.Experiment("residual", "A residual connection in the graph",
                      {"view": "Layer diagram", "model": "resnet18", "depth": 3},
                      "Open ResNet-18's blocks (depth 3). Will some box receive arrows from two different boxes, "
                      "unlike VGG's plain chain?",
                      ("yes: the add at the end of each block", "no: it is a chain too"), 0, residual_check),
    ]


def _quiz() -> list[ui.QuizQuestion]:
    return [
        ui.QuizQuestion("How many parameters has Conv2d(3, 16, kernel_size=3) (with bias)?",
                        ("432", "448", "144", "160"), 1,
                        "k·k·C_in·C_out + C_out = 3·3·3·16 + 16 = 448: one 3x3x3 filter per output channel plus "
                        "one bias each."),
        ui.QuizQuestion("SqueezeNet 1.1 classifies the same 1,000 ImageNet classes as VGG-11 with about 1.2 M "
                        "parameters instead of 132.9 M. Why so few?",
                        ("It has no large fully connected layers: a 1x1 convolution and global average pooling "
                         "produce the class scores", "It works on smaller images",
                         "Its convolutions have no bias"), 0,
                        "A Linear layer from a 512x7x7 map to 4,096 units alone has 102.8 M weights in VGG-11. An "
                        "all-convolutional net reuses each small filter at every position, so its count does not grow "
                        "with the image size."),
        ui.QuizQuestion("In torchviz's autograd graph, what are the light-blue boxes?",
                        ("The gradients", "The parameters: leaf tensors that require grad",
                         "The activations of each layer"), 1,
                        "Light blue marks leaf tensors with requires_grad, i.e. the parameters whose .grad the backward "
                        "pass fills. Gray boxes are backward operations, orange ones saved tensors, green the loss."),
    ]


# ----- reading ---------------------------------------------------------------------------------------------

READING = [
    ui.Reading("torchview", "https://github.com/mert-kurttutan/torchview",
               "the layer diagrams (depth, nested modules, rolling repeated modules)"),
    ui.Reading("torchinfo", "https://github.com/TylerYep/torchinfo", "the parameter table"),
    ui.Reading("PyTorchViz (torchviz)", "https://github.com/szagoruyko/pytorchviz",
               "make_dot: the autograd graph and what its colours mean"),
    ui.Reading("Keras plot_model", "https://keras.io/api/utils/model_plotting_utils/",
               "the layer-diagram style this page follows"),
    ui.Reading("PyTorch: Conv2d", "https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html",
               "the output-shape formula"),
    ui.Reading("Simonyan & Zisserman, Very Deep Convolutional Networks (VGG), 2014",
               "https://arxiv.org/abs/1409.1556"),
    ui.Reading("He et al., Deep Residual Learning (ResNet), 2015", "https://arxiv.org/abs/1512.03385"),
    ui.Reading("Springenberg et al., Striving for Simplicity: The All Convolutional Net, 2014",
               "https://arxiv.org/abs/1412.6806"),
    ui.Reading("Iandola et al., SqueezeNet, 2016", "https://arxiv.org/abs/1602.07360"),
    ui.Reading("Dosovitskiy et al., An Image is Worth 16x16 Words (ViT), 2020", "https://arxiv.org/abs/2010.11929",
               "the Vision Transformer; the Digits ViT here is a 4-block version on 7x7 patches"),
    ui.Reading("TensorFlow Playground", "https://playground.tensorflow.org",
               "the neuron-level picture with weights as lines"),
]

WHY = ("Before you train a model, or when you pick one up, you want to know what it is: how an input "
       "flows from layer to layer, what shape the data has in between, where the parameters (and the "
       "memory and compute) are, and which blocks repeat. Every model here but the two tiny digit models "
       "is traced on PyTorch's *meta* device: shapes without values, so even a 133-million-parameter network "
       "costs nothing to inspect.")

OBJECTIVES = ["Read a layer diagram: shapes between layers, parameters per box, repeated blocks.",
              "Tell the autograd graph's boxes apart (parameters, backward operations, saved tensors, the loss).",
              "Work out a layer's parameter count and output shape by hand, and check it.",
              "Spot where a model keeps its parameters and what a residual connection looks like."]

DIY_CAPTION = ("The layer diagram, the parameter table and the autograd graph with the libraries "
               "themselves (torchview, torchinfo, torchviz), on the course's digits CNN:")
