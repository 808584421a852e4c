"""First picture for a newcomer: click on Start training → first live sample grid, from a cold server.

Each round starts a fresh ``streamlit run app.py`` (empty runs/ and data/ folders), opens the Train
page in Debian's Chromium as soon as the server answers, and clicks "Start training" the moment the
button can be clicked, with the page's default settings: the background TensorFlow import (started
by the first page view) is still under way. The time is taken in the page's own clock, from the
click (a capturing listener) to the moment the grid's <img> first gets a picture (a
MutationObserver), so Playwright's polling adds nothing.

References measured in the same run, between the rounds:
  - a cold ``import studio, keras, tensorflow`` in a fresh Python process (what the click waits for);
  - "warm" rounds (``--warm N``): the same click on a fresh server whose TensorFlow import finished
    before the click (the page opened, then 25 s of waiting), i.e. the start-up path alone.

Target (issue 14, item 6): ≤ 10 s from the click, cold.

    flock /tmp/studio-bench.lock python benchmarks/first_grid.py [--rounds 3] [--warm 1] [--preset auto]
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

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server, choose  # noqa: E402

WATCH_JS = """() => {
  window.__gs = {click: null, grid: null};
  document.addEventListener('click', () => { if (window.__gs.click === null) window.__gs.click = performance.now(); },
                            true);
  const seen = () => {
    const img = document.querySelector('.gs-live-grid img');
    if (window.__gs.grid === null && img && (img.getAttribute('src') || '').startsWith('data:')) {
      window.__gs.grid = performance.now();
    }
  };
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                      attributeFilter: ['src']});
}"""


def cold_import_s() -> float:
    code = "import time; t=time.perf_counter(); import studio, keras, tensorflow; print(time.perf_counter()-t)"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def one_round(browser, tmp: Path, preset: str | None, wait_before_click: float) -> dict:
    from playwright.sync_api import expect

    server = Server(tmp / f"srv-{time.time_ns()}")
    server.runs_dir.parent.mkdir(parents=True, exist_ok=True)
    t_server = time.perf_counter()
    server.start()
    t_up = time.perf_counter()
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(server.url + "/train")
        button = page.get_by_role("button", name="Start training")
        expect(button).to_be_enabled(timeout=120_000)
        if preset:
            choose(page, "train_preset", preset)
            expect(button).to_be_enabled()
        if wait_before_click:
            page.wait_for_timeout(wait_before_click * 1000)
        page.evaluate(WATCH_JS)
        t_click = time.perf_counter()
        button.click()
        page.wait_for_function("() => window.__gs.grid !== null", timeout=120_000, polling=100)
        gs = page.evaluate("() => window.__gs")
        run_dir = next(server.runs_dir.iterdir())
        cfg = json.loads((run_dir / "config.json").read_text())
        return {
            "grid_s": (gs["grid"] - gs["click"]) / 1000.0,
            "server_up_s": t_up - t_server,
            "up_to_click_s": t_click - t_up,
            "model": cfg.get("model"),
            "image_size": cfg.get("image_size"),
            "batch_size": cfg.get("batch_size"),
        }
    finally:
        ctx.close()
        server.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3, help="cold rounds (click at once)")
    ap.add_argument("--warm", type=int, default=1, help="rounds with TensorFlow already imported at the click")
    ap.add_argument("--preset", default=None, help="pick this preset before the click (default: the page's)")
    a = ap.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"No Chromium at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    cold, warm, imports = [], [], []
    with tempfile.TemporaryDirectory() as d, sync_playwright() as p:
        tmp = Path(d)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        load0 = os.getloadavg()
        for i in range(max(a.rounds, a.warm)):
            if i < a.rounds:
                cold.append(one_round(browser, tmp, a.preset, 0.0))
                print(f"cold round {i + 1}: {json.dumps(cold[-1])}", file=sys.stderr, flush=True)
            imports.append(cold_import_s())
            print(f"cold import {i + 1}: {imports[-1]:.2f} s", file=sys.stderr, flush=True)
            if i < a.warm:
                warm.append(one_round(browser, tmp, a.preset, 25.0))
                print(f"warm round {i + 1}: {json.dumps(warm[-1])}", file=sys.stderr, flush=True)
        browser.close()
        load1 = os.getloadavg()

    med = statistics.median
    what = cold[0] if cold else warm[0]
    print(
        f"\nfirst_grid: Train page defaults{f' + preset {a.preset}' if a.preset else ''} "
        f"({what['model']}, {what['image_size']} px, batch {what['batch_size']}), {os.cpu_count()} CPUs, "
        f"load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end\n"
    )
    print("| measurement | rounds | median s | each (s) | target |")
    print("|---|---|---|---|---|")
    if cold:
        g = [r["grid_s"] for r in cold]
        ok = "met" if med(g) <= 10 else "missed"
        each = ", ".join(f"{x:.1f}" for x in g)
        print(
            f"| cold server: click on Start training → first live grid | {len(g)} | {med(g):.1f} | {each} | ≤ 10 s: {ok} |"
        )
        u = [r["up_to_click_s"] for r in cold]
        each = ", ".join(f"{x:.1f}" for x in u)
        print(f"| (cold) server answering → click (page load, button ready) | {len(u)} | {med(u):.1f} | {each} | — |")
    if warm:
        g = [r["grid_s"] for r in warm]
        each = ", ".join(f"{x:.1f}" for x in g)
        print(f"| warm (TensorFlow imported): click → first live grid | {len(g)} | {med(g):.1f} | {each} | reference |")
    each = ", ".join(f"{x:.1f}" for x in imports)
    print(f"| reference: cold `import studio, keras, tensorflow` | {len(imports)} | {med(imports):.1f} | {each} | — |")


if __name__ == "__main__":
    main()
