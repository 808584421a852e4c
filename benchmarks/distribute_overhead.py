"""Steps per second on 1 device against 2 logical CPU devices (MirroredStrategy), same global batch.

On a 2-core machine two logical CPU devices share the same cores, so the expected ratio is about 1:
what this measures is the cost of the distributed path itself (distributed dataset, strategy.run,
cross-replica reductions). Target: the 2-device run at ≥ 90% of the 1-device speed. Each run is a
CLI subprocess (logical devices must be set before TensorFlow starts); both use the same config.

    python benchmarks/distribute_overhead.py --steps 200 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(tmp: Path, name: str, steps: int, devices: str | None) -> float:
    run_dir = tmp / name
    args = ["--preset", "quick-sketch", "--steps", str(steps), "--log-every", "10", "--seed", "0"]
    args += ["--checkpoint-every", str(steps), "--snapshot-every", str(steps), "--run-dir", str(run_dir), "--quiet"]
    if devices:
        args += ["--devices", devices]
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp), "STUDIO_DATA_DIR": str(tmp / "data")}
    subprocess.run([sys.executable, "-m", "studio", "train", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return statistics.median(r["steps_per_s"] for r in rows[2:])  # the first rows include tracing


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    one, two = [], []
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for i in range(a.rounds):  # interleaved, so a busy moment of the machine hits both
            one.append(run(tmp, f"one-{i}", a.steps, None))
            two.append(run(tmp, f"two-{i}", a.steps, "2"))
    m1, m2 = statistics.median(one), statistics.median(two)
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print("| devices (quick-sketch, batch 64) | steps/s (median of rounds) | vs 1 device |")
    print("|---|---|---|")
    print(f"| 1 (default strategy) | {m1:.2f} | 100% |")
    print(f"| 2 logical CPUs (MirroredStrategy) | {m2:.2f} | {100 * m2 / m1:.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
