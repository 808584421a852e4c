"""The model itself as a file: a snapshot's generator saved as a standalone ``.keras`` model."""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import StudioError
from studio.core.paths import atomic_write_with, check_room
from studio.generate.sampling import Sampler
from studio.train.runs import Run


def export_generator(run: Run | Path | str, out: Path | str, step: int | str = "latest") -> Path:
    """Save the snapshot's generator as a standalone ``.keras`` file that plain Keras can load."""
    out = Path(out)
    if out.suffix != ".keras":
        raise StudioError("The generator file name must end in .keras.")
    check_room(out.parent, "export the generator")
    s = Sampler(run, step)
    atomic_write_with(out, lambda tmp: s.G.save(str(tmp)))
    return out
