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


# ---- Explore page helpers (appended; the functions above keep their signatures) ----------------

MAX_SEED = 2**31 - 1  # seeds an artist can type: what fits a 32-bit signed int, as StyleGAN allows


def random_seed(rng: np.random.Generator | None = None) -> int:
    """A fresh seed for "Surprise me" (from OS entropy unless ``rng`` is given)."""
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.integers(0, MAX_SEED + 1))


def add_offsets(z: np.ndarray, offsets: dict[int, float] | None) -> np.ndarray:
    """``z`` (z_dim,) with ``offsets[i]`` added to dimension i (the Explore page's dimension sliders)."""
    out = np.array(z, np.float32, copy=True).reshape(-1)
    for i, v in (offsets or {}).items():
        i = int(i)
        if not 0 <= i < out.size:
            raise IndexError(f"latent dimension {i} out of range for z_dim {out.size}")
        out[i] += np.float32(v)
    return out


def _loop_times(n_frames: int, loop: bool) -> np.ndarray:
    """``n_frames`` times in [0, 1]; with ``loop`` a there-and-back triangle wave, one full cycle.

    A looping GIF jumps from its last frame to its first, so a there-and-back path at constant speed
    (0 → 1 → just before 0) plays as one seamless cycle instead of snapping back. With an even
    frame count the far end is reached exactly.
    """
    n = int(n_frames)
    if n < 2:
        raise ValueError("a journey needs at least 2 frames")
    if not loop:
        return np.linspace(0.0, 1.0, n)
    return 1.0 - np.abs(1.0 - 2.0 * np.arange(n) / n)


def slerp_path(a: np.ndarray, b: np.ndarray, n_frames: int, loop: bool = False) -> np.ndarray:
    """Latents (n, z_dim) along the great circle from ``a`` to ``b`` (and back when ``loop``)."""
    t = _loop_times(n_frames, loop)
    return np.stack([slerp(a, b, float(ti)) for ti in t]).astype(np.float32)


def line_path(
    z: np.ndarray, direction: np.ndarray, lo: float, hi: float, n_frames: int, loop: bool = False
) -> np.ndarray:
    """Latents (n, z_dim): ``z + s * direction`` for s from ``lo`` to ``hi`` (and back when ``loop``)."""
    t = _loop_times(n_frames, loop)
    s = lo + (hi - lo) * t
    z = np.asarray(z, np.float32).reshape(1, -1)
    d = np.asarray(direction, np.float32).reshape(1, -1)
    return (z + s[:, None].astype(np.float32) * d).astype(np.float32)


def variation_latents(z: np.ndarray, seed: int, n: int, strength: float = 0.5) -> np.ndarray:
    """``n`` latents (n, z_dim) near ``z``: the first is ``z`` itself, the others ``z + strength * noise``.

    The noise comes from ``seed`` (PCG64), so "variations of seed 42" are the same everywhere.
    """
    z = np.asarray(z, np.float32).reshape(1, -1)
    noise = np.random.default_rng([int(seed), 0xA11A]).standard_normal((int(n), z.shape[1])).astype(np.float32)
    noise[0] = 0.0
    return (z + np.float32(strength) * noise).astype(np.float32)
