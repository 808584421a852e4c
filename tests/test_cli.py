"""The CLI as a person runs it: ``python -m studio ...`` in a subprocess from the repository root."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _env(root: Path) -> dict:
    env = dict(os.environ)
    env.update(
        STUDIO_RUNS_DIR=str(root / "runs"),
        STUDIO_DATA_DIR=str(root / "data"),
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    env.pop("PYTHONPATH", None)  # `python -m studio` from the repo root must work on its own
    return env


def studio(root: Path, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "studio", *map(str, args)],
        cwd=REPO,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _metric_steps(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """train --preset tiny --steps 20, then --resume --steps 30, through the CLI."""
    root = tmp_path_factory.mktemp("cli")
    run_dir = root / "R"
    first = studio(
        root,
        "train",
        "--preset",
        "tiny",
        "--steps",
        20,
        "--checkpoint-every",
        10,
        "--snapshot-every",
        10,
        "--run-dir",
        run_dir,
    )
    assert first.returncode == 0, first.stderr[-3000:]
    steps_after_first = _metric_steps(run_dir)
    second = studio(root, "train", "--run-dir", run_dir, "--resume", "--steps", 30)
    assert second.returncode == 0, second.stderr[-3000:]
    return dict(root=root, run_dir=run_dir, first=first, second=second, steps_after_first=steps_after_first)


def test_train_writes_a_run_folder_with_a_progress_bar(cli_run):
    run_dir, first = cli_run["run_dir"], cli_run["first"]
    assert "completed" in first.stdout
    assert "starting at step 0" in first.stderr
    assert "20/20" in first.stderr and "steps/s" in first.stderr and "ETA" in first.stderr
    assert cli_run["steps_after_first"][-1] == 20
    assert json.loads((run_dir / "config.json").read_text())["preset"] == "tiny"


def test_resume_continues_at_the_checkpoint_and_steps_is_the_total(cli_run):
    run_dir, second = cli_run["run_dir"], cli_run["second"]
    assert "starting at step 20" in second.stderr
    steps = _metric_steps(run_dir)
    assert steps == sorted(set(steps)), steps
    assert steps[-1] == 30
    assert [s for s in steps if s > 20] == [25, 30]  # tiny logs every 5 steps: 21..25, 26..30
    assert steps[: len(cli_run["steps_after_first"])] == cli_run["steps_after_first"]
    assert json.loads((run_dir / "config.json").read_text())["steps"] == 30
    assert json.loads((run_dir / "status.json").read_text())["state"] == "completed"
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("ckpt-*.index")) == [
        "ckpt-10.index",
        "ckpt-20.index",
        "ckpt-30.index",
    ]


def test_resume_at_the_total_says_so_and_trains_nothing(cli_run):
    before = _metric_steps(cli_run["run_dir"])
    r = studio(cli_run["root"], "train", "--run-dir", cli_run["run_dir"], "--resume", "--steps", 30)
    assert r.returncode == 0
    assert "already at step 30" in r.stdout
    assert _metric_steps(cli_run["run_dir"]) == before


def test_sample_npz_is_uint8_nhwc_and_reproducible(cli_run):
    root, run_dir = cli_run["root"], cli_run["run_dir"]
    outs = []
    for name in ("a.npz", "b.npz"):
        r = studio(root, "sample", "--run-dir", run_dir, "--n", 5, "--seed", 3, "--out", root / name)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "from step 30" in r.stdout
        with np.load(root / name) as f:
            assert list(f.keys()) == ["images"]
            outs.append(f["images"])
    assert outs[0].dtype == np.uint8 and outs[0].shape == (5, 32, 32, 1)
    np.testing.assert_array_equal(outs[0], outs[1])
    assert outs[0].std() > 0  # real pictures, not a constant


def test_sample_png_grid_and_an_older_snapshot(cli_run):
    from PIL import Image

    root, run_dir = cli_run["root"], cli_run["run_dir"]
    out = root / "grid.png"
    r = studio(root, "sample", "--run-dir", run_dir, "--snapshot", 10, "--n", 4, "--out", out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "from step 10" in r.stdout
    img = Image.open(out)
    assert img.format == "PNG" and img.size[0] >= 64 and img.size[1] >= 32
    assert img.text.get("snapshot_step") == "10"


def test_export_loads_in_plain_keras(cli_run):
    root, run_dir = cli_run["root"], cli_run["run_dir"]
    out = root / "g.keras"
    r = studio(root, "export", "--run-dir", run_dir, "--out", out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert out.is_file()
    z_dim = json.loads((run_dir / "config.json").read_text())["z_dim"]
    # A fresh interpreter that imports only keras (and numpy): no studio on the path.
    code = (
        "import sys, numpy as np, keras\n"
        "assert 'studio' not in sys.modules\n"
        f"m = keras.models.load_model({str(out)!r})\n"
        f"x = m(np.random.default_rng(0).standard_normal((3, {z_dim})).astype('float32'), training=False)\n"
        "x = np.asarray(x)\n"
        "import json; print(json.dumps([list(x.shape), str(x.dtype), float(x.min()), float(x.max())]))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in _env(root).items() if k != "PYTHONPATH"},
    )
    assert p.returncode == 0, p.stderr[-2000:]
    shape, dtype, lo, hi = json.loads(p.stdout.strip().splitlines()[-1])
    assert shape == [3, 32, 32, 1] and dtype == "float32"
    assert -1.0 <= lo <= hi <= 1.0


def test_runs_lists_the_run(cli_run):
    r = studio(cli_run["root"], "runs", "--runs-dir", cli_run["run_dir"].parent)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["RUN", "DATASET", "MODEL"]
    row = next(line for line in lines if line.startswith("R "))
    assert "digits" in row and "dcgan" in row and "30/30" in row and "completed" in row


def test_runs_on_an_empty_folder_says_how_to_start(tmp_path):
    r = studio(tmp_path, "runs")
    assert r.returncode == 0 and "No runs yet" in r.stdout


# ---- a person's mistakes: exit 2, one line, no traceback -----------------------------------
def _error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    # Exactly one line: the mistake is found before TensorFlow is imported and logs its start-up.
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--dataset", "nope", "--steps", "5", "--run-dir", "{tmp}/x"], "Unknown dataset 'nope'"),
        (["train", "--steps", "abc"], "'abc' is not a whole number"),
        (["train", "--steps", "0"], "must be at least 1"),
        (["train", "--preset", "huge"], "invalid choice: 'huge'"),
        (["train", "--resume"], "--resume needs --run-dir"),
        (["train", "--resume", "--run-dir", "{tmp}/nothing-here"], "no run at"),
        (["train", "--lr-d", "2"], "between 0 and 1"),
        (["train", "--resume", "--run-dir", "{tmp}/x", "--batch-size", "8"], "no run at"),
        (["sample", "--run-dir", "{tmp}/nothing-here", "--out", "{tmp}/x.npz"], "no run at"),
        (["sample", "--run-dir", "{tmp}/x", "--out", "{tmp}/x.jpg"], "must end in .npz or .png"),
        (["export", "--run-dir", "{tmp}/nothing-here", "--out", "{tmp}/g.keras"], "no run at"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
    ids=lambda v: v if isinstance(v, str) else "_".join(v)[:40],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, words):
    line = _error_line(studio(tmp_path, *[a.format(tmp=tmp_path) for a in args]))
    assert words in line


def test_resume_accepts_the_original_command_again_and_names_what_differs(cli_run):
    """The common restart script is the first command with --resume added: agreeing flags are fine;
    a differing one is refused with its old and new value, and nothing trains."""
    root, run_dir = cli_run["root"], cli_run["run_dir"]
    before = (Path(run_dir) / "metrics.jsonl").read_text()
    original = "train --preset tiny --dataset digits --seed 0 --steps 30 --resume --run-dir".split()
    r = studio(root, *original, run_dir, "--batch-size", "8")
    line = _error_line(r)
    assert "--batch-size cannot change (the run has 32, you gave 8)" in line
    assert "--dataset" not in line and "--seed" not in line and "--preset" not in line
    assert (Path(run_dir) / "metrics.jsonl").read_text() == before
    ok = studio(root, *original, run_dir, "--batch-size", "32", "--quiet")
    assert ok.returncode == 0, ok.stderr
    assert "at step 30 of 30" in ok.stdout or "completed" in ok.stdout


def test_training_into_an_existing_run_without_resume_is_refused(cli_run, tmp_path):
    line = _error_line(studio(tmp_path, "train", "--preset", "tiny", "--run-dir", cli_run["run_dir"]))
    assert "already a run" in line and "--resume" in line


def test_sampling_a_missing_snapshot_step_is_a_plain_error(cli_run):
    line = _error_line(
        studio(
            cli_run["root"],
            "sample",
            "--run-dir",
            cli_run["run_dir"],
            "--snapshot",
            7,
            "--out",
            cli_run["root"] / "y.npz",
        )
    )
    assert "no snapshot at step 7" in line


def test_the_cli_start_is_quiet_unless_verbose(cli_run, tmp_path):
    """TensorFlow's absl/oneDNN start-up lines are not shown; the first line is the CLI's own."""
    native = re.compile(r"^(?:[IWEF]\d{4} \d\d:\d\d:|WARNING: All log messages before absl)", re.M)
    err = cli_run["first"].stderr
    assert not native.search(err), err[:2000]
    assert err.lstrip().splitlines()[0].startswith(("Run ", "Training on", "training on"))
    loud = studio(tmp_path, "train", "--preset", "tiny", "--steps", 2, "--run-dir", tmp_path / "L", "--verbose")
    assert loud.returncode == 0, loud.stderr[-2000:]
    assert native.search(loud.stderr), "--verbose shows TensorFlow's own lines"
