"""The built-in datasets: offline ``digits`` (scikit-learn) and the ``keras.datasets`` classics,
downloaded once and cached as ``data_dir()/builtin/<name>.npz``.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.paths import atomic_write_bytes, data_dir
from studio.core.progress import Progress
from studio.core.progress import report as _report
from studio.data.arrays import resize_images

# ------------------------------------------------------------------------------------------------
# Built-ins


@dataclass(frozen=True)
class BuiltinInfo:
    """What the studio knows about a built-in before loading it."""

    title: str  # the name people see ("Fashion-MNIST")
    description: str  # one sentence for the Data page
    native_size: int  # side in pixels as stored (digits: the 32 px it is served at)
    channels: int  # 1 grayscale, 3 colour
    count: int  # images in the training split
    class_names: tuple[str, ...]  # names of labels 0..K-1


_DIGITS = tuple(str(i) for i in range(10))
BUILTINS: dict[str, BuiltinInfo] = {
    "digits": BuiltinInfo(
        "digits",
        "1,797 small handwritten digits that come with the studio, shown at 32×32 in grayscale; works offline.",
        32,
        1,
        1797,
        _DIGITS,
    ),
    "mnist": BuiltinInfo(
        "MNIST",
        "70,000 handwritten digits (60,000 used for training), 28×28 grayscale; downloaded once (about 11 MB).",
        28,
        1,
        60000,
        _DIGITS,
    ),
    "fashion_mnist": BuiltinInfo(
        "Fashion-MNIST",
        "60,000 training photos of clothes and shoes in 10 kinds, 28×28 grayscale; downloaded once (about 30 MB).",
        28,
        1,
        60000,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    "cifar10": BuiltinInfo(
        "CIFAR-10",
        "50,000 training photos of planes, cars, birds, cats and six other things, 32×32 colour; "
        "downloaded once (about 160 MB).",
        32,
        3,
        50000,
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    ),
}
BUILTIN = {name: b.description for name, b in BUILTINS.items()}  # name → description, in catalogue order


def class_names(name: str) -> list[str]:
    """The class names of a built-in dataset ([] for anything else: saved datasets are unlabelled)."""
    return list(BUILTINS[name].class_names) if name in BUILTINS else []


def display_name(name: str) -> str:
    """'fashion_mnist' → 'Fashion-MNIST'; saved datasets keep their own name."""
    return BUILTINS[name].title if name in BUILTINS else name


def builtin_cache_path(name: str) -> Path:
    return data_dir() / "builtin" / f"{name}.npz"


def is_cached(name: str) -> bool:
    """True if a built-in can be loaded without the internet (digits always can)."""
    if name == "digits":
        return True
    if name not in BUILTIN:
        raise StudioError(f"'{name}' is not a built-in dataset; the built-ins are {', '.join(BUILTIN)}.")
    return builtin_cache_path(name).is_file()


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    # Values are 0..16 (counts of set pixels in 4×4 blocks of the original 32×32 bitmaps).
    x = np.rint(d.images.astype(np.float32) * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[..., None]
    y = d.target.astype(np.int32)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


@functools.lru_cache(maxsize=4)
def _digits_at(image_size: int) -> np.ndarray:
    x = resize_images(_digits_raw()[0], image_size)
    x.setflags(write=False)  # shared by every caller: nobody may scribble on the cache
    return x


def _load_keras_builtin(name: str, progress: Progress = None) -> tuple[np.ndarray, np.ndarray]:
    """Training split of a keras.datasets built-in as (uint8 NHWC, int32 labels), via our npz cache."""
    cache = builtin_cache_path(name)
    title = display_name(name)
    if cache.is_file():
        _report(progress, 0.1, f"Loading {title} from the cache…")
        try:
            with np.load(cache, allow_pickle=False) as f:
                x, y = f["x"], f["y"]
        except Exception as e:  # a damaged cache is not the person's fault: fetch again
            cache.unlink(missing_ok=True)
            raise StudioError(f"The saved copy of {title} was damaged and has been removed; download it again.") from e
    else:
        _report(progress, 0.05, f"Downloading {title}…")
        try:
            import keras

            (x, y), _ = getattr(keras.datasets, name).load_data()
        except Exception as e:  # URLError, socket errors and get_file's own Exception all mean "no data"
            raise StudioError(
                f"Could not download {title}: this machine is offline or the download site is unreachable. "
                "Use the built-in 'digits' dataset, or upload your own images on the Data page."
            ) from e
        x = np.asarray(x, dtype=np.uint8)
        if x.ndim == 3:
            x = x[..., None]
        y = np.asarray(y).reshape(-1).astype(np.int32)
        _report(progress, 0.8, f"Saving {title} for next time…")
        buf = io.BytesIO()
        np.savez(buf, x=x, y=y)  # already-compact uint8; compressing would only slow every load
        atomic_write_bytes(cache, buf.getvalue())
    x = np.asarray(x, dtype=np.uint8)
    if x.ndim == 3:
        x = x[..., None]
    return x, np.asarray(y).reshape(-1).astype(np.int32)


def download_builtin(name: str, progress: Progress = None) -> int:
    """Fetch a built-in into the cache now (the Data page's Download button); returns its count."""
    if name not in BUILTIN:
        raise StudioError(f"'{name}' is not a built-in dataset; the built-ins are {', '.join(BUILTIN)}.")
    if name == "digits":
        return len(_digits_raw()[0])
    x, _ = _load_keras_builtin(name, progress)
    _report(progress, 1.0, f"{display_name(name)} is ready: {len(x):,} images.")
    return len(x)
