"""Faults on disk, survived and explained: damaged checkpoints, damaged run files."""

from __future__ import annotations

import json

from studio.train.config import from_preset
from studio.train.loop import Hooks, train
from studio.train.runs import Run
from studio.train.state import RunState


def _cfg(**kw):
    base = dict(steps=30, checkpoint_every=10, snapshot_every=10, log_every=5, batch_size=16)
    return from_preset("tiny", **{**base, **kw})


def test_a_truncated_newest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    res = train(_cfg(), run_dir=tmp_path / "run")
    run = res.run
    assert run.checkpoint_steps() == [10, 20, 30]
    for f in (run.path / "checkpoints").glob("ckpt-30.data-*"):
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 3])  # torn, as a full disk leaves it
    notices = []
    again = train(_cfg(steps=40), run_dir=run.path, resume=True, hooks=Hooks(on_notice=notices.append))
    assert again.state is RunState.COMPLETED and again.step == 40
    assert len(notices) == 1 and "step 30 could not be read" in notices[0] and "at step 20" in notices[0]
    steps = [r["step"] for r in run.read_metrics()]
    assert steps == sorted(set(steps)), "no step logged twice"
    assert steps[-1] == 40


def test_damaged_run_files_are_listed_with_a_plain_message_not_a_crash(tmp_path):
    from studio.train.jobs import JobManager

    good = train(_cfg(steps=10), run_dir=tmp_path / "runs" / "good").run
    (good.path / "status.json").write_text("{ torn")
    summary = good.summary()
    assert summary.state is RunState.UNKNOWN
    bad = Run.create(_cfg(), tmp_path / "runs" / "bad")
    (bad.path / "config.json").write_text('{"dataset": "digits", "steps": ')
    listed = {r.id: r for r in JobManager().runs(tmp_path / "runs")}
    assert set(listed) == {"good", "bad"}
    assert listed["bad"].state is RunState.UNKNOWN and "config.json" in listed["bad"].message
    metrics = good.metrics_path
    metrics.write_text(metrics.read_text() + '{"step": 11, "d_lo')  # a torn last line
    assert [r["step"] for r in good.read_metrics()][-1] == 10
    json.loads((good.path / "config.json").read_text())  # the good run's own files untouched
