"""Nothing lost: a training process killed with SIGKILL resumes from its last checkpoint.

The CLI trains in a subprocess; once its first checkpoint exists it is killed -9 mid-training. A
new process resumes the run: the step count continues from that checkpoint, every line of
metrics.jsonl and quality.jsonl parses, every snapshot and sample loads, and no temp file is left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, env, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "studio", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )


def test_sigkill_mid_training_then_resume(tmp_path):
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp_path / "runs"), "STUDIO_DATA_DIR": str(tmp_path / "data")}
    run_dir = tmp_path / "runs" / "killed"
    proc = _cli(
        "train",
        "--preset",
        "tiny",
        "--steps",
        "100000",
        "--run-dir",
        str(run_dir),
        "--checkpoint-every",
        "10",
        "--snapshot-every",
        "5",
        "--log-every",
        "1",
        env=env,
    )
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            if list((run_dir / "checkpoints").glob("ckpt-*.index")):
                break
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.05)
        else:
            raise AssertionError("no checkpoint within 240 s")
        # Let it train on past the checkpoint so the kill lands between checkpoints.
        first_ckpt = min(int(p.name[5:-6]) for p in (run_dir / "checkpoints").glob("ckpt-*.index"))
        while time.time() < deadline:
            rows = [ln for ln in (run_dir / "metrics.jsonl").read_text().splitlines() if ln.strip()]
            if rows and json.loads(rows[-1])["step"] >= first_ckpt + 3:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()

    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "running", "the killed process never got to say it stopped"
    ckpt_state = (run_dir / "checkpoints" / "checkpoint").read_text()
    ckpt_step = int(ckpt_state.split('"')[1].split("-")[1])
    logged_before = [
        json.loads(ln)["step"]
        for ln in (run_dir / "metrics.jsonl").read_text().splitlines()
        if ln.strip().endswith("}")
    ]
    assert max(logged_before) > ckpt_step, "the kill came after steps the checkpoint does not hold"

    # The runs list of a fresh process calls it interrupted.
    out = subprocess.run([sys.executable, "-m", "studio", "runs"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "interrupted" in out.stdout, out.stdout + out.stderr

    target = ckpt_step + 12
    res = subprocess.run(
        [sys.executable, "-m", "studio", "train", "--resume", "--run-dir", str(run_dir), "--steps", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"starting at step {ckpt_step}" in res.stderr

    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    rows = [json.loads(ln) for ln in lines]  # every line parses: no torn line survives the resume
    steps = [r["step"] for r in rows]
    assert steps == list(range(1, target + 1)), "steps continue from the checkpoint: no repeats, no gaps"
    times = [r["time"] for r in rows]
    assert all(b >= a for a, b in zip(times, times[1:])), "wall time keeps counting across the restart"
    assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"
    assert int((run_dir / "checkpoints" / "checkpoint").read_text().split('"')[1].split("-")[1]) == target

    # quality.jsonl (studio/quality) came through the kill too: the resume rewrote it up to the
    # checkpoint, every line parses, no step is scored twice, and the final snapshot is scored.
    quality = [json.loads(ln) for ln in (run_dir / "quality.jsonl").read_text().splitlines()]
    q_steps = [r["step"] for r in quality]
    assert len(q_steps) == len(set(q_steps)) and target in q_steps and max(q_steps) == target

    for p in (run_dir / "samples").glob("*.png"):
        with Image.open(p) as im:
            im.load()
    assert not list(run_dir.rglob("*.tmp")) and not list(run_dir.rglob(".tmp-*")), "no temp files left"
    out = tmp_path / "after.npz"
    res = subprocess.run(
        [sys.executable, "-m", "studio", "sample", "--run-dir", str(run_dir), "--n", "4", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    images = np.load(out)["images"]
    assert images.shape == (4, 32, 32, 1) and images.dtype == np.uint8
