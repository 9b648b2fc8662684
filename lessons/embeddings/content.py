"""The lesson's text: why and objectives, "What you see" computed from each view's result, the
"Try this" experiments (their checks use the same thresholds as the sentences), the quiz, the
reading. No streamlit, no torch."""
from __future__ import annotations

import numpy as np

from lessons import ui
from lessons.embeddings import settings as S
from lessons.embeddings import store
from lessons.embeddings.settings import LAYERS, NETWORKS, TRUST_K

# Two k-NN accuracies (or neighbour shares) "differ" when they are at least this far apart.
CLEAR_GAP = 0.05

WHY = """A trained network turns each input into a vector of hundreds of numbers: its **embedding**. Inputs the
model treats alike get nearby vectors, so the geometry of the embeddings is a picture of what the model
learned. Nobody can look at 64 or 384 dimensions, so we **project** them to 2 or 3 with PCA, t-SNE or UMAP,
as the TensorFlow Embedding Projector does. Use it **after training** (are the classes apart? which
inputs does the model confuse?) and **at inference** (where does a new input land?). But a projection
always throws most of the geometry away: this page puts beside every picture how much of the original
neighbourhoods survived it."""

OBJECTIVES = [
    "Project embeddings with PCA, t-SNE and UMAP in 2-D and 3-D and read their clusters and neighbours.",
    "Check a picture against the original space: nearest neighbours, trustworthiness, neighbours kept, k-NN accuracy.",
    "See how t-SNE's perplexity and UMAP's neighbours change the picture of the same points.",
    "Watch digit classes separate with depth and with training in a CNN.",
]


def md(text: str) -> str:
    """Text the student typed (or a file name), safe inside a Markdown sentence: every Markdown and
    HTML special character is backslash-escaped, so it shows as typed and is never rendered."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~$:&" else ch for ch in str(text))


def where(source: str, what: str) -> str:
    if source == "shipped":
        return f"the shipped {what} (precomputed for these settings and shipped with the app)"
    return f"your live {what}"


def _n(value) -> int:
    return int(np.asarray(value))


# --------------------------------------------------------------------------- what you see


def trust_sentences(result: dict) -> list[str]:
    t, kept = float(result["trust_trustworthiness"]), float(result["trust_kept"])
    k, m = _n(result["trust_k"]), _n(result["trust_points"])
    original, picture = float(result["trust_knn_original"]), float(result["trust_knn_projection"])
    if picture <= original - CLEAR_GAP:
        verdict = "the picture mixes classes that the original space keeps apart."
    elif picture >= original + CLEAR_GAP:
        verdict = "the picture separates the classes more than the original space does: it looks cleaner than the data."
    else:
        verdict = "about the same, so the classes are as far apart in the picture as in the original space."
    return [f"Trustworthiness {t:.3f} (k = {k}, on {m:,} points; 1 means no point has a neighbour in the picture "
            "that was far from it in the original space).",
            f"On average {kept:.0%} of each point's {k} nearest neighbours in the original space are also among its "
            f"{k} nearest in the picture: the rest of its neighbourhood was rearranged.",
            f"A {k}-nearest-neighbour vote on the labels is right for {original:.1%} of the points in the original "
            f"space and {picture:.1%} in the picture: {verdict}"]


def projection_sentences(result: dict, source: str, method: str, dims: int, what: str) -> list[str]:
    n, d = len(result["coords"]), _n(result["dims_original"])
    out = [f"{n:,} points ({what}), projected by {method} from {d:,} dimensions to {dims}."]
    if method == "PCA":
        e = np.asarray(result["explained"], float)
        parts = ", ".join(f"{v:.1%}" for v in e)
        out.append(f"The {dims} principal components explain {parts} of the variance ({e.sum():.1%} together): "
                   "distances in the picture are true to the largest directions of spread only.")
    else:
        if "tsne_iterations" in result:
            out.append(f"t-SNE ran {_n(result['tsne_iterations'])} iterations: each phase stops once its KL divergence "
                       f"falls by less than {S.TSNE_STOP['settle']:.0%} to {S.TSNE_STOP['exaggeration']:.0%} over "
                       f"{S.TSNE_STOP_WINDOW} iterations.")
        out.append(f"{method} arranges points so that neighbours stay together; the sizes of clusters and the gaps "
                   "between them are not distances you can read off.")
    out += trust_sentences(result)
    out.append(f"Computed on {where(source, 'projection')}.")
    return out


def neighbour_sentences(query: str, query_label: str, labels, kept, distance: str, k: int, typed: bool) -> list[str]:
    same = int(np.sum(np.asarray(labels) == query_label))
    out = [f"The {k} nearest neighbours of \u201c{md(query)}\u201d in the original space ({distance} distance): "
           f"{same} of {k} have its label ({md(query_label)})."]
    if kept is not None:
        out.append(f"{int(np.sum(kept))} of them are also among its {k} nearest points in the picture; the "
                   "projection moved the others further away (all are ringed).")
    if typed:
        out.append("Your item is in the list of points, so it also appears in the projection.")
    return out


# What the small multiples of the default points (1,000 digits' penultimate features) show about the
# arrangement of the classes (tests/unit/test_embeddings_claims.py measures it on the shipped panels).
GLOBAL_ARRANGEMENT = {
    "perplexity": "On the default digits the distances between the ten class centres follow the original space "
                  "about equally well at every perplexity here (correlation 0.6 to 0.7): a larger perplexity does "
                  "not make t-SNE's global arrangement more faithful on these points.",
    "neighbours": "On the default digits the distances between the ten class centres follow the original space "
                  "more closely at 50 neighbours than at 5, but not steadily in between.",
}


def multiples_sentences(values, results: list[dict], over: str, source: str) -> list[str]:
    trusts = [float(r["trust_trustworthiness"]) for r in results]
    kept = [float(r["trust_kept"]) for r in results]
    name = "perplexity" if over.startswith("t-SNE") else "neighbours"
    best = int(np.argmax(kept))
    return [f"The same {len(results[0]['coords']):,} points with {name} " + ", ".join(f"{v:g}" for v in values) +
            f": trustworthiness {min(trusts):.3f} to {max(trusts):.3f}, neighbours kept {min(kept):.0%} to "
            f"{max(kept):.0%} (most at {name} {values[best]:g}).",
            f"A small {name} weighs only each point's closest neighbours, a large one more of its surroundings. "
            + GLOBAL_ARRANGEMENT[name] + " No single value is right (Wattenberg et al. 2016): compare them before "
            "trusting a cluster.",
            f"Computed on {where(source, 'small multiples')}."]


def layer_rows(panels: dict[str, dict]) -> list[dict]:
    rows = []
    for network in NETWORKS:
        for layer in LAYERS:
            one = panels[f"{network}.{layer}"]
            rows.append({"network": network, "layer": layer, "knn_original": float(one["trust_knn_original"]),
                         "knn_projection": float(one["trust_knn_projection"]),
                         "trustworthiness": float(one["trust_trustworthiness"]), "kept": float(one["trust_kept"])})
    return rows


def layers_sentences(panels: dict[str, dict], method: str, source: str) -> list[str]:
    by = {(r["network"], r["layer"]): r for r in layer_rows(panels)}
    pix, pen, rnd = by["trained", "pixels"], by["trained", "penultimate"], by["untrained", "penultimate"]
    return [f"In the trained CNN the {TRUST_K}-NN accuracy in the original space rises from {pix['knn_original']:.1%} "
            f"on raw pixels to {by['trained', 'block2']['knn_original']:.1%} after block 2 and "
            f"{pen['knn_original']:.1%} at the penultimate layer: the classes separate with depth.",
            f"The untrained network (the same architecture with random weights) reaches {rnd['knn_original']:.1%} at "
            f"its penultimate layer: the separation comes from training, not from the architecture.",
            f"{method}'s trustworthiness is {pen['trustworthiness']:.3f} for the trained penultimate layer, "
            f"{pix['trustworthiness']:.3f} for raw pixels and {rnd['trustworthiness']:.3f} for the untrained "
            "network's penultimate layer.",
            f"Computed on {where(source, 'layer projections')}."]


# --------------------------------------------------------------------------- try this


def _layers(result):
    return (result or {}).get("layers")


def _check_depth(result) -> tuple[bool, str]:
    layers = _layers(result)
    if layers is None:
        return False, "Open the Layers view to run this experiment."
    by = {(r["network"], r["layer"]): r for r in layer_rows(layers["panels"])}
    pix, pen = by["trained", "pixels"]["knn_original"], by["trained", "penultimate"]["knn_original"]
    return pen >= pix + CLEAR_GAP, (f"Checked on {where(layers['source'], 'layer projections')}: k-NN accuracy "
                                    f"{pix:.1%} on raw pixels, {pen:.1%} at the trained penultimate layer.")


def _check_training(result) -> tuple[bool, str]:
    layers = _layers(result)
    if layers is None:
        return False, "Open the Layers view to run this experiment."
    by = {(r["network"], r["layer"]): r for r in layer_rows(layers["panels"])}
    trained, untrained = by["trained", "penultimate"]["knn_original"], by["untrained", "penultimate"]["knn_original"]
    return trained >= untrained + CLEAR_GAP, (
        f"Checked on {where(layers['source'], 'layer projections')}: penultimate-layer k-NN accuracy "
        f"{trained:.1%} trained, {untrained:.1%} untrained.")


def umap_reference() -> dict | None:
    """The shipped default UMAP projection (the reference the PCA experiment compares with)."""
    from lessons.embeddings.precompute import default_projection_key

    return store.shipped(default_projection_key())


def _check_pca(result) -> tuple[bool, str]:
    projection = (result or {}).get("projection")
    reference = umap_reference()
    if projection is None or projection["method"] != "PCA" or reference is None:
        return False, "Set up the experiment: the Projection view with PCA."
    pca, umap = float(projection["data"]["trust_kept"]), float(reference["trust_kept"])
    return pca <= umap - CLEAR_GAP, (
        f"Checked on {where(projection['source'], 'PCA projection')} against the shipped UMAP projection of the "
        f"same digits: {pca:.0%} of each digit's {TRUST_K} neighbours kept by PCA, {umap:.0%} by UMAP.")


EXPERIMENTS = (
    ui.Experiment("depth", "Classes separate with depth",
                  {"view": "Layers", "layers_method": "UMAP", "points": 1000},
                  "Where in the trained digits CNN are the ten classes furthest apart (the highest k-NN accuracy)?",
                  ("In the raw pixels", "After block 1", "At the penultimate layer"), 2, _check_depth),
    ui.Experiment("training", "Training, not the architecture",
                  {"view": "Layers", "layers_method": "UMAP", "points": 1000},
                  "The untrained network has the same layers with random weights. Does its penultimate layer "
                  "separate the digits as well as the trained one?",
                  ("Just as well: the layers do it", "Clearly worse: training does it"), 1, _check_training),
    ui.Experiment("pca", "A linear picture keeps fewer neighbours",
                  {"view": "Projection", "source": "digits", "layer": "penultimate", "network": "trained",
                   "points": 1000, "method": "PCA", "dims": 2},
                  "PCA keeps the two directions of largest variance. Of each digit's 10 nearest neighbours, will PCA's "
                  "picture keep more or fewer than UMAP's?",
                  ("More than UMAP", "About as many", "Fewer than UMAP"), 2, _check_pca),
)

QUIZ = (
    ui.QuizQuestion("In a t-SNE picture, cluster A is twice as wide as cluster B and far from cluster C. What can you "
                    "conclude?",
                    ("A's points are twice as spread out in the original space", "A is further from C than from B",
                     "Little: t-SNE does not preserve cluster sizes or the distances between clusters"), 2,
                    "t-SNE only tries to keep each point's near neighbours near. In the Small multiples view of the default digits "
                    "the widest class is less than 1.5 times as wide as the narrowest at perplexity 5 and more than "
                    "twice at 50, and at no perplexity does the order of the classes' widths follow the original space (Wattenberg "
                    "et al., Distill 2016). Check neighbours in the original space."),
    ui.QuizQuestion("A projection has trustworthiness 0.99 but keeps only 50% of each point's 10 nearest neighbours. "
                    "How can both be true?",
                    ("The numbers are computed on different points",
                     "Trustworthiness penalises only neighbours in the picture that were far away in the original "
                     "space; swapping among near points costs little",
                     "Trustworthiness counts the classes, not the neighbours"), 1,
                    "Trustworthiness weighs each intruder by how far down its original-space rank it was. Close "
                    "points exchanged among themselves lower the neighbours-kept share but barely the trust score."),
    ui.QuizQuestion("Why can PCA's 2-D picture mix classes that a 10-NN vote separates in the original 64 dimensions?",
                    ("PCA is random", "The two directions of largest variance need not be the directions that "
                     "separate the classes; the rest of the variance is dropped", "PCA needs labels"), 1,
                    "PCA is linear and unsupervised: it keeps the most variance, which the page reports as explained "
                    "variance, and whatever separates the classes in the other directions is lost."),
)

READING = (
    ui.Reading("How to Use t-SNE Effectively (Wattenberg, Vi\u00e9gas & Johnson, Distill 2016)",
               "https://distill.pub/2016/misread-tsne/", "small multiples over perplexity; what t-SNE distorts"),
    ui.Reading("Visualizing Data using t-SNE (van der Maaten & Hinton, JMLR 2008)",
               "https://www.jmlr.org/papers/v9/vandermaaten08a.html"),
    ui.Reading("UMAP: Uniform Manifold Approximation and Projection (McInnes, Healy & Melville, 2018)",
               "https://arxiv.org/abs/1802.03426"),
    ui.Reading("Neighborhood preservation in nonlinear projection methods (Venna & Kaski, ICANN 2001)",
               "https://doi.org/10.1007/3-540-44668-0_68", "trustworthiness"),
    ui.Reading("Embedding Projector: interactive visualization of high-dimensional data (Smilkov et al., 2016)",
               "https://arxiv.org/abs/1611.05469", "the TensorFlow tool this lesson follows"),
    ui.Reading("Sentence-BERT (Reimers & Gurevych, EMNLP 2019)", "https://arxiv.org/abs/1908.10084",
               "how all-MiniLM-L6-v2's sentence embeddings are made"),
    ui.Reading("openTSNE: a modular Python library for t-SNE (Poli\u010dar, Stra\u017ear & Zupan, JSS 2024)",
               "https://opentsne.readthedocs.io/", "the t-SNE this page runs, and its parameter guide"),
    ui.Reading("umap-learn documentation", "https://umap-learn.readthedocs.io/", "parameters and plotting"),
    ui.Reading("scikit-learn: manifold learning and trustworthiness",
               "https://scikit-learn.org/stable/modules/manifold.html"),
)

DIY_CAPTION = ("scikit-learn's 8 x 8 digits projected with PCA, t-SNE and UMAP, each with its trustworthiness "
               "and k-NN accuracy, drawn side by side with matplotlib.")
