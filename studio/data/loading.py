"""Any dataset by name (a built-in, a saved dataset) or, from the CLI, a folder or ``.zip`` path →
one :class:`~studio.data.dataset.Dataset` at the asked size.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.progress import Progress
from studio.core.progress import report as _report
from studio.data.arrays import convert_channels, resize_images
from studio.data.builtins import (
    BUILTIN,
    BUILTINS,
    _digits_at,
    _digits_raw,
    _load_keras_builtin,
    class_names,
    display_name,
    is_cached,
)
from studio.data.dataset import Dataset
from studio.data.gate import MAX_UNCOMPRESSED_BYTES, _clean_name, _Collector, _Counter, _iter_folder, _iter_zip_file
from studio.data.preprocess import PreprocessOptions
from studio.data.store import _saved_names, read_meta, saved_dataset_dir

# ------------------------------------------------------------------------------------------------
# Loading


def load_dataset(name_or_path: str, image_size: int, channels: int | None = None, progress: Progress = None) -> Dataset:
    """A built-in name, a saved dataset's name, or (CLI) a folder / .zip path → Dataset at image_size.

    ``channels`` None keeps the native channels (digits/mnist/fashion 1, cifar10 3, saved as saved,
    folders 1 if every image is grayscale else 3); 1 or 3 converts.
    """
    if channels not in (None, 1, 3):
        raise StudioError("Images must be grayscale (1 channel) or colour (3 channels).")
    image_size = int(image_size)
    if not 4 <= image_size <= 512:
        raise StudioError(f"The image size must be between 4 and 512 pixels, not {image_size}.")
    name = str(name_or_path)
    labels, names, flip, skipped = None, [], False, []
    if name == "digits":
        x = _digits_at(image_size)
        labels, names = _digits_raw()[1], class_names("digits")
    elif name in BUILTIN:
        x, labels = _load_keras_builtin(name, progress)
        names = class_names(name)
        if x.shape[1] != image_size:
            _report(progress, 0.9, f"Resizing to {image_size}×{image_size}…")
            x = resize_images(x, image_size)
    elif saved_dataset_dir(name) is not None:
        meta = read_meta(name)
        try:
            with np.load(saved_dataset_dir(name) / "images.npz", allow_pickle=False) as f:
                x = f["images"]
        except Exception as e:
            raise StudioError(f"The images of dataset '{name}' could not be read; the file is damaged.") from e
        flip, skipped = bool(meta.get("flip", False)), [tuple(s) for s in meta.get("skipped", [])]
        if x.shape[1] != image_size:
            x = resize_images(x, image_size)
    elif os.path.exists(name):
        return _load_path(Path(name), image_size, channels, progress)
    else:
        saved = _saved_names()
        yours = f"; yours: {', '.join(saved)}" if saved else "; you have no saved datasets yet"
        raise StudioError(
            f"Unknown dataset '{_clean_name(name)}'. Built-in: {', '.join(BUILTIN)}{yours} "
            "(the command line also takes the path of a folder or .zip of images)."
        )
    x = convert_channels(x, channels)
    return Dataset(name=name, images=x, labels=labels, class_names=names, flip=flip, skipped=skipped)


def _load_path(path: Path, image_size: int, channels: int | None, progress: Progress) -> Dataset:
    mode = {1: "L", 3: "RGB", None: "auto"}[channels]
    opts = PreprocessOptions(image_size=image_size, mode=mode, crop="center")
    col = _Collector(opts, progress)
    if path.is_dir():
        col.add_sources(_iter_folder(path))
    elif path.suffix.lower() == ".zip" and path.is_file():
        with open(path, "rb") as f:
            col.add_sources(_iter_zip_file(path.name, f, MAX_UNCOMPRESSED_BYTES, _Counter()))
    else:
        raise StudioError(f"'{_clean_name(str(path))}' is neither a folder nor a .zip file of images.")
    col.check_enough(str(path))
    x = col.stacked()
    return Dataset(name=str(path), images=x, labels=None, class_names=[], flip=False, skipped=col.skipped)


def load_preview(name: str, n: int = 64) -> np.ndarray:
    """The first n images at their stored size, without loading or resizing the rest when avoidable."""
    if name in BUILTIN and name != "digits":
        if not is_cached(name):
            raise StudioError(f"{display_name(name)} is not downloaded yet.")
        x, _ = _load_keras_builtin(name)
        return np.ascontiguousarray(x[:n])
    size = (
        BUILTINS["digits"].native_size
        if name == "digits"
        else int(read_meta(name)["image_size"])
        if saved_dataset_dir(name)
        else 32
    )
    return load_dataset(name, size).images[:n]
