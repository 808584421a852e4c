"""Improved precision and recall (Kynkäänniemi et al., "Improved Precision and Recall Metric for
Assessing Generative Models", NeurIPS 2019) and density and coverage (Naeem et al., "Reliable
Fidelity and Diversity Metrics for Generative Models", ICML 2020), from k-nearest-neighbour balls.

Each picture's ball reaches its k-th nearest neighbour in its own set (k = 3; the self-distance 0
is the first of k + 1). Precision: the share of generated pictures inside some real ball. Recall:
the share of real pictures inside some generated ball. Density: real balls holding each generated
picture, over k, averaged (1 for matching sets; can exceed 1). Coverage: the share of real balls
holding at least one generated picture. Distances are Euclidean in the feature space; "inside" is strictly closer than the
radius, as in the authors' own code (the ``prdc`` package).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K = 3


@dataclass(frozen=True)
class PRDC:
    precision: float
    recall: float
    density: float
    coverage: float


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances (len(a), len(b)), by the Gram trick (clipped at 0 against rounding)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(sq, 0.0, None))


def kth_neighbour_radii(x: np.ndarray, k: int = K) -> np.ndarray:
    """Distance from each point to its k-th nearest other point in the same set."""
    d = pairwise_distances(x, x)
    np.fill_diagonal(d, 0.0)  # the self-distance is the 0-th neighbour exactly
    return np.partition(d, k, axis=1)[:, k]


def prdc(real: np.ndarray, fake: np.ndarray, k: int = K) -> PRDC:
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    assert len(real) > k and len(fake) > k, f"each set needs more than k={k} pictures"
    r_real, r_fake = kth_neighbour_radii(real, k), kth_neighbour_radii(fake, k)
    d = pairwise_distances(real, fake)  # (n_real, n_fake)
    inside_real = d < r_real[:, None]  # fake j within real ball i
    precision = float(inside_real.any(axis=0).mean())
    recall = float((d < r_fake[None, :]).any(axis=1).mean())
    density = float(inside_real.sum(axis=0).mean() / k)
    coverage = float((d.min(axis=1) < r_real).mean())
    return PRDC(precision, recall, density, coverage)
