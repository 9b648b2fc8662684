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
# t-SNE (openTSNE): 250 early-exaggeration iterations at most (included in ITERATIONS), a Barnes-Hut
# angle of 1.0 instead of 0.5, and each phase stops early once its KL divergence fell by less than
# TSNE_STOP (relative) over the last TSNE_STOP_WINDOW iterations, checked every TSNE_PROGRESS_EVERY
# (the iterations control is a maximum; opt-SNE, Belkina et al. 2019, stops on the KL divergence too).
# Measured (CPU seconds on a loaded 2-core machine; trustworthiness k = 10) against the full 750
# iterations at angle 0.8: scikit-learn's 1,797 digits, perplexity 50: 3.5 s (130 + 200 iterations),
# 0.9916, against 10.3 s, 0.9926; the default 1,000 penultimate digits, perplexity 30: 2.0 s, 0.9924
# against 3.9 s, 0.9922; 2,000 raw-pixel digits, perplexity 30: 3.5 s, 0.9675 against 9.7 s, 0.9682.
# Trustworthiness had levelled off within 0.001 by 150-250 iterations of the second phase in all of
# them (perplexity 5, 30 and 50). tests/unit/test_embeddings_claims.py asserts the quality.
TSNE_EXAGGERATION_ITERATIONS = 250
TSNE_THETA = 1.0
TSNE_PROGRESS_EVERY = 10  # iterations between progress reports (and stop checks)
TSNE_STOP_WINDOW = 50
TSNE_STOP = {"exaggeration": 0.02, "settle": 0.01}
TSNE_MIN_ITERATIONS = 50  # per phase, before a stop check may end it
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
