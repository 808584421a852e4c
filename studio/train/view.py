"""A run as a page shows it: the job manager's live state when it trains here, else its folder's.

``run_view`` is the one place that decides which source is the truth for a run at this moment, so
the Train page (and anything else that watches a run) only renders a :class:`RunView`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from studio.core.text import fmt_secs
from studio.train.ada import ada_sentence
from studio.train.config import RunConfig
from studio.train.runs import Run
from studio.train.state import RunState


@dataclass(frozen=True)
class RunView:
    run: Run
    cfg: RunConfig
    state: RunState
    step: int
    total: int  # the step count it trains to
    message: str
    images_per_s: float | None
    eta_s: float | None
    lr: dict  # {"lr_d", "lr_g"} while it trains here; {} otherwise
    queue_position: int  # 1 = next in line; 0 = not queued
    external: bool  # trained by another process (the CLI)
    can_resume: bool  # a checkpoint exists short of its total (or it was interrupted)
    rows: list  # logged metric rows
    grid: Path | None  # the newest fixed-noise grid
    grid_step: int | None
    quality: list = field(default_factory=list)  # studio.quality QualityRow per scored snapshot
    alerts: list = field(default_factory=list)  # studio.quality Alert: what the histories say now

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def ada_sentence(self) -> str:
        """Adaptive augmentation's state in plain words, from the last logged ``ada_p`` ("" without ADA):
        "The judge is memorising your pictures; augmenting 34% of them to stop it." """
        return ada_sentence(self.rows, self.cfg.ada_target) if self.cfg.ada == "on" else ""

    def progress(self) -> tuple[float, str]:
        """(fraction done, "Step 120 of 2,000 · ETA 1 min 05 s · 850 images/s")."""
        total = max(int(self.total or self.cfg.steps), 1)
        parts = [f"Step {self.step:,} of {total:,}"]
        if self.eta_s is not None and self.state.is_active:
            parts.append(f"ETA {fmt_secs(self.eta_s)}")
        if self.images_per_s:
            parts.append(f"{self.images_per_s:,.0f} images/s")
        if self.state is RunState.QUEUED:
            parts.append(f"waiting in line (place {self.queue_position or 1})")
        return min(self.step / total, 1.0), " · ".join(parts)


def _step_of(sample: Path) -> int:
    return int(sample.stem.split("_")[1])


def _rows(manager, run: Run) -> list[dict]:
    reader = getattr(manager, "metrics", None)  # JobManager.metrics reads incrementally
    return reader(run) if reader is not None else run.read_metrics()


def run_view(manager, run_id: str) -> RunView:
    """The run ``run_id`` now: live from ``manager`` (a JobManager) while its job is active, else from disk."""
    run = Run(Path(run_id)) if run_id.startswith("/") else Run.open(run_id)
    cfg = run.config
    live = manager.status(run_id)
    if live is not None and live.state.is_active:
        rows = live.metrics or _rows(manager, run)
        grid, grid_step = live.grid_path, live.grid_step
        if grid is None and (latest := run.latest_sample()):  # resumed or forked: show where it stands
            grid, grid_step = latest, _step_of(latest)
        state, step, total, message = live.state, live.step, live.total, live.message
        ips, eta, lr, queue, external = live.images_per_s, live.eta_s, dict(live.lr), live.queue_position, False
    else:
        disk = run.status(manager.live_ids())
        rows = _rows(manager, run)
        grid = run.latest_sample()
        grid_step = _step_of(grid) if grid else None
        state, step, total, message = disk.state, disk.step, cfg.steps, disk.message
        ips = rows[-1].get("images_per_s") if rows else None
        eta, lr, queue, external = None, {}, 0, disk.external
    can_resume = (run.latest_checkpoint_step() or 0) < cfg.steps or state is RunState.INTERRUPTED
    from studio.quality import health_alerts, read_rows  # lazily: studio.quality imports train

    quality = read_rows(run.path)
    return RunView(
        run=run,
        cfg=cfg,
        state=state,
        step=int(step or 0),
        total=int(total or cfg.steps),
        message=message or "",
        images_per_s=ips,
        eta_s=eta,
        lr=lr,
        queue_position=queue,
        external=external,
        can_resume=can_resume,
        rows=rows,
        grid=grid,
        grid_step=grid_step,
        quality=quality,
        alerts=health_alerts(quality, rows, cfg.loss),
    )
