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


# ---- a full disk -------------------------------------------------------------------------------------
def _cli(root, *args, file_limit: int | None = None):
    """The CLI in a subprocess; ``file_limit`` caps every file it writes (bytes), as a full disk would:
    writes past it fail with EFBIG (SIGXFSZ ignored), like ENOSPC on a small disk."""
    import os
    import resource
    import signal
    import subprocess
    import sys
    from pathlib import Path

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    env = {**os.environ, "STUDIO_RUNS_DIR": str(root / "runs"), "STUDIO_DATA_DIR": str(root / "data")}
    return subprocess.run(
        [sys.executable, "-m", "studio", *map(str, args)],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        preexec_fn=limit if file_limit else None,
    )


def test_a_full_disk_stops_training_cleanly_and_a_resume_goes_on(tmp_path):
    run_dir = tmp_path / "R"
    common = ["--checkpoint-every", 10, "--snapshot-every", 10, "--log-every", 5, "--quiet", "--no-quality"]
    first = _cli(tmp_path, "train", "--preset", "tiny", "--steps", 20, "--run-dir", run_dir, *common)
    assert first.returncode == 0, first.stderr[-2000:]
    before = {p.name: p.read_bytes() for p in (run_dir / "checkpoints").iterdir()}
    # A checkpoint of the tiny model is ~1.7 MB, a snapshot ~0.3 MB: the next checkpoint finds no room.
    full = _cli(tmp_path, "train", "--run-dir", run_dir, "--resume", "--steps", 60, *common, file_limit=1 << 20)
    assert full.returncode == 1, (full.stdout, full.stderr[-3000:])
    assert "The disk is full" in full.stdout and "step 20" in full.stdout
    assert "Traceback" not in full.stderr
    run = Run(run_dir)
    assert run.checkpoint_steps() == [10, 20], "the torn checkpoint is not listed"
    for name, data in before.items():
        assert (run_dir / "checkpoints" / name).read_bytes() == data, f"{name} changed"
    assert run.read_status()["state"] == "stopped" and "disk is full" in run.read_status()["message"]
    assert not list(run_dir.rglob(".*.tmp")) and not [p for p in run_dir.rglob(".*") if p.name.startswith(".step")]
    again = _cli(tmp_path, "train", "--run-dir", run_dir, "--resume", "--steps", 60, *common)
    assert again.returncode == 0, again.stderr[-3000:]
    steps = [r["step"] for r in run.read_metrics()]
    assert steps == sorted(set(steps)) and steps[-1] == 60, steps
    assert run.checkpoint_steps()[-1] == 60


def test_no_run_starts_when_the_disk_is_nearly_full(tmp_path, monkeypatch):
    import pytest

    from studio.core.errors import StudioError

    monkeypatch.setenv("STUDIO_MIN_FREE_MB", str(10**12))  # more than any disk has
    with pytest.raises(StudioError, match="The disk is full: only .* MB are free"):
        train(_cfg(), run_dir=tmp_path / "nope")
    assert not (tmp_path / "nope").exists()
    from studio import data

    with pytest.raises(StudioError, match="to save a dataset"):
        data.save_dataset("mine", __import__("numpy").zeros((16, 8, 8, 1), "uint8"))


def test_an_unwritable_runs_folder_is_one_sentence(tmp_path, monkeypatch):
    import os

    import pytest

    from studio.core.errors import StudioError
    from studio.core.paths import check_room

    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root may write anywhere; pretend not
    with pytest.raises(StudioError, match=r"cannot write to .*, so it cannot start a run\. Check the folder"):
        check_room(tmp_path / "runs", "start a run")


def test_saved_datasets_have_a_total_size_limit(tmp_path, monkeypatch):
    import numpy as np
    import pytest

    from studio import data
    from studio.core.errors import StudioError

    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    rng = np.random.default_rng(0)
    data.save_dataset("first", rng.integers(0, 255, (64, 32, 32, 3), dtype=np.uint8))
    monkeypatch.setenv("STUDIO_MAX_DATA_MB", "0.25")
    with pytest.raises(StudioError, match="over their limit of 0.25 MB. Delete a dataset"):
        data.save_dataset("second", rng.integers(0, 255, (64, 32, 32, 3), dtype=np.uint8))
    assert data.saved_dataset_dir("second") is None and data.saved_dataset_dir("first") is not None
