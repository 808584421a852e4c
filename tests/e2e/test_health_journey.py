"""Training health in a real browser (issue 13): the quality curves on Train, the best snapshot
starred and selectable on Checkpoints, and Explore opening on it with the nearest training images.

A tiny run is trained in this test process straight into the server's runs folder, then
``python -m studio metrics``'s engine fills in the snapshots the background monitor skipped to keep
training fast, so every snapshot has a score.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import goto_page, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scored(server):
    from studio.quality import best_snapshot, score_run
    from studio.train.config import from_preset
    from studio.train.loop import train

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDIO_RUNS_DIR", str(server.runs_dir))
        mp.setenv("STUDIO_DATA_DIR", str(server.data_dir))
        res = train(
            from_preset("tiny", steps=150, snapshot_every=25, checkpoint_every=25),
            run_dir=server.runs_dir / "health-run",
        )
        assert res.state == "completed", res.message
        score_run(res.run)
    return res.run, best_snapshot(res.run)


def test_train_shows_quality_curves_beside_the_losses(page, server, scored, shots):
    run, best = scored
    goto_page(page, server, "Train")
    expect(page.get_by_text("Quality per snapshot")).to_be_visible(timeout=60_000)
    shots(page, "train-page")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    expect(chart).to_be_visible(timeout=60_000)
    expect(chart.get_by_text("best: step", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"best so far: step {best.step:,}", exact=False)).to_be_visible()
    chart.scroll_into_view_if_needed()
    shots(page, "train-quality-curves")


def test_checkpoints_mark_the_best_snapshot(page, server, scored, shots):
    run, best = scored
    goto_page(page, server, "Checkpoints")
    panel = page.locator(".st-key-ckpt_best")
    expect(panel).to_contain_text(f"Best snapshot: step {best.step:,}", timeout=60_000)
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(2, timeout=60_000)  # losses + quality
    page.locator(".st-key-ckpt_show_best button").click()
    wait_idle(page)
    expect(page.get_by_text(f"Step {best.step:,}:", exact=False).first).to_be_visible()
    expect(page.get_by_text("— the best snapshot", exact=False).first).to_be_visible()
    shots(page, "checkpoints-best-snapshot")
    page.locator(".st-key-ckpt_explore_best button").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Explore")).to_be_visible(timeout=60_000)


def test_explore_opens_on_the_best_and_shows_the_nearest_training_images(page, server, scored, shots):
    run, best = scored
    goto_page(page, server, "Explore")
    picker = page.locator(".st-key-explore_step [role='combobox']")
    expect(picker).to_have_value(re.compile(rf"^step {best.step:,} \(best"), timeout=60_000)
    check = page.get_by_text("Is this picture a copy of a training image?")
    expect(check).to_be_visible()
    expect(page.get_by_text("In feature space", exact=False)).to_be_visible(timeout=60_000)
    verdict = page.get_by_text("No training image is close", exact=False).or_(
        page.get_by_text("likely a copy", exact=False)
    )
    expect(verdict.or_(page.get_by_text("is similar", exact=False)).first).to_be_visible()
    expect(page.get_by_text("ratio", exact=False).first).to_be_visible()
    page.get_by_text("In pixels", exact=False).first.scroll_into_view_if_needed()
    shots(page, "explore-nearest-training-images")
