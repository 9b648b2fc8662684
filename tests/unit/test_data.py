"""The bundled data: loaders, the fixed split, the photos and the shortcut markers."""

import time
from pathlib import Path

import numpy as np
import pytest

import data
from data import shortcut

REPO = Path(__file__).resolve().parents[2]


def test_mnist5k_shapes_dtypes_and_classes():
    images, labels = data.load_mnist5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0
    assert (images[:, 0, :] == 0).mean() > 0.99  # the top row is background


def test_mnist5k_loads_fast_and_is_small():
    times = []
    for _ in range(3):
        start = time.perf_counter()
        data.load_mnist5k()
        times.append(time.perf_counter() - start)
    assert min(times) < 0.2
    assert data.MNIST5K_PATH.stat().st_size < 1_000_000


def test_mnist5k_returns_fresh_arrays():
    images, _ = data.load_mnist5k()
    images[:] = 0
    assert data.load_mnist5k()[0].max() == 255


def test_split_is_fixed_stratified_and_disjoint():
    _, labels = data.load_mnist5k()
    train, heldout = data.mnist5k_split()
    assert train.shape == (4000,) and heldout.shape == (1000,)
    assert np.intersect1d(train, heldout).size == 0
    assert np.union1d(train, heldout).tolist() == list(range(5000))
    assert np.bincount(labels[heldout]).tolist() == [100] * 10
    again_train, again_heldout = data.mnist5k_split(seed=0)
    assert np.array_equal(heldout, again_heldout) and np.array_equal(train, again_train)
    assert not np.array_equal(heldout, data.mnist5k_split(seed=1)[1])


def test_sklearn_digits():
    images, labels = data.load_sklearn_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    assert images.min() == 0 and images.max() == 16
    assert labels.shape == (1797,) and labels.dtype == np.int64 and set(labels) == set(range(10))
    normalized, _ = data.load_sklearn_digits(normalize=True)
    assert normalized.max() == 1.0


def test_photos_load_as_small_rgb_with_attribution():
    names = data.list_images()
    assert 6 <= len(names) <= 10 and "cat" in names and "coffee" in names
    attribution = (REPO / "data" / "ATTRIBUTION.md").read_text()
    for name in names:
        info = data.image_info(name)
        image = data.load_image(name)
        assert image.mode == "RGB" and max(image.size) <= 512 and min(image.size) >= 200
        assert (data.IMAGES_DIR / info.file).stat().st_size < 150_000
        assert f"`{info.file}`" in attribution
        assert info.caption and info.source and info.licence
    with pytest.raises(KeyError):
        data.load_image("no-such-image")


# --------------------------------------------------------------------------- shortcut markers


def test_marker_boxes_are_distinct_in_the_border_and_away_from_the_digit():
    masks = np.stack([shortcut.marker_mask(k) for k in range(10)])  # (10, 28, 28)
    assert masks.sum(axis=(1, 2)).tolist() == [9] * 10
    assert masks.sum(axis=0).max() == 1  # no two markers overlap
    assert not masks[:, 4:24, 4:24].any()  # MNIST digits sit in the central 20x20 box
    for k in range(10):
        row0, col0, row1, col1 = shortcut.marker_box(k)
        assert 0 <= row0 < row1 <= 28 and 0 <= col0 < col1 <= 28
        assert masks[k, row0:row1, col0:col1].all()


def test_markers_sit_where_mnist_has_no_ink():
    images, _ = data.load_mnist5k()
    for k in range(10):
        ink = images[:, shortcut.marker_mask(k)] > 0  # (5000, 9)
        assert ink.mean() < 0.02 and ink.any(axis=1).mean() < 0.05


def test_add_class_marker_stamps_a_copy():
    images, labels = data.load_mnist5k()
    images, labels = images[::50], labels[::50]  # (100, 28, 28), all classes
    original = images.copy()
    marked = shortcut.add_class_marker(images, labels, 0)
    assert np.array_equal(images, original)  # input untouched
    for img, before, label in zip(marked, images, labels):
        mask = shortcut.marker_mask(label)
        assert (img[mask] == 255).all()
        assert np.array_equal(img[~mask], before[~mask])


def test_wrong_marker_is_the_next_class():
    images, labels = data.load_mnist5k()
    images, labels = images[::100], labels[::100]
    wrong = shortcut.add_class_marker(images, labels, 0, wrong=True)
    for img, label in zip(wrong, labels):
        assert (img[shortcut.marker_mask((label + 1) % 10)] == 255).all()
    assert np.array_equal(shortcut.marker_classes(labels, wrong=True), (labels + 1) % 10)


def test_marker_probability_is_seeded():
    images, labels = data.load_mnist5k()
    a = shortcut.add_class_marker(images, labels, 3, p=0.5)
    b = shortcut.add_class_marker(images, labels, np.random.default_rng(3), p=0.5)
    assert np.array_equal(a, b)
    stamped = np.array([(img[shortcut.marker_mask(k)] == 255).all() for img, k in zip(a, labels)])
    assert 0.45 < stamped.mean() < 0.55
