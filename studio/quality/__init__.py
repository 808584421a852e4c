"""Training health: is the run getting better, has it collapsed, is it copying? (issue 13)

One module per concern, as stylegan2-ada-pytorch's ``metrics/``:

* ``features`` — offline feature extractors by name (``randconv``, ``digitnet``) and which one a run uses
* ``kid``, ``frechet``, ``prdc``, ``copying`` — the metrics' maths; ``metric_main`` registers them by name
* ``split`` — the held-out pictures a run never trains on; ``dscore`` — r_t and D's train/held-out gap
* ``scoring`` — one snapshot → one row; ``score_run`` for an existing run (``python -m studio metrics``)
* ``monitor`` — the background worker the training loop hands each snapshot to
* ``store`` — ``quality.jsonl``; ``alerts`` — plain-language alerts; ``neighbours`` — nearest training pictures

The functions below are what the pages and the CLI call. None of this imports TensorFlow until it
has to compute features or generate pictures.
"""

from __future__ import annotations

from studio.quality.alerts import Action, Alert, AlertKind, best_row, best_why, health_alerts
from studio.quality.neighbours import NeighbourReport, TrainingIndex
from studio.quality.store import QualityRow, read_rows


def _run(run):
    from studio.train.runs import Run

    return run if isinstance(run, Run) else Run.open(run)


def quality_history(run) -> list[QualityRow]:
    """Every scored snapshot of ``run`` (a Run, a folder or a run id), by step."""
    return read_rows(_run(run).path)


def best_snapshot(run, existing_only: bool = True) -> QualityRow | None:
    """The best-scored row (``alerts.best_row``: the lowest KID, or once KID is within noise of 0 the
    latest snapshot there; in the latest rows' features; step 0 only if alone); with
    ``existing_only``, among snapshots still on disk (older ones are thinned out as a run grows). None before any score."""
    r = _run(run)
    rows = [x for x in quality_history(r) if x.kid is not None]
    if not rows:
        return None
    rows = [x for x in rows if x.features == rows[-1].features]
    # Step 0 is the untrained generator: in a short run its KID can undercut the first trained
    # snapshots (the EMA is still catching up), but it is never the picture anyone wants.
    rows = [x for x in rows if x.step > 0] or rows
    if existing_only:
        kept = set(r.snapshot_steps())
        rows = [x for x in rows if x.step in kept]
    return best_row(rows)


def resume_point(run, step: int) -> int | None:
    """The full checkpoint to go on from for the snapshot at ``step``: the latest one at or before
    it, if it is near (within one checkpoint interval); None when no kept checkpoint is (only the
    newest few checkpoints are kept, while snapshots span the whole run)."""
    r = _run(run)
    before = [c for c in r.checkpoint_steps() if c <= step]
    if not before or step - before[-1] > max(r.config.checkpoint_every, r.config.snapshot_every):
        return None
    return before[-1]


def alerts_for(run) -> list[Alert]:
    """The health alerts of ``run`` now, from its quality.jsonl and metrics.jsonl ([] if healthy)."""
    r = _run(run)
    return health_alerts(quality_history(r), r.read_metrics(), r.config.loss)


def training_index(run) -> TrainingIndex:
    """The run's training pictures and their features, for nearest-picture questions (cache it)."""
    return TrainingIndex.for_run(_run(run))


def nearest_training_images(run, image, k: int = 3, index: TrainingIndex | None = None) -> NeighbourReport:
    """The ``k`` training pictures nearest to ``image`` (uint8 H×W×C) in pixels and in features,
    with distances and a verdict ("Close to training image #123 — likely a copy.")."""
    return (index or training_index(run)).nearest(image, k)


def score_run(run, progress=None) -> list[QualityRow]:
    """Fill in quality.jsonl for every snapshot not scored yet; returns the new rows."""
    from studio.quality.scoring import score_run as _score_run

    return _score_run(_run(run), progress)


__all__ = [
    "Action",
    "Alert",
    "AlertKind",
    "NeighbourReport",
    "QualityRow",
    "TrainingIndex",
    "alerts_for",
    "best_snapshot",
    "best_why",
    "nearest_training_images",
    "quality_history",
    "resume_point",
    "score_run",
    "training_index",
]
