"""Long runs stay light: a browser watches a live run of 200,000 steps; the server's memory and the
browser's CPU are printed per minute.

The scripted equivalent of watching a long training for hours, said plainly: nothing trains. A
writer process plays a run trained by the CLI at an accelerated pace — it owns the run's
status.json ("running", its own pid, so the studio sees a live run of another process), appends
one metrics row per step to metrics.jsonl (a batch of rows every 0.1 s, fsync'd, as
``append_line`` does) so that the run passes ``--steps`` steps (default 200,000) within
``--minutes`` (default 10), and writes a new fixed-noise grid PNG every 5 s. A real
``streamlit run app.py`` serves the studio (its own empty runs/ and data/ folders) and a real
headless Chromium keeps the Train page open on that run the whole time, its live panel polling once
a second.

The first reading is taken after ``--settle`` seconds with the page open: the first page view starts
the server's background TensorFlow import (~200 MB), which is start-up, not growth.

Printed per minute: the server's resident memory (VmRSS of the streamlit process), the CPU seconds
the server and all Chromium processes used in that minute, the steps written and the step the page
showed. Targets (issue 14, item 3): server growth ≤ 50 MB from the first minute to the last;
Chromium CPU per minute flat (last minute within 25% of the first full minute).

    flock /tmp/studio-bench.lock python benchmarks/long_watch.py [--minutes 10] [--steps 200000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server, wait_idle  # noqa: E402

WRITER = r"""
import json, math, os, sys, time, zlib, struct
import numpy as np
from pathlib import Path
from studio.core.images import encode_png, make_grid
from studio.train.runs import Run
from studio.train.state import RunState

run = Run.open(sys.argv[1])
steps, seconds = int(sys.argv[2]), float(sys.argv[3])
rate = steps / seconds
rng = np.random.default_rng(0)
t0 = time.perf_counter()
step, last_status, last_grid = 0, 0.0, -10.0
run.write_status(RunState.RUNNING, 0)
while step < steps:
    now = time.perf_counter() - t0
    target = min(steps, int(rate * now))
    if target > step:
        lines = []
        for s in range(step + 1, target + 1):
            x = s / steps
            lines.append(json.dumps({
                "step": s, "time": round(now, 3),
                "d_loss": 1.2 + 0.3 * math.sin(s / 997) + 0.05 * rng.standard_normal(),
                "g_loss": 0.9 + 0.2 * math.cos(s / 1311) + 0.05 * rng.standard_normal(),
                "d_real": 0.6 - 0.1 * x, "d_fake": 0.4 + 0.1 * x,
                "lr_d": 2e-4, "lr_g": 2e-4, "steps_per_s": rate, "images_per_s": rate * 64,
            }))
        with open(run.metrics_path, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        step = target
    if now - last_status >= 1.0:
        run.write_status(RunState.RUNNING, step)
        last_status = now
    if now - last_grid >= 5.0:
        images = (rng.random((64, 32, 32, 1)) * 255).astype("uint8")
        png = encode_png(make_grid(images, ncols=8), {"step": str(step)})
        path = run.sample_path(step)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(png)
        os.replace(tmp, path)
        last_grid = now
    time.sleep(0.1)
run.write_status(RunState.COMPLETED, step, "Finished.")
"""


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(name, parent pid, user+system CPU seconds) from /proc/PID/stat, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    f = raw[raw.rindex(")") + 2 :].split()
    return name, int(f[1]), (int(f[11]) + int(f[12])) / _TICK


def cpu_s(pids: list[int]) -> float:
    return sum(st[2] for st in map(_stat, pids) if st)


def chromium_pids() -> list[int]:
    """Every Chromium process this benchmark started (the browser and its renderer/GPU/utility children)."""
    table = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (st := _stat(int(d))):
            table[int(d)] = st
    me, out = os.getpid(), []
    for pid, (name, _ppid, _cpu) in table.items():
        if "chrom" not in name.lower():
            continue
        up, seen = pid, 0
        while up in table and up != me and seen < 50:
            up, seen = table[up][1], seen + 1
        if up == me:
            out.append(pid)
    return out


def make_run(runs_dir: Path, steps: int) -> Path:
    from studio.train.config import from_preset
    from studio.train.runs import Run

    cfg = from_preset("quick-sketch", dataset="digits", steps=steps).replace(log_every=1)
    return Run.create(cfg, runs_dir / "long-run").path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument(
        "--settle",
        type=float,
        default=45.0,
        help="seconds with the page open before the first reading "
        "(the server imports TensorFlow in the background after the first page view: ~200 MB, not growth)",
    )
    a = ap.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"No Chromium at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    seconds = a.minutes * 60
    rows = []
    with tempfile.TemporaryDirectory() as d, sync_playwright() as p:
        tmp = Path(d)
        server = Server(tmp)
        server.runs_dir.mkdir(parents=True)
        os.environ["STUDIO_RUNS_DIR"], os.environ["STUDIO_DATA_DIR"] = str(server.runs_dir), str(server.data_dir)
        run_dir = make_run(server.runs_dir, a.steps)
        server.start()
        writer = None
        try:
            srv = server.proc.pid
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
            writer = subprocess.Popen(
                [sys.executable, "-c", WRITER, str(run_dir), str(a.steps), str(seconds + a.settle)], cwd=ROOT, env=env
            )
            page.goto(server.url + "/train")
            wait_idle(page)
            expect(page.locator(".gs-live-progress-text")).to_contain_text("Step", timeout=60_000)
            page.wait_for_timeout(a.settle * 1000)
            t0 = time.perf_counter()
            chrome = chromium_pids()
            c_prev, s_prev = cpu_s(chrome), cpu_s([srv])
            lines = sum(1 for _ in open(run_dir / "metrics.jsonl", "rb"))
            rows.append(("start", lines, rss_mb(srv), 0.0, 0.0, page.locator(".gs-live-progress-text").inner_text()))
            minute = 1
            while writer.poll() is None or minute == 1:
                wait = t0 + 60 * minute - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                chrome = chromium_pids()
                c_now, s_now = cpu_s(chrome), cpu_s([srv])
                text = page.locator(".gs-live-progress-text").inner_text()
                lines = sum(1 for _ in open(run_dir / "metrics.jsonl", "rb"))
                rows.append((f"{minute}", lines, rss_mb(srv), c_now - c_prev, s_now - s_prev, text))
                print(f"minute {minute}: {rows[-1]}", file=sys.stderr, flush=True)
                c_prev, s_prev = c_now, s_now
                minute += 1
                if minute > a.minutes + 2:
                    break
            browser.close()
        finally:
            if writer and writer.poll() is None:
                writer.kill()
            server.kill()

    print(
        f"\nlong_watch: {a.steps:,} steps of metrics (one row per step) written over {a.minutes:g} min "
        f"(+{a.settle:g} s of settling before the first reading), "
        f"Train page open in headless Chromium the whole time, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at the end\n"
    )
    print(
        "| minute | metrics rows on disk | server RSS (MB) | Δ RSS vs start (MB) | server CPU-s | Chromium CPU-s | page shows |"
    )
    print("|---|---|---|---|---|---|---|")
    base = rows[0][2]
    for m, lines, rss, c, s, text in rows:
        shown = re.search(r"Step ([\d,]+)", text)
        print(
            f"| {m} | {lines:,} | {rss:.0f} | {rss - base:+.0f} | {s:.1f} | {c:.1f} | {shown.group(0) if shown else text} |"
        )
    full = rows[1:]
    growth = full[-1][2] - rows[0][2]
    growth1 = full[-1][2] - full[0][2]
    c_first, c_last = full[0][3], full[-1][3]
    print(
        f"\nServer RSS: {rows[0][2]:.0f} MB at the start, {full[-1][2]:.0f} MB at the end: {growth:+.0f} MB "
        f"({growth1:+.0f} MB after the first minute; target ≤ 50 MB: {'met' if growth <= 50 else 'missed'}). "
        f"Chromium CPU: {c_first:.1f} s in the first minute, {c_last:.1f} s in the last "
        f"({c_last / max(c_first, 1e-9):.2f}×; flat = within 25%: {'met' if c_last <= 1.25 * c_first else 'missed'})."
    )


if __name__ == "__main__":
    main()
