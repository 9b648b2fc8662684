"""The architecture lesson's text: the "Try this" experiments with the checks that read the views' results,
the quiz and the further reading.

Used by page.py. Imports no streamlit itself: the records (ui.Experiment, ui.QuizQuestion, ui.Reading) come
from the lesson scaffold, lessons/ui.py.
"""
from __future__ import annotations

from lessons import ui


# ----- try this, quiz -------------------------------------------------------------------------------------

def _experiments() -> list[ui.Experiment]:
    def conv_check(r):
        rows = r.get("builder_rows") or []
        if not rows:
            return False, "Open the Model builder view to see the result."
        shape = rows[0][1]
        return shape[1:] == (12, 12), f"The builder says {rows[0][0]} turns 1x28x28 into {shape}."

    def vgg_check(r):
        if "fc_share" not in r:
            return False, "Open the Parameter table view to see the result."
        return r["model"] == "vgg11" and r["fc_share"] > 0.85, \
            f"The fully connected layers hold {100 * r['fc_share']:.1f} % of this model's parameters."

    def residual_check(r):
        if "merges" not in r:
            return False, "Open the Layer diagram view to see the result."
        return r["model"] == "resnet18" and r["merges"] > 0, \
            f"{r['merges']} boxes receive two arrows in this diagram (VGG-11 at any depth has none)."

    return [
        ui.Experiment("conv_shape", "Predict a conv output shape",
                      {"view": "Model builder", "input_shape": "1x28x28", "stack": "conv:8:5:2:0"},
                      "A 28x28 image goes through Conv2d(1, 8, kernel_size=5, stride=2, padding=0). What height "
                      "and width come out?", ("24 x 24", "12 x 12", "14 x 14", "28 x 28"), 1, conv_check),
        ui.Experiment("vgg", "Where VGG keeps its parameters",
                      {"view": "Parameter table", "model": "vgg11", "depth": 2},
                      "VGG-11 has 8 convolution layers and 3 fully connected ones. Which hold most of its "
                      "132.9 M parameters?", ("the convolutions", "the fully connected layers",
                                              "about half each"), 1, vgg_check),
        ui.Experiment("residual", "A residual connection in the graph",
                      {"view": "Layer diagram", "model": "resnet18", "depth": 3},
                      "Open ResNet-18's blocks (depth 3). Will some box receive two arrows, unlike VGG's plain chain?",
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
