"""What the quality monitor costs training: throughput with metrics on vs off, side by side.

Real ``train()`` runs of the digits dataset with the default settings (dcgan, base_filters 64,
batch 64, a snapshot every 100 steps), in rounds: each round trains one run with quality scoring
off and one with it on (the order alternating between rounds, so drift in the machine's load hits
both alike). A run's throughput is its steps over its training time as ``metrics.jsonl`` records it,
from its first logged step after ``--warmup`` to the last: every snapshot's background scoring falls
inside that window, as does the monitor's one-off start (the training pictures' features). The time
``close()`` then takes to score the last waiting snapshots is reported on its own. Target (issue 13):
on ≥ 90% of off.

Also: the time to extract features of 1,000 pictures at 64 px with each extractor (median of 5).

    python benchmarks/quality_overhead.py [--rounds 3] [--steps 400] [--warmup 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _throughput(run, warmup: int) -> float:
    rows = [r for r in run.read_metrics() if r["step"] >= warmup]
    first, last = rows[0], rows[-1]
    return (last["step"] - first["step"]) / (last["time"] - first["time"])


def train_once(tmp: Path, quality: bool, steps: int, warmup: int, tag: str) -> dict:
    from studio.quality import store
    from studio.train.config import RunConfig
    from studio.train.loop import Hooks, train

    cfg = RunConfig(dataset="digits", steps=steps, quality=quality)
    ended = {}
    t0 = time.perf_counter()
    res = train(cfg, run_dir=tmp / tag, hooks=Hooks(on_progress=lambda s, row: ended.update(t=time.perf_counter())))
    assert res.state == "completed", res.message
    rows = store.read_rows(res.run.path)
    return {
        "steps_per_s": _throughput(res.run, warmup),
        "close_s": time.perf_counter() - ended["t"],  # last logged step -> train() returned
        "wall_s": time.perf_counter() - t0,
        "scored": [r.step for r in rows],
        "score_s": [r.seconds for r in rows],
    }


def extraction(n: int = 1000, side: int = 64, repeats: int = 5) -> dict[str, float]:
    import numpy as np

    from studio.quality.features import get_extractor

    rng = np.random.default_rng(0)
    out = {}
    for name, channels in (("randconv", 3), ("randconv", 1), ("digitnet", 1)):
        ex = get_extractor(name)
        x = rng.integers(0, 256, (n, side, side, channels), dtype=np.uint8)
        ex(x[:8])  # trace once
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            ex(x)
            times.append(time.perf_counter() - t)
        out[f"{name} ({channels} ch)"] = statistics.median(times)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--warmup", type=int, default=20)
    a = p.parse_args(argv)

    ext = extraction()
    on, off, details = [], [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["STUDIO_RUNS_DIR"] = str(tmp / "runs")
        for i in range(a.rounds):
            order = (False, True) if i % 2 == 0 else (True, False)
            for q in order:
                r = train_once(tmp, q, a.steps, a.warmup, f"r{i}-{'on' if q else 'off'}")
                (on if q else off).append(r["steps_per_s"])
                details.append((i, q, r))
                print(f"round {i + 1} quality {'on ' if q else 'off'}: {r['steps_per_s']:.2f} steps/s", file=sys.stderr)

    print("\n| quality metrics | steps/s (median) | per round | vs off |")
    print("|---|---:|---|---:|")
    m_off, m_on = statistics.median(off), statistics.median(on)
    print(f"| off | {m_off:.2f} | {' / '.join(f'{v:.2f}' for v in off)} | 100% |")
    print(f"| on | {m_on:.2f} | {' / '.join(f'{v:.2f}' for v in on)} | {m_on / m_off:.0%} |")
    scored = [r for _, q, r in details if q]
    per = [s for r in scored for s in r["score_s"] if s is not None]
    print(
        f"\nScoring with quality on: {statistics.median([len(r['scored']) for r in scored]):.0f} of "
        f"{a.steps // 100 + 1} snapshots scored per run during training + close; "
        f"{statistics.median(per):.1f} s per snapshot (median); close() after the last step "
        f"{statistics.median([r['close_s'] for r in scored]):.1f} s (off: "
        f"{statistics.median([r['close_s'] for _, q, r in details if not q]):.1f} s)."
    )
    print("\n| extractor | 1,000 pictures at 64 px (median of 5) |")
    print("|---|---:|")
    for name, t in ext.items():
        print(f"| {name} | {t:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
