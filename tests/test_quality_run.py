"""Quality metrics from real training: a short digits run writes quality.jsonl, a resume repeats no
step, ``python -m studio metrics`` fills in what the run skipped, and the engine API reads it all."""

from __future__ import annotations

import json

import pytest

from studio.quality import store
from tests.helpers import train_tiny

CONTRACT = ("step", "kid", "kid_se", "precision", "recall", "density", "coverage", "features")


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality_run")
    run = train_tiny(root, root / "runs" / "q", steps=20, snapshot_every=10, checkpoint_every=10)
    return root, run


def test_a_short_digits_run_writes_quality_jsonl(scored_run):
    _, run = scored_run
    lines = store.quality_path(run.path).read_text().splitlines()
    rows = [json.loads(ln) for ln in lines]
    assert rows and all(all(k in r for k in CONTRACT) for r in rows)
    steps = [r["step"] for r in rows]
    assert len(steps) == len(set(steps)) and 20 in steps  # the final snapshot is always scored
    assert set(steps) <= {0, 10, 20}
    last = rows[-1]
    assert last["features"] == "digitnet" and last["n_heldout"] == 180 and last["n_train"] == 1617
    assert last["r_t"] is not None and 0 <= last["d_gap_auc"] <= 1
    assert last["fd"] is not None  # 1,000 generated and 1,617 training pictures for 128 features


def test_metrics_cli_fills_in_skipped_snapshots_then_has_nothing_to_do(scored_run, monkeypatch, capsys):
    root, run = scored_run
    from studio.__main__ import main

    monkeypatch.setenv("STUDIO_DATA_DIR", str(root / "data"))
    assert main(["metrics", "--run-dir", str(run.path), "--quiet"]) == 0
    assert {r.step for r in store.read_rows(run.path)} == set(run.snapshot_steps())
    assert "Best snapshot: step" in capsys.readouterr().out
    assert main(["metrics", "--run-dir", str(run.path), "--quiet"]) == 0
    again = capsys.readouterr().out
    assert not [line for line in again.splitlines() if line.startswith("step ")]  # nothing new scored
    assert "Best snapshot: step" in again


def test_the_engine_api_reads_the_run(scored_run):
    from studio.quality import alerts_for, best_snapshot, nearest_training_images, quality_history, training_index

    _, run = scored_run
    history = quality_history(run)
    assert [r.step for r in history] == sorted(r.step for r in history)
    best = best_snapshot(run.path)
    assert best.kid == min(r.kid for r in history if r.step > 0)  # never the untrained step 0
    assert isinstance(alerts_for(run), list)
    index = training_index(run)
    from studio.data import load_dataset

    image = load_dataset("digits", 32, 1).images[int(index.index[5])]
    report = nearest_training_images(run, image, index=index)
    assert report.is_copy and report.pixels[0].index == int(index.index[5])


def test_a_resume_drops_rows_past_the_checkpoint_and_repeats_no_step(scored_run):
    root, run = scored_run
    from studio.train.loop import train

    # What a kill just after scoring a snapshot past the last checkpoint would leave.
    store.append_row(run.path, store.QualityRow(step=25, kid=9.0, features="digitnet"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDIO_RUNS_DIR", str(root / "runs"))
        mp.setenv("STUDIO_DATA_DIR", str(root / "data"))
        res = train(run.config.replace(steps=30), run_dir=run.path, resume=True)
    assert res.state == "completed"
    steps = [json.loads(ln)["step"] for ln in store.quality_path(run.path).read_text().splitlines()]
    assert 25 not in steps and 30 in steps and len(steps) == len(set(steps))


def test_snapshots_the_monitor_fell_behind_on_are_scored_when_the_run_ends(tmp_path, monkeypatch):
    """Snapshots faster than the monitor's 10% duty: the newest is scored first while training, the
    rest wait in a backlog (D's scores taken at the time) that the end of the run scores, so a
    completed run's quality.jsonl has every snapshot."""
    notices = []
    monkeypatch.setattr("studio.quality.monitor.MAX_PENDING", 1)
    from studio.train.config import from_preset
    from studio.train.loop import Hooks, train

    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    cfg = from_preset("tiny", steps=24, snapshot_every=4, checkpoint_every=24)
    res = train(cfg, run_dir=tmp_path / "runs" / "fast", hooks=Hooks(on_notice=notices.append))
    assert res.state == "completed", res.message
    rows = store.read_rows(res.run.path)
    assert [r.step for r in rows] == res.run.snapshot_steps() == [0, 4, 8, 12, 16, 20, 24]
    assert all(r.r_t is not None for r in rows)  # D's scores were kept with each waiting snapshot
    assert any(n.startswith("Scoring the quality of the last ") for n in notices), notices
