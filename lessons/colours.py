"""Every colour scale that carries meaning in a chart, in one place, each chosen so that its colours stay
apart for colour-blind students too. tests/unit/test_colour_scales.py checks every palette here under
normal vision and simulated protanopia, deuteranopia and tritanopia (Machado, Oliveira & Fernandes
2009, "A physiologically-based model for simulation of color vision deficiency", IEEE TVCG), and that
every sequential scale grows monotonically in lightness; it also fails on a chart that names a colour
scale of its own instead of taking it from here.

Sources: Okabe & Ito (2008), "Color Universal Design" (the Okabe-Ito palette); Paul Tol (2021),
"Colour schemes", SRON technical note (the muted palette); van der Walt & Smith (2015), viridis and
inferno; Harrower & Brewer (2003), ColorBrewer (blues, greens, and red-blue for a diverging scale).

Single accent colours (a threshold rule, a highlighted word) stay in their charts: they mark one
thing and are always named in the caption or the legend.
"""
from __future__ import annotations

# Categorical palettes ------------------------------------------------------------------------------

# Paul Tol's muted palette: nine colours and his pale grey as a tenth (factorization's concepts).
TOL_MUTED = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499")
CONCEPTS = TOL_MUTED + ("#DDDDDD",)
# Class labels (embeddings: 10 digits, or 10 word themes and the student's typed words = 11 labels):
# Tol's nine, then two violets found by a search of the sRGB cube for the colours farthest (CIEDE2000)
# from all the others under the three simulated deficiencies. Colour is not the only carrier there:
# every point's tooltip names its label, and a label can be highlighted.
LABELS = TOL_MUTED + ("#B469FF", "#5A3CFF")
# Okabe-Ito
OPTIMIZERS = {"sgd": "#E69F00", "momentum": "#009E73", "adam": "#0072B2"}
TRAINING_MARKERS = {"checkpoint kept": "#009E73", "early stop": "#555555", "overfitting starts": "#CC79A7",
                    "diverged": "#D55E00"}
# Two-colour contrasts: blue against red or orange stays apart for every deficiency.
SIGN = {"positive": "#1f77b4", "negative": "#d62728"}
TRAINING_SERIES = {"train (raw)": "#9ecae1", "train (smoothed)": "#1f77b4", "train": "#1f77b4",
                   "validation": "#ff7f0e"}
GRADIENT_STATISTICS = {"mean": "#1f77b4", "max": "#aec7e8"}
UNIT_STATES = {"saturated": "#ff7f0e", "dead": "#7f7f7f"}
EXPLAINED = {True: "#d62728", False: "#8c9bab"}  # activations: channels that explain the map, the rest
BASELINE = {False: "#4c78a8", True: "#9d9d9d"}  # activations: the method, the random baseline
PICTURE_KIND = {"optimised": "#e45756", "dataset": "#4c78a8"}  # features

# Sequential and diverging scales, by the name each library knows them by ------------------------
VIRIDIS, INFERNO, BLUES, GREENS = "viridis", "inferno", "blues", "greens"  # Vega schemes
RED_BLUE = "redblue"  # Vega's diverging ColorBrewer RdBu
PLOTLY_VIRIDIS, PLOTLY_BLUES = "Viridis", "Blues"
INK = ("white", "#444444")  # attention's text view: word ink from blank to dark grey (lightness only)
# Heatmap overlays on photos (matplotlib colormaps). The rainbow maps are offered only to compare with
# papers and pytorch-grad-cam's own pictures: they are neither ordered in lightness nor colour-blind safe.
OVERLAY_COLORMAPS = ("viridis", "inferno", "magma", "cividis")
RAINBOW_COLORMAPS = ("jet", "turbo")

# What the test checks: every categorical palette, and each sequential scale as matplotlib samples it.
CATEGORICAL = {"CONCEPTS": CONCEPTS, "LABELS": LABELS, "OPTIMIZERS": tuple(OPTIMIZERS.values()),
               "TRAINING_MARKERS": tuple(TRAINING_MARKERS.values()), "SIGN": tuple(SIGN.values()),
               "TRAINING_SERIES": tuple(dict.fromkeys(TRAINING_SERIES.values())),
               "GRADIENT_STATISTICS": tuple(GRADIENT_STATISTICS.values()), "UNIT_STATES": tuple(UNIT_STATES.values()),
               "EXPLAINED": tuple(EXPLAINED.values()), "BASELINE": tuple(BASELINE.values()),
               "PICTURE_KIND": tuple(PICTURE_KIND.values())}
SEQUENTIAL_AS_MATPLOTLIB = {VIRIDIS: "viridis", INFERNO: "inferno", BLUES: "Blues", GREENS: "Greens",
                            PLOTLY_VIRIDIS: "viridis", PLOTLY_BLUES: "Blues",
                            **{name: name for name in OVERLAY_COLORMAPS}}
DIVERGING_AS_MATPLOTLIB = {RED_BLUE: "RdBu"}
