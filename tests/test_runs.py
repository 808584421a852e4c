"""Run folders (studio.train.runs) and atomic writes (studio.core.paths): the contract between engine, UI and CLI."""

import json
import os
import subprocess
import sys

import pytest

from studio.core import paths
from studio.core.errors import StudioError
from studio.core.paths import append_line, atomic_write_bytes, atomic_write_json, atomic_write_text
from studio.core.text import fmt_kid, human_bytes
from studio.train.config import from_preset
from studio.train.runs import Run, list_runs, step_name


@pytest.fixture
def run(tmp_path):
    return Run.create(from_preset("tiny"), tmp_path / "r")


def _fake_snapshots(run, steps):
    for s in steps:
        (run.path / "snapshots" / f"{step_name(s)}.weights.h5").write_bytes(b"w")
        run.sample_path(s).write_bytes(b"png")


# ---- creation and lookup ------------------------------------------------------------------
def test_create_writes_config_and_status_and_refuses_to_overwrite(run):
    assert Run.open(run.path).config == from_preset("tiny")
    assert run.read_status()["state"] == "starting"
    for sub in ("checkpoints", "snapshots", "samples"):
        assert (run.path / sub).is_dir()
    with pytest.raises(StudioError, match="already exists"):
        Run.create(from_preset("tiny"), run.path)


def test_open_by_id_under_the_runs_folder_and_missing_run(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    r = Run.create(from_preset("tiny"))
    assert r.path.parent == tmp_path / "runs"
    assert Run.open(r.id).path == r.path
    with pytest.raises(StudioError, match="no run at"):
        Run.open(tmp_path / "nowhere")
    assert [x.id for x in list_runs()] == [r.id]
    assert list_runs(tmp_path / "empty") == []


def test_unreadable_config_is_a_plain_error(run):
    (run.path / "config.json").write_text("{not json")
    with pytest.raises(StudioError, match="unreadable config.json"):
        _ = run.config


# ---- metrics ------------------------------------------------------------------------------
def test_a_torn_last_line_of_metrics_is_skipped(run):
    for s in (1, 2, 3):
        append_line(run.metrics_path, json.dumps({"step": s, "d_loss": 0.5}))
    with open(run.metrics_path, "a") as f:
        f.write('{"step": 4, "d_lo')
    assert [r["step"] for r in run.read_metrics()] == [1, 2, 3]


def test_truncate_metrics_drops_rows_after_the_step(run):
    for s in range(5, 55, 5):
        append_line(run.metrics_path, json.dumps({"step": s}))
    run.truncate_metrics(20)
    assert [r["step"] for r in run.read_metrics()] == [5, 10, 15, 20]
    run.truncate_metrics(0)
    assert run.read_metrics() == []
    assert not list(run.path.glob(".*.tmp"))


def test_missing_metrics_read_as_empty(run):
    assert run.read_metrics() == []


# ---- snapshots ----------------------------------------------------------------------------
def test_prune_snapshots_keeps_at_most_max_plus_latest_spread_over_the_run(run):
    every, max_keep = 10, 5
    steps = []
    # Prune after every snapshot, as the loop does, over a long run.
    for s in range(0, 1010, every):
        _fake_snapshots(run, [s])
        steps.append(s)
        run.prune_snapshots(max_keep, every)
        kept = run.snapshot_steps()
        assert len(kept) <= max_keep + 1
        assert kept[-1] == s  # the latest is always kept
    kept = run.snapshot_steps()
    assert kept[0] == 0  # the start of the run stays
    # Spread: early, middle and late training are all represented (no gap wider than 2/max of the run).
    assert max(b - a for a, b in zip(kept, kept[1:])) <= 2 * 1000 / max_keep, kept
    # The sample grid goes with its snapshot.
    assert sorted(int(p.stem[5:]) for p in (run.path / "samples").glob("*.png")) == kept


def test_prune_snapshots_with_the_default_policy_keeps_an_even_timeline(run):
    for s in range(0, 20_001, 100):
        _fake_snapshots(run, [s])
        run.prune_snapshots(50, 100)
    kept = run.snapshot_steps()
    assert len(kept) == 51 and kept[0] == 0 and kept[-1] == 20_000
    assert {b - a for a, b in zip(kept, kept[1:])} == {400}


def test_prune_snapshots_leaves_short_runs_alone(run):
    _fake_snapshots(run, range(0, 60, 10))
    run.prune_snapshots(5, 10)
    assert run.snapshot_steps() == [0, 10, 20, 30, 40, 50]


def test_snapshot_path_errors_are_plain(run):
    with pytest.raises(StudioError, match="no snapshots yet"):
        run.snapshot_path()
    _fake_snapshots(run, [0, 10])
    assert run.snapshot_path("latest").name == "step_00000010.weights.h5"
    assert run.snapshot_path(0).name == "step_00000000.weights.h5"
    with pytest.raises(StudioError, match="no snapshot at step 5"):
        run.snapshot_path(5)
    with pytest.raises(StudioError, match="not a step number"):
        run.snapshot_path("soon")


def test_drop_after_removes_later_snapshots_and_samples(run):
    _fake_snapshots(run, [0, 10, 20, 30])
    run.drop_after(10)
    assert run.snapshot_steps() == [0, 10]
    assert not run.sample_path(20).exists()


# ---- status -------------------------------------------------------------------------------
def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_status_of_a_run_whose_process_died_reads_interrupted(run):
    run.write_status("running", 40, pid=_dead_pid())
    st = run.status()
    assert st.state == "interrupted"
    assert "Resume" in st.message
    assert run.summary().state == "interrupted"


def test_status_of_a_run_trained_by_another_live_process_stays_running(run):
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        run.write_status("running", 40, pid=p.pid)
        st = run.status()
        assert st.state == "running" and st.external
    finally:
        p.kill()
        p.wait()


def test_status_running_in_this_process_is_live_only_if_the_job_manager_says_so(run):
    run.write_status("running", 3)  # pid = this process
    assert run.status(live_ids={run.id}).state == "running"
    assert run.status(live_ids=set()).state == "interrupted"
    run.write_status("completed", 60, "done")
    assert run.status().state == "completed"


def test_missing_status_reads_unknown(run):
    (run.path / "status.json").unlink()
    assert run.read_status()["state"] == "unknown"


# ---- housekeeping -------------------------------------------------------------------------
def test_disk_bytes_summary_and_delete(run):
    _fake_snapshots(run, [0])
    assert run.disk_bytes() > 0
    s = run.summary()
    assert s.id == run.id and s.model == "dcgan" and s.snapshots == 1
    assert s.latest_sample == run.sample_path(0)
    run.delete()
    assert not run.path.exists()


def test_human_bytes():
    assert human_bytes(10) == "10 B"
    assert human_bytes(2048) == "2.0 KB"
    assert human_bytes(5 * 1024**3) == "5.0 GB"


# ---- atomic writes ------------------------------------------------------------------------
def test_atomic_write_replaces_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "sub" / "f.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_text(target, '{"a": 2}')
    assert json.loads(target.read_text()) == {"a": 2}
    assert os.listdir(target.parent) == ["f.json"]


def test_a_failing_write_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch):
    target = tmp_path / "status.json"
    atomic_write_text(target, "old")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(paths.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new, but never finished")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["status.json"]


def test_a_write_interrupted_mid_data_keeps_the_old_file(tmp_path):
    target = tmp_path / "config.json"
    atomic_write_text(target, "old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # fails inside the write itself
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["config.json"]


# ---- with a real trained run --------------------------------------------------------------
def test_a_real_run_folder_has_the_documented_layout(tiny_run):
    r = tiny_run
    assert r.config.steps == 30
    assert r.snapshot_steps() == [0, 10, 20, 30]
    assert r.checkpoint_steps() == [10, 20, 30]
    assert all(r.sample_path(s).is_file() for s in r.snapshot_steps())
    assert r.read_status()["state"] == "completed"
    assert r.status().state == "completed"
    steps = [row["step"] for row in r.read_metrics()]
    assert steps[0] == 1 and steps[-1] == 30 and steps == sorted(set(steps))
    assert list((r.path / "tb").glob("events.out.tfevents.*"))
    assert not [p for p in r.path.rglob("*") if p.name.startswith(".") and "tmp" in p.name]


def test_fmt_kid_in_thousandths():
    # A KID near its floor is not '0.0000': it reads in thousandths, as papers report it.
    assert fmt_kid(2e-5) == "0.02×10⁻³"
    assert fmt_kid(0.00046, 0.00056) == "0.46 ± 0.56 ×10⁻³"
    assert fmt_kid(None) == "–"
