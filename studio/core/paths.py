"""Where the studio keeps things on disk, and the one atomic-write helper everything uses.

Defaults live under the current directory (``runs/``, ``data/``) so ``streamlit run app.py`` and
``python -m studio`` started from the repository see the same runs. ``STUDIO_RUNS_DIR`` and
``STUDIO_DATA_DIR`` move them (tests point them at a temporary folder).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path

from studio.core.errors import StudioError


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


# Below this much free space the studio starts nothing that writes much (runs, datasets, exports):
# a checkpoint of a 128 px model is tens of MB, and a full disk mid-run costs the person a stop.
MIN_FREE_MB = 200
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_FULL_WORDS = ("no space left", "disk quota", "file too large")


def disk_is_full(e: BaseException) -> bool:
    """True if ``e`` (an OSError, or TensorFlow's own error wrapping one) means no room to write."""
    if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
        return True
    text = str(e).lower()
    return any(w in text for w in _FULL_WORDS)


def free_mb(folder: Path | str) -> float:
    """Free space, in MB, on the disk that holds ``folder`` (its nearest existing parent)."""
    p = Path(folder).resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free / 2**20


def check_room(folder: Path | str, what: str) -> None:
    """Refuse (one sentence) to start ``what`` when the disk is nearly full or ``folder`` is not writable."""
    limit = float(os.environ.get("STUDIO_MIN_FREE_MB", MIN_FREE_MB))
    free = free_mb(folder)
    if free < limit:
        raise StudioError(
            f"The disk is full: only {free:,.0f} MB are free where the studio keeps its files (it needs "
            f"{limit:,.0f} MB to {what}). Free some space, then try again."
        )
    p = Path(folder)
    while not p.exists() and p != p.parent:
        p = p.parent
    if not os.access(p, os.W_OK):
        raise StudioError(f"The studio cannot write to {p}, so it cannot {what}. Check the folder's permissions.")
