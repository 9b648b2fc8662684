"""What the architecture page offers, as plain values: the models, the diagram directions, the thresholds its
sentences use and the MLP's layer sizes. No torch, no streamlit: the page draws its controls and its shipped
default view (shipped.py) from these before torch is imported; compute.py, graphs.py and neurons.py use the same
values (and re-export them)."""
from __future__ import annotations

# name -> (menu label, where it comes from)
MODELS: dict[str, str] = {
    "digits_cnn": "Digits CNN (the course's, trained)",
    "digits_mlp": "Digits MLP 784-32-16-10 (the course's, trained)",
    "digits_vit": "Digits ViT, 4 blocks x 4 heads (the course's, trained)",
    "efficientnet_lite0": "EfficientNet-Lite0 (pretrained)",
    "minilm": "MiniLM sentence encoder (pretrained)",
    "resnet18": "ResNet-18 (torchvision, untrained)",
    "resnet50": "ResNet-50 (torchvision, untrained)",
    "vgg11": "VGG-11 (torchvision, untrained)",
    "mobilenet_v3_small": "MobileNetV3-Small (torchvision, untrained)",
    "squeezenet1_1": "SqueezeNet 1.1 (torchvision, untrained)",
    "vit_b_16": "ViT-B/16 (torchvision, untrained)",
    "builder": "My model (from the Model builder view)",
}
ZOO_MODELS = ("digits_cnn", "digits_mlp", "digits_vit", "efficientnet_lite0", "minilm")
TORCHVISION_MODELS = ("resnet18", "resnet50", "vgg11", "mobilenet_v3_small", "squeezenet1_1", "vit_b_16")
CPU_TRACED = ("digits_cnn", "digits_mlp")  # small enough to build with values (see compute.trace_device)

DIRECTIONS = {"top-down": "TB", "left-right": "LR"}  # the layer diagram's direction -> Graphviz rankdir
JOIN_ARROWS = 2  # a box that receives arrows from this many different boxes or more is a join (merge_boxes)
# "most of the parameters": the share above which the page says one kind of layer holds most of a model's
# parameters (the parameter table's sentence and the "Where VGG keeps its parameters" verdict both use it)
MOST_OF_THE_PARAMETERS = 0.85

MLP_HIDDEN = (32, 16)  # the neurons view's MLP: 784-32-16-10
LAYER_NAMES = ("input", "hidden 1", "hidden 2", "output")
