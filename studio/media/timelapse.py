"""Training timelapses: every snapshot of a run as a frame, its fixed-noise grid or one latent.

Holding the inputs fixed while the weights change is what makes a training timelapse readable:
the grid frames are the run's fixed-noise samples (the same latents at every snapshot, as in
StyleGAN's ``fakes*.png`` series, Karras et al. 2019), and a latent timelapse renders one chosen z
through every snapshot of the generator (through a :class:`~studio.generate.bank.SnapshotBank`).
"""

from __future__ import annotations

import numpy as np

from studio.core.errors import StudioError
from studio.core.progress import Progress
from studio.core.progress import report as _report
from studio.generate.bank import SnapshotBank


def timelapse_frames(
    run,
    kind: str = "grid",
    z: np.ndarray | None = None,
    label: int | None = None,
    progress: Progress = None,
    bank: SnapshotBank | None = None,
) -> tuple[list[np.ndarray], list[int]]:
    """Every snapshot of ``run`` as a frame: its fixed-noise grid (``"grid"``) or one latent (``"latent"``).

    ``run`` is a ``runs.Run`` or a path. For ``"latent"``, ``z`` is the latent (z_dim,) held fixed
    across time (default: the latent of seed 0) and ``label`` its class for conditional models;
    ``bank`` reuses a ``SnapshotBank`` (and the weights it already holds) instead of a fresh one.
    Returns (frames as uint8 (H,W,C), their steps).
    """
    from studio.train.runs import Run

    run = run if isinstance(run, Run) else Run.open(run)
    steps = run.snapshot_steps()
    if not steps:
        raise StudioError(f"The run '{run.id}' has no snapshots yet: let it train a little longer.")
    if kind == "grid":
        return _grid_frames(run, steps, progress), steps
    if kind == "latent":
        return _latent_frames(bank or SnapshotBank(run, max_bytes=0), steps, z, label, progress), steps
    raise StudioError(f"A timelapse is of the 'grid' or of a 'latent', not '{kind}'.")


def _grid_frames(run, steps: list[int], progress: Progress) -> list[np.ndarray]:
    from PIL import Image

    frames = []
    for i, s in enumerate(steps):
        path = run.sample_path(s)
        try:
            with Image.open(path) as im:
                frames.append(np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im, np.uint8))
        except OSError:
            raise StudioError(f"The sample grid of step {s} is missing or unreadable ({path.name}).") from None
        _report(progress, (i + 1) / len(steps), f"Reading grid {i + 1} of {len(steps)}")
    return frames


def _latent_frames(bank: SnapshotBank, steps: list[int], z, label, progress: Progress) -> list[np.ndarray]:
    from studio.generate.latent import seed_to_z

    z_dim = bank.z_dim
    z = seed_to_z(0, z_dim) if z is None else np.asarray(z, np.float32)
    z = z.reshape(1, -1)
    if z.shape[1] != z_dim:
        raise StudioError(f"This run's latents have {z_dim} numbers, not {z.shape[1]}.")
    frames = []
    for i, s in enumerate(steps):
        frames.append(bank.image(s, z[0], label))
        _report(progress, (i + 1) / len(steps), f"Rendering step {s} ({i + 1} of {len(steps)})")
    return frames
