"""tf.distribute on this CPU-only machine: two logical CPU devices under MirroredStrategy train like one.

Each training runs in its own subprocess (the CLI): logical devices can only be configured before
TensorFlow starts its runtime. Stated tolerance: per logged step, D and G losses of the 2-device run
stay within 0.05 of the 1-device run (the global batch is the same; each replica draws its own z, so
the runs are not bit-identical). Seen here: within 0.005 over 8 steps.

Quality scoring (studio/quality) is off in these runs (``--no-quality``): it is not what they test, and
it adds seconds of feature extraction to each short subprocess. Runs that do not depend on each other
start together (TensorFlow's start-up is mostly one core's work).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 0.05


def _start(tmp: Path, run_dir: Path, *args) -> subprocess.Popen:
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp / "runs"), "STUDIO_DATA_DIR": str(tmp / "data")}
    cmd = [sys.executable, "-m", "studio", "train", "--run-dir", str(run_dir), "--quiet", "--no-quality"]
    return subprocess.Popen(
        [*cmd, *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def _finish(*procs: subprocess.Popen) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]


def _train(tmp: Path, run_dir: Path, *args) -> None:
    _finish(_start(tmp, run_dir, *args))


def _losses(run_dir: Path) -> list[tuple[int, float, float]]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["d_loss"], r["g_loss"]) for r in rows]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("distribute")
    common = ["--preset", "tiny", "--steps", 8, "--log-every", 1, "--checkpoint-every", 4, "--seed", 0]
    one, two = tmp / "one-device", tmp / "two-devices"
    _finish(_start(tmp, one, *common), _start(tmp, two, *common, "--devices", 2))
    return tmp, one, two


def test_mirrored_two_logical_cpus_match_one_device(two_runs):
    _, one, two = two_runs
    a, b = _losses(one), _losses(two)
    assert [s for s, *_ in a] == [s for s, *_ in b] == list(range(1, 9))
    for (step, d1, g1), (_, d2, g2) in zip(a, b):
        assert abs(d1 - d2) < TOLERANCE and abs(g1 - g2) < TOLERANCE, (step, d1, d2, g1, g2)


def test_distributed_checkpoints_resume_on_one_device_and_back(two_runs):
    tmp, one, two = two_runs
    more = ("--resume", "--steps", 12, "--checkpoint-every", 4, "--log-every", 1)
    _finish(_start(tmp, two, *more), _start(tmp, one, *more, "--devices", 2))  # 2 devices → 1, 1 → 2
    for run in (one, two):
        steps = [s for s, *_ in _losses(run)]
        assert steps == list(range(1, 13)), steps


def test_mirrored_bad_device_is_one_line(tmp_path):
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "studio", "train", "--preset", "tiny", "--steps", "2", "--devices", "TPU:0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2 and "'TPU:0' is not a device" in r.stderr, r.stderr[-2000:]


def test_distribute_mixed_float16_on_cpu_checkpoints_and_resumes_with_its_loss_scale(tmp_path):
    """mixed_float16 on a CPU is slow but correct: its dynamic loss scale is checkpointed and restored."""
    run = tmp_path / "fp16"
    common = ["--preset", "tiny", "--precision", "mixed_float16", "--checkpoint-every", 4, "--log-every", 1]
    _train(tmp_path, run, *common, "--steps", 4)

    def loss_scale(step: int) -> dict:
        import tensorflow as tf  # reading a checkpoint needs no devices: this process will do

        r = tf.train.load_checkpoint(str(run / "checkpoints" / f"ckpt-{step}"))
        keys = [
            k
            for k in r.get_variable_to_shape_map()
            if "opt_d" in k
            and "/inner" not in k
            and ("/dynamic_scale/" in k or k.endswith("step_counter/.ATTRIBUTES/VARIABLE_VALUE"))
        ]
        return {k.split("/")[1]: float(r.get_tensor(k)) for k in keys}

    first = loss_scale(4)
    assert first["dynamic_scale"] > 1 and first["step_counter"] == 4, first
    _train(tmp_path, run, "--resume", "--steps", 8)
    assert loss_scale(8)["step_counter"] == 8, "the loss scale's counter went on from the checkpoint"
    rows = _losses(run)
    assert [s for s, *_ in rows] == list(range(1, 9))
    assert all(abs(d) < 10 and abs(g) < 10 for _, d, g in rows)
    assert json.loads((run / "config.json").read_text())["precision"] == "mixed_float16"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(tmp: Path, scratch: Path, cluster: list[str], index: int, *args) -> subprocess.Popen:
    """One worker as the README launches it; its output goes to files (a full pipe would stall it)."""
    tf_config = json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}})
    env = {
        **os.environ,
        "STUDIO_RUNS_DIR": str(tmp / "runs"),
        "STUDIO_DATA_DIR": str(tmp / "data"),
        "TF_CONFIG": tf_config,
        "TMPDIR": str(scratch),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "train", "--multi-worker", "--quiet", "--no-quality", *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=open(tmp / f"worker{index}.out", "w"),  # noqa: SIM115 - closed when the process ends
        stderr=open(tmp / f"worker{index}.err", "w"),  # noqa: SIM115
        stdin=subprocess.DEVNULL,
    )


def _two_workers(tmp: Path, scratch: Path, *args) -> list[tuple[str, str]]:
    for attempt in range(2):  # a free port can be taken between picking and binding it: retry once
        cluster = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
        procs = [_worker(tmp, scratch, cluster, i, *args) for i in (0, 1)]
        codes = [p.wait(timeout=300) for p in procs]
        if codes == [0, 0] or attempt:
            break
    for i, code in enumerate(codes):
        assert code == 0, (tmp / f"worker{i}.err").read_text()[-4000:]
    return [((tmp / f"worker{i}.out").read_text(), (tmp / f"worker{i}.err").read_text()) for i in (0, 1)]


def test_multi_worker_two_processes_on_localhost_make_one_consistent_run_folder(tmp_path):
    """Two workers from the README's commands: one run folder (the chief's), each step logged once, one
    set of checkpoints, no scratch left; a resume continues from the chief's checkpoint; the run lists
    and samples like any other."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run_dir = tmp_path / "runs" / "two-workers"
    common = ("--preset", "tiny", "--log-every", 1, "--checkpoint-every", 4, "--snapshot-every", 4)
    (_, chief), (worker_out, worker) = _two_workers(tmp_path, scratch, *common, "--steps", 8, "--run-dir", run_dir)
    # The first line each prints names the cluster, the devices and the precision; nothing alarming after.
    assert chief.splitlines()[0].startswith("training on 2 workers, each "), chief[:300]
    assert chief.splitlines()[0].endswith("; this is worker 0 of 2 (chief)"), chief[:300]
    assert worker.splitlines()[0].endswith("; this is worker 1 of 2"), worker[:300]
    assert "error" not in (chief + worker).lower() and "crash" not in (chief + worker).lower(), chief + worker
    assert "the chief wrote the run" in worker_out.splitlines()[-1]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["two-workers"]
    assert list(scratch.iterdir()) == []  # the worker deleted its scratch copy

    # The same command again with --resume added, and more steps: both workers go on from step 8.
    _two_workers(tmp_path, scratch, *common, "--steps", 12, "--run-dir", run_dir, "--resume")
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 13))  # no step twice, none missing
    ckpts = sorted(p.name for p in (run_dir / "checkpoints").glob("ckpt-*.index"))
    assert ckpts == ["ckpt-12.index", "ckpt-4.index", "ckpt-8.index"]
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "completed" and status["step"] == 12
    assert list(scratch.iterdir()) == []

    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp_path / "runs"), "STUDIO_DATA_DIR": str(tmp_path / "data")}
    ls = subprocess.run([sys.executable, "-m", "studio", "runs"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "two-workers" in ls.stdout and "12/12" in ls.stdout, ls.stdout
    png = tmp_path / "s.png"
    sample = subprocess.run(
        [sys.executable, "-m", "studio", "sample", "--run-dir", str(run_dir), "--n", "4", "--out", str(png)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert sample.returncode == 0 and png.stat().st_size > 100, sample.stderr[-2000:]


def test_multi_worker_mistakes_are_one_line(tmp_path):
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp_path / "runs"), "STUDIO_DATA_DIR": str(tmp_path / "data")}
    cases = {
        "": "needs TF_CONFIG",
        "{not json": "TF_CONFIG is not valid",
        '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 0}}': "lists one worker",
        '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 5}}': "is not one of the workers",
    }
    for tf_config, words in cases.items():
        r = subprocess.run(
            [sys.executable, "-m", "studio", "train", "--multi-worker", "--preset", "tiny", "--steps", "2"],
            cwd=ROOT,
            env={**env, "TF_CONFIG": tf_config},
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, (tf_config, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
