"""How long the Home page takes to draw with 200 runs on disk, against an empty studio (same run).

Makes 200 small run folders (config, status, 6 snapshots and grids each) in a temporary folder, then
draws Home through Streamlit's AppTest several times with no runs and with 200, and prints medians.
The difference is what the runs cost; AppTest's own overhead is in both.

    python benchmarks/home_runs.py --rounds 5
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


def make_runs(root: Path, n: int) -> None:
    import numpy as np

    from studio.core.images import encode_png
    from studio.train.config import from_preset
    from studio.train.runs import Run
    from studio.train.state import RunState

    png = encode_png(np.zeros((64, 64, 1), np.uint8))
    cfg = from_preset("tiny")
    for i in range(n):
        r = Run.create(cfg, root / f"run-{i:03d}")
        r.write_status(RunState.COMPLETED, 60)
        for s in range(0, 60, 10):
            (r.path / "snapshots" / f"step_{s:08d}.weights.h5").write_bytes(b"x" * 1000)
            (r.path / "samples" / f"step_{s:08d}.png").write_bytes(png)


def draw_home(runs_dir: Path) -> float:
    from streamlit.testing.v1 import AppTest

    os.environ["STUDIO_RUNS_DIR"] = str(runs_dir)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    t = time.perf_counter()
    at.run()
    assert not at.exception, at.exception
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty, full = Path(tmp, "empty"), Path(tmp, "full")
        empty.mkdir()
        make_runs(full, a.runs)
        os.environ["STUDIO_DATA_DIR"] = str(Path(tmp, "data"))
        draw_home(empty)  # warm-up: imports, the background TensorFlow import
        draw_home(full)
        times = {"no runs": [], f"{a.runs} runs": []}
        for _ in range(a.rounds):
            times["no runs"].append(draw_home(empty))
            times[f"{a.runs} runs"].append(draw_home(full))
    base = statistics.median(times["no runs"])
    print(f"| Home page | median of {a.rounds} (s) | above an empty studio (s) |")
    print("|---|---|---|")
    for k, v in times.items():
        m = statistics.median(v)
        print(f"| {k} | {m:.2f} | {m - base:+.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
