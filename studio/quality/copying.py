"""Is the generator copying its training pictures? Two scores from nearest-neighbour distances in
feature space, written with every quality row.

* The data-copying test C_T of Meehan, Chaudhuri and Dasgupta, "A Non-Parametric Test to Detect
  Data-Copying in Generative Models" (AISTATS 2020). It needs pictures the run never trained on (the
  held-out split). The training features are cut into cells (k-means); in each cell a Mann-Whitney
  U test asks whether generated pictures lie closer to the training set than held-out pictures do;
  the cells' z-scores are averaged, weighted by their share of held-out pictures, over cells with
  enough of both. C_T ≈ 0: as close as new real pictures; C_T ≪ 0 (below about −3): copying;
  C_T ≫ 0: farther than real pictures (not learned yet).
* Authenticity (Alaa et al., "How Faithful is your Synthetic Data?", ICML 2022): the share of
  generated pictures that are farther from their nearest training picture than that training picture
  is from its own nearest training neighbour. Needs no held-out split; the held-out pictures' own
  authenticity, when there is a split, is the value to expect of a generator that does not copy.
"""

from __future__ import annotations

import numpy as np

from studio.quality.prdc import pairwise_distances

MIN_PER_CELL = 5  # Mann-Whitney's normal approximation wants a handful on each side
PER_CELL = 20  # held-out pictures per k-means cell: k = held-out / 20, between 2 and 10


def nearest(a: np.ndarray, b: np.ndarray, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``: the index of and the distance to its nearest row of ``b``."""
    d = pairwise_distances(a, b)
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    idx = d.argmin(axis=1)
    return idx, d[np.arange(len(a)), idx]


def authenticity(train: np.ndarray, x: np.ndarray, train_nn: np.ndarray | None = None) -> float:
    if train_nn is None:
        train_nn = nearest(train, train, exclude_self=True)[1]
    idx, dist = nearest(x, train)
    return float((dist > train_nn[idx]).mean())


def kmeans(x: np.ndarray, k: int, seed: int = 0, iters: int = 25) -> np.ndarray:
    """Cell centres by Lloyd's algorithm from a k-means++ start (fixed seed: same cells every time)."""
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d2 = pairwise_distances(x, np.array(centres)).min(axis=1) ** 2
        centres.append(x[rng.choice(len(x), p=d2 / d2.sum())] if d2.sum() > 0 else x[rng.integers(len(x))])
    c = np.array(centres)
    for _ in range(iters):
        cell = pairwise_distances(x, c).argmin(axis=1)
        new = np.array([x[cell == j].mean(0) if (cell == j).any() else c[j] for j in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return c


def mann_whitney_z(gen: np.ndarray, held: np.ndarray) -> float:
    """z-score of U = #(generated distance > held-out distance), ties counted half: negative when
    the generated pictures sit closer to the training set."""
    from scipy.stats import rankdata  # scikit-learn's own dependency

    m, n = len(gen), len(held)
    ranks = rankdata(np.concatenate([gen, held]))  # ties get their average rank
    u = ranks[:m].sum() - m * (m + 1) / 2.0
    return float((u - m * n / 2.0) / np.sqrt(m * n * (m + n + 1) / 12.0))


def data_copying_ct(
    train: np.ndarray, heldout: np.ndarray, fake: np.ndarray, seed: int = 0
) -> tuple[float | None, str]:
    if len(heldout) < 2 * MIN_PER_CELL:
        return None, "The data-copying test needs held-out pictures; this run holds none out (too few images)."
    k = int(np.clip(len(heldout) // PER_CELL, 2, 10))
    centres = kmeans(train, k, seed)
    cell_h = pairwise_distances(heldout, centres).argmin(axis=1)
    cell_f = pairwise_distances(fake, centres).argmin(axis=1)
    d_h = nearest(heldout, train)[1]
    d_f = nearest(fake, train)[1]
    total, weight = 0.0, 0.0
    for j in range(k):
        h, f = d_h[cell_h == j], d_f[cell_f == j]
        if len(h) >= MIN_PER_CELL and len(f) >= MIN_PER_CELL:
            w = len(h) / len(heldout)
            total += w * mann_whitney_z(f, h)
            weight += w
    if weight == 0:
        return None, "No region of the pictures had enough generated and held-out pictures for the test."
    return total / weight, ""
