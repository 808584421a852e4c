"""quality.jsonl: atomic appends that survive a kill -9, torn lines, resumes, the best snapshot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from studio.quality import store

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ("step", "kid", "kid_se", "precision", "recall", "density", "coverage", "features")


def _row(step, kid=1.0, **kw):
    return store.QualityRow(
        step=step, kid=kid, kid_se=0.01, precision=0.5, recall=0.5, density=1.0, coverage=0.5, features="t", **kw
    )


def test_rows_keep_the_contract_fields_and_round_trip(tmp_path):
    assert store.append_row(tmp_path, _row(100, fd=None, fd_reason="too few"))
    line = json.loads(store.quality_path(tmp_path).read_text())
    assert all(k in line for k in CONTRACT)
    assert store.read_rows(tmp_path) == [_row(100, fd=None, fd_reason="too few")]


def test_a_step_is_never_written_twice(tmp_path):
    assert store.append_row(tmp_path, _row(10))
    assert not store.append_row(tmp_path, _row(10, kid=2.0))
    assert [r.kid for r in store.read_rows(tmp_path)] == [1.0]


def test_a_torn_last_line_is_skipped_and_the_next_row_is_not_glued_to_it(tmp_path):
    store.append_row(tmp_path, _row(10))
    with open(store.quality_path(tmp_path), "a") as f:
        f.write('{"step": 20, "kid": 0.')  # what a kill mid-write leaves
    assert [r.step for r in store.read_rows(tmp_path)] == [10]
    store.append_row(tmp_path, _row(30))
    assert [r.step for r in store.read_rows(tmp_path)] == [10, 30]


def test_truncate_drops_rows_after_the_resumed_checkpoint(tmp_path):
    for s in (0, 100, 200, 300):
        store.append_row(tmp_path, _row(s))
    store.truncate_quality(tmp_path, 200)
    assert [r.step for r in store.read_rows(tmp_path)] == [0, 100, 200]
    assert store.append_row(tmp_path, _row(300, kid=0.5))  # trained again after the resume
    assert [r.step for r in store.read_rows(tmp_path)] == [0, 100, 200, 300]


_WRITER = """
import sys
from studio.quality import store
run = sys.argv[1]
step = 0
while True:
    # Long rows make a kill in the middle of a write likely.
    store.append_row(run, store.QualityRow(step=step, kid=0.1, kid_se=0.01, precision=0.5, recall=0.5,
                     density=1.0, coverage=0.5, features="x" * 20000))
    print(step, flush=True)
    step += 1
"""


def test_quality_jsonl_survives_a_kill_9_mid_append(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(30):  # let it write some rows
            proc.stdout.readline()
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    rows = store.read_rows(tmp_path)
    steps = [r.step for r in rows]
    assert len(rows) >= 30 and steps == list(range(len(rows)))  # every whole row, none twice
    # The next writer (a resumed run) appends after whatever the kill left.
    assert store.append_row(tmp_path, _row(10_000))
    assert store.read_rows(tmp_path)[-1].step == 10_000
    for line in store.quality_path(tmp_path).read_text().splitlines()[:-2]:
        json.loads(line)  # every line but a possibly torn one before the new row parses


def test_best_snapshot_is_the_lowest_kid_among_snapshots_still_on_disk(tmp_path):
    from studio.quality import best_snapshot
    from studio.train.config import RunConfig
    from studio.train.runs import Run, step_name

    run = Run.create(RunConfig(), tmp_path / "run")
    for step, k in ((0, 5.0), (100, 0.2), (200, 0.1), (300, 0.3)):
        store.append_row(run.path, _row(step, kid=k))
        if step != 200:
            (run.path / "snapshots" / f"{step_name(step)}.weights.h5").write_bytes(b"")
    assert best_snapshot(run).step == 100  # step 200 was thinned out of the snapshots
    assert best_snapshot(run, existing_only=False).step == 200
