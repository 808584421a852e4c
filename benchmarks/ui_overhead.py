"""What watching costs: the same config trained from the CLI and from the browser, in one run.

For each round (alternating, so drift in machine load hits both sides alike):
  - CLI:     python -m studio train --preset P --steps N   (no UI at all)
  - browser: streamlit run app.py, Debian Chromium opens Train, picks preset P, sets N steps, clicks
             "Start training" and keeps the page open (its fragment polls every second) to the end.
Throughput is the median of the per-interval images/s that the loop logs to metrics.jsonl,
skipping the first intervals (graph tracing). Also: seconds from the click on Start training to
the first live sample grid in the page.

Targets (issue 3): browser throughput >= 90% of the CLI's; first grid <= 10 s on CPU.

    python benchmarks/ui_overhead.py [--preset quick-sketch] [--steps 400] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server, choose, wait_idle  # noqa: E402


def throughput(run_dir: Path, skip: int = 3) -> float:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    vals = [r["images_per_s"] for r in rows[skip:]] or [r["images_per_s"] for r in rows]
    return statistics.median(vals)


def cli_round(tmp: Path, preset: str, steps: int) -> float:
    run_dir = tmp / f"cli-{time.time_ns()}"
    env = {
        **os.environ,
        "STUDIO_RUNS_DIR": str(tmp / "runs"),
        "STUDIO_DATA_DIR": str(tmp / "data"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "studio",
            "train",
            "--preset",
            preset,
            "--steps",
            str(steps),
            "--run-dir",
            str(run_dir),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return throughput(run_dir)


def browser_round(tmp: Path, preset: str, steps: int) -> tuple[float, float]:
    from playwright.sync_api import expect, sync_playwright

    server = Server(tmp / f"srv-{time.time_ns()}")
    server.runs_dir.parent.mkdir(parents=True, exist_ok=True)
    server.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(server.url + "/train")
            wait_idle(page)
            choose(page, "train_preset", preset)
            page.get_by_text("Advanced").click()
            box = page.locator(".st-key-train_steps input")
            box.fill(str(steps))
            box.press("Enter")
            wait_idle(page)
            t0 = time.perf_counter()
            page.get_by_role("button", name="Start training").click()
            expect(page.locator(".gs-live-grid img").first).to_be_visible(timeout=120_000)
            first_grid = time.perf_counter() - t0
            run_dir = next(server.runs_dir.iterdir())
            deadline = time.time() + 1800
            while time.time() < deadline:
                st = json.loads((run_dir / "status.json").read_text())
                if st["state"] in ("completed", "failed", "stopped"):
                    break
                page.wait_for_timeout(500)  # the page stays open and polling all along
            browser.close()
        return throughput(run_dir), first_grid
    finally:
        server.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="quick-sketch")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"No Chromium at {CHROMIUM}: apt-get install -y chromium")
    cli, web, grids = [], [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for i in range(a.rounds):
            cli.append(cli_round(tmp, a.preset, a.steps))
            w, g = browser_round(tmp, a.preset, a.steps)
            web.append(w)
            grids.append(g)
            print(
                f"round {i + 1}: cli {cli[-1]:.0f} img/s, browser {web[-1]:.0f} img/s, first grid {g:.1f} s",
                file=sys.stderr,
            )
    c, w, g = statistics.median(cli), statistics.median(web), statistics.median(grids)
    print(f"\nui_overhead: preset {a.preset}, {a.steps} steps, {a.rounds} rounds, {os.cpu_count()} CPUs\n")
    print("| measure | CLI | browser (Train page open, polling) | ratio / target |")
    print("|---|---|---|---|")
    print(f"| training throughput, images/s (median) | {c:,.0f} | {w:,.0f} | {w / c:.0%} (target ≥ 90%) |")
    print(f"| click on Start training → first live sample grid | – | {g:.1f} s | target ≤ 10 s |")


if __name__ == "__main__":
    main()
