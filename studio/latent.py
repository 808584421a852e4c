"""Latent space helpers: seed -> z, fixed preview noise, spherical interpolation, truncation.

Seeds map to latents through NumPy's PCG64 generator, whose stream is the same on every platform,
so "seed 42" names the same point on any machine (StyleGAN's generate.py does the same).
"""

from __future__ import annotations

import numpy as np


def seed_to_z(seed: int, z_dim: int) -> np.ndarray:
    """The latent for ``seed``: float32 (z_dim,), standard normal."""
    return np.random.default_rng(int(seed)).standard_normal(z_dim).astype(np.float32)


def fixed_noise(seed: int, n: int, z_dim: int) -> np.ndarray:
    """The preview latents of a run: fixed once from the run's seed so grids compare across time."""
    return np.random.default_rng([int(seed), 0x5EED]).standard_normal((n, z_dim)).astype(np.float32)


def fixed_labels(n: int, num_classes: int) -> np.ndarray:
    """Preview labels: class i % num_classes, so each grid row walks through the classes."""
    return (np.arange(n) % max(num_classes, 1)).astype(np.int32)


def truncate(z: np.ndarray, psi: float, mean: np.ndarray | None = None) -> np.ndarray:
    """The truncation trick (Brock et al. 2019 / Karras et al. 2019): pull z towards the mean by psi."""
    m = np.zeros_like(z) if mean is None else mean
    return (m + psi * (z - m)).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White, "Sampling Generative Networks", 2016).

    Follows the great circle between a and b with the norm interpolated linearly, so midpoints keep
    the typical norm of a Gaussian latent instead of collapsing towards the origin as lerp does.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    ua, ub = a / max(na, 1e-12), b / max(nb, 1e-12)
    omega = np.arccos(np.clip(np.dot(ua, ub), -1.0, 1.0))
    tt = t[..., None] if t.ndim else t
    if omega < 1e-6:
        direction = (1 - tt) * ua + tt * ub
    else:
        so = np.sin(omega)
        direction = np.sin((1 - tt) * omega) / so * ua + np.sin(tt * omega) / so * ub
    norm = (1 - tt) * na + tt * nb
    return (direction * norm).astype(np.float32)
