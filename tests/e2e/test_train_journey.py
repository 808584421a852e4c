"""The first journey a person takes: Home → Train → Start training → watch → Pause → Resume → Stop.

A second browser session watches the same job at the same time (a live demo's audience).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import choose, goto_page, set_number, wait_idle

pytestmark = pytest.mark.e2e


def _chart_points(pg) -> int:
    """Number of x values drawn in the first trace (D loss) of the live chart."""
    return pg.evaluate("""() => {
        const el = document.querySelector('.gs-live .js-plotly-plot');
        if (!el || !el.data || !el.data.length) return 0;
        return el.data[0].x.length;
    }""")


def _trace_names(pg) -> list[str]:
    return pg.evaluate("""() => {
        const el = document.querySelector('.gs-live .js-plotly-plot');
        return el && el.data ? el.data.map(t => t.name) : [];
    }""")


def test_train_journey(server, browser, page, shots):
    goto_page(page, server, "Train")
    expect(page.get_by_role("heading", name="Train")).to_be_visible()
    shots(page, "train-page")

    # Choose digits and the tiny preset; give it enough steps to watch, pause and resume.
    choose(page, "train_preset", "tiny")
    page.get_by_text("Advanced").click()
    set_number(page, "train_steps", "3000")
    shots(page, "settings")

    page.get_by_role("button", name="Start training").click()

    # The job runs with the steps typed above (not the preset's), and the live chart gains
    # points and the fixed-noise grid appears.
    expect(page.get_by_text(re.compile(r"Step [\d,]+ of 3,000")).first).to_be_visible(timeout=240_000)
    expect(page.locator(".gs-live .js-plotly-plot").first).to_be_visible(timeout=240_000)
    expect(page.locator(".gs-live-grid img").first).to_be_visible(timeout=240_000)
    page.wait_for_function(
        """() => {
        const el = document.querySelector('.gs-live .js-plotly-plot');
        return el && el.data && el.data[0].x.length >= 2;
    }""",
        timeout=60_000,
    )
    first = _chart_points(page)
    page.wait_for_function(
        f"""() => {{
        const el = document.querySelector('.gs-live .js-plotly-plot');
        return el && el.data && el.data[0].x.length > {first};
    }}""",
        timeout=60_000,
    )
    assert {"D loss", "G loss"} <= set(_trace_names(page))
    shots(page, "training-live")

    # A second session (another viewer) sees the same job.
    other = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    goto_page(other, server, "Train")
    expect(other.get_by_text("Training", exact=True).first).to_be_visible(timeout=30_000)
    expect(other.locator(".gs-live-grid img").first).to_be_visible(timeout=30_000)
    shots(other, "second-viewer")

    page.locator(".st-key-pause button").first.click()
    expect(page.locator(".st-key-resume button").first).to_contain_text("Resume", timeout=30_000)
    expect(page.get_by_text("Paused", exact=True).first).to_be_visible()
    run_dir = next(server.runs_dir.iterdir())
    step_paused = json.loads((run_dir / "status.json").read_text())["step"]
    page.wait_for_timeout(2500)
    assert json.loads((run_dir / "status.json").read_text())["step"] == step_paused
    shots(page, "paused")

    page.locator(".st-key-resume button").first.click()
    expect(page.locator(".st-key-pause button").first).to_contain_text("Pause", timeout=30_000)
    page.wait_for_function(
        f"""() => {{
        const el = document.querySelector('.gs-live .js-plotly-plot');
        return el && el.data && el.data[0].x[el.data[0].x.length - 1] > {step_paused};
    }}""",
        timeout=60_000,
    )
    shots(page, "resumed")

    page.locator(".st-key-stop button").first.click()
    expect(page.get_by_text("Stopped", exact=True).first).to_be_visible(timeout=60_000)
    wait_idle(page)
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "stopped"
    ckpts = sorted(int(p.name[5:-6]) for p in (run_dir / "checkpoints").glob("ckpt-*.index"))
    assert ckpts and ckpts[-1] == status["step"], "Stop writes a final checkpoint at the step it stopped"
    shots(page, "stopped")

    # The other viewer sees it stopped too, and Home lists the run.
    expect(other.get_by_text("Stopped", exact=True).first).to_be_visible(timeout=30_000)
    other.context.close()
    goto_page(page, server, "Home")
    expect(page.get_by_text(run_dir.name).first).to_be_visible()
    shots(page, "home")
