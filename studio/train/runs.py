"""Run folders: the contract between the engine, the pages and the CLI.

```
<run>/config.json        RunConfig, written once at start (forks record their parent here)
<run>/status.json        state, step, message, pid: what the run was doing when last seen
<run>/metrics.jsonl      one JSON object per logged step
<run>/checkpoints/       tf.train.Checkpoint: G, D, G-EMA, both optimizers, step, RNG (last 3)
<run>/snapshots/         step_XXXXXXXX.weights.h5: G-EMA weights at timeline points
<run>/samples/           step_XXXXXXXX.png: the fixed-noise grid at each snapshot
<run>/tb/                TensorBoard event files
```
Disk is the truth: a restarted server rebuilds its view of every run from these folders.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from studio.core.errors import StudioError
from studio.core.paths import atomic_write_json, atomic_write_text, runs_dir
from studio.train.config import RunConfig
from studio.train.state import ON_DISK_LIVE, RunState, RunStatus, RunSummary

_STEP_RE = re.compile(r"step_(\d+)")


def step_name(step: int) -> str:
    return f"step_{int(step):08d}"


def new_run_id(cfg: RunConfig, parent: Path | None = None) -> str:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    ds = re.sub(r"[^a-z0-9]+", "-", Path(str(cfg.dataset)).stem.lower()).strip("-")[:24] or "data"
    base = f"{stamp}-{ds}-{cfg.model}"
    root = parent or runs_dir()
    rid, n = base, 1
    while (root / rid).exists():
        n += 1
        rid = f"{base}-{n}"
    return rid


def _reserve_folder(root: Path, rid: str) -> Path:
    """Create a fresh run folder named ``rid`` (or ``rid-2``, ``rid-3``, …) atomically: two starts in
    the same second never share a folder (mkdir either makes it or fails, never both)."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = root / (rid if n == 1 else f"{rid}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise StudioError(f"Could not find a free folder name for a new run in {root}.")


def _pid_alive(pid: int) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@dataclass
class Run:
    path: Path

    # ---- creation and lookup -------------------------------------------------
    @classmethod
    def create(cls, cfg: RunConfig, path: Path | str | None = None) -> "Run":
        if path:
            path = Path(path)
            if (path / "config.json").exists():
                raise StudioError(
                    f"A run already exists in {path}. Use --resume to continue it, or pick another folder."
                )
        else:
            path = _reserve_folder(runs_dir(), new_run_id(cfg))
        for sub in ("checkpoints", "snapshots", "samples"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        run = cls(path)
        atomic_write_text(path / "config.json", cfg.to_json())
        run.write_status(RunState.STARTING, 0)
        return run

    @classmethod
    def open(cls, path: Path | str) -> "Run":
        p = Path(path)
        if not (p / "config.json").is_file():
            # Allow a bare run id relative to the runs folder.
            alt = runs_dir() / str(path)
            if (alt / "config.json").is_file():
                p = alt
            else:
                raise StudioError(f"There is no run at '{path}' (no config.json found).")
        return cls(p)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def config(self) -> RunConfig:
        try:
            return RunConfig.from_json((self.path / "config.json").read_text())
        except (OSError, ValueError) as e:
            raise StudioError(
                f"The run '{self.id}' has an unreadable config.json, so it cannot be opened or resumed ({e})."
            ) from None

    def write_config(self, cfg: RunConfig) -> None:
        atomic_write_text(self.path / "config.json", cfg.to_json())

    # ---- status --------------------------------------------------------------
    def write_status(self, state: RunState | str, step: int, message: str = "", **extra) -> None:
        atomic_write_json(
            self.path / "status.json",
            {
                "state": str(RunState(state)),
                "step": int(step),
                "message": message,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "updated": _dt.datetime.now().isoformat(timespec="seconds"),
                **extra,
            },
        )

    def read_status(self) -> dict:
        try:
            st = json.loads((self.path / "status.json").read_text())
        except (OSError, ValueError):
            st = None
        if not isinstance(st, dict):  # missing, torn or not an object: say so, never break a list
            st = {"state": str(RunState.UNKNOWN), "step": self.latest_checkpoint_step() or 0, "message": ""}
        return st

    def status(self, live_ids: set[str] | None = None) -> RunStatus:
        """The status with dead 'running' runs reported as INTERRUPTED.

        A run is live if this process's job manager has it (``live_ids``) or the process that wrote
        the status is still alive on this host (e.g. the CLI training in another terminal).
        """
        st = self.read_status()
        state = RunState.parse(st.get("state"))
        message, external = str(st.get("message") or ""), False
        if state in ON_DISK_LIVE:
            live = live_ids is not None and self.id in live_ids
            if not live:
                same_host = st.get("host") == socket.gethostname()
                other_proc = st.get("pid") != os.getpid()
                if same_host and other_proc and _pid_alive(st.get("pid", 0)):
                    external = True  # trained by another process (the CLI)
                else:
                    state = RunState.INTERRUPTED
                    message = "The studio stopped while this run was training. Resume it from its last checkpoint."
        known = {"state", "step", "message", "updated"}
        return RunStatus(
            state=state,
            step=int(st.get("step") or 0),
            message=message,
            external=external,
            updated=str(st.get("updated") or ""),
            extra={k: v for k, v in st.items() if k not in known},
        )

    # ---- requests to a run trained by another process (the CLI polls them) ------------------
    REQUESTS = ("pause", "resume", "stop")

    @property
    def request_path(self) -> Path:
        return self.path / "request.json"

    def request(self, action: str) -> None:
        """Ask the process training this run (e.g. the CLI in another terminal) to pause, resume or stop."""
        if action not in self.REQUESTS:
            raise StudioError(f"A run can be asked to {', '.join(self.REQUESTS)}, not '{action}'.")
        atomic_write_json(self.request_path, {"action": action, "at": _dt.datetime.now().isoformat()})

    def pending_request(self) -> str | None:
        """The last request written for this run, if any (a missing or damaged file is none)."""
        try:
            action = json.loads(self.request_path.read_text()).get("action")
        except (OSError, ValueError, AttributeError):
            return None
        return action if action in self.REQUESTS else None

    def clear_request(self) -> None:
        self.request_path.unlink(missing_ok=True)

    # ---- metrics -------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    def read_metrics(self) -> list[dict]:
        """Every complete line; a torn last line (kill mid-write) is skipped."""
        out = []
        try:
            with open(self.metrics_path, encoding="utf-8") as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        continue
        except FileNotFoundError:
            pass
        return out

    def truncate_metrics(self, max_step: int) -> None:
        """Drop lines logged after the checkpoint we resume from, so steps never repeat."""
        rows = [r for r in self.read_metrics() if r.get("step", 0) <= max_step]
        atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in rows))

    # ---- snapshots and samples ----------------------------------------------
    def snapshot_steps(self) -> list[int]:
        steps = []
        for p in (self.path / "snapshots").glob("step_*.weights.h5"):
            m = _STEP_RE.match(p.name)
            if m:
                steps.append(int(m.group(1)))
        return sorted(steps)

    def snapshot_path(self, step: int | str = "latest") -> Path:
        steps = self.snapshot_steps()
        if not steps:
            raise StudioError(f"The run '{self.id}' has no snapshots yet: let it train a little longer.")
        if step in ("latest", None, -1):
            step = steps[-1]
        try:
            step = int(step)
        except (TypeError, ValueError):
            raise StudioError(f"'{step}' is not a step number.") from None
        if step not in steps:
            raise StudioError(
                f"The run '{self.id}' has no snapshot at step {step}. It has: {', '.join(map(str, steps[-10:]))}."
            )
        return self.path / "snapshots" / f"{step_name(step)}.weights.h5"

    def sample_path(self, step: int) -> Path:
        return self.path / "samples" / f"{step_name(step)}.png"

    def latest_sample(self) -> Path | None:
        samples = sorted((self.path / "samples").glob("step_*.png"))
        return samples[-1] if samples else None

    def prune_snapshots(self, max_keep: int, every: int) -> None:
        """Keep at most ``max_keep`` snapshots spread evenly over the run, plus the latest.

        The spacing doubles whenever the count overflows, so early, middle and late training stay
        represented however long the run goes (StyleGAN keeps all and fills disks; we do not).
        """
        steps = self.snapshot_steps()
        if len(steps) <= max_keep + 1:
            return
        stride = every
        while len([s for s in steps[:-1] if s % stride == 0]) > max_keep:
            stride *= 2
        for s in steps[:-1]:
            if s % stride:
                self._remove_snapshot(s)

    def drop_after(self, step: int) -> None:
        """Remove snapshots/samples past ``step`` (written after the checkpoint we resume from)."""
        for s in self.snapshot_steps():
            if s > step:
                self._remove_snapshot(s)

    def _remove_snapshot(self, step: int) -> None:
        """A snapshot, its sample grid and anything computed from it (GANSpace directions)."""
        for p in (self.path / "snapshots").glob(f"{step_name(step)}.*"):
            p.unlink(missing_ok=True)
        self.sample_path(step).unlink(missing_ok=True)

    # ---- checkpoints ---------------------------------------------------------
    def checkpoint_steps(self) -> list[int]:
        """Full checkpoints that can be restored, per TensorFlow's own ``checkpoint`` state file.

        The state file is written (atomically) only after a checkpoint's files are complete, so a
        kill mid-save leaves the previous list: ckpt files it does not name are not counted.
        """
        folder = self.path / "checkpoints"
        try:
            text = (folder / "checkpoint").read_text()
        except OSError:
            return []
        steps = set()
        for m in re.finditer(r'checkpoint_paths?: "(?:.*/)?ckpt-(\d+)"', text):
            step = int(m.group(1))
            if (folder / f"ckpt-{step}.index").exists():
                steps.add(step)
        return sorted(steps)

    def latest_checkpoint_step(self) -> int | None:
        steps = self.checkpoint_steps()
        return steps[-1] if steps else None

    # ---- housekeeping --------------------------------------------------------
    def disk_bytes(self) -> int:
        total = 0
        for root, _, files in os.walk(self.path):
            for f in files:
                try:
                    total += os.path.getsize(os.path.join(root, f))
                except OSError:
                    pass
        return total

    def delete(self) -> None:
        shutil.rmtree(self.path, ignore_errors=False)

    def summary(self, live_ids: set[str] | None = None) -> RunSummary:
        """One line of the run list. A run whose config.json cannot be read is still listed (with
        the reason as its message and no snapshots to open), so one damaged folder never hides the rest."""
        try:
            cfg = self.config
        except StudioError as e:
            return RunSummary(
                id=self.id,
                path=self.path,
                dataset="?",
                model="?",
                loss="?",
                step=0,
                steps=0,
                state=RunState.UNKNOWN,
                message=str(e),
                latest_sample=None,
                snapshots=0,
                parent=None,
                external=False,
                updated="",
            )
        st = self.status(live_ids)
        return RunSummary(
            id=self.id,
            path=self.path,
            dataset=cfg.dataset,
            model=cfg.model,
            loss=cfg.loss,
            step=st.step,
            steps=cfg.steps,
            state=st.state,
            message=st.message,
            latest_sample=self.latest_sample(),
            snapshots=len(self.snapshot_steps()),
            parent=cfg.parent,
            external=st.external,
            updated=st.updated,
        )


def list_runs(root: Path | str | None = None) -> list[Run]:
    """Every run folder under ``root`` (default: the studio's runs folder), newest first."""
    root = Path(root) if root else runs_dir()
    if not root.is_dir():
        return []
    runs = [Run(p) for p in root.iterdir() if (p / "config.json").is_file()]
    return sorted(runs, key=lambda r: (r.path / "config.json").stat().st_mtime, reverse=True)
