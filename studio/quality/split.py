"""The held-out split: pictures a run never trains on, so that D's scores and the data-copying test
have something to compare the training pictures with (Karras et al., "Training Generative
Adversarial Networks with Limited Data", 2020, read D's overfitting off exactly such a split).

10% of a dataset is held out when it has at least ``HOLDOUT_MIN_IMAGES`` pictures (25 held out or
more). Below that, every picture matters more to the generator than to the measurement, and 10% of
a few dozen is too few to measure with anyway: small runs train on everything, and their
memorisation check uses D's confidence on the training pictures (r_t) alone.

The split is a pure function of the dataset's size, the fraction and the run's seed, so a resumed
run holds out exactly the pictures it held out before; the fraction is part of the run's config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.data.dataset import Dataset

HOLDOUT_MIN_IMAGES = 250


@dataclass(frozen=True)
class Split:
    train: Dataset  # what the run trains on
    heldout: Dataset | None  # None: nothing held out
    train_index: np.ndarray  # positions of train's pictures in the whole dataset (the "#123" people see)
    heldout_index: np.ndarray


def holdout_indices(n: int, fraction: float, seed: int) -> np.ndarray:
    """Sorted positions of the held-out pictures (empty for small sets or fraction 0)."""
    if fraction <= 0 or n < HOLDOUT_MIN_IMAGES:
        return np.zeros(0, np.int64)
    k = int(round(n * fraction))
    # Its own stream (seed, "holdout"), so the split does not move when other uses of the seed change.
    rng = np.random.default_rng([int(seed) % 2**32, 0x401D])
    return np.sort(rng.permutation(n)[:k])


def _subset(ds: Dataset, idx: np.ndarray) -> Dataset:
    return Dataset(
        name=ds.name,
        images=ds.images[idx],
        labels=None if ds.labels is None else ds.labels[idx],
        class_names=ds.class_names,
        flip=ds.flip,
        skipped=ds.skipped,
    )


def split_dataset(ds: Dataset, fraction: float, seed: int) -> Split:
    held = holdout_indices(len(ds), fraction, seed)
    if len(held) == 0:
        return Split(ds, None, np.arange(len(ds)), held)
    keep = np.setdiff1d(np.arange(len(ds)), held)
    return Split(_subset(ds, keep), _subset(ds, held), keep, held)


def training_split(cfg, ds: Dataset) -> Split:
    """The pictures a run trains on and the ones it holds out (none when its quality checks are off)."""
    return split_dataset(ds, cfg.holdout if cfg.quality else 0.0, cfg.seed)
