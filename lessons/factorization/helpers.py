"""What the views share: the photo controls, the cached live computations (plain values in; `_rgb` is
not part of the key) and the shipped-or-live lookup. No torch at module level: the first render
draws the shipped result; `shipped_or` calls page.go_live() before the first live computation."""
from __future__ import annotations

import numpy as np
import streamlit as st

from lessons import ui
from lessons.factorization import content, inputs, maps, store
from lessons.factorization.settings import FRAMINGS, SLUG, UPLOAD
from lessons.callbacks import runs_whole


@st.cache_data(max_entries=16, show_spinner=False)
def photo(source: str, framing: str, _upload: bytes | None = None) -> np.ndarray:
    """source is "photo:<name>" or "upload:<hash>". Raises UploadError for a bad upload."""
    kind, _, name = source.partition(":")
    return inputs.upload_rgb(_upload, framing) if kind == "upload" else inputs.bundled_rgb(name, framing)


@st.cache_data(max_entries=16, show_spinner="Factorizing the activations…")
def live_concepts(source: str, framing: str, layer: str, k: int, _rgb: np.ndarray):
    from lessons.factorization import results
    return results.concepts(_rgb, layer, k)


@st.cache_data(max_entries=8, show_spinner="Factorizing the images together…")
def live_cosegmentation(sources: tuple[str, ...], framing: str, layer: str, k: int, _rgbs: tuple):
    from lessons.factorization import results
    return results.cosegmentation(list(_rgbs), layer, k)


@st.cache_data(max_entries=8, show_spinner="Factorizing with k = 2 to 10…")
def live_sweep(source: str, framing: str, layer: str, _rgb: np.ndarray):
    from lessons.factorization import results
    return results.sweep(_rgb, layer)


@st.cache_data(max_entries=8, show_spinner="DFF, EigenCAM and k-means on the same activations…")
def live_three_ways(source: str, framing: str, layer: str, k: int, seed: int, _rgb: np.ndarray):
    from lessons.factorization import results
    return results.three_ways(_rgb, layer, k, seed)


def concepts_for(page: ui.LessonPage, source: str, framing: str, layer: str, k: int, rgb: np.ndarray):
    """(result, "shipped" | "live"): the shipped arrays for the bundled photo, else a live factorization."""
    kind, _, name = source.partition(":")
    if kind == "photo":
        hit = store.shipped(store.result_key("concepts", image=name, framing=framing, layer=layer, k=k))
        if hit is not None:
            return hit, "shipped"
    page.go_live()
    return live_concepts(source, framing, layer, k, rgb), "live"


def control(page: ui.LessonPage, widget, name: str, *args, **kwargs):
    """A control that keeps its value while another view is shown."""
    return page.control(widget, name, *args, persist_state="page", **kwargs)


UPLOAD_KEY = f"{SLUG}._upload"
# The last upload's bytes. Streamlit forgets a file uploader's file when a run does not draw it (the
# co-segmentation view has none; a bundled photo hides it), so the views that take a photo fall back to these until the student
# removes the file or uploads another (the uploader's on_change); Reset drops them with the other "_" keys.
KEPT_UPLOAD_KEY = f"{SLUG}._kept_upload"


@runs_whole
def _keep_upload() -> None:
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        st.session_state.pop(KEPT_UPLOAD_KEY, None)
    else:
        st.session_state[KEPT_UPLOAD_KEY] = uploaded.getvalue()


def choose_photo(page: ui.LessonPage):
    """The photo and framing controls; returns (source, framing, rgb) or None with a message shown."""
    from data import list_images

    left, right = st.columns([1.3, 1])
    with left:
        image = control(page, st.selectbox, "image", "Photo", list_images() + [UPLOAD])
    with right:
        framing = control(page, st.radio, "framing", "Framing", FRAMINGS, horizontal=True,
                          help="Whole image pads the photo with grey so the background stays in; centre crop is how "
                               "the model was evaluated on ImageNet.")
    if image != UPLOAD:
        return f"photo:{image}", framing, photo(f"photo:{image}", framing)
    uploaded = st.file_uploader("A JPEG, PNG or WebP photo (at most 10 MB)", type=["jpg", "jpeg", "png", "webp"],
                                key=UPLOAD_KEY, max_upload_size=10, on_change=_keep_upload)
    data = uploaded.getvalue() if uploaded is not None else st.session_state.get(KEPT_UPLOAD_KEY)
    if data is None:
        st.info("Upload a photo to factorize it (it stays in your session and is not stored).")
        return None
    if uploaded is None:
        st.caption("Showing the photo you uploaded before (the upload box empties whenever it is hidden, by another "
                   "view or photo): upload another to replace it (Reset forgets it).")
    from data.uploads import UploadError, bytes_key

    source = f"upload:{bytes_key(data)}"
    try:
        return source, framing, photo(source, framing, data)
    except UploadError as error:
        st.error(f"This upload cannot be used: {error}")
        return None


def describe(source: str, framing: str) -> str:
    kind, _, name = source.partition(":")
    return ("your uploaded photo" if kind == "upload" else f"the {name} photo") + f" ({framing})"


def concept_names(data: dict, k: int) -> list[str]:
    """Each concept named by its top label (head layer) or by its number."""
    from models.catalogue import imagenet_labels

    if "label_classes" not in data:
        return [content.concept_name(i, None) for i in range(k)]
    labels = imagenet_labels()
    return [content.concept_name(i, f"{labels[int(c)]} ({float(score):.0%})")
            for i, (c, score) in enumerate(zip(data["label_classes"][:, 0], data["label_scores"][:, 0]))]


def cat_contrast(data: dict, upsampled: np.ndarray, names: list[str]) -> dict | None:
    """For the cat photo in the whole-image framing: how much more each cat-labelled concept lies in the cat's box."""
    from models.catalogue import imagenet_labels

    if "label_classes" not in data:
        return None
    labels = imagenet_labels()
    region = maps.box_mask(upsampled.shape[1:], content.CAT_BOX)
    cats = [i for i, row in enumerate(data["label_classes"][:, :3])
            if any(labels[int(c)] in content.CAT_CLASSES for c in row)]
    if not cats:
        return {"best": 0.0, "name": "none", "count": 0}
    ratios = {i: maps.inside_over_outside(upsampled[i], region) for i in cats}
    best = max(ratios, key=ratios.get)
    return {"best": ratios[best], "name": names[best], "count": len(cats)}


def concept_sharing(raw_maps: np.ndarray, names: list[str]) -> dict:
    """Which concepts of a joint factorization are present in every photo (raw maps (B, k, h, w)):
    count and names of the shared ones, the most shared concept and its reach (its strength in its weakest
    photo over its strongest), and `painted`: the largest share of a photo's pixels that per-photo scaling
    (the library's) gives to concepts absent from that photo."""
    reach = maps.concept_reach(raw_maps)  # (B, k)
    k = raw_maps.shape[1]
    weakest = reach.min(axis=0)  # (k,)
    shared = [names[i] for i in range(k) if weakest[i] >= content.PRESENT]
    best = int(np.argmax(weakest))
    painted = 0.0
    for image, image_reach in zip(raw_maps, reach):  # (k, h, w), (k,)
        wins = maps.concept_shares(maps.strongest_concept(maps.scale_and_resize(image, (224, 224))), k)  # (k,)
        painted = max(painted, float(wins[image_reach < content.PRESENT].sum()))
    return {"count": len(shared), "names": shared, "k": k, "best_name": names[best],
            "best_reach": float(weakest[best]), "painted": painted}
