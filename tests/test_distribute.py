"""tf.distribute on this CPU-only machine: two logical CPU devices under MirroredStrategy train like one.

Each training runs in its own subprocess (the CLI): logical devices can only be configured before
TensorFlow starts its runtime. Stated tolerance: per logged step, D and G losses of the 2-device run
stay within 0.05 of the 1-device run (the global batch is the same; each replica draws its own z, so
the runs are not bit-identical). Seen here: within 0.005 over 8 steps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 0.05


def _train(tmp: Path, run_dir: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp / "runs"), "STUDIO_DATA_DIR": str(tmp / "data")}
    r = subprocess.run(
        [sys.executable, "-m", "studio", "train", "--run-dir", str(run_dir), "--quiet", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def _losses(run_dir: Path) -> list[tuple[int, float, float]]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["d_loss"], r["g_loss"]) for r in rows]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("distribute")
    common = ["--preset", "tiny", "--steps", 8, "--log-every", 1, "--checkpoint-every", 4, "--seed", 0]
    one, two = tmp / "one-device", tmp / "two-devices"
    _train(tmp, one, *common)
    _train(tmp, two, *common, "--devices", 2)
    return tmp, one, two


def test_mirrored_two_logical_cpus_match_one_device(two_runs):
    _, one, two = two_runs
    a, b = _losses(one), _losses(two)
    assert [s for s, *_ in a] == [s for s, *_ in b] == list(range(1, 9))
    for (step, d1, g1), (_, d2, g2) in zip(a, b):
        assert abs(d1 - d2) < TOLERANCE and abs(g1 - g2) < TOLERANCE, (step, d1, d2, g1, g2)


def test_distributed_checkpoints_resume_on_one_device_and_back(two_runs):
    tmp, one, two = two_runs
    _train(tmp, two, "--resume", "--steps", 12, "--checkpoint-every", 4, "--log-every", 1)  # 2 devices → 1
    _train(tmp, one, "--resume", "--steps", 12, "--checkpoint-every", 4, "--log-every", 1, "--devices", 2)  # 1 → 2
    for run in (one, two):
        steps = [s for s, *_ in _losses(run)]
        assert steps == list(range(1, 13)), steps


def test_mirrored_bad_device_is_one_line(tmp_path):
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "studio", "train", "--preset", "tiny", "--steps", "2", "--devices", "TPU:0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2 and "'TPU:0' is not a device" in r.stderr, r.stderr[-2000:]


def test_distribute_mixed_float16_on_cpu_checkpoints_and_resumes_with_its_loss_scale(tmp_path):
    """mixed_float16 on a CPU is slow but correct: its dynamic loss scale is checkpointed and restored."""
    run = tmp_path / "fp16"
    common = ["--preset", "tiny", "--precision", "mixed_float16", "--checkpoint-every", 4, "--log-every", 1]
    _train(tmp_path, run, *common, "--steps", 4)
    code = (
        "import sys, tensorflow as tf\n"
        "r = tf.train.load_checkpoint(sys.argv[1])\n"
        "keys = sorted(k for k in r.get_variable_to_shape_map() if '/dynamic_scale/' in k or k.endswith"
        "('step_counter/.ATTRIBUTES/VARIABLE_VALUE') and '/inner' not in k)\n"
        "print(__import__('json').dumps({k.split('/')[1]: float(r.get_tensor(k)) for k in keys if 'opt_d' in k}))\n"
    )

    def loss_scale(step: int) -> dict:
        probe = subprocess.run(
            [sys.executable, "-c", code, str(run / "checkpoints" / f"ckpt-{step}")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert probe.returncode == 0, probe.stderr[-2000:]
        return json.loads(probe.stdout.strip().splitlines()[-1])

    first = loss_scale(4)
    assert first["dynamic_scale"] > 1 and first["step_counter"] == 4, first
    _train(tmp_path, run, "--resume", "--steps", 8)
    assert loss_scale(8)["step_counter"] == 8, "the loss scale's counter went on from the checkpoint"
    rows = _losses(run)
    assert [s for s, *_ in rows] == list(range(1, 9))
    assert all(abs(d) < 10 and abs(g) < 10 for _, d, g in rows)
    assert json.loads((run / "config.json").read_text())["precision"] == "mixed_float16"
