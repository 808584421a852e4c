"""studio.data: built-ins, saved datasets, folders and zips, the tf.data pipeline. Never downloads."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from studio import data as D
from studio.core.errors import StudioError
from studio.data import gate


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def png_bytes(color, size=(24, 24), mode="RGB"):
    b = io.BytesIO()
    Image.new(mode, size, color).save(b, "PNG")
    return b.getvalue()


def distinct_colors(n):
    return [(int(i * 11 % 256), int(i * 37 % 256), int(255 - i * 7 % 256)) for i in range(n)]


# --- digits -------------------------------------------------------------------------------------


def test_digits_shape_labels_and_range():
    ds = D.load_dataset("digits", 32)
    assert ds.images.shape == (1797, 32, 32, 1) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int32 and set(np.unique(ds.labels)) == set(range(10))
    assert ds.class_names == [str(i) for i in range(10)] and ds.num_classes == 10
    assert ds.images.max() > 200 and ds.images.min() == 0
    # upscaled smoothly, not nearest-neighbour blocks: many distinct grey levels
    assert len(np.unique(ds.images[0])) > 17


def test_digits_resize_and_channels():
    ds = D.load_dataset("digits", 64, channels=3)
    assert ds.images.shape == (1797, 64, 64, 3)
    assert (ds.images[..., 0] == ds.images[..., 2]).all()
    assert D.load_dataset("digits", 16).images.shape == (1797, 16, 16, 1)


def test_digits_cache_is_read_only():
    x = D.load_dataset("digits", 32).images
    with pytest.raises(ValueError):
        x[0, 0, 0, 0] = 1


def test_channels_conversion_uses_luma():
    x = np.zeros((1, 2, 2, 3), np.uint8)
    x[..., 0] = 255
    g = D.convert_channels(x, 1)
    assert g.shape == (1, 2, 2, 1) and int(g[0, 0, 0, 0]) == 76  # 0.299 * 255


def test_unknown_name_lists_what_exists():
    with pytest.raises(StudioError) as e:
        D.load_dataset("nope", 32)
    msg = str(e.value)
    assert "Unknown dataset 'nope'" in msg and "digits" in msg and "cifar10" in msg


# --- keras built-ins: offline and cache -------------------------------------------------------


def test_mnist_offline_is_one_plain_sentence(monkeypatch):
    import keras

    def offline():
        # keras.utils.get_file raises a bare Exception("URL fetch failure ...") when offline
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")  # noqa: TRY002

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    assert not D.is_cached("mnist")
    with pytest.raises(StudioError) as e:
        D.load_dataset("mnist", 28)
    assert str(e.value) == (
        "Could not download MNIST: this machine is offline or the download site is unreachable. "
        "Use the built-in 'digits' dataset, or upload your own images on the Data page."
    )


def test_keras_download_is_cached_as_npz(monkeypatch, data_home):
    import keras

    calls = []
    x = np.random.default_rng(0).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    y = np.arange(20).reshape(20, 1) % 10

    def fake_load():
        calls.append(1)
        return (x, y), (x[:2], y[:2])

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake_load)
    progress = []
    ds = D.load_dataset("cifar10", 32, progress=lambda f, t: progress.append((f, t)))
    assert ds.images.shape == (20, 32, 32, 3) and ds.labels.shape == (20,) and ds.labels.dtype == np.int32
    assert (data_home / "builtin" / "cifar10.npz").is_file() and D.is_cached("cifar10")
    assert progress and all(0 <= f <= 1 for f, _ in progress)
    # second load comes from our cache, not the loader
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: 1 / 0)
    again = D.load_dataset("cifar10", 16, channels=1)
    assert again.images.shape == (20, 16, 16, 1) and len(calls) == 1


def test_prewritten_cache_is_used_without_keras(data_home):
    (data_home / "builtin").mkdir(parents=True)
    x = np.full((12, 28, 28), 200, np.uint8)
    np.savez(data_home / "builtin" / "fashion_mnist.npz", x=x, y=np.arange(12) % 10)
    ds = D.load_dataset("fashion_mnist", 32)
    assert ds.images.shape == (12, 32, 32, 1) and ds.class_names[0] == "T-shirt/top"
    info = {i.name: i for i in D.list_datasets()}
    assert info["fashion_mnist"].count == 60000 and info["fashion_mnist"].available_offline
    assert info["mnist"].count is None and not info["mnist"].available_offline


# --- pipeline -----------------------------------------------------------------------------------


def small_ds(n=10, flip=False, labels=True):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (n, 8, 8, 1), dtype=np.uint8)
    x[:, :, 0] = 255  # left column white: flips become visible
    x[:, :, -1] = 0
    y = np.arange(n, dtype=np.int32) if labels else None
    return D.Dataset("t", x, y, [str(i) for i in range(n)] if labels else [], flip=flip)


def take(pipe, k):
    return [(a.numpy(), b.numpy()) for a, b in pipe.take(k)]


def test_pipeline_range_shapes_and_determinism():
    ds = small_ds()
    a = take(D.make_pipeline(ds, 4, seed=3), 6)
    b = take(D.make_pipeline(ds, 4, seed=3), 6)
    c = take(D.make_pipeline(ds, 4, seed=4), 6)
    for (x, y), (x2, y2) in zip(a, b, strict=True):
        assert x.shape == (4, 8, 8, 1) and x.dtype == np.float32 and y.dtype == np.int32
        assert x.min() >= -1 and x.max() <= 1
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    assert any(not np.array_equal(y, y3) for (_, y), (_, y3) in zip(a, c, strict=True))
    # images and labels stay paired: label i is image i
    x, y = a[0]
    np.testing.assert_allclose(x, ds.images[y] / 127.5 - 1, atol=1e-6)
    # each epoch is a permutation (first 10 labels over batches cover all 10 indices... across 12 draws)
    labels = np.concatenate([y for _, y in a])[:10]
    assert sorted(labels) == list(range(10))


def test_pipeline_batch_bigger_than_dataset_and_unlabelled():
    ds = small_ds(n=5, labels=False)
    ((x, y),) = take(D.make_pipeline(ds, 16, seed=0), 1)
    assert x.shape == (16, 8, 8, 1) and (y == 0).all()


def test_pipeline_flip_is_seeded():
    ds = small_ds(n=10, flip=True)
    a = take(D.make_pipeline(ds, 10, seed=5), 4)
    b = take(D.make_pipeline(ds, 10, seed=5), 4)
    flipped = [(x[:, :, -1, 0] == 1).all(axis=1) for x, _ in a]
    assert np.concatenate(flipped).any() and not np.concatenate(flipped).all()
    for (x, _), (x2, _) in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, x2)


# --- folders, zips and saved datasets -----------------------------------------------------------


def test_folder_loading_reports_skipped(tmp_path):
    folder = tmp_path / "pics"
    (folder / "sub").mkdir(parents=True)
    for i, c in enumerate(distinct_colors(17)):
        (folder / ("sub" if i % 2 else "") / f"{i}.png").write_bytes(png_bytes(c, (30, 20)))
    (folder / "broken.png").write_bytes(b"not a picture")
    (folder / "notes.txt").write_text("hello")
    (folder / ".DS_Store").write_bytes(b"\0\0")
    ds = D.load_dataset(str(folder), 32)
    assert ds.images.shape == (17, 32, 32, 3) and ds.labels is None
    reasons = dict(ds.skipped)
    assert set(reasons) == {"broken.png", "notes.txt"}
    assert "not a picture" in reasons["broken.png"] and "not an image" in reasons["notes.txt"]


def test_folder_of_gray_images_is_one_channel(tmp_path):
    folder = tmp_path / "gray"
    folder.mkdir()
    for i in range(16):
        (folder / f"{i}.png").write_bytes(png_bytes(i * 10, mode="L"))
    assert D.load_dataset(str(folder), 32).images.shape == (16, 32, 32, 1)
    assert D.load_dataset(str(folder), 32, channels=3).images.shape == (16, 32, 32, 3)


def test_zip_loading(tmp_path):
    z = tmp_path / "pics.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for i, c in enumerate(distinct_colors(16)):
            zf.writestr(f"pics/{i}.png", png_bytes(c))
        zf.writestr("pics/bad.png", b"")
        zf.writestr("__MACOSX/pics/._0.png", b"junk")
    ds = D.load_dataset(str(z), 32, channels=1)
    assert ds.images.shape == (16, 32, 32, 1)
    assert ds.skipped == [("pics.zip/pics/bad.png", gate.R_EMPTY)]


def test_broken_zip_paths_are_plain_errors(tmp_path):
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    with pytest.raises(StudioError, match=r"^'empty.zip' could not be used: the zip archive is empty\.$"):
        D.load_dataset(str(empty), 32)
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"not a zip at all")
    with pytest.raises(StudioError, match="not a valid zip archive"):
        D.load_dataset(str(fake), 32)
    with pytest.raises(StudioError, match="neither a folder nor a .zip"):
        D.load_dataset(__file__, 32)


def test_too_few_in_folder(tmp_path):
    (tmp_path / "few").mkdir()
    for i, c in enumerate(distinct_colors(3)):
        (tmp_path / "few" / f"{i}.png").write_bytes(png_bytes(c))
    with pytest.raises(StudioError, match="Only 3 usable images were found; at least 16"):
        D.load_dataset(str(tmp_path / "few"), 32)


def test_saved_dataset_round_trip_and_listing(data_home):
    files = [(f"{i}.png", png_bytes(c, (40, 40))) for i, c in enumerate(distinct_colors(18))]
    rep = D.ingest_upload(files, "My Cats!", D.PreprocessOptions(image_size=32, flip=True))
    assert rep.name == "my_cats" and rep.path == data_home / "datasets" / "my_cats"
    infos = {i.name: i for i in D.list_datasets()}
    assert infos["my_cats"].kind == "yours" and infos["my_cats"].count == 18
    assert infos["my_cats"].image_size == 32 and infos["my_cats"].channels == 3
    assert list(infos)[:4] == list(D.BUILTIN)
    ds = D.load_dataset("my_cats", 64, channels=1)
    assert ds.images.shape == (18, 64, 64, 1) and ds.flip and ds.labels is None
    with pytest.raises(StudioError, match="already exists"):
        D.ingest_upload(files, "my_cats", D.PreprocessOptions(image_size=32))
    D.ingest_upload(files[:16], "my_cats", D.PreprocessOptions(image_size=32), overwrite=True)
    assert D.load_dataset("my_cats", 32).images.shape[0] == 16
    D.delete_dataset("my_cats")
    assert "my_cats" not in D.dataset_names()
    with pytest.raises(StudioError):
        D.delete_dataset("my_cats")


def test_preview_of_builtin_and_saved():
    assert D.load_preview("digits", 64).shape == (64, 32, 32, 1)
    with pytest.raises(StudioError, match="not downloaded"):
        D.load_preview("cifar10")
