"""The lesson's views, control options, presets and defaults (plain values: no streamlit, no torch)."""
from __future__ import annotations

SLUG = "attention"
VIEWS = ("Head view", "Model view", "Rollout", "Ablation", "Digits ViT", "Known answer")
TEXT_VIEWS = VIEWS[:4]
LAYERS = tuple(range(1, 7))  # MiniLM: 6 layers x 12 heads
HEADS = tuple(range(1, 13))
ALL_TOKENS = -1  # the focus-token control's "every token"
MAX_TEXT_CHARS = 10_000  # the text box takes at most this many characters (the model reads 256 wordpieces)
MODEL_VIEW_TOKENS = 64  # the 72 small heatmaps show at most this many tokens (the enlarged one shows all)
VALUE_LABEL_TOKENS = 24  # the enlarged heatmap prints its values up to this many tokens

FOX = "The quick brown fox jumps over the lazy dog near the river bank."
ANIMAL = "The animal didn't cross the street because it was too tired."
ANIMAL_WIDE = "The animal didn't cross the street because it was too wide."

# name -> the controls it sets (sentence, second sentence, layer, head, focus token index)
PRESETS: dict[str, dict] = {
    "A previous-token head": {"sentence": FOX, "second": "", "layer": 1, "head": 3, "token": ALL_TOKENS},
    "A next-token head": {"sentence": FOX, "second": "", "layer": 2, "head": 9, "token": ALL_TOKENS},
    "A head that parks on [CLS]": {"sentence": FOX, "second": "", "layer": 5, "head": 6, "token": ALL_TOKENS},
    "A pronoun and its referent": {"sentence": ANIMAL, "second": "", "layer": 4, "head": 2, "token": 10},
    "A sentence pair": {"sentence": "A man is playing a guitar.", "second": "Someone is playing an instrument.",
                        "layer": 3, "head": 1, "token": ALL_TOKENS},
}

DIGITS = 1000  # held-out MNIST-5k digits
VIT_LAYERS = (1, 2, 3, 4)
FUSIONS = ("mean", "max", "min")
DISCARDS = (0.0, 0.5, 0.8, 0.9)
PREDICTED = -1  # the class control's "the predicted class"
VIT_CLASSES = (PREDICTED, *range(10))
TASKS = {"reverse": "Reverse the sequence", "previous": "Copy the previous token"}

DEFAULTS = {
    "view": "Head view", "sentence": ANIMAL, "second": "", "layer": 4, "head": 2, "token": ALL_TOKENS,
    "hide_cls": False, "hide_sep": False,
    "digit": 0, "vit_layer": 4, "fusion": "mean", "discard": 0.0, "vit_class": PREDICTED,
    "task": "reverse",
}
