"""The text of the feature-visualization lesson: introduction, "what you see" sentences computed from
the current result, experiments (try this), quiz and reading. Every sentence stated as fact is
asserted on the bundled model in tests/unit/test_features_claims.py."""
from __future__ import annotations

import numpy as np

from lessons.ui import Experiment, QuizQuestion, Reading

HF_RATIO = 1.5  # "more high-frequency energy": the all-off picture's share at least this many times all-on's
WHY = (
    "A trained network's channels each respond to some pattern. **After training**, two pictures say which: "
    "the **feature maps** of a real image (where each channel fires on it), and **activation maximization**, "
    "an image optimised from noise until one channel fires as strongly as possible. Early stages want fine "
    "patterns; late stages want coarser, larger ones (the Gallery measures it). The optimised pictures are also easy "
    "to over-read: without regularization they are high-frequency noise that the network likes and we cannot "
    "see, so the recipe (Olah et al., Distill 2017) adds a Fourier parameterization, colour decorrelation and "
    "random transforms. Here you run that recipe on EfficientNet-Lite0 and check it against the photos that "
    "excite the same channel."
)
OBJECTIVES = [
    "Read feature maps stage by stage, from edge-like early channels to coarse late ones",
    "Make an image that maximises a channel, a neuron, a class logit or a whole layer, and watch it form",
    "See what each regularizer does by switching it off, measured by the image's spectrum",
    "Compare an optimised image with the dataset examples that excite the same channel, and know where it misleads",
]
STAGE_FACT = ("EfficientNet-Lite0's stage outputs are linear bottlenecks (no activation), so a channel there has "
              "no ceiling; the stem and the head end in ReLU6 and stop at 6, which is why the Optimize view offers "
              "stages only.")


def _short(stage: str) -> str:
    return stage.split(" (")[0]


def gallery_sentences(entries: list[dict], centroids: dict[str, float]) -> list[str]:
    stages = list(centroids)
    first, last = stages[0], stages[-1]
    finer = centroids[first] > centroids[last]
    values = [e["activation"] for e in entries]
    return [
        f"The {_short(first)} pictures have a mean spectral centroid of {centroids[first]:.3f} cycles per pixel, "
        f"the {_short(last)} ones {centroids[last]:.3f}: "
        + (f"the early channels want {centroids[first] / centroids[last]:.1f} times finer patterns than the late ones."
           if finer else "here the late channels want the finer patterns."),
        "Stage by stage: " + ", ".join(f"{_short(s)} {c:.3f}" for s, c in centroids.items()) + ".",
        f"Averaged over all their positions, the {len(entries)} pictures drive their channels to between "
        f"{min(values):.1f} and {max(values):.1f}.",
        STAGE_FACT,
    ]


def optimize_sentences(run) -> list[str]:
    from lessons.features.compute import high_frequency_share

    whose = "The shipped picture" if run.source == "shipped" else "Your run"
    sentences = []
    if run.status == "diverged":
        sentences.append(f"{whose} diverged at step {len(run.objectives)}: the learning rate {run.settings.lr:g} "
                         "sent the image to NaN, so the run stopped.")
    elif len(run.objectives) > 1:
        verb = "raised" if run.objectives[-1] > run.objectives[0] else "did not raise"
        sentences.append(f"{whose} {verb} the objective: from {run.objectives[0]:.2f} to {run.objectives[-1]:.2f} "
                         f"in {len(run.objectives)} steps ({run.status}"
                         + (f", {run.seconds:.1f} s" if run.seconds else "") + ").")
    else:
        sentences.append(f"{whose} reached an objective of {run.objectives[-1]:.2f} after {run.settings.steps} steps.")
    if run.image is not None and run.status != "diverged":
        sentences.append(f"{high_frequency_share(run.image):.0%} of the picture's brightness power lies above 0.25 "
                         "cycles per pixel (fine detail); the Regularizers view shows how that changes without "
                         "the recipe.")
    return sentences


def regularizer_sentences(comparison) -> list[str]:
    hf = comparison.hf_share
    if "all on" not in hf or "all off" not in hf:
        return ["The comparison is not complete yet: press Compare and let it finish."]
    ratio = hf["all off"] / max(hf["all on"], 1e-9)
    whose = "the shipped comparison" if comparison.source == "shipped" else "your comparison"
    singles = {n: v for n, v in hf.items() if n not in ("all on", "all off")}
    sentences = [f"In {whose}, {hf['all off']:.0%} of the power lies above 0.25 cycles per pixel with every "
                 f"regularizer off, {hf['all on']:.0%} with all on: "
                 + (f"{ratio:.1f} times more high-frequency energy without them (at least {HF_RATIO:g} times counts "
                    "as more)." if ratio >= HF_RATIO else f"only {ratio:.1f} times, less than the {HF_RATIO:g} "
                                                          "times this lesson calls more.")]
    if singles:
        worst = max(singles, key=singles.get)
        sentences.append(f"Switching off one regularizer at a time, {worst} raises the share most "
                         f"(to {singles[worst]:.0%})." if singles[worst] > hf["all on"] else
                         f"Switching off one regularizer at a time raises the share above {hf['all on']:.0%} in no "
                         "picture: here no single regularizer is what keeps the fine detail out.")
    return sentences


def feature_map_sentences(maps: dict, tops: dict, picked: str, big: np.ndarray) -> list[str]:
    stages = list(maps)
    first, last = maps[stages[0]], maps[stages[-1]]
    sentences = [f"The maps go from {first.shape[1]} x {first.shape[2]} cells at {_short(stages[0])} to "
                 f"{last.shape[1]} x {last.shape[2]} at {_short(stages[-1])}: each cell of a later stage sees a "
                 "larger part of the image."]
    for stage in stages:
        c = int(tops[stage][0])
        sentences.append(f"At {_short(stage)} the most active channel is {c} (mean {maps[stage][c].mean():.2f}).")
    sentences.append(f"{picked} is positive at {(big > 0).mean():.0%} of its {big.size} positions.")
    return sentences


def example_sentences(stage, channel, peak, mean, examples, names, geometry, best_image_mean, best_image) -> list[str]:
    if not examples:
        return ["No dataset example could be found."]
    best = examples[0]
    more = peak > best.activation
    return [f"At its strongest position the optimised image drives channel {channel} of {_short(stage)} to "
            f"{peak:.2f}; the strongest position of the collection ({names[best.image_index]}) reaches "
            f"{best.activation:.2f}: " + (f"the optimised image is {peak / best.activation:.1f} times stronger."
                                          if more and best.activation > 0 else "here the dataset example is stronger."),
            f"On the objective it was made for, the channel's mean over all positions, the optimised image reaches "
            f"{mean:.2f}; the best whole image of the collection ({best_image}) {best_image_mean:.2f}.",
            f"Each crop is the receptive field of one position: {geometry.receptive_field} px with a stride of "
            f"{geometry.jump} px.",
            "The optimised image exaggerates: it puts the channel's favourite pattern everywhere, which no real "
            "image does. The crops show what the channel responds to in the photos it can meet."]


# --------------------------------------------------------------------------- try this


def _check_regularizers(result):
    comparison = (result or {}).get("comparison")
    if comparison is None or "all off" not in comparison.hf_share:
        return False, "Open the Regularizers view and let the comparison finish."
    hf = comparison.hf_share
    ratio = hf["all off"] / max(hf["all on"], 1e-9)
    whose = "the shipped comparison" if comparison.source == "shipped" else "your comparison"
    return ratio >= HF_RATIO, (f"Judged on {whose} ({result['describe']}): all off {hf['all off']:.0%}, all on "
                               f"{hf['all on']:.0%} of the power above 0.25 cycles per pixel, a ratio of {ratio:.1f} "
                               f"(the lesson's threshold: {HF_RATIO:g}).")


def _check_stages(result):
    centroids = (result or {}).get("centroids")
    if not centroids:
        return False, "Open the Gallery view."
    stages = list(centroids)
    first, last = centroids[stages[0]], centroids[stages[-1]]
    return first > last, (f"Judged on the shipped gallery: spectral centroid {first:.3f} cycles per pixel at "
                          f"{_short(stages[0])}, {last:.3f} at {_short(stages[-1])}.")


def _check_examples(result):
    if not result or "best_example" not in result:
        return False, "Open the Dataset examples view."
    return result["optimised"] > result["best_example"], (
        f"Judged on {result['run']}: the optimised image {result['optimised']:.2f}, the best dataset example "
        f"{result['best_example']:.2f}.")


def _check_divergence(result):
    run = (result or {}).get("run")
    if run is None or not hasattr(run, "status"):
        return False, "Press Optimize and let the run end."
    if run.source == "shipped":
        return False, "This is the shipped picture: press Optimize to run the experiment."
    return run.status == "diverged", (f"Judged on your run ({result['describe']}): it {run.status} after "
                                      f"{len(run.objectives)} steps.")


EXPERIMENTS = [
    Experiment("regularizers", "Switch every regularizer off",
               {"view": "Regularizers", "stage": "stage 3 (40 ch, 28 px)", "objective": "channel", "channel": 3,
                "steps": 128, "lr": 0.05, "size": 128, "seed": 0},
               "Without the Fourier parameterization, decorrelation and transforms, will the picture hold more, "
               "about the same, or less fine-grained (high-frequency) energy?",
               ("more", "about the same", "less"), 0, _check_regularizers),
    Experiment("stages", "Early against late channels",
               {"view": "Gallery"},
               "Which stage's pictures have the finer patterns (a higher spectral centroid)?",
               ("stage 2 (early)", "stage 7 (late)", "no difference"), 0, _check_stages),
    Experiment("examples", "Optimised image against the photos",
               {"view": "Dataset examples", "model": "efficientnet_lite0", "stage": "stage 3 (40 ch, 28 px)",
                "channel": 3},
               "Will the optimised image, at its strongest position, excite channel 3 more than the strongest "
               "position of any bundled photo?",
               ("more", "less"), 0, _check_examples),
    Experiment("divergence", "An absurd learning rate",
               {"view": "Optimize", "lr": 1e36, "steps": 32, "size": 64, "parameterization": "fourier"},
               "With a learning rate of 1e36, what happens when you press Optimize?",
               ("the image becomes NaN and the run stops", "a sharper picture", "nothing changes"), 0,
               _check_divergence),
]

QUIZ = [
    QuizQuestion(
        "Why does the recipe optimise a Fourier spectrum scaled by 1/frequency instead of the pixels?",
        ("It makes every step cheaper", "Pixel gradients are dominated by high frequencies; the scaling lets "
         "coarse structure change as fast as fine detail", "The network only accepts Fourier inputs"),
        1, "Gradient ascent on raw pixels mostly adds high-frequency patterns the network reacts to; the "
           "Regularizers view measures it. The Fourier basis with 1/f scaling whitens the spectrum of the steps."),
    QuizQuestion(
        "An optimised image of a late channel shows something like dog faces. What can you conclude?",
        ("The channel detects dogs and nothing else", "The channel responds strongly to dog-face-like patterns; "
         "check the dataset examples, since one picture can hide other things it responds to",
         "The network was trained on dog faces only"),
        1, "Optimisation finds one strong stimulus, not the whole set of inputs a channel responds to (Olah et al. "
           "show channels that respond to several unrelated things). Dataset examples show what excites it in real "
           "images."),
    QuizQuestion(
        "Why can the optimised image beat every real photo on its channel?",
        ("It is free to repeat and exaggerate the preferred pattern at every position",
         "It uses a larger image", "The model is put in training mode"),
        0, "A photo contains the pattern in a few places at most; the optimised image tiles it everywhere, so its "
           "mean over positions is far above any photo's, and even its strongest position beats the photos' "
           "strongest."),
]

READING = [
    Reading("Feature Visualization (Olah, Mordvintsev & Schubert, Distill 2017)", "https://distill.pub/2017/feature-visualization/",
            "the recipe implemented here: parameterizations, transformation robustness, dataset examples"),
    Reading("Visualizing Higher-Layer Features of a Deep Network (Erhan et al., 2009)",
            "https://www.researchgate.net/publication/265022827", "activation maximization by gradient ascent"),
    Reading("Visualizing and Understanding Convolutional Networks (Zeiler & Fergus, ECCV 2014)",
            "https://arxiv.org/abs/1311.2901", "feature maps and the image patches that excite them"),
    Reading("Inceptionism: Going Deeper into Neural Networks (Mordvintsev et al., 2015)",
            "https://research.google/blog/inceptionism-going-deeper-into-neural-networks/", "DeepDream: a whole layer as the objective"),
    Reading("Computing Receptive Fields of Convolutional Neural Networks (Araujo et al., Distill 2019)",
            "https://distill.pub/2019/computing-receptive-fields/", "the crop sizes of the dataset examples"),
    Reading("Lucid", "https://github.com/tensorflow/lucid", "the Distill article's TensorFlow library"),
    Reading("Lucent", "https://github.com/greentfrapp/lucent", "Lucid for PyTorch (torch-lucent)"),
    Reading("CNN Explainer (Wang et al., 2020)", "https://poloclub.github.io/cnn-explainer/",
            "feature maps you can click, in the browser"),
]

DIY_CAPTION = ("Activation maximization in plain PyTorch: a Fourier image with 1/f scaling and random "
               "jitter, optimised to excite one channel of EfficientNet-Lite0; it prints the activation "
               "and saves the picture as `channel.png`.")
