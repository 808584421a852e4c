"""One vocabulary for where a run stands: the ``RunState`` enum and the small records that carry it.

Every reader — the job manager, the CLI, every page — asks a state its questions here (is it
active? training? final?) instead of keeping its own tuple of strings. ``RunState`` is a ``StrEnum``,
so it is written to ``status.json`` as the plain word and compares equal to it.

Three records travel between the engine and its clients, all frozen:

* :class:`RunStatus` — what a run folder says about itself (``Run.status``);
* :class:`RunSummary` — one line of the run list (``Run.summary``, ``JobManager.runs``);
* :class:`JobStatus` — a background job's live state (``JobManager.status``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class RunState(enum.StrEnum):
    QUEUED = "queued"  # waiting its turn in the job manager
    STARTING = "starting"  # loading data and building models
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"  # asked to stop; writing a final checkpoint
    COMPLETED = "completed"  # reached its step count
    STOPPED = "stopped"  # stopped by a person (a checkpoint was kept)
    BUDGET = "budget"  # its time budget ran out
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the process that trained it died
    UNKNOWN = "unknown"  # status.json missing or unreadable

    @classmethod
    def parse(cls, value) -> RunState:
        """Any stored word → a state (an unknown or missing word is UNKNOWN, never an error)."""
        try:
            return cls(str(value))
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_active(self) -> bool:
        """Holds or waits for a place in the job manager (a second start must wait or be refused)."""
        return self in _ACTIVE

    @property
    def is_training(self) -> bool:
        """A training thread or process owns the run now (queued runs do not count)."""
        return self in _TRAINING

    @property
    def is_final(self) -> bool:
        """Ended for now; nothing writes to the run until someone resumes it."""
        return self in _FINAL

    @property
    def can_pause(self) -> bool:
        return self in (RunState.STARTING, RunState.RUNNING)

    @property
    def can_stop(self) -> bool:
        return self in (RunState.QUEUED, RunState.STARTING, RunState.RUNNING, RunState.PAUSED)

    @property
    def can_change_lr(self) -> bool:
        return self in (RunState.RUNNING, RunState.PAUSED)

    @property
    def label(self) -> str:
        """The word people see."""
        return _LABELS[self][0]

    @property
    def color(self) -> str:
        """A Streamlit badge colour for the label."""
        return _LABELS[self][1]


_TRAINING = frozenset({RunState.STARTING, RunState.RUNNING, RunState.PAUSED, RunState.STOPPING})
_ACTIVE = _TRAINING | {RunState.QUEUED}
_FINAL = frozenset(
    {RunState.COMPLETED, RunState.STOPPED, RunState.BUDGET, RunState.FAILED, RunState.INTERRUPTED, RunState.UNKNOWN}
)
# States a run folder's own status.json may claim while its writer is alive (else: interrupted).
ON_DISK_LIVE = frozenset({RunState.STARTING, RunState.RUNNING, RunState.PAUSED})
_LABELS = {
    RunState.QUEUED: ("Queued", "gray"),
    RunState.STARTING: ("Starting", "blue"),
    RunState.RUNNING: ("Training", "green"),
    RunState.PAUSED: ("Paused", "orange"),
    RunState.STOPPING: ("Stopping", "orange"),
    RunState.COMPLETED: ("Finished", "violet"),
    RunState.STOPPED: ("Stopped", "gray"),
    RunState.BUDGET: ("Time budget reached", "violet"),
    RunState.FAILED: ("Failed", "red"),
    RunState.INTERRUPTED: ("Interrupted", "red"),
    RunState.UNKNOWN: ("Unknown", "gray"),
}


@dataclass(frozen=True)
class RunStatus:
    """A run folder's status.json, with a dead writer's 'running' read as INTERRUPTED."""

    state: RunState
    step: int = 0
    message: str = ""
    external: bool = False  # trained by another live process on this host (e.g. the CLI)
    updated: str = ""  # ISO time of the last write
    extra: dict = field(default_factory=dict)  # anything else the writer recorded


@dataclass(frozen=True)
class RunSummary:
    """One run as the run list shows it."""

    id: str
    path: Path
    dataset: str
    model: str
    loss: str
    step: int  # the latest step reached
    steps: int  # the step count it trains to
    state: RunState
    message: str
    latest_sample: Path | None  # the newest fixed-noise grid
    snapshots: int  # how many snapshots Explore and Checkpoints can open
    parent: str | None  # the run it was forked from
    external: bool  # trained by another process (the CLI)
    updated: str


@dataclass(frozen=True)
class JobStatus:
    """A background job's state, copied under the job manager's lock (safe to read anywhere)."""

    run_id: str
    state: RunState
    step: int
    total: int  # the step count it trains to
    message: str
    images_per_s: float
    eta_s: float | None  # seconds left (steps or time budget, whichever ends first); None unknown
    grid_path: Path | None  # the newest fixed-noise grid written by this job
    grid_step: int | None
    lr: dict  # {"lr_d": .., "lr_g": ..} as of the last logged step
    queue_position: int  # 1 = next in line; 0 = not queued
    metrics: list = field(default_factory=list)  # logged rows (empty unless asked for)
    started: float = 0.0  # time.time() when it left the queue
    first_grid_at: float | None = None
    time_budget: float = 0.0
    paused: bool = False
