"""The job manager: every state transition, stop writes a checkpoint, failures are states, restarts.

Real training threads on the tiny preset; no sleeps that assert timing, only waits for states.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from studio.core.errors import StudioError
from studio.train.config import from_preset
from studio.train.jobs import JobManager
from studio.train.runs import Run


def wait_for(pred, timeout=120.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def tiny(**kw):
    return from_preset("tiny", **{"steps": 20, "log_every": 1, **kw})


def test_start_runs_to_completion_and_reports(tmp_path):
    jm = JobManager()
    rid = jm.start(tiny(steps=12, snapshot_every=4))
    st = jm.wait(rid, 180)
    assert st.state == "completed", st.message
    assert st.step == 12
    full = jm.status(rid)
    assert [m["step"] for m in full.metrics] == list(range(1, 13))
    assert full.grid_step == 12 and full.grid_path.exists()
    run = Run.open(rid)
    assert run.read_status()["state"] == "completed"
    assert run.latest_checkpoint_step() == 12


def test_pause_resume_stop_and_live_lr(tmp_path):
    jm = JobManager()
    rid = jm.start(tiny(steps=100000, checkpoint_every=100000))
    wait_for(lambda: jm.status(rid, False).step >= 2, what="first steps")
    jm.pause(rid)
    assert jm.status(rid, False).state == "paused"
    wait_for(lambda: Run.open(rid).read_status()["state"] == "paused", what="paused on disk")
    s1 = jm.status(rid, False).step
    time.sleep(0.5)
    assert jm.status(rid, False).step == s1, "a paused job takes no steps"
    with pytest.raises(StudioError):
        jm.pause(rid)

    jm.set_learning_rates(rid, lr_d=1e-5, lr_g=3e-5)
    jm.resume(rid)
    assert jm.status(rid, False).state == "running"
    wait_for(
        lambda: (jm.status(rid, False).lr.get("lr_d") or 0) == pytest.approx(1e-5, rel=1e-3),
        what="new learning rate in the metrics",
    )
    assert jm.status(rid, False).lr["lr_g"] == pytest.approx(3e-5, rel=1e-3)
    with pytest.raises(StudioError):
        jm.resume(rid)

    jm.stop(rid)
    st = jm.wait(rid, 120)
    assert st.state == "stopped"
    run = Run.open(rid)
    assert run.latest_checkpoint_step() == st.step, "stop writes a final checkpoint"
    assert st.step in run.snapshot_steps(), "and a final snapshot"
    assert run.read_status()["state"] == "stopped"
    with pytest.raises(StudioError):
        jm.stop(rid)


def test_second_start_is_queued_then_runs(tmp_path):
    jm = JobManager()
    a = jm.start(tiny(steps=100000))
    b = jm.start(tiny(steps=6))
    sb = jm.status(b, False)
    assert sb.state == "queued" and sb.queue_position == 1
    assert Run.open(b).path.is_dir()
    wait_for(lambda: jm.status(a, False).state == "running", what="a running")
    assert jm.status(b, False).state == "queued"
    jm.stop(a)
    assert jm.wait(a, 120).state == "stopped"
    assert jm.wait(b, 180).state == "completed"


def test_stop_a_queued_job(tmp_path):
    jm = JobManager()
    a = jm.start(tiny(steps=100000))
    b = jm.start(tiny(steps=6))
    jm.stop(b)
    assert jm.status(b, False).state == "stopped"
    jm.stop(a)
    jm.wait(a, 120)
    assert jm.status(b, False).state == "stopped", "a removed job never starts"


def test_raising_loop_ends_failed_with_message(tmp_path, monkeypatch):
    import studio.train.loop as training

    def boom(*a, **k):
        raise RuntimeError("the GPU caught fire")

    monkeypatch.setattr(training, "train_run", boom)
    jm = JobManager()
    rid = jm.start(tiny())
    st = jm.wait(rid, 60)
    assert st.state == "failed"
    assert "the GPU caught fire" in st.message
    assert Run.open(rid).read_status()["state"] == "failed"
    # The manager goes on: the next job starts.
    monkeypatch.undo()
    rid2 = jm.start(tiny(steps=3))
    assert jm.wait(rid2, 120).state == "completed"


def test_nan_is_failed_with_reason(tmp_path, monkeypatch):
    import studio.train.losses as losses

    d_ns, g_ns = losses.LOSSES["ns"]
    monkeypatch.setitem(losses.LOSSES, "ns", (lambda r, f: d_ns(r, f) * float("nan"), g_ns))
    jm = JobManager()
    rid = jm.start(tiny())
    st = jm.wait(rid, 120)
    assert st.state == "failed"
    assert "NaN" in st.message


def test_same_run_cannot_train_twice(tmp_path):
    jm = JobManager()
    rid = jm.start(tiny(steps=100000))
    with pytest.raises(StudioError):
        jm.resume_run(rid)
    with pytest.raises(StudioError):
        jm.delete(rid)
    jm.stop(rid)
    jm.wait(rid, 120)


def test_restart_recovery_interrupted_then_resume(tmp_path):
    """A run whose status says 'running' but whose process is gone shows as interrupted and resumes."""
    jm = JobManager()
    rid = jm.start(tiny(steps=8, checkpoint_every=4))
    jm.wait(rid, 120)
    run = Run.open(rid)
    # Simulate a server killed mid-training at step 6 after the checkpoint at 4.
    status = run.read_status()
    status.update(state="running", step=6, pid=2**22 + 12345)
    (run.path / "status.json").write_text(json.dumps(status))
    for p in (run.path / "checkpoints").glob("ckpt-8*"):
        p.unlink()
    (run.path / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-4"\n')

    fresh = JobManager()  # a new server process: no jobs in memory
    summary = next(r for r in fresh.runs() if r.id == rid)
    assert summary.state == "interrupted"
    assert "Resume" in summary.message
    fresh.resume_run(rid, steps=10)
    st = fresh.wait(rid, 180)
    assert st.state == "completed", st.message
    steps = [m["step"] for m in Run.open(rid).read_metrics()]
    assert steps == sorted(set(steps)) and steps[-1] == 10
    assert steps[:4] == [1, 2, 3, 4] and 5 in steps


def test_status_of_a_live_other_process_is_not_interrupted(tmp_path):
    jm = JobManager()
    rid = jm.start(tiny(steps=3))
    jm.wait(rid, 120)
    run = Run.open(rid)
    status = run.read_status()
    status.update(state="running", pid=os.getppid())  # a live process that is not us
    (run.path / "status.json").write_text(json.dumps(status))
    st = JobManager().runs()[0]
    assert st.state == "running" and st.external


def test_fork_starts_a_new_run_from_a_checkpoint(tmp_path):
    jm = JobManager()
    rid = jm.start(tiny(steps=8, checkpoint_every=4))
    jm.wait(rid, 120)
    new = jm.fork(rid, step=4, lr_d=1e-4, lr_g=5e-5)
    st = jm.wait(new, 180)
    assert st.state == "completed", st.message
    cfg = Run.open(new).config
    assert cfg.parent == {"run_id": rid, "step": 4}
    assert (cfg.lr_d, cfg.lr_g) == (1e-4, 5e-5)
    rows = Run.open(new).read_metrics()
    assert [r["step"] for r in rows] == sorted({r["step"] for r in rows})
    assert rows[-1]["lr_d"] == pytest.approx(1e-4, rel=1e-3)
    jm.delete(rid)
    assert not Run(jm._open(new).path.parent / rid).path.exists()


def test_controls_reach_a_run_the_cli_trains(tmp_path):
    """Pause, Resume and Stop from the studio work on a CLI run, through the run folder's request.json."""
    import subprocess
    import sys
    from pathlib import Path

    run_dir = tmp_path / "cli-run"
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp_path), "STUDIO_DATA_DIR": str(tmp_path / "data")}
    args = ["train", "--preset", "tiny", "--steps", "100000", "--log-every", "1", "--run-dir", str(run_dir)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", *args, "--quiet"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        run = Run(run_dir)
        wait_for(lambda: run.metrics_path.exists() and len(run.read_metrics()) > 3, what="CLI training")
        jm = JobManager()
        (summary,) = jm.runs(tmp_path)
        assert summary.external and summary.state == "running"
        jm.pause(str(run_dir))
        wait_for(lambda: run.read_status()["state"] == "paused", what="paused by request")
        n = len(run.read_metrics())
        time.sleep(1.5)
        assert len(run.read_metrics()) == n, "a paused CLI run takes no steps"
        jm.resume(str(run_dir))
        wait_for(lambda: len(run.read_metrics()) > n + 2, what="resumed by request")
        jm.stop(str(run_dir))
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "stopped" in out
    st = run.read_status()
    assert st["state"] == "stopped" and run.latest_checkpoint_step() == st["step"]
    assert not run.request_path.exists()


def test_two_starts_at_the_same_moment_make_one_run_and_one_queued(tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path))
    jm = JobManager()
    cfg = from_preset("tiny", steps=6, log_every=1, snapshot_every=3, checkpoint_every=3)
    gate, ids, errors = threading.Barrier(2), [], []

    def press_start():
        gate.wait()
        try:
            ids.append(jm.start(cfg))
        except Exception as e:  # noqa: BLE001 - the test reports it
            errors.append(e)

    threads = [threading.Thread(target=press_start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(set(ids)) == 2, (ids, errors)
    states = sorted(str(jm.status(i, False).state) for i in ids)
    assert states.count("queued") == 1, states
    assert sum(1 for i in ids if jm.status(i, False).state.is_training) <= 1, "never two trainings at once"
    for i in ids:
        assert jm.wait(i, 180).state == "completed"
    folders = sorted(p.name for p in tmp_path.iterdir() if (p / "config.json").is_file())
    assert sorted(ids) == folders, "one whole folder per run, none shared"
