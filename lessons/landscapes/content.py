"""The lesson's text: "What you see" computed from each view's result, the "Try this" experiments
(their checks use the same thresholds as the sentences, from measures.py), the quiz, the reading.
No streamlit, no torch (the records come from lessons/ui.py)."""
from __future__ import annotations

import numpy as np

from lessons import ui
from lessons.landscapes import measures, toy
from lessons.landscapes.settings import MODELS, OPTIMIZERS, SMALL_SEEDS

# A path "has a barrier" when its loss rises at least this much (in nats) above the straight line
# joining its two end losses.
BARRIER_THRESHOLD = 0.1
# Unnormalised directions "blow the slice up" when the loss at distance 1 is at least this many times
# the filter-normalised slice's loss there.
BLOWUP_FACTOR = 10.0
# A slice is "smooth" near its minimum when fewer than this share of its points there are not locally convex.
SMOOTH_SHARE = 0.1
# On a toy surface an optimizer "got there" when its final loss is within this of the minimum.
TOY_REACHED = 0.01
# The bundled digits MLP's weights, for the Slices sentence (tests/unit/test_landscapes_claims.py measures both):
MLP_WEIGHT_RMS = 0.1  # root mean square of its weight matrices' entries (0.098)
MLP_RAW_STEP = {"fc1": 11, "fc3": 4}  # |d| / |W| per layer for a N(0, 1) direction d, rounded


def _where(source: str, what: str) -> str:
    return f"the shipped {what} (precomputed for the defaults)" if source == "shipped" else f"your live {what}"


def _at(alpha, values, where: float) -> float:
    return float(np.asarray(values)[np.argmin(np.abs(np.asarray(alpha) - where))])


# --------------------------------------------------------------------------- what you see


def interpolation_sentences(data, source: str, samples: int) -> list[str]:
    a = data["alpha"]
    first = measures.barrier(a, data["init_loss"])
    inside = (a >= 0) & (a <= 1)
    monotone = bool(np.all(np.diff(data["init_loss"][inside]) <= 1e-4))
    second = measures.barrier(a, data["seed_loss"])
    worst_acc = float(np.min(data["seed_acc"][inside]))
    out = [f"From the initial weights (\u03b1 = 0) to the trained ones (\u03b1 = 1) the loss on {samples} training "
           f"digits goes from {first['start']:.3f} to {first['end']:.3f}"
           + (", falling all the way: no bump on this straight line, as Goodfellow et al. found for many networks."
              if monotone else f", with a bump of {first['height']:.3f} above the straight line at \u03b1 = "
                               f"{first['alpha_height']:.2f}."),
           f"Between two solutions trained from different seeds (losses {second['start']:.3f} and {second['end']:.3f}) "
           f"the loss peaks at {second['max']:.3f} near \u03b1 = {second['alpha_max']:.2f}: a barrier of "
           f"{second['height']:.3f} above the line joining the ends, and accuracy drops to {worst_acc:.1%}"
           + (" on the way. The two minima are not linearly connected; curved low-loss paths between such minima "
              "exist (Garipov et al., Draxler et al. 2018)." if second["height"] >= BARRIER_THRESHOLD
              else ": no barrier worth the name."),
           _beyond_the_ends(data),
           f"Computed on {_where(source, 'paths')}."]
    return out


def _beyond_the_ends(data) -> str:
    """The loss past the two ends of both paths, against the loss at those ends."""
    a = data["alpha"]
    if a.min() >= 0:
        return "The paths stop at the two ends; widen \u03b1 to see beyond them."
    low, high = float(a.min()), float(a.max())
    init, seed = data["init_loss"], data["seed_loss"]
    trained = [(_at(a, init, high), _at(a, init, 1)), (_at(a, seed, low), _at(a, seed, 0)),
               (_at(a, seed, high), _at(a, seed, 1))]  # (past the end, at the end) for each trained solution
    rises = sum(past > at for past, at in trained)
    past_init, at_init = _at(a, init, low), _at(a, init, 0)
    return (f"Beyond the ends, at \u03b1 = {low:g} and {high:g}, the loss is {past_init:.2f} and {trained[0][0]:.2f} on "
            f"the first path, {trained[1][0]:.2f} and {trained[2][0]:.2f} on the second: "
            + ("higher past each trained solution than at it" if rises == len(trained)
               else f"higher past {rises} of the {len(trained)} trained solutions than at them")
            + f", and {'lower' if past_init < at_init else 'higher'} past the initial weights than at them "
              f"({past_init:.2f} against {at_init:.2f}).")


def slices_sentences(data, source: str, samples: int) -> list[str]:
    a, span = data["alpha"], float(np.max(data["alpha"]))
    centre = float(data["centre_loss"])
    f, l, n = (_at(a, data[f"loss_{k}"], span) for k in ("filter", "layer", "none"))
    return [f"All three slices pass through the trained weights at \u03b1 = 0, where the loss is {centre:.4f} "
            f"({samples} training digits).",
            f"At \u03b1 = {span:g} the loss is {f:.3f} along the filter-normalised direction, {l:.3f} along the "
            f"layer-normalised one and {n:.3g} along the unnormalised one ({n / f:.0f} times the first).",
            f"An unnormalised Gaussian direction has entries of size 1 while this MLP's weights are about "
            f"{MLP_WEIGHT_RMS:g} in size (root mean square): a step of 1 along it moves the first layer by about "
            f"{MLP_RAW_STEP['fc1']} times that layer's norm and the last by about {MLP_RAW_STEP['fc3']} times, so the "
            "picture shows the scale of the direction, not the shape of the minimum. Filter normalisation makes a step "
            "of 1 move every filter by its own norm, so slices of different networks are comparable (Li et al. 2018).",
            f"Computed on {_where(source, 'slices')}."]


def surface_sentences(data, source: str, model: str, samples: int) -> list[str]:
    axis, loss = data["axis"], data["loss"]
    centre = loss[len(axis) // 2, len(axis) // 2]
    share = measures.non_convex_share(loss, float(axis[1] - axis[0]))
    return [f"At the centre (the trained {MODELS[model]}) the loss is {centre:.4f} and the accuracy "
            f"{data['acc'][len(axis) // 2, len(axis) // 2]:.1%} on {samples} training digits; across the slice the loss "
            f"runs from {np.nanmin(loss):.4f} to {np.nanmax(loss):.3g}.",
            f"{share:.0%} of the inner grid points are not locally convex (the surface curves down along some "
            "direction there): " + ("a single smooth bowl." if share < SMOOTH_SHARE else "the bowl has ridges and shoulders."),
            "This is one plane through thousands of dimensions: the minimum may look wide here and be narrow along "
            "a direction this plane does not contain. Tick \u201cCompare 4 direction seeds\u201d to see how much "
            "the picture depends on the directions drawn.",
            f"Computed on {_where(source, 'surface')}."]


def multiples_sentences(many, source: str, span: float) -> list[str]:
    step = float(many["axis"][1] - many["axis"][0])
    means = [float(np.mean(many[f"loss_{s}"])) for s in SMALL_SEEDS]
    shares = [measures.non_convex_share(many[f"loss_{s}"], step) for s in SMALL_SEEDS]
    spread = measures.slice_spread(means)
    n, smooth = len(SMALL_SEEDS), sum(share < SMOOTH_SHARE for share in shares)
    if smooth in (0, n):
        verdict = ("every seed's slice is " + ("a single smooth bowl" if smooth else "a bowl with ridges and shoulders")
                   + " by the surface's measure: the verdict repeats, the exact numbers do not.")
    else:
        verdict = (f"by the surface's measure {smooth} of {n} slices are a single smooth bowl and {n - smooth} "
                   f"{'has' if n - smooth == 1 else 'have'} ridges and shoulders: even one slice's verdict depends on "
                   "the directions drawn.")
    return [f"Across {n} direction seeds the mean loss over the slice (\u00b1{span:g}) ranges from "
            f"{spread['min']:.3f} to {spread['max']:.3f} ({spread['relative']:.0%} of its mean) and the non-convex share "
            f"from {min(shares):.0%} to {max(shares):.0%}; {verdict} Trust what all seeds show, not the details of one "
            f"(the question of loss-landscape issues 36 and 44). Computed on {_where(source, 'small multiples')}."]


def trajectory_sentences(data, source: str, optimizer: str) -> list[str]:
    e = data["explained"]
    coords = data["coords"]
    length = float(np.linalg.norm(np.diff(coords, axis=0), axis=1).sum())
    return [f"The first two principal components explain {e[0]:.1%} and {e[1]:.1%} of the variance of the "
            f"{len(coords)} checkpoints ({e[0] + e[1]:.1%} together), so this plane shows most of how "
            f"{OPTIMIZERS[optimizer]} moved the weights.",
            f"The path is {length:.2f} long on the plane; its loss falls from {data['path_loss'][0]:.3f} at the first "
            f"checkpoint to {data['path_loss'][-1]:.4f} at the last.",
            "Random directions would show almost none of the path: in thousands of dimensions two random directions "
            "are nearly orthogonal to it (Li et al. 2018, section 7). Computed on "
            f"{_where(source, 'trajectory')}."]


def optimizer_sentences(figures) -> list[str]:
    out = []
    for optimizer, (data, source) in figures.items():
        e = data["explained"]
        length = float(np.linalg.norm(np.diff(data["coords"], axis=0), axis=1).sum())
        out.append(f"{OPTIMIZERS[optimizer]}: path length {length:.2f}, final loss {data['path_loss'][-1]:.4f}, the two "
                   f"components explain {e[0] + e[1]:.1%} of its variance. Computed on {_where(source, 'trajectory')}.")
    return out


def skips_sentences(data, source: str) -> list[str]:
    axis = data["axis"]
    with_skips = measures.roughness(axis, data["loss_resmlp_skips"])
    without = measures.roughness(axis, data["loss_resmlp_noskips"])
    near = f"\u00b1{measures.NEAR_DISTANCE:g}"
    rougher = without["near"] >= measures.ROUGHER_FACTOR * max(with_skips["near"], 1e-9)
    points = with_skips["near_points"]

    def counted(share: float) -> str:
        return f"{round(share * points)} of {points} points ({share:.0%})"

    return [f"Roughness is measured here as the share of inner grid points where the surface is not locally convex: "
            f"its curvature along some direction is negative by more than {measures.CONVEXITY_TOLERANCE:.0%} of the "
            f"positive curvature (the 2 x 2 finite-difference Hessian of the grid; Li et al. map the same ratio).",
            f"Near the trained weights (within {near}): {counted(with_skips['near'])} with skip connections, "
            f"{counted(without['near'])} without"
            + (f": without skips the bowl has ridges and shoulders, with them it "
               + ("is smooth" if with_skips["near"] < SMOOTH_SHARE else "has far fewer")
               + ", as Li et al. found for deep ResNets." if rougher else ": not rougher by this measure."),
            f"Over the whole \u00b11 square the shares are {with_skips['all']:.0%} and {without['all']:.0%}: far from the "
            "minimum both nets' loss explodes and that, not the minimum's shape, sets the curvature.",
            f"Training loss at the centre: {float(data['centre_resmlp_skips']):.3f} with skips, "
            f"{float(data['centre_resmlp_noskips']):.3f} without (same layers, same initial weights, same training). "
            "In the paper the difference grows with depth (ResNet-20 barely, ResNet-56 and -110 strongly); these nets "
            "have 4 blocks (10 linear layers), the depth this page can train in a few minutes.",
            f"Computed on {_where(source, 'surfaces')}."]


def batch_sharpness(data) -> dict[float, tuple[float, float]]:
    """distance -> (sharpness of the batch-32 solution, of the full-batch one)."""
    return {d: (measures.sharpness(data["alpha"], data["loss_mlp_batch32"], d),
                measures.sharpness(data["alpha"], data["loss_mlp_batch4000"], d))
            for d in (measures.SHARPNESS_NEAR, measures.SHARPNESS_DISTANCE)}


def _sharper(small: float, large: float) -> str:
    return (f"the full-batch minimum is {large / small:.1f} times as sharp" if large > small
            else f"the batch-32 minimum is {small / large:.1f} times as sharp")


def batch_sentences(data, source: str) -> list[str]:
    near, far = measures.SHARPNESS_NEAR, measures.SHARPNESS_DISTANCE
    values = batch_sharpness(data)
    centre = len(data["alpha"]) // 2
    small_loss, large_loss = (float(np.mean(data[f"loss_{n}"][:, centre])) for n in ("mlp_batch32", "mlp_batch4000"))
    (s_near, l_near), (s_far, l_far) = values[near], values[far]
    agree = (l_near > s_near) == (l_far > s_far)
    return [f"Sharpness, the mean rise of the loss at a distance from the minimum along five filter-normalised "
            f"directions: at \u00b1{near:g} it is {s_near:.3f} for the batch-32 solution and {l_near:.3f} for the "
            f"full-batch one ({_sharper(s_near, l_near)}); at \u00b1{far:g} it is {s_far:.3f} and {l_far:.3f} "
            f"({_sharper(s_far, l_far)}).",
            ("The two distances agree here." if agree else
             "So which minimum is \u201csharper\u201d depends on how far you look: close in the full-batch minimum "
             "curves up faster, as Keskar et al. reported for large batches; farther out the batch-32 solution's loss "
             "climbs higher." if l_near > s_near else
             "So which minimum is \u201csharper\u201d depends on how far you look."),
            f"The two minima are not equally deep: training loss {small_loss:.4f} (batch 32) against {large_loss:.4f} "
            "(full batch) at the centre. One number called sharpness hides all of this; Li et al. (2018, section 5) also "
            "show that without filter normalisation, or with weight decay, the apparent sharpness follows the "
            f"weights' scale rather than the minimum. Computed on {_where(source, 'slices')}."]


def _ravine_note(summary, steps: int) -> str:
    sgd, momentum = summary["sgd"], summary["momentum"]
    if sgd["gap"] > sgd["start_gap"]:
        across = ("SGD's loss grows instead of falling: across the valley (curvature 4) each step overshoots the "
                  "floor by more than the last, as every learning rate above 2 / 4 = 0.5 does")
    elif sgd["crossings"] >= 2:
        across = f"SGD zig-zags across the steep direction: it crosses the valley floor {sgd['crossings']} times"
    else:
        across = ("SGD does not zig-zag at this learning rate: it slides down the steep side without crossing the "
                  "valley floor (above a learning rate of 1 / 4, the inverse of that side's curvature, it would)")
    if max(sgd["gap"] - sgd["start_gap"], momentum["gap"] - momentum["start_gap"]) > 0:
        return across + "."
    along = (f"; along the shallow direction SGD has covered {sgd['along']:.0%} of the way to the minimum after "
             f"{steps} steps, momentum {momentum['along']:.0%}")
    return across + along + (": momentum builds up speed along the valley." if momentum["along"] > sgd["along"] + 0.05
                             else ".")


def _saddle_note(summary, steps: int) -> str:
    def left(name: str) -> str:
        at = summary[name]["left_at"]
        return f"{at}" if at is not None else f"more than {steps}"

    sgd, adam = summary["sgd"]["left_at"], summary["adam"]["left_at"]
    text = (f"Near the saddle the gradient along y is tiny (the start is at y = 0.001). Steps until |y| exceeds "
            f"{toy.LEFT_SADDLE:g}, off the saddle: SGD {left('sgd')}, momentum {left('momentum')}, Adam {left('adam')}")
    if adam is not None and (sgd is None or adam < sgd):
        return text + ": Adam rescales the small gradient to a full step and leaves first."
    if adam is None and sgd is None:
        return text + ": at this learning rate neither SGD nor Adam has left yet."
    return text + "."


def _plateau_note(summary, steps: int) -> str:
    sgd, adam = summary["sgd"], summary["adam"]
    return (f"On the plateau the gradient is almost zero: SGD moves {sgd['moved']:.3g} in {steps} steps"
            + (" (it barely moves)" if sgd["moved"] < 0.1 * adam["moved"] else "")
            + f", Adam {adam['moved']:.2f}. Adam divides each coordinate's gradient by its own running size, so its "
              f"first step is {adam['first_step']:.3g} long (the learning rate times \u221a2) however small the gradient.")


def toy_sentences(surface: str, lr: float, steps: int, summary) -> list[str]:
    out = []
    for name, s in summary.items():
        state = (f"diverged after {s['steps']} steps" if s["diverged"] else
                 f"ends {s['gap']:.4f} above the minimum" + (" (there)" if s["gap"] < TOY_REACHED else ""))
        out.append(f"{toy.OPTIMIZER_TITLES[name]}: moved {s['moved']:.2f} from the start and {state}.")
    note = {"ravine": _ravine_note, "saddle": _saddle_note, "plateau": _plateau_note}[surface](summary, steps)
    return out + [note + f" (Learning rate {lr:g}, {steps} steps.)"]


# --------------------------------------------------------------------------- try this


def _checked(result, key: str, what: str):
    entry = (result or {}).get(key)
    if entry is None:
        return None, ""
    return entry, f" Checked on {_where(entry['source'], what)}."


def _check_barrier(result):
    entry, named = _checked(result, "interpolation", "interpolation paths")
    if entry is None:
        return False, "Open the Interpolation view first."
    b = measures.barrier(entry["data"]["alpha"], entry["data"]["seed_loss"])
    return b["height"] >= BARRIER_THRESHOLD, (f"Between the two solutions the loss rises {b['height']:.3f} above the "
                                              f"line joining the ends (threshold {BARRIER_THRESHOLD:g}).{named}")


def _check_blowup(result):
    entry, named = _checked(result, "slices", "slices")
    if entry is None:
        return False, "Open the Slices view first."
    d = entry["data"]
    span = float(np.max(d["alpha"]))
    f, n = _at(d["alpha"], d["loss_filter"], span), _at(d["alpha"], d["loss_none"], span)
    return n >= BLOWUP_FACTOR * f, (f"At \u03b1 = {span:g}: {n:.3g} unnormalised against {f:.3f} filter-normalised "
                                    f"({n / f:.0f} times; threshold {BLOWUP_FACTOR:g}).{named}")


def _check_skips(result):
    entry, named = _checked(result, "skips", "surfaces")
    if entry is None:
        return False, "Open Comparisons, Skip connections first."
    d = entry["data"]
    w, wo = (measures.roughness(d["axis"], d[f"loss_{n}"])["near"] for n in ("resmlp_skips", "resmlp_noskips"))
    return wo >= measures.ROUGHER_FACTOR * max(w, 1e-9), (
        f"Within \u00b1{measures.NEAR_DISTANCE:g} of the trained weights the non-convex share is {w:.0%} with skips and "
        f"{wo:.0%} without (rougher means at least {measures.ROUGHER_FACTOR:g} times as many).{named}")


def _check_batch(result):
    entry, named = _checked(result, "batch", "slices")
    if entry is None:
        return False, "Open Comparisons, Batch size first."
    small, large = batch_sharpness(entry["data"])[measures.SHARPNESS_NEAR]
    return large > small, (f"Sharpness at \u00b1{measures.SHARPNESS_NEAR:g}: {small:.3f} (batch 32) against {large:.3f} "
                           f"(full batch).{named}")


def _check_plateau(result):
    entry = (result or {}).get("toy")
    if entry is None or entry["surface"] != "plateau":
        return False, "Show the plateau in the Toy surfaces view first."
    s = entry["summary"]
    ok = s["adam"]["gap"] < TOY_REACHED and s["sgd"]["gap"] > 0.5
    return ok, (f"After {entry['steps']} steps at learning rate {entry['lr']:g}: Adam ends {s['adam']['gap']:.4f} above "
                f"the minimum, SGD {s['sgd']['gap']:.4f} (\u201cthere\u201d means within {TOY_REACHED:g}). Checked on "
                "the paths drawn above.")


EXPERIMENTS = [
    ui.Experiment("barrier", "Two solutions, one valley?", {"view": "Interpolation", "reach": 0.5, "samples": 500},
                  "Walk in a straight line from one trained MLP to another trained from a different seed. What does "
                  "the loss do half-way?", ("It stays as low as at the ends", "It rises: there is a barrier",
                                            "It falls below both ends"), 1, _check_barrier),
    ui.Experiment("normalize", "Why normalise the directions?", {"view": "Slices", "slice_seed": 0, "slice_span": 1.0,
                                                                  "samples": 500},
                  "Step a distance 1 along a raw Gaussian direction instead of a filter-normalised one. The loss there is",
                  ("about the same", "at least ten times higher", "lower"), 1, _check_blowup),
    ui.Experiment("skips", "Do skip connections smooth the landscape?",
                  {"view": "Comparisons", "comparison": "Skip connections", "cmp_seed": 0, "samples": 500},
                  "The same 4-block network is trained with and without its skip connections, from the same initial "
                  "weights. Near the trained weights, which loss surface has more points that are not locally convex?",
                  ("The one with skips", "The one without skips", "About the same"), 1, _check_skips),
    ui.Experiment("batch", "Small batches, flat minima?", {"view": "Comparisons", "comparison": "Batch size",
                                                           "samples": 500},
                  "The same MLP is trained from the same weights with batches of 32 and with all 4,000 digits per "
                  f"step. Close to each minimum (\u00b1{measures.SHARPNESS_NEAR:g} along filter-normalised directions), "
                  "which one does the loss rise faster around?", ("The batch-32 minimum", "The full-batch minimum",
                                                                  "Neither"), 1, _check_batch),
    ui.Experiment("plateau", "Escaping a plateau", {"view": "Toy surfaces", "toy_surface": "plateau", "toy_lr": 0.1,
                                                    "toy_steps": 60},
                  "On an almost flat plateau, with the same learning rate 0.1 and 60 steps, which optimizer reaches "
                  "the minimum?", ("SGD", "Momentum", "Adam"), 2, _check_plateau),
]

QUIZ = [
    ui.QuizQuestion("A 2-D loss-landscape plot of a network with 25,818 weights shows",
                    ("the whole loss function", "the loss on one plane through the weights, spanned by two chosen "
                     "directions", "the loss of the 2 most important weights"), 1,
                    "Every other direction is held fixed. A different plane (another seed) gives a different picture, "
                    "which is why the page compares several seeds."),
    ui.QuizQuestion("Why does Li et al.'s method rescale each filter of a random direction to the norm of that filter?",
                    ("To make the plot prettier", "ReLU networks are scale-invariant per filter: without it, a net "
                     "with larger weights looks flatter only because of its scale", "To make the grid faster"), 1,
                    "Multiplying a layer's weights by 10 and the next layer's by 1/10 leaves a ReLU network's function "
                    "unchanged, but an unnormalised slice through the rescaled weights changes shape. A filter-normalised "
                    "slice is exactly the same before and after: normalisation removes the scale."),
    ui.QuizQuestion("The checkpoints of a training run, projected on their first two principal components, explain "
                    "90 % of their variance. On a plane of two random directions the same path would",
                    ("look the same", "be almost invisible: random directions are nearly orthogonal to it",
                     "be twice as long"), 1,
                    "In thousands of dimensions two random directions capture a tiny share of any fixed path, so the "
                    "paper uses PCA directions to draw trajectories."),
]

READING = [
    ui.Reading("Li, Xu, Taylor, Studer & Goldstein, Visualizing the loss landscape of neural nets (NeurIPS 2018)",
               "https://arxiv.org/abs/1712.09913", "filter normalisation, skip connections, PCA trajectories"),
    ui.Reading("Goodfellow, Vinyals & Saxe, Qualitatively characterizing neural network optimization problems (ICLR 2015)",
               "https://arxiv.org/abs/1412.6544", "linear interpolation from the initial to the trained weights"),
    ui.Reading("Keskar et al., On large-batch training for deep learning: generalization gap and sharp minima (ICLR 2017)",
               "https://arxiv.org/abs/1609.04836", "sharpness and batch size"),
    ui.Reading("Garipov et al., Loss surfaces, mode connectivity, and fast ensembling of DNNs (NeurIPS 2018)",
               "https://arxiv.org/abs/1802.10026", "curved low-loss paths between minima"),
    ui.Reading("Draxler et al., Essentially no barriers in neural network energy landscape (ICML 2018)",
               "https://arxiv.org/abs/1803.00885", "the same finding, with nudged elastic bands"),
    ui.Reading("loss-landscape (the paper's code)", "https://github.com/tomgoldstein/loss-landscape",
               "the reference implementation; its issues 36 and 44 ask how much one slice can be trusted"),
    ui.Reading("losslandscape.com", "https://losslandscape.com", "Javier Ideami's explorer and renders of real landscapes"),
]

DIY_CAPTION = ("A filter-normalised 2-D slice of a small MLP's loss with plain PyTorch and matplotlib: train it on "
               "scikit-learn's digits, draw two random directions, rescale each filter, evaluate a 21 x 21 grid "
               "and save the contour plot.")

WHY = """A network's loss is a function of all its weights at once: 25,818 numbers for the small MLP here.
A **loss-landscape plot** shows a one- or two-dimensional slice through that function. Used **during and
after training**, slices answer questions a loss curve cannot: is the minimum wide or sharp, are two
solutions in the same valley, do skip connections make the surface easier to descend, where did the
optimizer actually go? They are also easy to draw dishonestly: this page shows how to make one that
means something, and how much a single random slice can be trusted."""

OBJECTIVES = [
    "Read a 1-D interpolation between weights and a barrier between two solutions.",
    "Draw a 2-D slice with filter-normalised directions, and see why unnormalised ones mislead.",
    "Judge how much one slice varies with its random directions; project a training trajectory with PCA.",
    "Compare landscapes: with and without skip connections, small and large batches, SGD and Adam.",
]
