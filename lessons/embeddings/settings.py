"""The lesson's views, sources, control options, bounds and defaults (plain values: page.py,
precompute.py and the tests read them; no streamlit, no torch)."""
from __future__ import annotations

SLUG = "embeddings"
VIEWS = ("Projection", "Neighbours", "Small multiples", "Layers")

SOURCES = {"digits": "MNIST digits through the digits CNN", "words": "Words (all-MiniLM-L6-v2)",
           "sentences": "Sentences (all-MiniLM-L6-v2)", "photos": "Photo crops (EfficientNet-Lite0)"}
# Digit representations: raw pixels, the two conv blocks of models/catalogue.py's target layers, the
# penultimate layer (the 64 ReLU units the last linear layer reads).
LAYERS = {"pixels": "raw pixels (784)", "block1": "block 1 (16 maps pooled to 7 x 7: 784)",
          "block2": "block 2 (32 maps of 7 x 7: 1,568)", "penultimate": "penultimate (64)"}
NETWORKS = {"trained": "trained", "untrained": "untrained (random weights, seed 0)"}
DIGIT_COUNTS = (500, 1000, 2000, 5000)
METHODS = ("PCA", "t-SNE", "UMAP")
# The most points each method may project here (the page says so and refuses more).
MAX_POINTS = {"PCA": 5000, "t-SNE": 2000, "UMAP": 5000}
DIMENSIONS = (2, 3)
PERPLEXITIES = (2, 5, 10, 30, 50, 100)
LEARNING_RATES = ("auto", 10.0, 100.0, 1000.0)
ITERATIONS = (250, 500, 750, 1000)
NEIGHBOURS = (2, 5, 15, 50, 100)
MIN_DISTS = (0.0, 0.1, 0.5, 0.99)
UMAP_METRICS = ("euclidean", "cosine")
DISTANCES = ("cosine", "euclidean")  # nearest neighbours in the original space
NEIGHBOUR_COUNTS = (5, 10, 20)
# t-SNE (openTSNE): 250 early-exaggeration iterations (included in ITERATIONS), a Barnes-Hut angle of
# 0.8 instead of 0.5 and 750 iterations by default (openTSNE's own schedule: 250 + 500). Measured on
# scikit-learn's 1,797 digits, perplexity 50: trustworthiness 0.9925 at 500 and 0.9926 at 1,000
# iterations with theta 0.8, 0.9916 and 0.9915 with theta 0.5; KL divergence 0.669 (theta 0.8) and
# 0.673 (theta 0.5) at 1,000 iterations; theta 0.8 took 40 % less time (tests/unit/test_embeddings.py
# asserts the quality on the bundled digits).
TSNE_EXAGGERATION_ITERATIONS = 250
TSNE_THETA = 0.8
TSNE_PROGRESS_EVERY = 25  # iterations between progress reports
# UMAP: 200 optimisation epochs, umap-learn's own default above 10,000 points (500 below). Measured:
# trustworthiness 0.9861 (200) and 0.9862 (500) on the 1,797 digits with 30 neighbours, 0.9880 and
# 0.9879 on the 5,000 MNIST penultimate features, in 23-40 % of the time.
UMAP_EPOCHS = 200
MULTIPLE_PERPLEXITIES = (5, 15, 30, 50)
MULTIPLE_NEIGHBOURS = (5, 15, 30, 50)
MULTIPLE_OVER = ("t-SNE perplexity", "UMAP neighbours")

TRUST_K = 10  # the neighbourhood size of every trust number
TRUST_POINTS = 1000  # trust numbers are computed on at most this many points (a seeded sample)
IMAGE_TOOLTIP_POINTS = 2000  # above this many digits the tooltip shows the label, not the image
MAX_TYPED_ITEMS = 20
MAX_TYPED_CHARS = 2000  # the whole text box
MAX_ITEM_CHARS = 200  # one typed word or sentence (longer ones are cut, and the page says so)
MAX_UPLOADS = 4
SEED = 0

DEFAULTS = {
    "view": "Projection", "source": "digits", "layer": "penultimate", "network": "trained", "points": 1000,
    "method": "UMAP", "dims": 2, "perplexity": 30, "learning_rate": "auto", "iterations": 750,
    "neighbours": 15, "min_dist": 0.1, "umap_metric": "euclidean", "seed": 0,
    "typed": "", "labels": [], "search": "",
    "item": 0, "distance": "cosine", "k": 10,
    "multiple_over": "t-SNE perplexity", "layers_method": "UMAP",
}
# The controls that choose the points and their projection (the Projection and Neighbours views).
PROJECTION_CONTROLS = ("source", "layer", "network", "points", "method", "dims", "perplexity", "learning_rate",
                       "iterations", "neighbours", "min_dist", "umap_metric", "seed", "typed")
