"""Real browser: an artist scrubs through a run's training time, compares, exports a GIF and forks a run.

The run is trained in the test process straight into the server's runs folder (same disk, same
truth): the server lists it from its folder, as it would after a restart.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import goto_page, wait_idle

pytestmark = pytest.mark.e2e

RUN_ID = "20250101-000000-digits-dcgan"


@pytest.fixture(scope="module")
def run_on_server(server):
    from studio.train.config import from_preset
    from studio.train.loop import train

    # tiny preset: snapshots every 10 steps (0..40), full checkpoints every 20 (20, 40). The server's
    # folders, never the repository's runs/ and data/.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDIO_RUNS_DIR", str(server.runs_dir))
        mp.setenv("STUDIO_DATA_DIR", str(server.data_dir))
        res = train(from_preset("tiny", steps=40), run_dir=server.runs_dir / RUN_ID)
    assert res.state == "completed", res.message
    return res.run


def move_slider(page, key: str, keyname: str, expected: str):
    """One key press on a slider, then wait for the value to show and the fragment rerun to finish."""
    press_slider(page, key, keyname)
    expect(slider(page, key)).to_have_attribute("aria-valuetext", expected)
    wait_idle(page)


# The scrub slider and its pictures are one filmstrip (ui/components.py): a native range input and
# every snapshot's picture already in the page.
LATENT = ".st-key-ckpt_scrub img.gs-fs-img-0"


def scrub_range(page):
    return page.locator(".st-key-ckpt_scrub input.gs-fs-range")


def scrub(page, keyname: str, expected: str):
    """One key press on the filmstrip: the picture and its caption change in the page at once."""
    r = scrub_range(page)
    r.focus()
    r.press(keyname)
    expect(r).to_have_attribute("aria-valuetext", f"step {expected}")
    expect(page.locator(".st-key-ckpt_scrub figcaption").first).to_have_text(re.compile(rf"at step {expected}$"))


def latent_src(page) -> str:
    img = page.locator(LATENT)
    expect(img).to_be_visible()
    return img.get_attribute("src")


# Streamlit 1.67's slider is react-aria: a visually hidden <input type="range"> (implicit role
# "slider", no role attribute) whose aria-valuetext is the shown option.
def slider(page, key: str):
    return page.locator(f".st-key-{key}").get_by_role("slider")


def slider_value(page, key: str) -> str:
    return slider(page, key).get_attribute("aria-valuetext") or ""


def press_slider(page, key: str, keyname: str):
    thumb = slider(page, key)
    thumb.focus()
    thumb.press(keyname)


def test_checkpoints_journey(page, server, shots, run_on_server):
    steps = run_on_server.snapshot_steps()
    assert steps == [0, 10, 20, 30, 40]
    try:
        goto_page(page, server, "Checkpoints")
        # The first picture waits for TensorFlow to load in the server: be patient once.
        expect(page.get_by_role("heading", name="Checkpoints")).to_be_visible(timeout=60_000)
        expect(scrub_range(page)).to_be_attached(timeout=120_000)
        expect(page.locator(LATENT)).to_be_visible(timeout=120_000)
        expect(page.locator("[data-testid='stPlotlyChart']").first).to_be_visible(timeout=60_000)
        wait_idle(page)
        first = latent_src(page)
        assert scrub_range(page).get_attribute("aria-valuetext") == "step 40"
        grid = page.locator(".st-key-ckpt_scrub img.gs-fs-img-1")
        expect(grid).to_be_visible()
        assert grid.evaluate("g => g.naturalWidth > 0 && g.getBoundingClientRect().width >= 256")
        shots(page, "opened-on-latest")

        # ---- scrub back and forth with the keyboard: the latent image follows -------------------
        scrub(page, "ArrowLeft", "30")
        assert latent_src(page) != first
        for target in ("20", "10", "0"):
            scrub(page, "ArrowLeft", target)
        shots(page, "scrubbed-to-step-0")
        scrub(page, "ArrowRight", "10")
        wait_idle(page)
        shots(page, "scrubbed-to-step-10")

        # ---- compare two moments side by side -----------------------------------------------------
        page.get_by_role("tab", name="Compare two moments").click()
        expect(slider(page, "ckpt_compare_step")).to_be_attached()
        assert slider_value(page, "ckpt_compare_step") == "0"
        for target in ("10", "20"):
            move_slider(page, "ckpt_compare_step", "ArrowRight", target)
        panel = page.get_by_role("tabpanel", name="Compare two moments")
        expect(panel.locator("strong", has_text=re.compile(r"^Step 10$"))).to_have_count(1)
        expect(panel.locator("strong", has_text=re.compile(r"^Step 20$"))).to_have_count(1)
        expect(panel.locator("[data-testid='stImage']")).to_have_count(4)
        shots(page, "compare-10-and-20")

        # ---- timelapse: play it, then download the GIF --------------------------------------------
        page.get_by_role("button", name="Play").click()
        player = page.locator(".st-key-ckpt_timelapse_player img")
        expect(player).to_be_visible(timeout=120_000)
        wait_idle(page)
        player.scroll_into_view_if_needed()
        shots(page, "timelapse-playing", full_page=False)
        with page.expect_download() as dl:
            page.get_by_role("button", name="Download GIF").click()
        path = dl.value.path()
        assert dl.value.suggested_filename.endswith(".gif")
        im = Image.open(io.BytesIO(open(path, "rb").read()))
        assert im.format == "GIF"
        assert im.n_frames == len(steps)

        # ---- fork from a full checkpoint with a new learning rate ---------------------------------
        page.get_by_role("tab", name="This moment").click()
        fork_box = page.locator(".st-key-ckpt_fork_step")
        fork_box.scroll_into_view_if_needed()
        fork_box.click()
        page.get_by_role("option", name="step 20").click()
        wait_idle(page)
        page.locator(".st-key-ckpt_fork_change_lr").get_by_text("Change the learning rates", exact=True).click()
        wait_idle(page)
        lr_d = page.locator(".st-key-ckpt_fork_lr_d input")
        lr_d.fill("1.00e-04")
        lr_d.press("Enter")
        wait_idle(page)
        shots(page, "fork-form")
        page.get_by_role("button", name="Fork from this checkpoint").click()
        wait_idle(page)
        success = page.locator("[data-testid='stAlertContentSuccess']").filter(has_text="New run")
        expect(success).to_be_visible()
        new_id = re.search(r"New run (\S+) continues from step 20", success.inner_text()).group(1)
        assert new_id != RUN_ID
        assert (server.runs_dir / new_id / "config.json").exists()
        # The fork is listed on the page right away: in the housekeeping table (drawn on a canvas, so
        # its caption is what the DOM can read) and in the run picker.
        expect(page.locator(".st-key-ckpt_runs_table")).to_contain_text("2 runs")
        shots(page, "forked")
        run_picker = page.locator(".st-key-ckpt_run")
        run_picker.click()
        expect(page.get_by_role("option", name=re.compile(re.escape(new_id)))).to_be_visible()
        page.keyboard.press("Escape")
        wait_idle(page)
        # And the Train page link opens it.
        page.get_by_role("link", name=f"Watch {new_id} on the Train page").click()
        expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=60_000)
        expect(page.get_by_text(new_id).first).to_be_visible()
        expect(page.locator(".gs-live .js-plotly-plot").first).to_be_visible(timeout=60_000)
        shots(page, "train-page-shows-the-fork", full_page=False)
    except Exception:
        print(server.log_tail())
        raise
