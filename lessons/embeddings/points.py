"""The points the lesson projects: high-dimensional vectors with a label and a name each.

- digits: MNIST-5k through the course's digits CNN (models.zoo "digits_cnn", only inside
  `zoo.borrow`) or through the same architecture with seeded random weights (built here, private):
  raw pixels, block 1, block 2 (models/catalogue.py's target layers) or the penultimate layer;
- words and sentences: all-MiniLM-L6-v2 sentence embeddings (models/minilm.py, zoo "minilm") of the
  lists in word_lists.json plus what the student typed;
- photos: EfficientNet-Lite0's pooled head features (the 1,280 numbers its classifier reads) of
  12 crops of each bundled photo and of each upload.

Nothing here imports streamlit; torch is imported inside the functions that need it.
"""
from __future__ import annotations

import functools
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lessons.embeddings.settings import MAX_ITEM_CHARS, MAX_TYPED_CHARS, MAX_TYPED_ITEMS, SEED

WORD_LISTS_FILE = Path(__file__).with_name("word_lists.json")
TYPED_LABEL = "typed by you"
UPLOAD_LABEL = "your upload"
PENULTIMATE = "classifier.relu3"  # the 64 ReLU units the digits CNN's last linear layer reads
UNTRAINED_SEED = 0
POOLED_SIZE = 7  # conv maps are average-pooled to 7 x 7 per channel (block 2's maps already are, after max pooling)
BATCH = 500


@dataclass(frozen=True)
class Points:
    features: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) str: the colour of each point
    names: np.ndarray  # (N,) str: what the tooltip and the neighbour table call it
    digit_index: np.ndarray | None = None  # (N,) int: the MNIST-5k index of each digit (digits only)
    unknown: tuple[str, ...] = ()  # typed items the tokenizer reads as nothing but [UNK]


# --------------------------------------------------------------------------- digits


@functools.lru_cache(maxsize=1)
def digit_order() -> np.ndarray:
    """The order in which digits are taken: first the 1,000 held-out digits the CNN never trained
    on (in a seeded random order), then the 4,000 training digits (seeded order). (5000,) int64."""
    from data import mnist5k_split

    train, heldout = mnist5k_split()
    rng = np.random.default_rng(SEED)
    return np.concatenate([rng.permutation(heldout), rng.permutation(train)])


def digit_subset(n: int) -> np.ndarray:
    """The MNIST-5k indices of the first n digits (held-out ones first)."""
    return digit_order()[:n]


@functools.lru_cache(maxsize=1)
def _mnist():
    from data import load_mnist5k

    images, labels = load_mnist5k()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def untrained_cnn():
    """The digits CNN's architecture with seeded random weights (private: never a zoo model)."""
    from models.digits import DigitsCNN
    from models.training import seeded

    with seeded(UNTRAINED_SEED):
        model = DigitsCNN()
    return model.eval().requires_grad_(False)


@functools.lru_cache(maxsize=1)
def _untrained():
    return untrained_cnn()


def _layer_path(layer: str) -> str:
    from models.catalogue import info

    paths = list(info("digits_cnn").target_layers.values())  # block 1, block 2
    return {"block1": paths[0], "block2": paths[1], "penultimate": PENULTIMATE}[layer]


def cnn_features(model, images: np.ndarray, layer: str) -> np.ndarray:
    """The CNN's activations at `layer` for uint8 digits (N, 28, 28) -> (N, D) float32, in batches.

    Conv maps are average-pooled to 7 x 7 per channel (block 1: 16 x 7 x 7 = 784 numbers; block 2,
    whose 14 x 14 maps are max-pooled to 7 x 7 before the classifier reads them, 32 x 7 x 7 = 1,568).
    The hook is removed afterwards; call it inside `zoo.borrow` for a shared model."""
    import torch
    import torch.nn.functional as F

    from models.digits import to_tensor

    module = model.get_submodule(_layer_path(layer))
    captured: list = []
    handle = module.register_forward_hook(lambda m, i, out: captured.append(out))
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(images), BATCH):
                captured.clear()
                model(to_tensor(images[start:start + BATCH]))  # (B, 10)
                act = captured[0]  # (B, C, H, W) or (B, 64)
                if act.ndim == 4:
                    if layer == "block2":
                        act = F.max_pool2d(act, 2)  # (B, 32, 7, 7): what the classifier reads
                    act = F.adaptive_avg_pool2d(act, POOLED_SIZE)  # (B, C, 7, 7)
                out.append(act.flatten(1).numpy().astype(np.float32))  # (B, D)
    finally:
        handle.remove()
    return np.concatenate(out)


@functools.lru_cache(maxsize=2)
def digits(layer: str, network: str, n: int) -> Points:
    """The first n digits (held-out first) as raw pixels or one layer's features."""
    images, labels = _mnist()
    index = digit_subset(n)
    chosen = images[index]  # (n, 28, 28) uint8
    if layer == "pixels":
        features = chosen.reshape(n, -1).astype(np.float32) / 255.0  # (n, 784)
    elif network == "trained":
        from models import zoo

        with zoo.borrow("digits_cnn") as model:
            features = cnn_features(model, chosen, layer)
    else:
        features = cnn_features(_untrained(), chosen, layer)
    names = np.array([f"digit {labels[i]} (#{i})" for i in index])
    return _frozen(Points(features, labels[index].astype(str), names, index.copy()))


def _frozen(points: Points) -> Points:
    for array in (points.features, points.labels, points.names, points.digit_index):
        if array is not None:
            array.setflags(write=False)  # shared between sessions through the cache
    return points


# --------------------------------------------------------------------------- words and sentences


@functools.lru_cache(maxsize=1)
def word_lists() -> dict[str, dict[str, list[str]]]:
    data = json.loads(WORD_LISTS_FILE.read_text(encoding="utf-8"))
    return {"words": data["words"], "sentences": data["sentences"]}


def bundled_items(kind: str) -> tuple[list[str], list[str]]:
    """(items, themes) of the bundled "words" or "sentences", in file order."""
    items, themes = [], []
    for theme, members in word_lists()[kind].items():
        items += members
        themes += [theme] * len(members)
    return items, themes


class TypedTextError(ValueError):
    """Typed text we refuse, with a message for the student."""


def parse_typed(text: str, existing: list[str] | tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """Split what the student typed (one item per line or comma) into clean items, and notes.

    Empty pieces are dropped; duplicates (also of the bundled items, ignoring case) are kept once;
    control characters are removed; an item longer than MAX_ITEM_CHARS is cut. More than
    MAX_TYPED_ITEMS items, or more than MAX_TYPED_CHARS characters in all, raise TypedTextError.
    """
    text = text or ""
    if len(text) > MAX_TYPED_CHARS:
        raise TypedTextError(f"The text has {len(text):,} characters; type at most {MAX_TYPED_CHARS:,} "
                             f"(up to {MAX_TYPED_ITEMS} words or sentences).")
    pieces = [p for line in text.splitlines() for p in line.split(",")]
    cleaned = ["".join(ch for ch in p if unicodedata.category(ch)[0] != "C").strip() for p in pieces]
    notes: list[str] = []
    seen = {e.casefold() for e in existing}
    items: list[str] = []
    duplicates = 0
    for piece in cleaned:
        if not piece:
            continue
        if len(piece) > MAX_ITEM_CHARS:
            notes.append(f"An item of {len(piece):,} characters was cut to its first {MAX_ITEM_CHARS}.")
            piece = piece[:MAX_ITEM_CHARS]
        if piece.casefold() in seen:
            duplicates += 1
            continue
        seen.add(piece.casefold())
        items.append(piece)
    if duplicates:
        notes.append(f"{duplicates} repeated item{'s' if duplicates > 1 else ''} (already in the list) "
                     f"{'were' if duplicates > 1 else 'was'} left out.")
    if len(items) > MAX_TYPED_ITEMS:
        raise TypedTextError(f"You typed {len(items)} new items; the page adds at most {MAX_TYPED_ITEMS}.")
    return items, notes


def load_on_first_use(*steps: str) -> None:
    """Import or load what only typed items and uploads need, through the warm-up's per-step locks (so
    no two threads import the same package for the first time at once): the lesson's warm-up leaves
    these out, and a student of the digits never pays for them."""
    from lessons import warmup

    for step in steps:
        warmup.run_step(step)


@functools.lru_cache(maxsize=4)
def texts(kind: str, typed: tuple[str, ...] = ()) -> Points:
    """MiniLM sentence embeddings (unit length, 384 d) of the bundled items and the typed ones."""
    from models import zoo

    items, themes = bundled_items(kind)
    all_items = items + list(typed)
    load_on_first_use("tokenizers", "model:minilm")
    with zoo.borrow("minilm") as model:
        features = model.embed(all_items).numpy().astype(np.float32)  # (N, 384)
        unk = model.tokenizer.token_to_id("[UNK]")
        unknown = tuple(t for t in typed
                        if all(i == unk for i in model.tokenizer.encode(t, add_special_tokens=False).ids))
    labels = np.array(themes + [TYPED_LABEL] * len(typed))
    return _frozen(Points(features, labels, np.array(all_items), unknown=unknown))


# --------------------------------------------------------------------------- photos

# (left, top, size) as shares of the shorter side; each also mirrored: 12 views per photo
CROPS = ((None, None, 1.0), (0.2, 0.2, 0.6), (0.0, 0.0, 0.6), (0.4, 0.0, 0.6), (0.0, 0.4, 0.6), (0.4, 0.4, 0.6))
CROP_NAMES = ("whole", "centre", "top left", "top right", "bottom left", "bottom right")


def photo_views(image) -> list[tuple[str, object]]:
    """12 views of an RGB PIL image: the whole (centre-cropped square) and 5 crops of 60 %, each also mirrored."""
    from PIL import ImageOps

    side = min(image.size)
    x0, y0 = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((x0, y0, x0 + side, y0 + side))
    views = []
    for (left, top, size), name in zip(CROPS, CROP_NAMES):
        crop = square if left is None else square.crop(
            (round(left * side), round(top * side), round((left + size) * side), round((top + size) * side)))
        views += [(name, crop), (f"{name}, mirrored", ImageOps.mirror(crop))]
    return views


def photo_features(images: list) -> np.ndarray:
    """EfficientNet-Lite0 pooled head features (N, 1280) of RGB PIL images (zoo model, borrowed)."""
    import torch

    from models import zoo
    from models.efficientnet_lite import preprocess_image

    load_on_first_use("model:efficientnet_lite0")
    batch = torch.cat([preprocess_image(image) for image in images])  # (N, 3, 224, 224)
    with zoo.borrow("efficientnet_lite0") as model, torch.no_grad():
        out = [model._avg_pooling(model.forward_features(batch[s:s + 16])).flatten(1)  # (B, 1280)
               for s in range(0, len(batch), 16)]
    return torch.cat(out).numpy().astype(np.float32)


@functools.lru_cache(maxsize=1)
def _bundled_photo_points() -> tuple[np.ndarray, list[str], list[str]]:
    from data import list_images, load_image

    images, labels, names = [], [], []
    for photo in list_images():
        for view_name, view in photo_views(load_image(photo)):
            images.append(view)
            labels.append(photo)
            names.append(f"{photo}: {view_name}")
    features = photo_features(images)
    features.setflags(write=False)
    return features, labels, names


def photos(uploads: tuple[tuple[str, bytes], ...] = ()) -> Points:
    """12 crops of every bundled photo, and of each upload ((file name, bytes); validated by
    data.uploads.open_upload, which raises UploadError with a message for the student). Not cached
    here (the page caches on the uploads' hashes, not their bytes); the bundled part is."""
    from data.uploads import open_upload

    features, labels, names = _bundled_photo_points()
    extra_images, extra_labels, extra_names = [], [], []
    for number, (file_name, data) in enumerate(uploads, start=1):
        for view_name, view in photo_views(open_upload(data)):
            extra_images.append(view)
            extra_labels.append(f"{UPLOAD_LABEL} {number}")
            extra_names.append(f"{file_name[:60]}: {view_name}")
    if extra_images:
        features = np.concatenate([features, photo_features(extra_images)])
    return _frozen(Points(np.array(features, np.float32), np.array(labels + extra_labels),
                          np.array(names + extra_names)))
