"""Issue #20: every colour scale used for meaning is colour-blind safe (lessons/colours.py).

Colour-vision deficiencies are simulated at full severity with Machado, Oliveira & Fernandes (2009),
applied in linear RGB (colour-science's matrices); differences are CIEDE2000.
"""
from __future__ import annotations

import itertools
import re
import warnings
from pathlib import Path

import colour  # colour-science, in the test extra
import numpy as np
import pytest

from lessons import colours

ROOT = Path(__file__).resolve().parents[2]
VISIONS = ("normal", "Protanomaly", "Deuteranomaly", "Tritanomaly")  # severity 1: protanopia, ...
# Two colours of a categorical palette must differ by at least this much. A just-noticeable difference
# is about 2.3 ΔE on large patches and grows several-fold for the small marks of a chart (points,
# thin lines: Szafir 2018, "Modeling Color Difference for Visualization Design", IEEE TVCG); 10 is
# the separation palette tools ask of categories told apart at a glance.
MIN_DELTA_E = 10.0


def to_rgb(name: str) -> np.ndarray:
    from matplotlib.colors import to_rgb as matplotlib_rgb

    return np.array(matplotlib_rgb(name), dtype=float)  # (3,) sRGB in [0, 1]


def seen_as(rgb: np.ndarray, vision: str) -> np.ndarray:
    """sRGB (..., 3) as a student with `vision` sees it, in CIE Lab."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # colour-science warns about its optional dependencies
        if vision != "normal":
            linear = colour.cctf_decoding(rgb, function="sRGB")
            matrix = colour.blindness.matrix_cvd_Machado2009(vision, 1.0)
            rgb = colour.cctf_encoding(np.clip(linear @ matrix.T, 0, 1), function="sRGB")
        return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb))


def closest_pair(palette) -> dict[str, tuple[float, str, str]]:
    """For each vision, the smallest CIEDE2000 difference between two colours of the palette."""
    out = {}
    for vision in VISIONS:
        labs = [seen_as(to_rgb(c), vision) for c in palette]
        out[vision] = min((float(colour.delta_E(labs[i], labs[j], method="CIE 2000")), palette[i], palette[j])
                          for i, j in itertools.combinations(range(len(palette)), 2))
    return out


@pytest.mark.parametrize("name", sorted(colours.CATEGORICAL))
def test_categorical_palettes_stay_apart_for_every_colour_vision(name):
    closest = closest_pair(colours.CATEGORICAL[name])
    too_close = {vision: pair for vision, pair in closest.items() if pair[0] < MIN_DELTA_E}
    assert not too_close, f"{name}: colours closer than {MIN_DELTA_E} ΔE00: {too_close}"


def test_the_old_category10_palette_fails_the_check():
    """The check can fail: Vega's category10 (the embeddings scatter's palette before) puts its orange
    and green within 2 ΔE00 of each other for a protanope."""
    category10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                  "#bcbd22", "#17becf")
    assert closest_pair(category10)["Protanomaly"][0] < 2


def lightness_along(colormap: str, vision: str, samples: int = 32) -> np.ndarray:
    from matplotlib import colormaps

    rgb = colormaps[colormap](np.linspace(0, 1, samples))[:, :3]  # (samples, 3)
    return seen_as(rgb, vision)[:, 0]  # (samples,) CIE L*


@pytest.mark.parametrize("scale", sorted(colours.SEQUENTIAL_AS_MATPLOTLIB))
@pytest.mark.parametrize("vision", VISIONS)
def test_sequential_scales_grow_in_lightness_for_every_colour_vision(scale, vision):
    steps = np.diff(lightness_along(colours.SEQUENTIAL_AS_MATPLOTLIB[scale], vision))
    assert (steps > 0).all() or (steps < 0).all(), f"{scale} is not ordered in lightness for {vision}"


@pytest.mark.parametrize("scale", sorted(colours.DIVERGING_AS_MATPLOTLIB))
@pytest.mark.parametrize("vision", VISIONS)
def test_diverging_scales_darken_from_the_middle_to_both_ends(scale, vision):
    lightness = lightness_along(colours.DIVERGING_AS_MATPLOTLIB[scale], vision, samples=33)
    assert (np.diff(lightness[:17]) > 0).all() and (np.diff(lightness[16:]) < 0).all()


@pytest.mark.parametrize("colormap", colours.RAINBOW_COLORMAPS)
def test_the_rainbow_maps_the_page_warns_about_are_not_ordered(colormap):
    """What the activations page says of jet and turbo: their lightness goes up and down."""
    steps = np.diff(lightness_along(colormap, "normal"))
    assert (steps > 0).any() and (steps < 0).any()


# A chart that names its own colour scale: a hex colour list as a scale's range, or a scheme,
# colorscale, cmap or colormap given as a string literal, or an OpenCV colormap outside the safe ones.
OWN_SCALE = re.compile(r"""range\s*[=:]\s*[\[(]\s*["']#|(scheme|colorscale|cmap|colormap)\s*[=:]\s*["'](?!viridis["'])"""
                       r"""|"scheme"\s*:\s*["']|cv2\.COLORMAP_(?!VIRIDIS|INFERNO|MAGMA|CIVIDIS)\w+""")


def chart_sources() -> list[Path]:
    return [p for p in sorted((ROOT / "lessons").rglob("*.py"))
            if p.name not in ("diy.py", "colours.py")]


def test_no_chart_names_a_colour_scale_of_its_own():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in chart_sources()
             for number, line in enumerate(path.read_text().splitlines(), 1) if OWN_SCALE.search(line)]
    assert not found, "take these colour scales from lessons/colours.py:\n" + "\n".join(found)


def test_the_scan_catches_a_scale_of_its_own():
    for line in ('scale=alt.Scale(domain=d, range=["#1f77b4", "#ff7f0e"])', 'alt.Scale(scheme="category10")',
                 '{"scheme": "tableau20"}', 'go.Heatmap(colorscale="Jet")', "cv2.COLORMAP_JET"):
        assert OWN_SCALE.search(line), line
    assert not OWN_SCALE.search("alt.Scale(scheme=colours.BLUES)")


def test_the_activations_overlay_defaults_to_a_safe_colormap():
    from lessons.activations.controls import COLORMAPS, DEFAULTS

    assert DEFAULTS["colormap"] in colours.OVERLAY_COLORMAPS
    assert set(COLORMAPS) == set(colours.OVERLAY_COLORMAPS) | set(colours.RAINBOW_COLORMAPS)
