"""Every view and every control of the factorization lesson in real Chromium, worked as a student would:
each photo, both framings, each layer, k at both ends, the photo weight, the co-segmentation photos added
and removed, the split slider, the k-means seed, presenter mode, the "Try this" presets, the quiz,
Reset and the Share link. Each step waits on what the page must show afterwards (a sentence, a count of
pictures, the share link), never on a fixed time; no exception, no error message, no skeleton left."""
import pytest

from lessons.factorization.content import EXPERIMENTS
from lessons.factorization.settings import LAYERS, layer_short
from tests.e2e.conftest import choose, share_popover_link, wait_for_run
from tests.e2e.factorization_steps import (body, charts, first_image_src, images, param, params, pick, settled,
                                           slide, slider_value)

PHOTOS = ("cat", "coffee", "astronaut", "rocket", "china", "flower", "grace_hopper")
HEAD = "head conv (1280 ch, 7 px)"


@pytest.fixture(scope="module")
def top_labels():
    """The model's own top class for each bundled photo (whole image), which the Concepts view names."""
    from lessons.factorization import inputs, results
    from models.catalogue import imagenet_labels

    return {name: imagenet_labels()[int(results.concepts(inputs.bundled_rgb(name, "whole image"), HEAD, 2)
                                        ["image_classes"][0])] for name in PHOTOS}


def test_concepts_every_layer_k_at_both_ends_every_photo_both_framings_and_the_weight(open_page, top_labels):
    page = open_page("factorization")
    settled(page, "the shipped concepts", lambda: "the shipped factorization" in body(page) and images(page) == 6
            and charts(page) == 1)
    for layer in LAYERS:
        choose(page, "Layer", layer)
        settled(page, layer, lambda: f"5 concepts at {layer_short(layer)} (" in body(page) and images(page) == 6
                and (param(page, "layer") == layer or layer == HEAD))
        assert ("have no labels" in body(page)) == (layer != HEAD), layer
    assert param(page, "layer") is None  # back at the default: not in the link
    slide(page, "Number of concepts k", "End")
    settled(page, "k = 10", lambda: param(page, "k") == "10" and images(page) == 11
            and "10 concepts at head conv" in body(page) and "your live factorization" in body(page))
    slide(page, "Number of concepts k", "Home")
    settled(page, "k = 2", lambda: param(page, "k") == "2" and images(page) == 3 and "2 concepts at head conv" in body(page)
            and "of the 2 concepts have it as their top label" in body(page))
    before = first_image_src(page)
    slide(page, "Photo weight in the overlay", "End")
    settled(page, "weight 1", lambda: param(page, "image_weight") == "1" and first_image_src(page) != before)
    slide(page, "Photo weight in the overlay", "Home")
    settled(page, "weight 0", lambda: param(page, "image_weight") == "0" and images(page) == 3)
    for name in PHOTOS[1:] + PHOTOS[:1]:
        choose(page, "Photo", name)
        settled(page, name, lambda: f"the model says {top_labels[name]} (" in body(page)
                and (param(page, "image") == name or name == "cat") and images(page) == 3)
        assert ("inside the cat's box as outside it." in body(page)) == (name == "cat"), name
    before = first_image_src(page)
    pick(page, "Framing", "centre crop")
    settled(page, "centre crop", lambda: param(page, "framing") == "centre crop" and first_image_src(page) != before)
    assert "inside the cat's box as outside it." not in body(page)  # the box was measured on the whole-image framing
    pick(page, "Framing", "whole image")
    settled(page, "whole image", lambda: param(page, "framing") is None and "inside the cat's box as outside it." in body(page))


def test_concept_labels_k_at_both_ends_photos_and_framings(open_page):
    page = open_page("factorization?factorization.view=Concept+labels")
    settled(page, "labels", lambda: "The most confident concept is" in body(page) and charts(page) == 1
            and "Each of the 5 concept vectors" in body(page) and images(page) == 0)
    for key, k in (("End", 10), ("Home", 2)):
        slide(page, "Number of concepts k", key)
        settled(page, f"labels k = {k}", lambda: param(page, "k") == str(k) and f"Each of the {k} concept vectors"
                in body(page) and charts(page) == 1)
    for name in ("coffee", "rocket"):
        choose(page, "Photo", name)
        settled(page, name, lambda: param(page, "image") == name and "The most confident concept is" in body(page))
    pick(page, "Framing", "centre crop")
    settled(page, "labels centre crop", lambda: param(page, "framing") == "centre crop" and charts(page) == 1)
    assert "The classifier head reads the global average" in body(page)


def remove_photo(page, name: str, with_mouse: bool = False) -> None:
    """With the mouse, a photo's "x"; else its tag focused and Delete. (In Chromium, after the Framing radio and
    the k slider had been moved, a second click on an "x" was ignored by Streamlit's multiselect itself: the tag
    stayed in the browser and no rerun was sent. The keyboard removes it every time.)"""
    if with_mouse:
        page.get_by_role("button", name=f"Remove {name}", exact=True).click()
    else:
        page.locator(f'[data-tag][aria-label="{name}"]').focus()
        page.keyboard.press("Delete")


def add_photo(page, name: str) -> None:
    field = page.get_by_role("combobox", name="Photos (2 to 4)")
    field.scroll_into_view_if_needed()  # a scroll closes the list: Playwright's own, in the click, came too late
    field.click()
    page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")


def test_cosegmentation_photos_added_and_removed_every_layer_k_and_framing(open_page):
    page = open_page("factorization?factorization.view=Co-segmentation")
    settled(page, "coseg", lambda: "2 photos, one set of 4 concepts at head conv" in body(page) and images(page) == 2)
    chosen = ["astronaut", "grace_hopper"]
    for name in ("cat", "coffee"):
        add_photo(page, name)
        chosen.append(name)
        settled(page, f"+{name}", lambda: f"{len(chosen)} photos, one set of 4 concepts" in body(page)
                and images(page) == len(chosen) and params(page).get("factorization.co_images") == chosen)
        assert f"In {name}, " in body(page)
    page.get_by_role("combobox", name="Photos (2 to 4)").click()  # four chosen: no fifth one can be added
    assert page.get_by_role("option", name="rocket", exact=True).count() == 0
    page.keyboard.press("Escape")
    for layer in LAYERS:
        choose(page, "Layer", layer)
        settled(page, layer, lambda: f"4 photos, one set of 4 concepts at {layer_short(layer)} (" in body(page)
                and images(page) == 4)
    for key, k in (("End", 10), ("Home", 2)):
        slide(page, "Concepts k", key)
        settled(page, f"coseg k = {k}", lambda: param(page, "co_k") == str(k) and f"one set of {k} concepts" in body(page))
    pick(page, "Framing", "centre crop")
    settled(page, "coseg centre crop", lambda: param(page, "framing") == "centre crop" and images(page) == 4)
    for name in ("astronaut", "grace_hopper"):
        remove_photo(page, name, with_mouse=name == "astronaut")
        chosen.remove(name)
        settled(page, f"-{name}", lambda: params(page).get("factorization.co_images") == chosen
                and f"{len(chosen)} photos, one set of 2 concepts" in body(page) and images(page) == len(chosen))
    remove_photo(page, "cat")
    settled(page, "one photo", lambda: "Pick at least two photos" in body(page) and images(page) == 0
            and "Nothing to show until two photos are chosen." in body(page))


def test_choosing_k_every_layer_and_the_split_slider_at_both_ends(open_page):
    page = open_page("factorization?factorization.view=Choosing+k")
    settled(page, "sweep", lambda: "Suggested k: 5" in body(page) and charts(page) == 2 and images(page) == 2
            and "From k = 3 to 4" in body(page))
    for key, k in (("End", 9), ("Home", 2)):
        slide(page, "Show the split from k to k + 1", key)
        settled(page, f"split {k}", lambda: param(page, "split_k") == str(k) and f"From k = {k} to {k + 1}" in body(page)
                and f"k = {k + 1}: " in body(page) and images(page) == 2)
    for layer in LAYERS:
        choose(page, "Layer", layer)
        settled(page, f"sweep {layer}", lambda: (param(page, "sweep_layer") == layer or layer == HEAD)
                and "Suggested k:" in body(page) and charts(page) == 2 and images(page) == 2, timeout_ms=300_000)
        assert ("k = 3: 1 \u00b7" in body(page)) == (layer == HEAD), layer  # only head concepts get labels
    choose(page, "Photo", "china")
    settled(page, "sweep china", lambda: param(page, "image") == "china" and "Suggested k:" in body(page))
    pick(page, "Framing", "centre crop")
    settled(page, "sweep centre crop", lambda: param(page, "framing") == "centre crop" and charts(page) == 2)


def test_three_ways_every_layer_k_at_both_ends_and_the_kmeans_seed(open_page):
    page = open_page("factorization?factorization.view=Three+ways")
    settled(page, "three ways", lambda: "adjusted Rand index" in body(page) and images(page) == 3)
    for layer in LAYERS:
        choose(page, "Layer", layer)
        settled(page, f"three {layer}", lambda: (param(page, "layer") == layer or layer == HEAD)
                and "EigenCAM's map is most like DFF's concept" in body(page) and images(page) == 3)
    for key, k in (("End", 10), ("Home", 2)):
        slide(page, "Number of concepts / clusters k", key)
        settled(page, f"three k = {k}", lambda: param(page, "k") == str(k) and f"k-means: {k} clusters" in body(page))
    seed = page.get_by_role("spinbutton", name="k-means seed")
    seed.fill("7")
    seed.press("Enter")
    settled(page, "seed 7", lambda: param(page, "km_seed") == "7" and images(page) == 3)
    page.locator('[data-testid="stNumberInputStepUp"]').click()
    settled(page, "seed 8", lambda: param(page, "km_seed") == "8" and "adjusted Rand index" in body(page))
    choose(page, "Photo", "flower")
    pick(page, "Framing", "centre crop")
    settled(page, "three flower", lambda: param(page, "image") == "flower" and param(page, "framing") == "centre crop"
            and images(page) == 3)


def test_controls_keep_their_values_across_views_and_reset_restores_every_default(open_page):
    page = open_page("factorization")
    slide(page, "Number of concepts k", "End")
    settled(page, "k 10", lambda: param(page, "k") == "10" and images(page) == 11)
    pick(page, "View", "Three ways")
    settled(page, "three ways k 10", lambda: "k-means: 10 clusters" in body(page) and param(page, "view") == "Three ways")
    pick(page, "View", "Concepts")
    settled(page, "back to concepts", lambda: "10 concepts at head conv" in body(page) and param(page, "k") == "10")
    assert slider_value(page, "Number of concepts k") == "10"
    page.get_by_role("button", name="Reset", exact=True).click()
    settled(page, "reset", lambda: not [k for k in params(page) if k.startswith("factorization.")]
            and "the shipped factorization" in body(page) and images(page) == 6)
    assert slider_value(page, "Number of concepts k") == "5"


def test_presenter_mode_the_share_link_the_quiz_and_every_try_this_preset(open_page):
    page = open_page("factorization?factorization.view=Choosing+k&factorization.split_k=6")
    settled(page, "split 6", lambda: "From k = 6 to 7" in body(page))
    assert share_popover_link(page) == page.url
    page.get_by_text("Presenter mode", exact=True).click()
    settled(page, "presenter", lambda: "Check yourself" not in body(page) and "In this lesson you will" not in body(page)
            and charts(page) == 2)
    page.get_by_text("Presenter mode", exact=True).click()
    settled(page, "presenter off", lambda: "Check yourself" in body(page))
    quiz = page.get_by_role("radiogroup", name="Why does DFF use non-negative matrix factorization rather than PCA?")
    quiz.get_by_text("NMF is faster", exact=True).click()
    settled(page, "wrong answer", lambda: "Not quite." in body(page), allow_errors=True)
    quiz.get_by_text("The activations after a ReLU are non-negative", exact=False).click()
    settled(page, "right answer", lambda: "Right. With W, H" in body(page))
    verdicts = {"cat": ("Concepts", "Judged on the cat photo (whole image), head conv with k = 5"),
                "error": ("Choosing k", "Judged on the cat photo (whole image), head conv"),
                "shared": ("Co-segmentation", "Judged on cat, coffee (whole image), head conv with k = 4")}
    for index, (view, judged) in enumerate(verdicts.values()):
        experiment = EXPERIMENTS[index]
        page.get_by_role("radiogroup", name="Your prediction").nth(index).get_by_text(
            experiment.predictions[experiment.expected], exact=True).click()
        wait_for_run(page)
        page.get_by_role("button", name="Set up this experiment").nth(index).click()
        settled(page, f"preset {experiment.key}", lambda: param(page, "view") == (None if view == "Concepts" else view)
                and judged in body(page) and "Your prediction matched." in body(page), timeout_ms=180_000)
        assert "The expected effect appeared on this run." in body(page), view


def test_a_share_link_whose_values_no_longer_exist_shows_the_defaults_with_a_note(open_page):
    page = open_page("factorization?factorization.view=Concepts&factorization.k=42&factorization.layer=fc7"
                     "&factorization.image=dog")
    settled(page, "stale link", lambda: "the shipped factorization" in body(page) and images(page) == 6
            and "which the page no longer offers" in body(page))
    assert slider_value(page, "Number of concepts k") == "5"
