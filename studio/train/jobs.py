"""The process-wide job manager: background training threads and their thread-safe status.

The Streamlit app gets one ``JobManager`` per server process (through ``st.cache_resource``) and
every browser session talks to it; the CLI does not need it. Training runs in a ``threading.Thread``
that calls the engine's loop through its hooks and never touches any UI. Pages poll ``status()``.

Scheduling: one job trains at a time by default (2-core machines: two jobs would each run at half
speed and both feel broken). A second start is *queued*: its run folder exists at once, its status
says "queued" with its place in line, and it starts when the one before it ends.

Disk stays the truth: each job writes status.json, metrics.jsonl, checkpoints and snapshots as it
goes, so a restarted server shows the runs it lost as "interrupted" and resumes them from their
last checkpoint (``resume_run``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from studio.core.errors import StudioError
from studio.core.paths import check_room
from studio.train.config import RunConfig, resume_settings
from studio.train.metrics import History, MetricsTail
from studio.train.runs import Run, list_runs
from studio.train.state import JobStatus, RunState, RunSummary


@dataclass
class Job:
    run: Run
    total: int
    resume: bool = False
    lr_from_config: bool = False
    state: RunState = RunState.QUEUED
    step: int = 0
    message: str = ""
    metrics: History = field(default_factory=History)  # bounded, evenly thinned over the whole run
    grid_path: Path | None = None
    grid_step: int | None = None
    images_per_s: float = 0.0
    eta_s: float | None = None
    time_budget: float = 0.0
    started: float = 0.0
    first_grid_at: float | None = None
    lr: dict = field(default_factory=dict)
    thread: threading.Thread | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    run_event: threading.Event = field(default_factory=threading.Event)  # set = not paused
    pending_lr: dict | None = None
    notice: str = ""  # a sentence from the loop the person should see (e.g. it fell back a checkpoint)

    def __post_init__(self):
        self.run_event.set()


class JobManager:
    def __init__(self, max_concurrent: int = 1):
        self.max_concurrent = max_concurrent
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._queue: list[str] = []
        self._tails: dict[str, MetricsTail] = {}  # metrics.jsonl readers for runs watched from disk

    # ---- starting ---------------------------------------------------------------
    def start(self, cfg: RunConfig, run_dir: Path | str | None = None) -> str:
        """Create a run folder for ``cfg`` and train it in the background (or queue it). Returns the run id."""
        from studio.train.loop import new_run

        run = new_run(cfg, run_dir)
        return self._submit(Job(run=run, total=run.config.steps, time_budget=run.config.time_budget))

    def resume_run(
        self,
        run_id: str,
        steps: int | None = None,
        time_budget: float | None = None,
        lr_d: float | None = None,
        lr_g: float | None = None,
    ) -> str:
        """Continue a stopped, finished or interrupted run from its latest checkpoint."""
        with self._lock:
            job = self._jobs.get(run_id)
            if job and job.state.is_active:
                raise StudioError("This run is already training (or waiting its turn).")
        run = self._open(run_id)
        check_room(run.path, "resume a run")
        cfg = run.config
        new_cfg, lr_change = resume_settings(
            cfg, flag=lambda name: name, steps=steps, time_budget=time_budget, lr_d=lr_d, lr_g=lr_g
        )
        ckpt = run.latest_checkpoint_step() or 0
        if ckpt >= new_cfg.steps:
            raise StudioError(
                f"This run already finished its {new_cfg.steps} steps. Raise the step count to train further."
            )
        if new_cfg != cfg:
            run.write_config(new_cfg.validate())
        run.write_status(RunState.QUEUED, ckpt)
        return self._submit(
            Job(
                run=run,
                total=new_cfg.steps,
                resume=True,
                lr_from_config=lr_change,
                step=ckpt,
                time_budget=new_cfg.time_budget,
            )
        )

    def fork(
        self,
        run_id: str,
        step: int | None = None,
        lr_d: float | None = None,
        lr_g: float | None = None,
        start: bool = True,
    ) -> str:
        """A new run continuing from a full checkpoint of ``run_id``; trains at once unless ``start=False``."""
        from studio.train.loop import fork_run

        new = fork_run(self._open(run_id), step, lr_d, lr_g)
        if start:
            new.write_status(RunState.QUEUED, new.latest_checkpoint_step() or 0)
            self._submit(
                Job(
                    run=new,
                    total=new.config.steps,
                    resume=True,
                    lr_from_config=True,
                    step=new.latest_checkpoint_step() or 0,
                    time_budget=new.config.time_budget,
                )
            )
        return new.id

    def _open(self, run_id: str) -> Run:
        with self._lock:
            if run_id in self._jobs:
                return self._jobs[run_id].run
        return Run.open(run_id)

    def _submit(self, job: Job) -> str:
        with self._lock:
            rid = job.run.id
            old = self._jobs.get(rid)
            if old and old.state.is_active:
                raise StudioError("This run is already training (or waiting its turn).")
            job.state = RunState.QUEUED
            job.message = "Waiting for the current training to finish."
            self._jobs[rid] = job
            self._queue.append(rid)
            self._start_next()
            return rid

    def _start_next(self):
        with self._lock:
            while self._queue and self._running_count() < self.max_concurrent:
                rid = self._queue.pop(0)
                job = self._jobs[rid]
                if job.state is not RunState.QUEUED:
                    continue
                job.state, job.message, job.started = (
                    RunState.STARTING,
                    "Loading the data and building the models…",
                    time.time(),
                )
                job.thread = threading.Thread(target=self._work, args=(job,), name=f"train-{rid}", daemon=True)
                job.thread.start()

    def _running_count(self) -> int:
        return sum(1 for j in self._jobs.values() if j.state.is_training)

    # ---- the training thread ----------------------------------------------------
    def _work(self, job: Job):
        from studio.train.loop import Hooks, train_run

        def on_start(run, step):
            with self._lock:
                if job.state is RunState.STARTING:
                    job.state = RunState.PAUSED if not job.run_event.is_set() else RunState.RUNNING
                job.step = step
                job.message = job.notice
                if step and not job.metrics:
                    job.metrics.extend(run.read_metrics())

        def on_progress(step, row):
            with self._lock:
                job.step = step
                job.metrics.append(row)
                job.images_per_s = row.get("images_per_s", 0.0)
                job.lr = {"lr_d": row.get("lr_d"), "lr_g": row.get("lr_g")}
                sps = row.get("steps_per_s") or 0.0
                eta = (job.total - step) / sps if sps > 0 else None
                if job.time_budget and job.started:
                    left = max(job.time_budget - (time.time() - job.started), 0.0)
                    eta = left if eta is None else min(eta, left)
                job.eta_s = eta

        def on_snapshot(step, path):
            with self._lock:
                job.grid_path, job.grid_step = path, step
                if job.first_grid_at is None:
                    job.first_grid_at = time.time()

        def wait_if_paused():
            if not job.run_event.is_set():
                job.run.write_status(RunState.PAUSED, job.step, "Paused.")
                while not job.run_event.wait(0.2):
                    if job.stop_event.is_set():
                        return

        def pending_lr():
            with self._lock:
                lr, job.pending_lr = job.pending_lr, None
                return lr

        def on_notice(text):
            with self._lock:
                job.notice = text

        hooks = Hooks(
            on_start=on_start,
            on_notice=on_notice,
            on_progress=on_progress,
            on_snapshot=on_snapshot,
            should_stop=job.stop_event.is_set,
            wait_if_paused=wait_if_paused,
            pending_lr=pending_lr,
        )
        try:
            result = train_run(job.run, hooks, resume=job.resume, lr_from_config=job.lr_from_config)
            with self._lock:
                job.state, job.step, job.message = RunState.parse(result.state), result.step, result.message
                job.eta_s = None
        except StudioError as e:
            self._fail(job, str(e))
        except Exception as e:  # noqa: BLE001 - never a silently dead thread
            traceback.print_exc()
            self._fail(job, f"Training failed unexpectedly: {type(e).__name__}: {e}")
        finally:
            self._start_next()

    def _fail(self, job: Job, message: str):
        with self._lock:
            job.state, job.message, job.eta_s = RunState.FAILED, message, None
        try:
            job.run.write_status(RunState.FAILED, job.step, message)
        except OSError:
            pass

    # ---- controls -----------------------------------------------------------------
    def _job(self, run_id: str) -> Job:
        job = self._jobs.get(run_id)
        if job is None:
            raise StudioError("That run is not training in this studio session; resume it first.")
        return job

    def _ask_other_process(self, run_id: str, action: str) -> bool:
        """A run trained by another process (the CLI) gets ``action`` as a request it polls; False if
        no live process trains it."""
        if run_id in self._jobs:
            return False
        try:
            run = Run.open(run_id)
        except StudioError:
            return False
        if not run.status(self.live_ids()).external:
            return False
        run.request(action)
        return True

    def pause(self, run_id: str) -> None:
        if self._ask_other_process(run_id, "pause"):
            return
        with self._lock:
            job = self._job(run_id)
            if not (job.state.can_pause or job.state is RunState.QUEUED):
                raise StudioError(f"Only a running job can be paused (this one is {job.state}).")
            job.run_event.clear()
            if job.state is RunState.RUNNING:
                job.state, job.message = RunState.PAUSED, "Paused. Press Resume to go on."

    def resume(self, run_id: str) -> None:
        """Unpause a paused job (to continue a finished or interrupted run, see ``resume_run``)."""
        if self._ask_other_process(run_id, "resume"):
            return
        with self._lock:
            job = self._job(run_id)
            if job.state is not RunState.PAUSED and job.run_event.is_set():
                raise StudioError(f"This job is not paused (it is {job.state}).")
            job.run_event.set()
            if job.state is RunState.PAUSED:
                job.state, job.message = RunState.RUNNING, ""
            job.run.write_status(job.state, job.step)

    def stop(self, run_id: str) -> None:
        """Stop after the current step; the loop writes a final checkpoint and snapshot first."""
        if self._ask_other_process(run_id, "stop"):
            return
        with self._lock:
            job = self._job(run_id)
            if job.state is RunState.QUEUED:
                self._queue.remove(run_id)
                job.state, job.message = RunState.STOPPED, "Removed from the queue before it started."
                job.run.write_status(RunState.STOPPED, job.step, job.message)
                return
            if not job.state.can_stop:
                raise StudioError(f"This job is not training (it is {job.state}).")
            job.state, job.message = RunState.STOPPING, "Stopping: writing a final checkpoint…"
            job.stop_event.set()
            job.run_event.set()

    def set_learning_rates(self, run_id: str, lr_d: float | None = None, lr_g: float | None = None) -> None:
        for v in (lr_d, lr_g):
            if v is not None and not 0 < v < 1:
                raise StudioError("Learning rates must be between 0 and 1.")
        with self._lock:
            job = self._job(run_id)
            if not job.state.is_active:
                raise StudioError("The learning rate can only change while the run trains.")
            job.pending_lr = {
                **(job.pending_lr or {}),
                **{k: v for k, v in (("lr_d", lr_d), ("lr_g", lr_g)) if v is not None},
            }

    def delete(self, run_id: str) -> None:
        with self._lock:
            job = self._jobs.get(run_id)
            if job and job.state.is_active:
                raise StudioError("Stop this run before deleting it.")
            run = self._open(run_id)
            st = run.status(self.live_ids())
            if st.external:
                raise StudioError("Another process (the command line?) is training this run; stop it there first.")
            self._jobs.pop(run_id, None)
        run.delete()

    # ---- reading --------------------------------------------------------------------
    def live_ids(self) -> set[str]:
        with self._lock:
            return {rid for rid, j in self._jobs.items() if j.state.is_active}

    def active_id(self) -> str | None:
        """The job training now (or the first in line), if any."""
        with self._lock:
            for rid, j in self._jobs.items():
                if j.state.is_training:
                    return rid
            return self._queue[0] if self._queue else None

    def status(self, run_id: str, history: bool = True) -> JobStatus | None:
        """A copy of the job's state, safe to read from any thread; None if this process never ran it."""
        with self._lock:
            job = self._jobs.get(run_id)
            if job is None:
                return None
            return JobStatus(
                run_id=run_id,
                state=job.state,
                step=job.step,
                total=job.total,
                message=job.message,
                images_per_s=job.images_per_s,
                eta_s=job.eta_s,
                grid_path=job.grid_path,
                grid_step=job.grid_step,
                lr=dict(job.lr),
                queue_position=(self._queue.index(run_id) + 1) if run_id in self._queue else 0,
                metrics=job.metrics.snapshot() if history else [],
                started=job.started,
                first_grid_at=job.first_grid_at,
                time_budget=job.time_budget,
                paused=not job.run_event.is_set(),
            )

    def runs(self, root: Path | str | None = None) -> list[RunSummary]:
        """Every run on disk with its summary (dead 'running' runs shown as 'interrupted')."""
        live = self.live_ids()
        out = []
        for r in list_runs(root):
            try:
                s = r.summary(live)
            except StudioError:
                continue
            st = self.status(r.id, history=False)
            if st:
                s = dataclasses.replace(s, state=st.state, step=st.step, message=st.message or s.message)
            out.append(s)
        return out

    def metrics(self, run: Run) -> list[dict]:
        """A run's logged rows (bounded, evenly thinned), reading only what was appended since the
        last call: pages poll this every second for runs trained by another process."""
        with self._lock:
            tail = self._tails.get(str(run.path))
            if tail is None:
                if len(self._tails) > 64:  # runs looked at once and left: start over rather than grow
                    self._tails.clear()
                tail = self._tails[str(run.path)] = MetricsTail(run.metrics_path)
        return tail.read()

    def wait(self, run_id: str, timeout: float | None = None) -> dict | None:
        """Block until the job ends (tests and scripts)."""
        deadline = None if timeout is None else time.time() + timeout
        while True:
            st = self.status(run_id, history=False)
            if st is None or not st.state.is_active:
                return st
            if deadline is not None and time.time() > deadline:
                return st
            time.sleep(0.05)
