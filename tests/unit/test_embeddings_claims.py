"""Every sentence the embeddings page states as fact, asserted on the bundled models and the shipped
results (the thresholds are the constants the page's sentences and "Try this" checks use)."""
import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from lessons.embeddings import compute, content, points, precompute, projection, store, trust
from lessons.embeddings import settings as S


def shipped(key):
    value = store.shipped(key)
    assert value is not None, key
    return value


def layers_panels():
    key = compute.result_key("layers", {"method": S.DEFAULTS["layers_method"], "points": S.DEFAULTS["points"],
                                        "seed": S.DEFAULTS["seed"]})
    return compute.split(shipped(key))


def knn_original(layer, network, n=1000):
    pts = points.digits(layer, network, n)
    chosen = trust.sample(n)
    return trust.knn_accuracy(pts.features[chosen], pts.labels[chosen])


def test_classes_separate_with_depth_and_with_training_in_the_original_space():
    acc = {(layer, net): knn_original(layer, net) for layer in S.LAYERS for net in S.NETWORKS
           if not (layer == "pixels" and net == "untrained")}
    trained = [acc[layer, "trained"] for layer in S.LAYERS]
    assert trained == sorted(trained), acc  # rises with depth: pixels < block 1 < block 2 < penultimate
    assert acc["penultimate", "trained"] >= acc["pixels", "trained"] + content.CLEAR_GAP
    assert acc["penultimate", "trained"] >= acc["penultimate", "untrained"] + content.CLEAR_GAP
    panels = layers_panels()  # the shipped numbers are the same numbers
    assert float(panels["trained.penultimate"]["trust_knn_original"]) == pytest.approx(acc["penultimate", "trained"])


def test_trained_penultimate_features_give_a_higher_trust_score_than_pixels_and_the_untrained_net():
    panels = layers_panels()  # UMAP, as shipped
    t = {name: float(panel["trust_trustworthiness"]) for name, panel in panels.items()}
    assert t["trained.penultimate"] > t["trained.pixels"] and t["trained.penultimate"] > t["untrained.penultimate"]
    for method in ("PCA",):  # and live with PCA on the bundled model
        pca = {}
        for layer, network in (("pixels", "trained"), ("penultimate", "trained"), ("penultimate", "untrained")):
            pca[layer, network] = compute.projection_result(
                {"source": "digits", "layer": layer, "network": network, "points": 1000},
                {"method": method, "dims": 2})["trust_trustworthiness"]
        assert pca["penultimate", "trained"] > pca["pixels", "trained"]
        assert pca["penultimate", "trained"] > pca["penultimate", "untrained"]


def test_the_depth_and_training_experiments_see_their_effect_on_the_shipped_layers():
    result = {"layers": {"panels": layers_panels(), "source": "shipped"}}
    for experiment in content.EXPERIMENTS[:2]:
        appeared, message = experiment.check(result)
        assert appeared and "Checked on the shipped layer projections" in message


def test_pca_keeps_fewer_neighbours_than_umap_on_the_default_digits():
    data = precompute.default_data()
    pca = shipped(compute.result_key("projection", data | precompute.default_method(method="PCA", dims=2)))
    umap = shipped(precompute.default_projection_key())
    assert float(pca["trust_kept"]) <= float(umap["trust_kept"]) - content.CLEAR_GAP
    appeared, message = content.EXPERIMENTS[2].check({"projection": {"data": pca, "source": "shipped",
                                                                     "method": "PCA"}})
    assert appeared and "shipped PCA projection" in message


@pytest.mark.parametrize("kind", ["words", "sentences"])
def test_items_of_the_same_theme_are_closer_than_items_of_different_themes(kind):
    pts = points.texts(kind)
    similarity = pts.features @ pts.features.T  # unit vectors: cosine similarity
    same = pts.labels[:, None] == pts.labels[None, :]
    off_diagonal = ~np.eye(len(pts.labels), dtype=bool)
    within, between = similarity[same & off_diagonal].mean(), similarity[~same].mean()
    assert within > between + 0.1, (within, between)


def test_the_pages_trust_numbers_equal_scikit_learns_on_the_same_points():
    result = shipped(precompute.default_projection_key())
    pts = points.digits("penultimate", "trained", 1000)
    chosen = trust.sample(1000)
    expected = trustworthiness(pts.features[chosen], result["coords"][chosen], n_neighbors=S.TRUST_K)
    assert float(result["trust_trustworthiness"]) == pytest.approx(expected, abs=1e-12)
    # above the bound the page samples TRUST_POINTS points; the number is still scikit-learn's on them
    x = np.random.default_rng(0).normal(size=(1500, 5))
    y = x[:, :2]
    chosen = trust.sample(1500)
    numbers = trust.trust_numbers(x, y, np.zeros(1500))
    assert numbers["trustworthiness"] == pytest.approx(trustworthiness(x[chosen], y[chosen], n_neighbors=10))
    assert numbers["points"] == S.TRUST_POINTS


def test_what_the_page_says_about_the_points():
    from data import mnist5k_split

    _, heldout = mnist5k_split()
    assert set(points.digit_subset(1000)) == set(heldout)  # "the first 1,000 are the held-out digits"
    words, themes = points.bundled_items("words")
    sentences, sentence_themes = points.bundled_items("sentences")
    assert len(words) + len(sentences) == 300 and len(set(themes)) == 10 and len(set(sentence_themes)) == 6
    assert compute.n_points({"source": "photos", "uploads": ()}) == 84 == len(points.photos().labels)
    assert projection.check("PCA", S.MAX_POINTS["PCA"], 2) is None


def test_umap_keeps_the_classes_and_half_of_the_neighbours_on_the_default_view():
    """The quiz's situation (trustworthiness about 0.99 with about half of the neighbours kept) is the
    default view's."""
    result = shipped(precompute.default_projection_key())
    assert float(result["trust_trustworthiness"]) > 0.98 and 0.4 < float(result["trust_kept"]) < 0.65


def test_tsne_and_umap_at_the_pages_settings_keep_the_quality_of_the_libraries_defaults():
    """The page runs openTSNE with a Barnes-Hut angle of 0.8 and 750 iterations, and UMAP with 200
    epochs on an exact neighbour graph (settings.py): on the bundled digits their trustworthiness is
    that of scikit-learn's TSNE at its defaults (angle 0.5, 1,000 iterations) and of umap-learn at
    its own (500 epochs, its own neighbour search), within 0.005."""
    from sklearn.manifold import TSNE
    import umap

    pts = points.digits("penultimate", "trained", 500)
    x = pts.features

    def trust_of(coords):
        return trustworthiness(x, coords, n_neighbors=S.TRUST_K)

    ours = trust_of(projection.project(x, "t-SNE", 2, perplexity=30.0, iterations=S.DEFAULTS["iterations"]).coords)
    reference = trust_of(TSNE(2, perplexity=30, init="pca", random_state=0, n_jobs=1).fit_transform(x))
    assert ours >= reference - 0.005, (ours, reference)
    ours = trust_of(projection.project(x, "UMAP", 2, neighbours=15, min_dist=0.1).coords)
    reference = trust_of(umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=0, n_jobs=1).fit_transform(x))
    assert ours >= reference - 0.005, (ours, reference)
