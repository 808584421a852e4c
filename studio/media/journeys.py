"""Journeys through the latent space: a path of latents, drawn in chunks and encoded as GIF and MP4.

Two kinds of path: between two seeds along the great circle (spherical interpolation, White 2016)
and along one GANSpace direction around a picture. A looping journey goes there and back, so the
GIF plays as one seamless cycle (``latent.slerp_path`` / ``line_path``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.progress import Progress
from studio.core.progress import report as _report
from studio.generate.directions import Directions
from studio.generate.latent import line_path, seed_to_z, slerp_path, truncate
from studio.media.animation import gif_bytes, mp4_bytes

CHUNK = 64  # latents drawn per generator call: bounded memory, steady progress


@dataclass(frozen=True)
class Journey:
    title: str  # "seed 1 to seed 2", "direction 3, ±2.5σ"
    zs: np.ndarray  # (n, z_dim) float32, the path
    label: int | None
    fps: int
    frames: list  # uint8 (H, W, C) per latent
    gif: bytes
    mp4: bytes


def between_seeds(z_dim: int, a: int, b: int, psi: float, n_frames: int, loop: bool) -> tuple[np.ndarray, str]:
    za, zb = truncate(seed_to_z(int(a), z_dim), psi), truncate(seed_to_z(int(b), z_dim), psi)
    return slerp_path(za, zb, int(n_frames), loop), f"seed {int(a)} to seed {int(b)}"


def along_direction(
    start: np.ndarray, dirs: Directions, d: int, reach: float, n_frames: int, loop: bool
) -> tuple[np.ndarray, str]:
    direction = dirs.directions[d] * dirs.stds[d]
    zs = line_path(start, direction, -float(reach), float(reach), int(n_frames), loop)
    return zs, f"direction {d + 1}, ±{float(reach):g}σ"


def draw_frames(sampler, zs: np.ndarray, label: int | None, progress: Progress = None) -> list[np.ndarray]:
    """Every latent of the path drawn, ``CHUNK`` at a time."""
    frames = []
    for i in range(0, len(zs), CHUNK):
        chunk = zs[i : i + CHUNK]
        frames.append(sampler.generate(chunk, None if label is None else np.full(len(chunk), label, np.int32)))
        done = min(i + CHUNK, len(zs))
        _report(progress, done / len(zs), f"Drawing frame {done} of {len(zs)}")
    return list(np.concatenate(frames))


def make_journey(
    sampler,
    zs: np.ndarray,
    title: str,
    label: int | None,
    fps: int,
    scale_to: int,
    progress: Progress = None,
) -> Journey:
    """Draw the path and encode it as a looping GIF and an MP4 (progress: 40% drawing, 60% encoding)."""
    frames = draw_frames(sampler, zs, label, lambda f, t: _report(progress, 0.4 * f, t))
    gif = gif_bytes(
        frames, fps=float(fps), loop=True, scale_to=scale_to, progress=lambda f, t: _report(progress, 0.4 + 0.3 * f, t)
    )
    mp4 = mp4_bytes(
        frames, fps=float(fps), scale_to=scale_to, progress=lambda f, t: _report(progress, 0.7 + 0.3 * f, t)
    )
    return Journey(title=title, zs=zs, label=label, fps=int(fps), frames=frames, gif=gif, mp4=mp4)
