"""The Data page under streamlit.testing.v1.AppTest: starts at app.py, switches to the page, drives
widgets by key. The uploader is driven with AppTest's FileUploader.set_value (supported in 1.67)."""

import io

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from studio import data as D


@pytest.fixture(autouse=True)
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    st.cache_data.clear()
    st.cache_resource.clear()
    return tmp_path


def open_page() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=90)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception, at.exception
    return at


def png(i: int, size=(40, 30)) -> bytes:
    img = Image.new("RGB", size, (i * 12 % 256, 100, 200 - i * 5))
    img.putpixel((i % size[0], 0), (255, 255, 255))
    b = io.BytesIO()
    img.save(b, "PNG")
    return b.getvalue()


def upload(at: AppTest, n: int, extra=()):
    files = [(f"pic_{i:02d}.png", png(i), "image/png") for i in range(n)] + list(extra)
    at.file_uploader(key="upload_files").set_value(files)
    at.run()
    assert not at.exception, at.exception


def test_builtin_digits_preview_renders_offline():
    at = open_page()
    assert at.title[0].value == "Data"
    assert at.segmented_control(key="builtin_pick").value == "digits"
    assert any("1,797 images" in m.value for m in at.markdown)
    assert at.image and "first 64" in at.image[0].captions[0]
    up = at.file_uploader(key="upload_files")
    assert up.accept_multiple_files and set(up.allowed_type) >= {".png", ".jpg", ".zip"}


def test_download_offline_says_so_plainly(monkeypatch):
    import keras

    def offline():
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    at = open_page()
    at.segmented_control(key="builtin_pick").set_value("mnist")
    at.run()
    assert any("not downloaded yet" in m.value for m in at.markdown)
    at.button(key="download_mnist").click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Could not download MNIST: this machine is offline or the download site is unreachable. "
        "Use the built-in 'digits' dataset, or upload your own images on the Data page."
    ]


def test_cached_builtin_shows_count_and_preview(homes):
    (homes / "data" / "builtin").mkdir(parents=True)
    x = np.random.default_rng(0).integers(0, 256, (70, 32, 32, 3), dtype=np.uint8)
    np.savez(homes / "data" / "builtin" / "cifar10.npz", x=x, y=np.arange(70) % 10)
    at = open_page()
    at.segmented_control(key="builtin_pick").set_value("cifar10")
    at.run()
    assert not at.exception
    assert any("50,000 images" in m.value for m in at.markdown)
    assert "CIFAR-10" in at.image[0].captions[0]
    assert not [b for b in at.button if b.key == "download_cifar10"]


def test_upload_preview_report_save_and_delete(homes):
    at = open_page()
    upload(at, 18, extra=[("broken.png", b"not a picture", "image/png"), ("again.png", png(3), "image/png")])
    assert [m.value for m in at.metric] == ["18", "1", "1"]
    assert any("DiffAugment" in i.value for i in at.info)  # fewer than 1,000 images: recommended
    skipped = at.dataframe[0].value
    assert list(skipped["File"]) == ["broken.png"] and "not a picture" in skipped["Why"][0]
    assert list(at.dataframe[1].value["Same picture as"]) == ["pic_03.png"]
    assert len(at.image) == 2  # the built-in preview and the processed preview
    assert not (homes / "data" / "datasets").exists(), "the preview must not save anything"

    # options change the preview: grayscale at 32 px
    at.selectbox(key="opt_size").set_value(32)
    at.radio(key="opt_mode").set_value("Grayscale")
    at.radio(key="opt_crop").set_value("Pad")
    at.run()
    assert not at.exception and [m.value for m in at.metric] == ["18", "1", "1"]

    at.text_input(key="dataset_name").input("Sketches 2024")
    at.run()
    assert any("sketches_2024" in c.value for c in at.caption)
    at.button(key="save_dataset").click()
    at.run()
    assert not at.exception, at.exception
    assert "Saved 18 images as the dataset **sketches_2024**." in [s.value for s in at.success]
    assert [p.value for p in at.page_link] == ["Train on it"]
    assert at.session_state["dataset"] == "sketches_2024"
    meta = D.read_meta("sketches_2024")
    assert meta["count"] == 18 and meta["image_size"] == 32 and meta["channels"] == 1 and meta["crop"] == "pad"
    assert sorted(p.name for p in (homes / "data").rglob("*") if p.is_file()) == ["images.npz", "meta.json"]

    # listed below, deleted only after confirming
    assert any("sketches_2024" in m.value for m in at.markdown)
    at.button(key="delete_sketches_2024").click()
    at.run()
    assert any("for good" in w.value for w in at.warning)
    at.button(key="cancel_delete_sketches_2024").click()
    at.run()
    assert D.saved_dataset_dir("sketches_2024") is not None
    at.button(key="delete_sketches_2024").click()
    at.run()
    at.button(key="confirm_delete_sketches_2024").click()
    at.run()
    assert not at.exception
    assert D.saved_dataset_dir("sketches_2024") is None
    assert not at.success  # the success message went with the dataset


def test_too_few_images_explains_and_offers_no_save():
    at = open_page()
    upload(at, 5)
    assert [e.value for e in at.error] == ["Only 5 usable images were found; at least 16 are needed to make a dataset."]
    assert not [b for b in at.button if b.key == "save_dataset"]
    assert at.metric[0].value == "5"  # the preview of what was found still shows


def test_saving_under_an_existing_name_asks_to_replace():
    at = open_page()
    upload(at, 16)
    at.text_input(key="dataset_name").input("mine")
    at.run()
    at.button(key="save_dataset").click()
    at.run()
    assert at.button(key="save_dataset").disabled  # saved: no second save of the same thing
    at.selectbox(key="opt_size").set_value(32)  # new options: a new dataset to save
    at.run()
    assert not at.success and not at.button(key="save_dataset").disabled
    at.button(key="save_dataset").click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "A dataset called 'mine' already exists; choose another name or delete it first."
    ]
    at.checkbox(key="overwrite_dataset").check()
    at.run()
    at.button(key="save_dataset").click()
    at.run()
    assert not at.error and D.read_meta("mine")["image_size"] == 32


def test_train_page_preselects_the_saved_dataset():
    at = open_page()
    upload(at, 16)
    at.text_input(key="dataset_name").input("for_training")
    at.run()
    at.button(key="save_dataset").click()
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="train_dataset").value == "for_training"
