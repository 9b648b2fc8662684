"""Issue #20, dark theme: text drawn inside a chart stays readable in both themes.

Streamlit's chart theme colours titles, axes and legends for the light and the dark theme, but leaves
a Vega-Lite text mark at its default, black, which vanishes on the dark background (the attention
lesson's head label and the architecture lesson's layer names did). A fixed colour cannot help either:
no colour reaches WCAG's 4.5:1 on both backgrounds, as the first test computes. So a text mark must
choose its colour per datum against the cell it is written on (`color=alt.condition(...)`, as the
confusion matrix and the attention heatmap do); text on the chart's background goes in a title or an
axis label instead.
"""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
LIGHT_BACKGROUND, DARK_BACKGROUND = "#ffffff", "#0e1117"  # .streamlit/config.toml


def luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance."""
    channels = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(channels <= 0.03928, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def test_no_single_text_colour_reads_at_4_5_on_both_backgrounds():
    light, dark = luminance(LIGHT_BACKGROUND), luminance(DARK_BACKGROUND)
    best = max(min(contrast(y, light), contrast(y, dark)) for y in np.linspace(0, 1, 10_001))
    assert best < 4.5, best
    assert 4.0 < best, best  # the scan below would be moot if even 4.0 were out of reach


def text_marks_without_a_chosen_colour(source: str) -> list[int]:
    """Line numbers of `mark_text(...)` chains in `source` whose colour is not an alt.condition."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "mark_text"):
            continue
        statement = next(s for s in ast.walk(ast.parse(source)) if isinstance(s, ast.stmt)
                         and not isinstance(s, (ast.FunctionDef, ast.ClassDef, ast.Module))
                         and s.lineno <= node.lineno <= s.end_lineno and not hasattr(s, "body"))
        chosen = [k for call in ast.walk(statement) if isinstance(call, ast.Call)
                  for k in call.keywords if k.arg in ("color", "fill")
                  and isinstance(k.value, ast.Call) and ast.unparse(k.value.func) == "alt.condition"]
        if not chosen:
            found.append(node.lineno)
    return found


def test_every_text_mark_in_a_chart_chooses_its_colour_per_datum():
    found = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "lessons").rglob("*.py"))
             for line in text_marks_without_a_chosen_colour(path.read_text())]
    assert not found, "text marks that one of the two themes cannot read (use a title or an axis):\n" + "\n".join(found)


def test_the_scan_catches_black_and_fixed_text():
    black = 'label = alt.Chart(f).mark_text(dx=10).encode(x="a:Q", text="name:N")\n'
    fixed = 'text = alt.Chart(f).mark_text(color="#882255").encode(x="k:Q", text="t:N")\n'
    chosen = ('text = base.mark_text(fontSize=9).encode(text="w:Q",\n'
              '    color=alt.condition(alt.datum.w > 0.5, alt.value("white"), alt.value("black")))\n')
    assert text_marks_without_a_chosen_colour(black) == [1]
    assert text_marks_without_a_chosen_colour(fixed) == [1]
    assert text_marks_without_a_chosen_colour(chosen) == []
