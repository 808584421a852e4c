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
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(tmp: Path, name: str, steps: int, devices: str | None, threads: str = "share") -> tuple[float, float]:
    """(median steps/s of the logged intervals, steps per CPU-second of the whole process)."""
    run_dir = tmp / name
    args = ["--preset", "quick-sketch", "--steps", str(steps), "--log-every", "10", "--seed", "0"]
    args += ["--checkpoint-every", str(steps), "--snapshot-every", str(steps), "--run-dir", str(run_dir), "--quiet"]
    if devices:
        args += ["--devices", devices]
    env = {
        **os.environ,
        "STUDIO_RUNS_DIR": str(tmp),
        "STUDIO_DATA_DIR": str(tmp / "data"),
        "STUDIO_REPLICA_THREADS": threads,
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "studio", "train", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    # The first rows include tracing; steps per CPU-second covers the whole process (start-up too).
    return statistics.median(r["steps_per_s"] for r in rows[2:]), steps / cpu


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    arms = {
        "1 (default strategy)": (None, "share"),
        "2 logical CPUs, each op on all cores": ("2", "all"),
        "2 logical CPUs, cores shared out (the studio)": ("2", "share"),
    }
    res = {k: [] for k in arms}
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for i in range(a.rounds):  # interleaved, so a busy moment of the machine hits every arm
            for j, (name, (devices, threads)) in enumerate(arms.items()):
                res[name].append(run(tmp, f"r{i}-{j}", a.steps, devices, threads))
    ref = [statistics.median(x[k] for x in res["1 (default strategy)"]) for k in (0, 1)]
    print(f"load average {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; {a.rounds} rounds")
    print("| devices (quick-sketch, batch 64) | steps/s (median) | vs 1 device | steps per CPU-s | vs 1 device |")
    print("|---|---|---|---|---|")
    for name, xs in res.items():
        wall, cpu = (statistics.median(x[k] for x in xs) for k in (0, 1))
        print(f"| {name} | {wall:.2f} | {100 * wall / ref[0]:.0f}% | {cpu:.2f} | {100 * cpu / ref[1]:.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
