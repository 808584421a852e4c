"""Where the studio keeps things on disk, and the one atomic-write helper everything uses.

Defaults live under the current directory (``runs/``, ``data/``) so ``streamlit run app.py`` and
``python -m studio`` started from the repository see the same runs. ``STUDIO_RUNS_DIR`` and
``STUDIO_DATA_DIR`` move them (tests point them at a temporary folder).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def runs_dir() -> Path:
    return Path(os.environ.get("STUDIO_RUNS_DIR", "runs")).resolve()


def data_dir() -> Path:
    """Cache of downloaded datasets and the artists' saved datasets (``data/datasets/<name>/``)."""
    return Path(os.environ.get("STUDIO_DATA_DIR", "data")).resolve()


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` so that a kill -9 at any moment leaves the old file or the new one, never half.

    Temp file in the same folder (same filesystem, so rename is atomic), fsync, rename, fsync dir.
    """
    atomic_write_with(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_with(path: Path | str, write) -> None:
    """Atomically create ``path`` with ``write(tmp_path)``: the one atomic write. Writers that need a
    file name (Keras ``save_weights`` / ``save``) pass their own; :func:`atomic_write_bytes` writes bytes.

    The temp name keeps ``path``'s suffix (Keras picks the format from it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes) or ".tmp"  # ".weights.h5": Keras insists on the whole ending
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[: len(path.name) - len(suffix)]}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        os.unlink(tmp)  # some writers refuse to overwrite; mkstemp only reserved a unique name
        write(Path(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def fsync_dir(folder: Path | str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def append_line(path: Path | str, line: str) -> None:
    """Append one line and fsync. A kill can at worst leave a partial *last* line, which readers skip."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(line.rstrip("\n") + "\n")
        f.flush()
        os.fsync(f.fileno())
