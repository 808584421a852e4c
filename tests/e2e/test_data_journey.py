"""An artist's data journey in a real browser: Data → upload a zip of their pictures → see the
processed preview and the report → save it as a dataset → "Train on it" → start training on it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.e2e.conftest import choose, goto_page, wait_idle

pytestmark = pytest.mark.e2e

N_SHAPES = 24
T = 60_000  # generous: the machine running these is shared and often busy


def shapes_zip(path):
    """24 coloured shapes on coloured grounds, plus a broken file, a duplicate and macOS junk."""
    pics = []
    for i in range(N_SHAPES):
        img = Image.new("RGB", (48, 40), (30 + i * 9, 60, 120 - i * 4))
        d = ImageDraw.Draw(img)
        x, y = 4 + i % 5 * 3, 4 + i % 4 * 3
        if i % 2:
            d.ellipse((x, y, x + 26, y + 26), fill=(250, 200 - i * 6, 40))
        else:
            d.rectangle((x, y, x + 24, y + 20), fill=(40, 220, 120 + i * 5))
        b = io.BytesIO()
        img.save(b, "PNG")
        pics.append((f"shapes/shape_{i:02d}.png", b.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in pics:
            zf.writestr(name, data)
        zf.writestr("shapes/copy_of_00.png", pics[0][1])
        zf.writestr("shapes/broken.png", b"this is not a picture")
        zf.writestr("__MACOSX/shapes/._shape_00.png", b"\0\5\26\7")
    return path


def test_data_journey(server, page, shots, tmp_path):
    goto_page(page, server, "Data")
    expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible(timeout=T)
    # the offline default's preview is there before anything is uploaded
    expect(page.locator("[data-testid='stImage']").first).to_be_visible(timeout=T)
    shots(page, "data-page")

    page.locator(".st-key-upload_files input[type='file']").set_input_files(str(shapes_zip(tmp_path / "my_shapes.zip")))
    expect(page.get_by_text("Images used")).to_be_visible(timeout=60_000)
    wait_idle(page)
    metrics = page.locator("[data-testid='stMetricValue']")
    expect(metrics.nth(0)).to_have_text(str(N_SHAPES), timeout=T)
    expect(metrics.nth(1)).to_have_text("1", timeout=T)
    expect(metrics.nth(2)).to_have_text("1", timeout=T)
    expect(page.get_by_text("How the first 24 of your images will look")).to_be_visible(timeout=T)
    expect(page.get_by_text("turn on DiffAugment")).to_be_visible(timeout=T)
    expect(page.get_by_text("Skipped files (1) and why")).to_be_visible(timeout=T)
    page.get_by_text("How the first 24 of your images will look").scroll_into_view_if_needed()
    shots(page, "uploaded-preview-and-report")

    # grayscale at 32 px: the preview follows the options
    preview = page.locator("[data-testid='stImage'] img").nth(1)
    colour_src = preview.get_attribute("src")
    page.locator(".st-key-opt_mode").get_by_text("Grayscale", exact=True).click()
    expect(preview).not_to_have_attribute("src", colour_src, timeout=T)
    wait_idle(page)
    page.get_by_text("Skipped files (1) and why").scroll_into_view_if_needed()
    shots(page, "grayscale-preview")
    gray_src = preview.get_attribute("src")
    page.locator(".st-key-opt_mode").get_by_text("Colour", exact=True).click()
    expect(preview).not_to_have_attribute("src", gray_src, timeout=T)
    wait_idle(page)

    name = page.locator(".st-key-dataset_name input")
    name.fill("My Shapes")
    name.press("Enter")
    expect(page.get_by_text("It will be saved as")).to_be_visible(timeout=T)
    expect(page.locator(".st-key-save_dataset button")).to_be_enabled(timeout=T)
    page.locator(".st-key-save_dataset button").click()
    expect(page.get_by_text("Saved 24 images as the dataset")).to_be_visible(timeout=60_000)
    wait_idle(page)
    meta = json.loads((server.data_dir / "datasets" / "my_shapes" / "meta.json").read_text())
    assert meta["count"] == N_SHAPES and meta["image_size"] == 64 and meta["channels"] == 3
    assert [s[0] for s in meta["skipped"]] == ["my_shapes.zip/shapes/broken.png"]
    shots(page, "after-save-viewport", full_page=False)
    expect(page.get_by_role("link", name="Train on it")).to_be_in_viewport(timeout=T)  # seen without scrolling
    shots(page, "saved")
    page.get_by_text("Your saved datasets").scroll_into_view_if_needed()
    expect(page.locator(".st-key-saved_my_shapes")).to_contain_text("24 images", timeout=T)
    shots(page, "saved-list")

    page.get_by_role("link", name="Train on it").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=T)
    expect(page.locator(".st-key-train_dataset [role='combobox']").first).to_have_value("my_shapes", timeout=T)
    choose(page, "train_preset", "tiny")
    expect(page.locator(".st-key-train_diffaugment input")).to_be_checked(timeout=T)  # small dataset: on by default
    shots(page, "train-on-it")

    page.get_by_role("button", name="Start training").click()
    expect(page.locator(".gs-live-grid img")).to_be_visible(timeout=120_000)
    # (the run started on the saved dataset; how fast it steps depends on the shared machine's load)
    page.locator(".gs-live-grid").scroll_into_view_if_needed()
    shots(page, "training-on-my-shapes")
    run_dir = next(server.runs_dir.iterdir())
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["dataset"] == "my_shapes" and cfg["diffaugment"]

    # Stop it again so it does not compete for the shared CPUs; the Train journey tests stopping itself.
    page.locator(".st-key-stop button").first.click()
    expect(page.get_by_text(re.compile(r"^(Stopping|Stopped|Finished)$")).first).to_be_visible(timeout=60_000)
    shots(page, "stopping")
