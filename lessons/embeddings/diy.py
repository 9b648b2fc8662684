"""Do it yourself: scikit-learn's 8 x 8 digits projected with PCA, t-SNE and UMAP, each with how much
to trust it (trustworthiness, and a 10-NN vote in the original space against the picture).

    python diy.py            # writes embeddings_diy.png
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import umap
from openTSNE import TSNE
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

# %%
x, y = load_digits(return_X_y=True)  # (1797, 64), (1797,)
x, y = x[:500] / 16.0, y[:500]  # fewer points: quicker

projections = {
    "PCA": PCA(n_components=2).fit_transform(x),
    # openTSNE: 250 early-exaggeration iterations, then 500; Barnes-Hut angle 1.0 as the page (which also stops
    # each phase early once the KL divergence levels off: openTSNE's callbacks, lessons/embeddings/projection.py)
    "t-SNE": np.asarray(TSNE(n_components=2, perplexity=30, theta=1.0, neighbors="exact", random_state=0).fit(x)),
    # UMAP, as the page: 200 epochs (the page also hands umap an exact neighbour graph: precomputed_knn)
    "UMAP": umap.UMAP(n_neighbors=15, min_dist=0.1, n_epochs=200, random_state=0).fit_transform(x),
}


# %%
def knn_accuracy(features):
    return cross_val_score(KNeighborsClassifier(10), features, y, cv=5).mean()


print(f"10-NN accuracy in the original 64 dimensions: {knn_accuracy(x):.1%}")
figure, axes = plt.subplots(1, 3, figsize=(13, 4.4))
for ax, (name, coords) in zip(axes, projections.items()):
    trust = trustworthiness(x, coords, n_neighbors=10)
    ax.scatter(coords[:, 0], coords[:, 1], c=y, cmap="tab10", s=6)
    ax.set_title(f"{name}: trustworthiness {trust:.3f}, 10-NN {knn_accuracy(coords):.1%}")
    ax.set_xticks([]), ax.set_yticks([])
    print(name, round(trust, 3))
figure.tight_layout()
figure.savefig("embeddings_diy.png", dpi=90)
assert np.all(np.isfinite(np.concatenate(list(projections.values()))))
