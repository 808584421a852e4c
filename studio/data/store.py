"""Saved datasets: ``data_dir()/datasets/<name>/images.npz`` + ``meta.json``, written atomically
(images first, meta last, so a half-made save is never listed), and the catalogue of every dataset.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.paths import atomic_write_bytes, atomic_write_json, check_room, data_dir
from studio.data.builtins import BUILTIN, BUILTINS, is_cached
from studio.data.dataset import DatasetInfo

# ------------------------------------------------------------------------------------------------
# Saved datasets


def datasets_dir() -> Path:
    return data_dir() / "datasets"


def safe_dataset_name(name: str) -> str:
    """A person's name for a dataset → the folder-safe name it is saved under ([a-z0-9_-], ≤ 64)."""
    s = re.sub(r"[^a-z0-9_-]+", "_", str(name).strip().lower())
    s = re.sub(r"_+", "_", s).strip("_-")[:64].strip("_-")
    return s


def _check_new_name(name: str, overwrite: bool) -> str:
    safe = safe_dataset_name(name)
    if not safe:
        raise StudioError("Give the dataset a name made of letters, digits, '-' or '_'.")
    if safe in BUILTIN:
        raise StudioError(f"'{safe}' is the name of a built-in dataset; choose another name.")
    if (datasets_dir() / safe).exists() and not overwrite:
        raise StudioError(f"A dataset called '{safe}' already exists; choose another name or delete it first.")
    return safe


def saved_dataset_dir(name: str) -> Path | None:
    """The folder of a saved dataset, or None. Only real folders directly under datasets/."""
    safe = safe_dataset_name(name)
    if not safe or safe != name:
        return None
    folder = datasets_dir() / safe
    if folder.is_symlink() or not (folder / "meta.json").is_file() or not (folder / "images.npz").is_file():
        return None
    return folder


def read_meta(name: str) -> dict:
    folder = saved_dataset_dir(name)
    if folder is None:
        raise StudioError(f"There is no saved dataset called '{name}'.")
    try:
        return json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise StudioError(f"The description file of dataset '{name}' is damaged.") from e


def save_dataset(
    name: str, images: np.ndarray, *, flip: bool = False, meta: dict | None = None, overwrite: bool = False
) -> Path:
    """Write images.npz then meta.json into datasets/<safe-name>/ (atomically, and nowhere else)."""
    assert images.dtype == np.uint8 and images.ndim == 4 and images.shape[-1] in (1, 3), images.shape
    safe = _check_new_name(name, overwrite)
    check_room(datasets_dir(), "save a dataset")
    folder = datasets_dir() / safe
    if folder.is_symlink():
        raise StudioError(f"The dataset folder '{safe}' is not a normal folder; remove it by hand.")
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images)
    info = dict(meta or {})
    info.update(
        name=safe,
        count=int(images.shape[0]),
        image_size=int(images.shape[1]),
        channels=int(images.shape[-1]),
        flip=bool(flip),
        created=info.get("created") or datetime.now(UTC).isoformat(timespec="seconds"),
    )
    # images first, meta last: a folder without meta.json is an unfinished save and is not listed
    atomic_write_bytes(folder / "images.npz", buf.getvalue())
    atomic_write_json(folder / "meta.json", info)
    return folder


def delete_dataset(name: str) -> None:
    folder = saved_dataset_dir(name)
    if folder is None:
        raise StudioError(f"There is no saved dataset called '{name}'.")
    for child in folder.iterdir():  # flat folder by construction; no recursive delete needed
        if child.is_file() or child.is_symlink():
            child.unlink()
    try:
        folder.rmdir()
    except OSError as e:
        raise StudioError(f"Could not delete the folder of dataset '{name}' completely.") from e


def _saved_names() -> list[str]:
    root = datasets_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if saved_dataset_dir(p.name) is not None)


def list_datasets() -> list[DatasetInfo]:
    """Built-ins first (in BUILTIN order), then the saved datasets by name."""
    out = []
    for name, desc in BUILTIN.items():
        b = BUILTINS[name]
        size, ch, count = b.native_size, b.channels, b.count
        cached = is_cached(name)
        out.append(DatasetInfo(name, "built-in", desc, count if cached else None, size, ch, True, cached))
    for name in _saved_names():
        try:
            m = read_meta(name)
            out.append(
                DatasetInfo(
                    name,
                    "yours",
                    m.get("description") or f"Your images, saved {str(m.get('created', ''))[:10]}.",
                    int(m["count"]),
                    int(m["image_size"]),
                    int(m["channels"]),
                    False,
                    True,
                )
            )
        except (StudioError, KeyError, TypeError, ValueError):
            continue  # an unreadable meta.json hides that one dataset, not the list
    return out


def dataset_names() -> list[str]:
    return [d.name for d in list_datasets()]
