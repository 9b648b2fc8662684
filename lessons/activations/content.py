"""The activation-heatmap lesson's text: the introduction, the sentences of "What you see" that state
facts about a layer or a method (built here from the numbers, so a claims test can check them), the
"Try this" experiments with the checks that judge the student's current run, the quiz and the
further reading.

Used by page.py and the views. Imports no streamlit itself: the records (ui.Experiment,
ui.QuizQuestion, ui.Reading) come from the lesson scaffold, lessons/ui.py. Every threshold a
sentence names is a constant here, and the verdict that judges the same effect uses that constant.
"""
from __future__ import annotations

from collections.abc import Callable

from lessons import ui
from lessons.activations.controls import PHOTO_MODEL, SHORTCUT_LAYER
from lessons.activations.geometry import LayerGeometry

WHY = """A classifier says *tabby cat*: but what in the picture made it say so? **Class activation maps**
weight the feature maps of one layer by how much they matter for a class and paint the sum over the
image. They are how you check, **after training and at inference**, that a model looks at the object
and not at a watermark, a ruler or a hospital's tag. The catch: different methods and layers give
different maps, and some maps do not depend on the model at all. This page lets you compare them,
test them, and catch a model that is right for the wrong reason."""

OBJECTIVES = [
    "Compute a class activation map and read it: which pixels drive which class, at which layer.",
    "Compare methods (gradient-based, gradient-free, class-agnostic) and layers on the same image.",
    "Expose a shortcut: a model that reads a marker instead of the digit.",
    "Test whether a map explains the model at all (cascading randomization) and score its faithfulness.",
]

# The thresholds the sentences name; the verdicts below use the same numbers.
MOST_OF_THE_MAP = 0.5  # "most of its mass": more than half
BARELY_CHANGED = 0.9  # rank correlation above which a map "barely changed"
CLEAR_MARGIN = 0.1  # a method "clearly" beats the random map: by more than this score


# ----- sentences of "What you see" that state facts --------------------------------------------------

def _pixels(n: int) -> str:
    return f"{n} input pixel" + ("" if n == 1 else "s")


def _a(n: int) -> str:
    """The article before a number said aloud: "an 851", "an 8", "an 11", "a 67"."""
    return "an" if str(n).startswith("8") or n in (11, 18) else "a"


def geometry_sentence(method: str, layer: str, geo: LayerGeometry) -> str:
    """Where the map's cells come from: the layer's grid, its stride and its receptive field.
    FullGrad uses no single layer, so none of them applies."""
    height, width = geo.input_size
    if method == "FullGrad":
        return ("FullGrad uses no single layer (the target layer does not change it): it adds |gradient x input| "
                "to |gradient x bias| at every convolution and batch-norm layer that has a bias, each brought "
                f"to the input's {height} x {width} pixels, so no one grid, stride or receptive field applies.")
    rows, cols = geo.grid
    rf = geo.receptive_field
    beyond = f", more than the {height}-pixel input itself" if rf > max(height, width) else ""
    return (f"The map comes from the {rows} x {cols} grid of {layer.split(' (')[0]}: neighbouring cells are "
            f"{_pixels(geo.stride)} apart (the layer's stride), and each cell is computed from {_a(rf)} {rf} x {rf}-pixel "
            f"window of the input (its receptive field{beyond}); the grid is resized bilinearly to "
            f"{height} x {width} for the overlay.")


def channels_sentence(method: str, scored: int, channels: int) -> str | None:
    """ScoreCAM and AblationCAM score a subset of the channels; the others get weight 0."""
    rest = channels - scored
    if method == "ScoreCAM":
        if rest == 0:
            return f"ScoreCAM scored all {channels} channels of the layer (one masked forward pass each)."
        return (f"ScoreCAM scored only the {scored} of the layer's {channels} channels with the largest mean "
                f"activation (one masked forward pass each); the other {rest} get weight 0. Set “Channels scored” "
                "to all to score every channel.")
    if method == "AblationCAM":
        if rest == 0:
            return f"AblationCAM ablated all {channels} channels of the layer, one forward pass each."
        return (f"AblationCAM ablated only {scored} of the layer's {channels} channels (the {scored // 2} that "
                f"overlap its EigenCAM mask most and the {scored // 2} that overlap it least); the other {rest} "
                "get weight 0. Set “Channels scored” to all to ablate every channel.")
    return None


def statistics_sentences(layer: str, n_channels: int, n_inputs: int, layer_peak: float, n_silent: int,
                         threshold: float, absolute: float, has_negative: bool) -> list[str]:
    """Silence is measured on |activation|: a channel is silent when its values stay between
    -absolute and +absolute on every input and position."""
    share = n_silent / n_channels if n_channels else 0.0
    sign = ("This layer has no activation function after it, so its values can be negative: a channel that "
            "swings far below zero is not silent." if has_negative else
            "This layer's values are never negative on these inputs, so |activation| is the activation itself.")
    return [
        f"{layer}: {n_channels} channels over {n_inputs} inputs; the largest |activation| is {layer_peak:.2f}.",
        f"{n_silent} channels ({share:.0%}) stay within ±{absolute:.3f} ({threshold:.2f} x that) on every input "
        "and position: pruning candidates. How much removing one would change the next layer also depends on "
        "the weights that layer gives it, which this view does not show.",
        sign,
    ]


# ----- try this --------------------------------------------------------------------------------------

def _check(key: str, test: Callable, message: Callable) -> Callable:
    """A verdict on the student's current run: the view's result for `key`, judged by `test`, with
    the numbers (`message`) and a description of the run it judged."""
    def check(result):
        if result and result.get("failed"):
            return False, "This view could not be computed on your current run, so there is nothing to judge."
        if not result or result.get(key) is None:
            return False, "Run the experiment's view first."
        try:
            appeared, numbers = bool(test(result[key])), message(result[key])
        except KeyError as missing:
            return False, f"Your current run has no {missing} to judge: press the button again."
        return appeared, f"{numbers} Judged on your current run: {result.get('run', 'the view above')}."
    return check


def _most(share: float) -> str:
    return "more" if share > MOST_OF_THE_MAP else "not more"


EXPERIMENTS = [
    ui.Experiment(
        "shortcut", "Right for the wrong reason",
        {"view": "Find the mistake", "sc_markers": "class marker", "sc_method": "HiResCAM", "sc_layer": SHORTCUT_LAYER},
        "The shortcut CNN scores 100% on digits that carry their class marker. Where will its HiResCAM map put "
        f"most (more than {MOST_OF_THE_MAP:.0%}) of its mass?", ("on the digit's strokes", "on the small marker square"), 1,
        _check("shortcut_marker_share", lambda s: s["share"] > MOST_OF_THE_MAP,
               lambda s: f"{s['share']:.0%} of the shortcut model's map lies on the marker box, which covers "
                         f"{s['area']:.0%} of the image: {_most(s['share'])} than {MOST_OF_THE_MAP:.0%}.")),
    ui.Experiment(
        "gradcam_hides", "Grad-CAM can hide the shortcut",
        {"view": "Find the mistake", "sc_markers": "class marker", "sc_method": "GradCAM", "sc_layer": SHORTCUT_LAYER},
        "Same model, same digit, but Grad-CAM instead of HiResCAM. Will the marker still take most (more than "
        f"{MOST_OF_THE_MAP:.0%}) of the map?",
        ("yes, the marker still dominates", "no, the map spreads over the digit"), 1,
        _check("shortcut_marker_share", lambda s: not s["share"] > MOST_OF_THE_MAP,
               lambda s: f"Grad-CAM puts {s['share']:.0%} of the shortcut model's map on the marker: "
                         f"{_most(s['share'])} than {MOST_OF_THE_MAP:.0%}.")),
    ui.Experiment(
        "sanity", "Which map ignores the classifier?",
        {"view": "Sanity check", "model": PHOTO_MODEL, "layer": "head conv (1280 ch, 7 px)",
         "sanity_methods": ["GradCAM", "EigenCAM"]},
        f"Randomize only the final classifier layer. Which method's map stays the same (rank correlation above "
        f"{BARELY_CHANGED}) with the trained model's?",
        ("Grad-CAM", "EigenCAM", "both change"), 1,
        _check("first", lambda f: f["EigenCAM"] > BARELY_CHANGED and not f["GradCAM"] > BARELY_CHANGED,
               lambda f: "rank correlation after randomizing the classifier: "
                         + ", ".join(f"{m} {v:.2f}" for m, v in f.items()) + f" (same means above {BARELY_CHANGED}).")),
    ui.Experiment(
        "faithful", "Does Grad-CAM beat a random map?",
        {"view": "Faithfulness", "model": PHOTO_MODEL, "image": "coffee", "framing": "centre crop", "target": "top 1",
         "faith_metric": "ROAD", "layer": "head conv (1280 ch, 7 px)", "faith_methods": ["GradCAM", "EigenCAM"]},
        "ROAD removes the pixels a map calls least relevant, and separately the most relevant, from the coffee photo; "
        "its score is the class probability in the first case minus the second. Does Grad-CAM score clearly (by "
        f"more than {CLEAR_MARGIN}) higher than a random map?",
        ("yes, clearly", "no, about the same as random"), 0,
        _check("scores", lambda s: s["GradCAM"] > s["random map (baseline)"] + CLEAR_MARGIN,
               lambda s: f"Grad-CAM {s['GradCAM']:+.3f} vs random {s['random map (baseline)']:+.3f} "
                         f"(clearly means by more than {CLEAR_MARGIN}).")),
]

QUIZ = [
    ui.QuizQuestion(
        "How does Grad-CAM weight each feature map of the target layer?",
        ("By the map's largest activation", "By the spatial average of the class score's gradient over that map",
         "By the first principal component of all the maps"), 1,
        "Grad-CAM (Selvaraju et al. 2017) averages the gradient over the map's positions; HiResCAM multiplies "
        "gradient and activation position by position instead; EigenCAM uses the principal component and no class."),
    ui.QuizQuestion(
        "You randomize a model's top layers and a method's heatmap barely changes. What does that tell you?",
        ("The method is robust: a good sign", "The map does not depend on what the model learned for the class, so "
         "it cannot explain the model's decision", "The model was undertrained"), 1,
        "That is the sanity check of Adebayo et al. (2018): an explanation must change when the model it explains "
        "is destroyed. A map that survives shows properties of the image (edges, the object outline)."),
    ui.QuizQuestion(
        "A chest X-ray model is 95% accurate at one hospital and 70% at another. Its heatmaps light up a corner "
        "where the first hospital prints a metal token. What is the best next step?",
        ("Ship it: 95% is good", "Test it on images with the token removed or moved, and retrain without the "
         "shortcut", "Use a different heatmap method until the corner disappears"), 1,
        "Like the shortcut CNN here, the model may read the token rather than the lungs (Zech et al. 2018). "
        "Changing the explanation method does not change the model: test the hypothesis on controlled inputs."),
]

READING = [
    ui.Reading("Grad-CAM: Visual explanations from deep networks via gradient-based localization",
               "https://arxiv.org/abs/1610.02391", "Selvaraju et al., ICCV 2017"),
    ui.Reading("Sanity checks for saliency maps", "https://arxiv.org/abs/1810.03292",
               "Adebayo et al., NeurIPS 2018: cascading randomization"),
    ui.Reading("Shortcut learning in deep neural networks", "https://arxiv.org/abs/2004.07780",
               "Geirhos et al., Nature Machine Intelligence 2020"),
    ui.Reading("Variable generalization performance of a deep learning model to detect pneumonia in chest "
               "radiographs", "https://doi.org/10.1371/journal.pmed.1002683",
               "Zech et al., PLOS Medicine 2018: a model that learned the hospital"),
    ui.Reading("Use HiResCAM instead of Grad-CAM for faithful explanations", "https://arxiv.org/abs/2011.08891",
               "Draelos & Carin 2020"),
    ui.Reading("A consistent and efficient evaluation strategy for attribution methods (ROAD)",
               "https://arxiv.org/abs/2202.00449", "Rong et al., ICML 2022"),
    ui.Reading("Computing receptive fields of convolutional neural networks", "https://distill.pub/2019/computing-receptive-fields/",
               "Araujo et al., Distill 2019: the stride and receptive field of a layer"),
    ui.Reading("pytorch-grad-cam", "https://github.com/jacobgil/pytorch-grad-cam",
               "the methods and metrics used on this page, with a tutorial book"),
    ui.Reading("TorchCam", "https://github.com/frgfm/torch-cam", "SmoothGradCAM++ and overlay_mask"),
]


# pytorch-grad-cam's aug_smooth (BaseCAM's default ttach transforms): the image and its mirror, each
# with the *normalised* input multiplied by these factors. Multiplying (pixel - mean) / std scales
# every pixel's distance from the normalisation mean: a contrast change around the mean (mid-grey
# for EfficientNet-Lite0, the MNIST mean ink level for the digits), not a brightness change.
AUG_SMOOTH_FACTORS = (0.9, 1.0, 1.1)
AUG_SMOOTH_HELP = ("Average the map over 6 copies of the image: as it is and mirrored left to right, each at "
                   "90 %, 100 % and 110 % contrast (the normalised pixel values multiplied by 0.9, 1 and 1.1, "
                   "which stretches or shrinks every pixel's distance from the normalisation mean; as "
                   "pytorch-grad-cam's aug_smooth does).")

DIY_CAPTION = ("Grad-CAM on the cat photo with pytorch-grad-cam, in a dozen lines. It prints the top class "
               "and saves the overlay as `gradcam_cat.png`.")


COLORMAP_HELP = ("viridis, inferno, magma and cividis grow steadily in lightness, so a brighter pixel always "
                 "means more evidence, for every student, colour-blind or not. jet and turbo are here to "
                 "compare with papers and pytorch-grad-cam's own pictures.")


def rainbow_note(colormap: str) -> str:
    """The caption under the colormap picker when a rainbow map is chosen."""
    return (f"{colormap} is a rainbow map: its lightness rises and falls along the scale, so it draws edges "
            "that are not in the heatmap, and its reds and greens look alike to a colour-blind student. "
            "Read the ordering from viridis, inferno, magma or cividis.")
