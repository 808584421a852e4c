"""A server killed with SIGKILL mid-training, then restarted: the run is 'Interrupted' and one click
resumes it from its last checkpoint. Also: the first request after a (re)start may be a page URL
(a tab reconnecting, a bookmark) and must still get the studio's navigation.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, choose, goto_page, set_number, wait_idle

pytestmark = pytest.mark.e2e


def test_kill_server_mid_training_then_resume(tmp_path, browser, shots):
    first = Server(tmp_path).start()
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    try:
        goto_page(page, first, "Train")
        choose(page, "train_preset", "tiny")
        page.get_by_text("Advanced").click()
        for key, value in (("train_steps", "100000"), ("train_checkpoint_every", "10")):
            set_number(page, key, value)
        page.get_by_role("button", name="Start training").click()
        run_dir = None
        deadline = time.time() + 240
        while time.time() < deadline:
            dirs = list(first.runs_dir.glob("*/checkpoints/checkpoint"))
            if dirs:
                run_dir = dirs[0].parents[1]
                break
            time.sleep(0.2)
        assert run_dir, "no checkpoint within 240 s"
        shots(page, "training-before-kill")
    finally:
        first.kill(signal.SIGKILL)
    assert json.loads((run_dir / "status.json").read_text())["state"] == "running"
    ckpt = int((run_dir / "checkpoints" / "checkpoint").read_text().split('"')[1].split("-")[1])

    # The browser tab reconnects to /train on the new server: that first request is a page URL.
    second = Server(tmp_path).start()
    try:
        page.goto(second.url + "/train")
        wait_idle(page)
        nav = page.locator("[data-testid='stSidebarNav']")
        expect(nav.get_by_text("Checkpoints", exact=True)).to_be_visible()
        expect(nav.get_by_text("app", exact=True)).to_have_count(0)
        expect(page.get_by_text("Interrupted", exact=True).first).to_be_visible()
        shots(page, "after-restart-train")

        goto_page(page, second, "Home")
        expect(page.get_by_text("were interrupted").first).to_be_visible()
        shots(page, "home-interrupted")
        page.locator(f".st-key-resume_{run_dir.name} button").first.click()
        wait_idle(page)
        expect(page.get_by_role("heading", name="Train")).to_be_visible()
        deadline = time.time() + 240
        resumed_steps = []
        while time.time() < deadline:
            rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x.strip()]
            resumed_steps = [r["step"] for r in rows]
            if resumed_steps and resumed_steps[-1] > ckpt + 5:
                break
            time.sleep(0.3)
        assert resumed_steps[-1] > ckpt + 5, "training goes on after the resume"
        assert resumed_steps == sorted(set(resumed_steps)), "no step is repeated"
        expect(page.get_by_text("Training", exact=True).first).to_be_visible(timeout=60_000)
        shots(page, "resumed")
        page.locator(".st-key-stop button").first.click()
        expect(page.get_by_text("Stopped", exact=True).first).to_be_visible(timeout=60_000)
    finally:
        ctx.close()
        second.kill()
