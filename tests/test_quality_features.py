"""Feature extractors, the held-out split and the nearest-training-picture check."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio.core.errors import StudioError
from studio.quality.features import WEIGHTS_DIR, extractor_for, get_extractor
from studio.quality.neighbours import TrainingIndex
from studio.quality.split import HOLDOUT_MIN_IMAGES, holdout_indices, split_dataset


def shapes(n, size=32, channels=3, seed=0):
    """Coloured shapes drawn with Pillow: ellipses and rectangles at random places and sizes."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        im = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 80, 3)))
        d = ImageDraw.Draw(im)
        p0 = rng.integers(0, size // 2, 2)
        p1 = p0 + rng.integers(size // 4, size // 2, 2)
        fill = tuple(int(v) for v in rng.integers(100, 256, 3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)([int(p0[0]), int(p0[1]), int(p1[0]), int(p1[1])], fill=fill)
        a = np.asarray(im)
        out.append(a.mean(-1, keepdims=True).astype(np.uint8) if channels == 1 else a)
    return np.stack(out)


@pytest.mark.parametrize("size,channels", [(32, 1), (32, 3), (64, 3), (28, 1), (128, 3)])
def test_randconv_takes_any_size_and_channels_and_is_deterministic(size, channels):
    ex = get_extractor("randconv")
    x = shapes(12, size, channels)
    f = ex(x)
    assert f.shape == (12, ex.dim) and np.isfinite(f).all() and f.std() > 0
    np.testing.assert_allclose(ex(x[:5]), f[:5], rtol=1e-5, atol=1e-6)  # batch-independent, fixed seed


def test_digitnet_ships_small_and_reads_digits():
    path = WEIGHTS_DIR / "digitnet.npz"
    assert path.stat().st_size < 5 * 2**20
    with np.load(path) as w:
        assert float(w["test_accuracy"]) > 0.95
    ex = get_extractor("digitnet")
    from studio.data import load_dataset

    ds = load_dataset("digits", 32, 1)
    f = ex(ds.images[:200])
    assert f.shape == (200, 128)
    # Features of one class sit closer together than features of different classes.
    y = ds.labels[:200]
    c = np.stack([f[y == k].mean(0) for k in range(10)])
    within = np.mean([np.linalg.norm(f[i] - c[y[i]]) for i in range(200)])
    between = np.mean([np.linalg.norm(c[i] - c[j]) for i in range(10) for j in range(10) if i != j])
    assert within < between


def test_each_dataset_gets_its_extractor():
    assert extractor_for("digits", 1) == "digitnet"
    assert extractor_for("mnist", 1) == "digitnet"
    assert extractor_for("cifar10", 3) == "randconv"
    assert extractor_for("my-drawings", 1) == "randconv"
    with pytest.raises(StudioError):
        get_extractor("inception")


def test_the_held_out_split_is_deterministic_and_spares_small_sets():
    a, b = holdout_indices(1797, 0.1, seed=3), holdout_indices(1797, 0.1, seed=3)
    assert len(a) == 180 and (a == b).all()
    assert not np.array_equal(a, holdout_indices(1797, 0.1, seed=4))
    assert len(holdout_indices(HOLDOUT_MIN_IMAGES - 1, 0.1, 0)) == 0
    assert len(holdout_indices(32, 0.1, 0)) == 0
    assert len(holdout_indices(5000, 0.0, 0)) == 0
    from studio.data.dataset import Dataset

    ds = Dataset("x", shapes(300, 16, 1), np.arange(300, dtype=np.int32) % 3, ["a", "b", "c"])
    s = split_dataset(ds, 0.1, 0)
    assert len(s.train) == 270 and len(s.heldout) == 30
    assert set(s.train_index).isdisjoint(s.heldout_index)
    assert (s.train.labels == ds.labels[s.train_index]).all()


def test_nearest_training_pictures_find_a_planted_copy():
    train = shapes(120, 32, 3, seed=1)
    index = TrainingIndex(train, np.arange(1000, 1120), "randconv")
    report = index.nearest(train[37].copy(), k=3)
    assert report.pixels[0].index == 1037 and report.pixels[0].distance == 0.0
    assert report.features[0].index == 1037
    assert report.verdict == "copy" and report.is_copy
    assert "#1037" in report.message and "likely a copy" in report.message
    # A picture unlike any of them: nothing close.
    other = np.full((32, 32, 3), 255, np.uint8)
    other[::2, ::2] = 0
    far = index.nearest(other)
    assert far.verdict == "far" and far.message.startswith("No training image is close")
    assert len(far.pixels) == 3 and far.pixels[0].distance <= far.pixels[1].distance
    with pytest.raises(StudioError):
        index.nearest(np.zeros((16, 16, 3), np.uint8))
