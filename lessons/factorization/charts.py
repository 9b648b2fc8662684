"""Figures for the deep-feature-factorization lesson: DataFrames in, Altair charts out. Every concept
keeps its colour (settings.CONCEPT_COLOURS) in every chart and picture."""
from __future__ import annotations

import altair as alt
import pandas as pd

from lessons.factorization.settings import CONCEPT_COLOURS


def _concept_colour(names: list[str], legend: bool = False) -> alt.Color:
    return alt.Color("concept:N", sort=names, legend=alt.Legend(title=None) if legend else None,
                     scale=alt.Scale(domain=names, range=list(CONCEPT_COLOURS[:len(names)])))


def legend_chart(names: list[str], shares: list[float], height: int = 26) -> alt.Chart:
    """The overlay's legend: one bar per concept in its colour, as long as its share of the pixels."""
    frame = pd.DataFrame({"concept": names, "share": shares})
    return alt.Chart(frame, height=alt.Step(height), title="Share of the pixels").mark_bar().encode(
        y=alt.Y("concept:N", sort=names, title=None, axis=alt.Axis(labelLimit=260, labelFontSize=13)),
        x=alt.X("share:Q", title="share of the image", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=_concept_colour(names), tooltip=["concept", alt.Tooltip("share:Q", format=".0%")])


def labels_chart(frame: pd.DataFrame, names: list[str], height: int = 22) -> alt.Chart:
    """Top classes per concept (frame: concept, rank, label, score), one small bar chart per concept."""
    return alt.Chart(frame, height=alt.Step(height), width=220).mark_bar().encode(
        y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=170)),
        x=alt.X("score:Q", title="classifier score (softmax)", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=_concept_colour(names), tooltip=["concept", "rank", "label", alt.Tooltip("score:Q", format=".1%")],
    ).facet(facet=alt.Facet("concept:N", sort=names, title=None), columns=3).resolve_scale(y="independent")


def shares_by_image_chart(frame: pd.DataFrame, names: list[str], height: int = 30) -> alt.Chart:
    """Co-segmentation: per image, the share of its pixels each shared concept wins (frame: image, concept, share)."""
    return alt.Chart(frame, height=alt.Step(height), title="Each concept's share of each image").mark_bar().encode(
        y=alt.Y("image:N", title=None, sort=None), x=alt.X("share:Q", stack="zero", axis=alt.Axis(format="%"),
                                                            title="share of the image", scale=alt.Scale(domain=[0, 1])),
        color=_concept_colour(names, legend=True), order=alt.Order("index:Q"),
        tooltip=["image", "concept", alt.Tooltip("share:Q", format=".0%")])


def error_chart(frame: pd.DataFrame, elbow: int, height: int = 260) -> alt.Chart:
    """Relative reconstruction error against k (frame: k, error) with the elbow marked. The elbow is named in
    the title, which takes the theme's text colour: no fixed text colour reads at 4.5:1 on both themes."""
    title = f"NMF reconstruction error; dashed: the elbow, k = {elbow}"
    line = alt.Chart(frame, height=height).mark_line(point=True).encode(
        x=alt.X("k:Q", title="number of concepts k", scale=alt.Scale(domain=[frame["k"].min(), frame["k"].max()]),
                axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("error:Q", title="relative error ||A - WH|| / ||A||", scale=alt.Scale(zero=False)),
        tooltip=["k", alt.Tooltip("error:Q", format=".3f")])
    # Tol's rose: 3.7:1 on white and 5.2:1 on the dark background (a graphic needs 3:1, WCAG 1.4.11)
    rule = alt.Chart(pd.DataFrame({"k": [elbow]})).mark_rule(color="#CC6677", strokeDash=[4, 3], strokeWidth=2).encode(
        x="k:Q")
    return alt.layer(line, rule, title=title)


def splits_chart(nodes: pd.DataFrame, edges: pd.DataFrame, height: int = 300) -> alt.Chart:
    """How concepts split as k grows: a node per (k, concept) at its position, an edge to its parent at k - 1.
    nodes: k, slot, name; edges: k, slot, parent_k, parent_slot (slot = the concept's horizontal position)."""
    lines = alt.Chart(edges).mark_rule(color="#999999", opacity=0.7).encode(
        x=alt.X("slot:Q", axis=None), x2="parent_slot:Q", y=alt.Y("k:O", title="k", sort="ascending"), y2="parent_k:O")
    points = alt.Chart(nodes, height=height, title="Which concept of k each concept of k + 1 comes from").mark_circle(
        size=140, color="#4477AA", opacity=0.9).encode(
        x=alt.X("slot:Q", axis=None), y=alt.Y("k:O", title="k", sort="ascending"),
        tooltip=["k", "name"])
    return lines + points
