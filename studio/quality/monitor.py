"""The background monitor: scores each new snapshot while training goes on.

The training loop hands it a snapshot step (and D's scores of training and held-out pictures, which
must be taken in the training thread); a worker thread loads the snapshot into a generator of its
own (``generate.sampling.Sampler``, the fast path), generates ``N_FAKE`` pictures from fixed latents,
extracts their features and compares them with the run's training pictures, whose features it
computed once at start, then appends the row to ``quality.jsonl``.

Training has priority. The worker keeps its share of wall-clock time to ``DUTY`` (after a job of t
seconds it rests t·(1/DUTY − 1)), so on a machine whose cores training keeps busy the run slows by at
most about that share (benchmarks/quality_overhead.py measures it). When snapshots come faster than
that, the newest is scored first (the live curve stays current) and the older ones wait in a
backlog, with D's scores taken when they were made. At the end of a run, ``close`` scores the whole
backlog without resting — up to ``CLOSE_BUDGET_S`` seconds; anything still left then is listed in
``skipped`` for ``python -m studio metrics`` — before the run reports that it finished.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from dataclasses import replace

from studio.quality import store
from studio.quality.dscore import DScorer
from studio.quality.scoring import N_FAKE, build_reference, score_sampler
from studio.quality.split import Split, training_split  # noqa: F401 - the loop imports it from here

DUTY = 0.1
MAX_PENDING = 3  # waiting snapshots scored newest first while training; older ones go to the backlog
CLOSE_BUDGET_S = 120.0  # at the end of a run, how long scoring the backlog may hold the run up
STOP_BUDGET_S = 10.0  # the same after the person pressed Stop: they want it over


class QualityMonitor:
    def __init__(self, run, cfg, split: Split, start_step: int, n_fake: int = N_FAKE, duty: float = DUTY):
        self.run, self.cfg, self.split, self.n_fake, self.duty = run, cfg, split, n_fake, duty
        # A resumed run: rows scored after the checkpoint it resumes from describe snapshots that
        # no longer exist (the loop drops them), and those steps will be trained and scored again.
        store.truncate_quality(run.path, start_step)
        self._scored = store.scored_steps(run.path)
        self._dscorer = DScorer(cfg, split.train, split.heldout)
        self._pending: deque = deque()
        self._backlog: list = []  # (step, d_stats) left behind while training; scored at close
        self._close_deadline: float | None = None
        self._cv = threading.Condition()
        self._closing = False
        self._busy = False
        self._owner = threading.current_thread()
        self.error: str | None = None  # the first failure; the monitor then stops scoring, training goes on
        self.skipped: list[int] = []  # steps left unscored at the end (``python -m studio metrics`` fills them)
        self._thread = threading.Thread(target=self._work, name=f"quality-{run.id}", daemon=True)
        self._thread.start()

    # ---- the training thread's side -------------------------------------------------
    def snapshot(self, step: int, D=None) -> None:
        """Queue ``step``'s snapshot; ``D`` (the live discriminator) is read now, in this thread."""
        if step in self._scored or self.error:
            return
        d_stats = self._dscorer(D) if D is not None else {}
        with self._cv:
            self._pending.append((int(step), d_stats))
            while len(self._pending) > MAX_PENDING:
                self._backlog.append(self._pending.popleft())
            self._cv.notify_all()

    def waiting(self) -> int:
        """How many snapshots are still to be scored (waiting and in the backlog)."""
        with self._cv:
            return len(self._pending) + len(self._backlog)

    def close(self, budget_s: float = CLOSE_BUDGET_S, timeout: float | None = 300.0) -> None:
        """Score what is waiting, then the backlog for up to ``budget_s`` seconds (without resting),
        then stop the worker."""
        with self._cv:
            self._closing = True
            self._close_deadline = time.monotonic() + budget_s
            self._cv.notify_all()
        self._thread.join(timeout)
        with self._cv:
            self.skipped = sorted(s for s, _ in [*self._backlog, *self._pending] if s not in self._scored)

    def idle(self) -> bool:
        with self._cv:
            return not self._pending and not self._busy

    # ---- the worker -------------------------------------------------------------------
    def _next(self):
        with self._cv:
            while not self._pending:
                if self._closing and self._backlog and time.monotonic() < self._close_deadline:
                    self._busy = True
                    return self._backlog.pop()  # newest of the backlog first
                # Ends with the loop: on close, or if the training thread died without closing.
                if self._closing or not self._owner.is_alive():
                    return None
                self._cv.wait(1.0)
            self._busy = True
            return self._pending.pop()  # the newest first: the live curve stays current

    def _rest(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        with self._cv:
            while not self._closing and self._owner.is_alive() and time.monotonic() < end:
                self._cv.wait(min(1.0, end - time.monotonic()))

    def _work(self) -> None:
        ref, sampler = None, None
        while True:
            job = self._next()
            if job is None:
                return
            step, d_stats = job
            t0 = time.monotonic()
            try:
                if ref is None:
                    ref = build_reference(self.cfg, self.split)
                loaded = self._load(sampler, step)
                if loaded is not None:
                    sampler = loaded
                    row = replace(score_sampler(sampler, ref, self.cfg, self.n_fake), **d_stats)
                    if store.append_row(self.run.path, row):
                        self._scored.add(step)
            except Exception as e:  # noqa: BLE001 - a broken measurement must never stop training
                self.error = f"Quality scoring stopped at step {step}: {e}"
                print(self.error, file=sys.stderr)
                return
            finally:
                with self._cv:
                    self._busy = False
            self._rest((time.monotonic() - t0) * (1.0 / self.duty - 1.0))

    def _load(self, sampler, step: int):
        """A Sampler on ``step``'s snapshot, reusing the last one's generator; None if it was pruned."""
        from studio.core.errors import StudioError
        from studio.generate.sampling import Sampler

        try:
            if sampler is None:
                return Sampler(self.run, step)
            sampler.G.load_weights(str(self.run.snapshot_path(step)))
            sampler.step = step
            return sampler
        except (StudioError, OSError):
            return None


def start_monitor(run, cfg, split: Split, start_step: int) -> QualityMonitor | None:
    """The run's monitor, or None when its config turns quality checks off."""
    return QualityMonitor(run, cfg, split, start_step) if cfg.quality else None
