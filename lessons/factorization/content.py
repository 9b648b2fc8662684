"""The factorization lesson's text: the introduction, the sentences of "What you see" that state facts
(built here from the numbers, so a claims test can check them), the "Try this" experiments with the
checks that judge the student's current run, the quiz and the further reading.

Imports no streamlit itself: the records come from the lesson scaffold (lessons/ui.py). Every
threshold a sentence names is a constant here, and the verdict that judges the same effect uses it.
"""
from __future__ import annotations

from collections.abc import Callable

from lessons import ui
from lessons.factorization.settings import HEAD

WHY = """A heatmap answers "where did the model look for *this class*?". **Deep feature factorization**
asks a different question: *which things* does one layer see in the picture, without naming a class first?
It shifts each channel of the layer's activations by its minimum, so that the (channels x positions) matrix
has no negative entries, and factorizes it into a few **concepts** with non-negative matrix factorization (Collins et al., ECCV 2018): each concept is a direction
in channel space plus a map of where it is present. Passed through the classifier head, a concept gets a
label. Use it **after training** to judge whether the concepts a model relies on are meaningful (the cat,
not the grey border; the dogs, not the grass) and, **at inference**, to see what an image is made of."""

OBJECTIVES = [
    "Split a layer's activations into k concepts with NMF and read the overlay and the per-concept maps.",
    "Label each concept with the classifier head and judge whether the model's concepts are meaningful.",
    "Factorize several images together and find the concepts they share (co-segmentation).",
    "Choose k from the reconstruction error, and compare DFF with EigenCAM and k-means on the same activations.",
]

# The thresholds the sentences name; the verdicts below use the same numbers.
CLEAR_CONTRAST = 1.5  # a concept "lies on the cat": its mean inside the cat's box is at least this times outside
PRESENT = 0.25  # a concept is "present" in a photo when its mean strength there is at least this share of its
# mean strength in the photo where it is strongest (co-segmentation)
FLAT_SCORE = 0.1  # a concept the head "recognises nothing in": no class scores above this
CAT_CLASSES = ("tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat")  # ImageNet's domestic cats
# The cat's box in the 224 x 224 "whole image" framing of the cat photo (row0, col0, row1, col1), ends
# exclusive: measured once on the picture (the photo fills rows 37-185; the cat ends at column ~193).
CAT_BOX = (37, 0, 186, 190)


def concept_name(index: int, label: str | None) -> str:
    return f"{index + 1} · {label}" if label else f"concept {index + 1}"


# ----- sentences of "What you see" that state facts -----------------------------------------------

def head_sentence() -> str:
    return ("The classifier head reads the global average of the head conv's 1280 channels, so a concept vector of "
            "that layer lives in the space the head classifies: the labels pass each concept through it.")


def no_labels_sentence(layer: str) -> str:
    return (f"Concepts of {layer.split(' (')[0]} have no labels: the classifier head reads only the "
            f"{HEAD.split(' (')[0]}'s 1280 channels. Choose that layer to name the concepts.")


def coverage_sentence(k: int, shape: tuple[int, int]) -> str:
    return (f"Every one of the {shape[0]} x {shape[1]} pixels takes the colour of exactly one of the {k} concepts "
            "(the one whose map is highest there), so the colours tile the whole image.")


def monotone_sentence(errors, ks) -> str:
    rises = [(a, b) for a, b, e0, e1 in zip(ks, ks[1:], errors, errors[1:]) if e1 > e0]
    if rises:
        return (f"Here the error rises from k = {rises[0][0]} to {rises[0][1]}: NMF stopped at a worse local optimum "
                "(same random initialisation policy, different k).")
    return (f"The error never rises as k grows (from {errors[0]:.3f} at k = {ks[0]} to {errors[-1]:.3f} at "
            f"k = {ks[-1]}): on this run each extra concept explained more of the activations.")


# ----- try this -------------------------------------------------------------------------------------

def _check(key: str, test: Callable, message: Callable) -> Callable:
    def check(result):
        if result and result.get("failed"):
            return False, "This view could not be computed on your current run, so there is nothing to judge."
        if not result or result.get(key) is None:
            return False, "Run the experiment's view first."
        appeared, numbers = bool(test(result[key])), message(result[key])
        return appeared, f"{numbers} Judged on {result.get('run', 'the view above')}."
    return check


EXPERIMENTS = [
    ui.Experiment(
        "cat", "Does a concept find the cat?",
        {"view": "Concepts", "image": "cat", "framing": "whole image", "layer": HEAD, "k": 5},
        "Five concepts at the head layer of the cat photo (whole image, with its grey border). Will a concept whose "
        f"top-3 labels name a cat lie on the cat: its map on average at least {CLEAR_CONTRAST} times as strong inside "
        "the cat's box as outside?", ("yes", "no, the concepts ignore where the cat is"), 0,
        _check("cat_contrast", lambda c: c["best"] >= CLEAR_CONTRAST,
               lambda c: f"The best cat-labelled concept ({c['name']}) is {c['best']:.1f} times as strong inside the "
                         f"cat's box as outside ({c['count']} of the concepts name a cat in their top 3).")),
    ui.Experiment(
        "error", "More concepts, less error?",
        {"view": "Choosing k", "image": "cat", "framing": "whole image", "sweep_layer": HEAD},
        "The page factorizes the same activations with k = 2, 3, ..., 10. Will the reconstruction error ever go up "
        "from one k to the next?", ("yes, somewhere", "no, it only falls"), 1,
        _check("errors", lambda e: all(b <= a for a, b in zip(e, e[1:])),
               lambda e: f"The error went from {e[0]:.3f} (k = 2) to {e[-1]:.3f} (k = 10), "
                         + ("never rising." if all(b <= a for a, b in zip(e, e[1:])) else "rising at least once."))),
    ui.Experiment(
        "shared", "Does the cat concept light up the coffee?",
        {"view": "Co-segmentation", "co_images": ["cat", "coffee"], "co_layer": HEAD, "co_k": 4,
         "framing": "whole image"},
        "The cat and the cup of coffee factorized together with 4 concepts at the head layer. Will some concept be "
        f"present in both photos: in its weaker photo at least {PRESENT:.0%} as strong (mean map) as in its "
        "stronger one?", ("yes, a concept such as the background or a texture is shared",
                          "no, at this layer each concept belongs to one photo"), 1,
        _check("shared", lambda s: s["count"] == 0,
               lambda s: f"{s['count']} of the {s['k']} concepts are present in every photo; the most shared one "
                         f"({s['best_name']}) is {s['best_reach']:.0%} as strong in its weaker photo."
                         + (f" Scaled per photo, as the library returns its maps, concepts absent from a photo would "
                            f"still have won {s['painted']:.0%} of its pixels: read the strengths, not only the colours."
                            if s["painted"] > 0 else "")
                         + " Head concepts are objects; move the layer to stage 5 and compare.")),
]

QUIZ = [
    ui.QuizQuestion(
        "Why does DFF use non-negative matrix factorization rather than PCA?",
        ("NMF is faster", "The activations after a ReLU are non-negative, and non-negative parts can only add up, "
         "so each concept is a part of the image rather than a signed direction", "PCA cannot find more than one component"), 1,
        "With W, H >= 0 the activations are explained as a sum of parts (Lee & Seung 1999), each present or absent at a "
        "position. PCA's components can cancel each other; EigenCAM's single component is a signed direction."),
    ui.QuizQuestion(
        "How does the page give a concept of the head layer a label?",
        ("It asks which class the model predicts for the whole image", "It feeds the concept's vector of 1280 channel "
         "values to the classifier head and reads the top classes", "It crops the image to the concept's region"), 1,
        "The head classifies the average of the head channels over the positions; a concept vector is a point in that "
        "same space, so the head can score it (as pytorch-grad-cam's DFF tutorial does)."),
    ui.QuizQuestion(
        "The error curve against k bends at k = 4 and then falls slowly. What does the elbow suggest?",
        ("Use k = 10: the error is lowest", "Start with k = 4: more concepts mostly split existing ones into smaller parts",
         "Use k = 2: fewer concepts are always clearer"), 1,
        "After the elbow each extra concept explains little more: the Choosing k view shows it usually splits one "
        "concept in two. It is a suggestion, not a rule: look at the maps."),
]

READING = [
    ui.Reading("Deep Feature Factorization for Concept Discovery", "https://arxiv.org/abs/1806.10206",
               "Collins, Achanta & Süsstrunk, ECCV 2018"),
    ui.Reading("edocollins/DFF", "https://github.com/edocollins/DFF",
               "the authors' code; its issue 3 asks how to choose k"),
    ui.Reading("pytorch-grad-cam: Deep Feature Factorizations", "https://jacobgil.github.io/pytorch-gradcam-book/Deep%20Feature%20Factorizations.html",
               "the tutorial: DeepFeatureFactorization and concept labels from the classifier head"),
    ui.Reading("Learning the parts of objects by non-negative matrix factorization", "https://doi.org/10.1038/44565",
               "Lee & Seung, Nature 1999"),
    ui.Reading("Eigen-CAM: Class activation map using principal components", "https://arxiv.org/abs/2008.00299",
               "Muhammad & Yeasin, IJCNN 2020"),
    ui.Reading("Finding a \"kneedle\" in a haystack: detecting knee points in system behavior",
               "https://doi.org/10.1109/ICDCSW.2011.20", "Satopaa et al. 2011: the elbow rule this page uses"),
    ui.Reading("scikit-learn NMF", "https://scikit-learn.org/stable/modules/generated/sklearn.decomposition.NMF.html",
               "the solver behind the library's dff"),
]

DIY_CAPTION = ("Deep feature factorization of the cat photo with pytorch-grad-cam: five concepts of the head "
               "layer, each labelled by the classifier head, and the overlay saved as `dff_cat.png`.")
