"""Fréchet distance between Gaussians fitted to two feature sets (the FID formula of Heusel et al.,
"GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", 2017).

‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½), through symmetric eigendecompositions (stable,
no complex parts to discard). The covariance of d features needs well over d samples to be
estimated at all — below d it is singular and the number is mostly bias (pytorch-fid#78) — so the
distance is computed only when both sets have at least ``MIN_SAMPLES_PER_DIM`` × d pictures;
otherwise the answer is None with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SAMPLES_PER_DIM = 2


@dataclass(frozen=True)
class Frechet:
    fd: float | None  # None when the sets are too small for it to mean anything
    reason: str = ""  # why fd is None


def frechet_distance_gaussians(mu1, sigma1, mu2, sigma2) -> float:
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = root1 @ s2 @ root1
    tr_cross = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * tr_cross)


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> Frechet:
    n, d = min(len(real), len(fake)), real.shape[1]
    need = MIN_SAMPLES_PER_DIM * d
    if n < need:
        return Frechet(
            None,
            f"Fréchet distance needs at least {need:,} pictures per set for {d} features; the smaller set has {n:,}.",
        )
    return Frechet(
        frechet_distance_gaussians(real.mean(0), np.cov(real, rowvar=False), fake.mean(0), np.cov(fake, rowvar=False))
    )
