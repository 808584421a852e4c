"""Scoring a snapshot: generate pictures with its EMA generator, extract features, run every metric.

A :class:`Reference` holds what stays fixed for a run — its extractor, the features of its training
pictures (at most ``MAX_REAL`` of them, a fixed draw) and of its held-out pictures — so each
snapshot only costs the generated side. The generated pictures come from fixed latents (the run's
seed), the first 64 of them the preview grid's own, so snapshots are compared on the same noise.
``score_run`` fills in ``quality.jsonl`` for an existing run (``python -m studio metrics``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from studio.core.errors import StudioError
from studio.core.progress import Progress, report
from studio.quality import store
from studio.quality.copying import nearest
from studio.quality.features import extractor_for, get_extractor
from studio.quality.metric_main import MetricInputs, compute_metrics
from studio.quality.split import Split, training_split
from studio.train.config import RunConfig

MAX_REAL = 2000  # training pictures compared against (KID/PRDC cost grows with n²)
N_FAKE = 1000  # generated pictures per snapshot


@dataclass(frozen=True)
class Reference:
    features: str  # extractor name
    train: np.ndarray  # (n, d) features of (up to MAX_REAL) training pictures
    train_nn: np.ndarray  # (n,) nearest-other-training-picture distances
    heldout: np.ndarray | None  # (h, d) or None
    seed: int


def load_split(cfg: RunConfig) -> Split:
    """The run's dataset split as its training loop splits it."""
    from studio.data import load_dataset

    return training_split(cfg, load_dataset(cfg.dataset, cfg.image_size, cfg.channels))


def build_reference(cfg: RunConfig, split: Split, max_real: int = MAX_REAL) -> Reference:
    name = extractor_for(cfg.dataset, cfg.channels)
    ex = get_extractor(name)
    images = split.train.images
    if len(images) > max_real:
        pick = np.sort(np.random.default_rng([cfg.seed % 2**32, 0x4EA1]).permutation(len(images))[:max_real])
        images = images[pick]
    train = ex(images)
    held = ex(split.heldout.images) if split.heldout is not None else None
    return Reference(name, train, nearest(train, train, exclude_self=True)[1], held, cfg.seed)


def fake_latents(cfg: RunConfig, n: int = N_FAKE) -> tuple[np.ndarray, np.ndarray]:
    """Fixed latents for scoring: the preview grid's noise first, then more from the run's seed."""
    from studio.generate.latent import fixed_noise

    n_grid = cfg.grid_size * cfg.grid_size
    z = fixed_noise(cfg.seed, n_grid, cfg.z_dim)[:n]
    if n > len(z):
        more = np.random.default_rng([cfg.seed % 2**32, 0x2A7E]).standard_normal((n - len(z), cfg.z_dim))
        z = np.concatenate([z, more.astype(np.float32)])
    # Classes in turn, as the preview grid walks through them (latent.fixed_labels).
    y = (np.arange(n) % max(cfg.num_classes, 1)).astype(np.int32)
    return z.astype(np.float32), y


def score_images(ref: Reference, fake_images: np.ndarray, step: int, grid: int = 64) -> store.QualityRow:
    """One quality row from generated uint8 pictures."""
    t0 = time.perf_counter()
    fake = get_extractor(ref.features)(fake_images)
    fields = compute_metrics(MetricInputs(ref.train, fake, ref.heldout, ref.train_nn, grid, ref.seed))
    return store.QualityRow(
        step=int(step),
        features=ref.features,
        n_train=len(ref.train),
        n_fake=len(fake),
        n_heldout=0 if ref.heldout is None else len(ref.heldout),
        seconds=round(time.perf_counter() - t0, 3),
        **fields,
    )


def score_sampler(sampler, ref: Reference, cfg: RunConfig, n_fake: int = N_FAKE) -> store.QualityRow:
    t0 = time.perf_counter()
    z, y = fake_latents(cfg, n_fake)
    images = sampler.generate(z, y if cfg.conditional else None)  # the fast path, never predict
    row = score_images(ref, images, sampler.step, cfg.grid_size * cfg.grid_size)
    return replace(row, seconds=round(time.perf_counter() - t0, 3))


def score_run(run, progress: Progress = None, n_fake: int = N_FAKE) -> list[store.QualityRow]:
    """Score every snapshot of ``run`` not yet in its ``quality.jsonl``; returns the rows written.

    D is not part of a snapshot, so rows made here have no r_t or D scores (training writes them).
    """
    from studio.generate.sampling import Sampler
    from studio.train.runs import Run

    run = run if isinstance(run, Run) else Run.open(run)
    cfg = run.config
    todo = [s for s in run.snapshot_steps() if s not in store.scored_steps(run.path)]
    if not todo:
        report(progress, 1.0, "Every snapshot is scored already.")
        return []
    report(progress, 0.0, "Measuring the training pictures…")
    ref = build_reference(cfg, load_split(cfg))
    written, sampler = [], None
    for i, step in enumerate(todo):
        report(progress, i / len(todo), f"Scoring step {step} ({i + 1} of {len(todo)})")
        try:
            if sampler is None:
                sampler = Sampler(run, step)
            else:
                sampler.G.load_weights(str(run.snapshot_path(step)))
                sampler.step = step
        except StudioError:
            continue  # pruned while we worked: nothing left to score
        row = score_sampler(sampler, ref, cfg, n_fake)
        if store.append_row(run.path, row):
            written.append(row)
    report(progress, 1.0, f"Scored {len(written)} snapshot(s).")
    return written
