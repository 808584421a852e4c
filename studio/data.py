"""Datasets: the built-ins, the artists' own images, and the tf.data pipeline that feeds training.

Three kinds of source, one ``Dataset`` in memory (uint8 images, optional int labels):

* built-ins — ``digits`` (scikit-learn's 1,797 real 8×8 digits, offline) and ``mnist``,
  ``fashion_mnist``, ``cifar10`` from ``keras.datasets`` (downloaded once, then cached as
  ``data_dir()/builtin/<name>.npz``);
* saved datasets — ``data_dir()/datasets/<name>/images.npz`` + ``meta.json``, made from uploads by
  :func:`ingest_upload` (the Data page) and usable by name from the Train page and the CLI;
* a folder or ``.zip`` of images given as a path (the CLI only: the browser never names server paths).

Uploads are where a public studio meets hostile input, so every file goes through one gate
(:func:`_decode`): formats limited to PNG/JPEG/GIF/BMP/WebP (no exotic decoders), sizes checked from
the header before any pixel is decoded, zips read member by member in memory (never extracted) with
limits on count, total size and compression ratio. Each problem becomes one plain sentence: a skip
reason for one bad file, or a ``StudioError`` for a problem with the whole upload.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import stat
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import StudioError
from .imageutils import make_grid
from .paths import atomic_write_bytes, atomic_write_json, data_dir

Progress = Callable[[float, str], None] | None

# --- limits (one place; the tests and the Data page read them from here) -----------------------
MIN_IMAGES = 16                        # fewer usable images than this cannot make a dataset
SMALL_DATASET = 1000                   # below this, recommend DiffAugment
MAX_UPLOAD_MB = 200                    # matches server.maxUploadSize in .streamlit/config.toml
MAX_FILES = 20_000                     # files in one upload, zip members included
MAX_UNCOMPRESSED_BYTES = 1 << 30       # everything a zip may unpack to (1 GB)
MAX_RATIO = 100                        # per zip member: uncompressed / compressed
RATIO_MIN_BYTES = 1 << 20              # ratios only matter for members above 1 MB (tiny flat files compress well)
MAX_FILE_BYTES = 64 << 20              # one image file
MAX_PIXELS = 40_000_000                # one image, checked from its header before decoding
MIN_SIDE = 8                           # smallest image side that is still a picture
UPLOAD_SIZES = (32, 64, 128)
CROPS = ("center", "pad", "stretch")

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
# Only these decoders ever run on uploaded bytes (Pillow would otherwise also try e.g. EPS, which
# shells out to Ghostscript). MPO is how Pillow labels many camera JPEGs.
PIL_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "BMP", "WEBP")
# Files that operating systems sprinkle into folders and zips: ignored without a word.
_JUNK_NAMES = {"thumbs.db", "desktop.ini"}
_CHUNK = 1 << 20

# ------------------------------------------------------------------------------------------------
# The in-memory dataset


@dataclass
class Dataset:
    name: str
    images: np.ndarray                       # uint8 (N, H, W, C), C in {1, 3}
    labels: np.ndarray | None = None         # int32 (N,), None = unlabelled
    class_names: list[str] = field(default_factory=list)  # names of labels 0..K-1; [] if unlabelled
    flip: bool = False                       # random horizontal flip at train time
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, plain reason)

    def __post_init__(self):
        x = self.images
        assert isinstance(x, np.ndarray) and x.dtype == np.uint8, f"images must be uint8, got {getattr(x, 'dtype', type(x))}"
        assert x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[0] >= 1, f"images must be (N,H,W,1|3), got {x.shape}"
        if self.labels is not None:
            y = self.labels
            assert y.dtype == np.int32 and y.shape == (x.shape[0],), f"labels must be int32 (N,), got {y.dtype} {y.shape}"

    @property
    def image_size(self) -> int:
        return int(self.images.shape[1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[-1])

    @property
    def num_classes(self) -> int:
        return len(self.class_names) if self.labels is not None else 0

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass
class DatasetInfo:
    name: str
    kind: str                   # "built-in" | "yours"
    description: str
    count: int | None           # None if not downloaded yet / unknown
    image_size: int             # side in pixels as stored (digits: the 32 px it is served at)
    channels: int               # 1 grayscale, 3 colour
    labelled: bool
    available_offline: bool     # can be loaded right now without the internet


# ------------------------------------------------------------------------------------------------
# Built-ins

BUILTIN = {
    "digits": "1,797 small handwritten digits that come with the studio, shown at 32×32 in grayscale; works offline.",
    "mnist": "70,000 handwritten digits (60,000 used for training), 28×28 grayscale; downloaded once (about 11 MB).",
    "fashion_mnist": "60,000 training photos of clothes and shoes in 10 kinds, 28×28 grayscale; downloaded once (about 30 MB).",
    "cifar10": "50,000 training photos of planes, cars, birds, cats and six other things, 32×32 colour; downloaded once (about 160 MB).",
}

_BUILTIN_META = {  # name: (display name, native size, channels, training count, class names)
    "digits": ("digits", 32, 1, 1797, [str(i) for i in range(10)]),
    "mnist": ("MNIST", 28, 1, 60000, [str(i) for i in range(10)]),
    "fashion_mnist": ("Fashion-MNIST", 28, 1, 60000,
                      ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                       "Sneaker", "Bag", "Ankle boot"]),
    "cifar10": ("CIFAR-10", 32, 3, 50000,
                ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]),
}


def display_name(name: str) -> str:
    """'fashion_mnist' → 'Fashion-MNIST'; saved datasets keep their own name."""
    return _BUILTIN_META[name][0] if name in _BUILTIN_META else name


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


def save_dataset(name: str, images: np.ndarray, *, flip: bool = False, meta: dict | None = None,
                 overwrite: bool = False) -> Path:
    """Write images.npz then meta.json into datasets/<safe-name>/ (atomically, and nowhere else)."""
    assert images.dtype == np.uint8 and images.ndim == 4 and images.shape[-1] in (1, 3), images.shape
    safe = _check_new_name(name, overwrite)
    folder = datasets_dir() / safe
    if folder.is_symlink():
        raise StudioError(f"The dataset folder '{safe}' is not a normal folder; remove it by hand.")
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images)
    info = dict(meta or {})
    info.update(name=safe, count=int(images.shape[0]), image_size=int(images.shape[1]),
                channels=int(images.shape[-1]), flip=bool(flip),
                created=info.get("created") or datetime.now(UTC).isoformat(timespec="seconds"))
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
        _, size, ch, count, _ = _BUILTIN_META[name]
        cached = is_cached(name)
        out.append(DatasetInfo(name, "built-in", desc, count if cached else None, size, ch, True, cached))
    for name in _saved_names():
        try:
            m = read_meta(name)
            out.append(DatasetInfo(
                name, "yours", m.get("description") or f"Your images, saved {str(m.get('created', ''))[:10]}.",
                int(m["count"]), int(m["image_size"]), int(m["channels"]), False, True))
        except (StudioError, KeyError, TypeError, ValueError):
            continue  # an unreadable meta.json hides that one dataset, not the list
    return out


def dataset_names() -> list[str]:
    return [d.name for d in list_datasets()]


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
    labels, class_names, flip, skipped = None, [], False, []
    if name == "digits":
        x = _digits_at(image_size)
        labels, class_names = _digits_raw()[1], list(_BUILTIN_META["digits"][4])
    elif name in BUILTIN:
        x, labels = _load_keras_builtin(name, progress)
        class_names = list(_BUILTIN_META[name][4])
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
    return Dataset(name=name, images=x, labels=labels, class_names=class_names, flip=flip, skipped=skipped)


def _load_path(path: Path, image_size: int, channels: int | None, progress: Progress) -> Dataset:
    mode = {1: "L", 3: "RGB", None: "auto"}[channels]
    opts = PreprocessOptions(image_size=image_size, mode=mode, crop="center")
    col = _Collector(opts, progress)
    if path.is_dir():
        col.add_sources(_iter_folder(path))
    elif path.suffix.lower() == ".zip" and path.is_file():
        with open(path, "rb") as f:
            col.add_sources(_iter_zip_file(path.name, f, MAX_UNCOMPRESSED_BYTES, [0]))
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
    size = _BUILTIN_META["digits"][1] if name == "digits" else int(read_meta(name)["image_size"]) if saved_dataset_dir(name) else 32
    return load_dataset(name, size).images[:n]


# ------------------------------------------------------------------------------------------------
# Array helpers


def resize_images(x: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N,H,W,C) → (N,size,size,C). LANCZOS when shrinking (area-quality), BICUBIC when enlarging."""
    assert x.dtype == np.uint8 and x.ndim == 4, (x.dtype, x.shape)
    n, h, w, c = x.shape
    if h == size and w == size:
        return x.copy()
    out = np.empty((n, size, size, c), np.uint8)
    mode = "L" if c == 1 else "RGB"
    for i in range(n):
        img = Image.fromarray(x[i, :, :, 0] if c == 1 else x[i], mode)
        out[i] = _resized(img, size, size).reshape(size, size, c)
    return out


def _resized(img: Image.Image, w: int, h: int) -> np.ndarray:
    method = Image.Resampling.LANCZOS if (w < img.width or h < img.height) else Image.Resampling.BICUBIC
    # reducing_gap first shrinks by whole factors (box filter) so huge photos stay quick
    return np.asarray(img.resize((w, h), method, reducing_gap=3.0))


def convert_channels(x: np.ndarray, channels: int | None) -> np.ndarray:
    """uint8 NHWC to 1 or 3 channels (None: unchanged). RGB→gray uses the ITU-R 601 luma weights."""
    if channels is None or x.shape[-1] == channels:
        return x
    if channels == 3:
        return np.repeat(x, 3, axis=-1)
    luma = x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114
    return np.rint(luma).clip(0, 255).astype(np.uint8)[..., None]


def _report(progress: Progress, fraction: float, text: str) -> None:
    if progress is not None:
        progress(float(min(max(fraction, 0.0), 1.0)), text)


# ------------------------------------------------------------------------------------------------
# The training pipeline


def make_pipeline(ds: Dataset, batch_size: int, seed: int):
    """Infinite tf.data stream of (float32 images in [-1, 1] (B,H,W,C), int32 labels (B,)).

    The uint8 array stays in memory once; each batch is gathered by index and converted, so the
    float copy never exists for the whole set. Order and flips come from stateless RNG keyed on
    (seed, epoch) and (seed, batch number): the same seed gives the same stream whatever the
    global TensorFlow seed or the number of parallel calls.
    """
    import tensorflow as tf

    n = len(ds)
    b = int(batch_size)
    if b < 1:
        raise StudioError("The batch size must be at least 1.")
    images = tf.constant(ds.images)
    labels = tf.constant(ds.labels if ds.labels is not None else np.zeros(n, np.int32))
    seed = int(seed) % (2**31 - 1)
    flip = bool(ds.flip)

    def epoch_order(epoch):
        return tf.data.Dataset.from_tensor_slices(
            tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int32), seed=tf.stack([tf.cast(seed, tf.int64), epoch]))
        )

    def to_batch(step, idx):
        x = tf.cast(tf.gather(images, idx), tf.float32) / 127.5 - 1.0
        if flip:
            coin = tf.random.stateless_uniform([b, 1, 1, 1], seed=tf.stack([tf.cast(seed, tf.int64) + 1, step]))
            x = tf.where(coin < 0.5, tf.reverse(x, axis=[2]), x)
        return x, tf.gather(labels, idx)

    # repeat (the epoch counter) before batch: a batch larger than the dataset still fills up
    pipe = (tf.data.Dataset.counter(dtype=tf.int64).flat_map(epoch_order)
            .batch(b, drop_remainder=True)
            .enumerate()
            .map(to_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))
    return pipe


# ------------------------------------------------------------------------------------------------
# Uploads: options, one-image preprocessing


@dataclass
class PreprocessOptions:
    image_size: int = 64        # side of the square result: 32, 64 or 128 for uploads
    mode: str = "RGB"           # "RGB" colour, "L" grayscale ("auto" for CLI folders: L if all gray)
    crop: str = "center"        # "center" square crop, "pad" to a square with black bars, "stretch"
    flip: bool = False          # random horizontal flip at train time (stored, not applied here)

    def validate(self) -> PreprocessOptions:
        if self.image_size not in UPLOAD_SIZES:
            raise StudioError(f"The image size must be one of {', '.join(map(str, UPLOAD_SIZES))} pixels.")
        if self.mode not in ("RGB", "L"):
            raise StudioError("Choose colour (RGB) or grayscale (L).")
        if self.crop not in CROPS:
            raise StudioError("Choose a crop of centre, pad or stretch.")
        return self


def _normalise(img: Image.Image) -> Image.Image:
    """Any decoded image → 'L' or 'RGB', upright, first frame, transparency composited on white."""
    try:
        img.seek(0)  # animations: the first frame
    except EOFError:
        pass
    img = ImageOps.exif_transpose(img) or img
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(img).astype(np.float64)
        # 16-bit samples: scale 0..65535 → 0..255 (convert('L') would clip, not scale)
        a = a / 257.0 if mode.startswith("I;16") or a.max(initial=0) > 255 else a
        return Image.fromarray(np.rint(a).clip(0, 255).astype(np.uint8), "L")
    if mode == "F":
        a = np.asarray(img).astype(np.float64)
        a = a * 255.0 if a.max(initial=0) <= 1.0 else a
        return Image.fromarray(np.rint(a).clip(0, 255).astype(np.uint8), "L")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        gray = mode in ("LA", "La", "L", "1") or (mode in ("P", "PA") and _palette_is_gray(img))
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        out = Image.alpha_composite(white, rgba).convert("RGB")
        return out.convert("L") if gray else out
    if mode in ("L", "RGB"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode == "P":
        return img.convert("L") if _palette_is_gray(img) else img.convert("RGB")
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...


def _palette_is_gray(img: Image.Image) -> bool:
    try:
        pal = np.asarray(img.convert("RGB"))
    except Exception:  # noqa: BLE001 - a palette Pillow cannot convert is simply not gray
        return False
    return bool((pal[..., 0] == pal[..., 1]).all() and (pal[..., 1] == pal[..., 2]).all())


def preprocess_image(img: Image.Image, opts: PreprocessOptions) -> np.ndarray:
    """One PIL image → uint8 (S, S, C): upright, first frame, colour mode, crop/pad/stretch, resize."""
    img = _normalise(img)
    return _finish(img, opts)


def _finish(img: Image.Image, opts: PreprocessOptions) -> np.ndarray:
    """Normalised ('L'/'RGB') image → the processed square array."""
    if opts.mode == "L" and img.mode != "L":
        img = img.convert("L")
    elif opts.mode == "RGB" and img.mode != "RGB":
        img = img.convert("RGB")
    s = int(opts.image_size)
    w, h = img.size
    if opts.crop == "center":
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side))
    elif opts.crop == "pad":
        side = max(w, h)
        canvas = Image.new(img.mode, (side, side), 0)  # black bars, like a letterbox
        canvas.paste(img, ((side - w) // 2, (side - h) // 2))
        img = canvas
    elif opts.crop != "stretch":
        raise StudioError("Choose a crop of centre, pad or stretch.")
    a = _resized(img, s, s)
    if a.ndim == 2:
        a = a[..., None]
    assert a.dtype == np.uint8 and a.shape[:2] == (s, s), a.shape
    return a


# ------------------------------------------------------------------------------------------------
# Uploads: the gate every file goes through

class _Skip(Exception):
    """One file cannot be used; the message is the plain reason shown to the person."""


class IngestError(StudioError):
    """A whole-upload problem; carries the report so the page can still list what was skipped."""

    def __init__(self, message: str, report: IngestReport | None = None):
        super().__init__(message)
        self.report = report


R_EMPTY = "The file is empty (0 bytes)."
R_NOT_IMAGE_TYPE = "The file is not an image; the studio reads PNG, JPEG, GIF, BMP and WebP files."
R_UNREADABLE = "The file is not a picture the studio can read; it may be damaged or not an image at all."
R_DAMAGED = "The image is damaged and could not be decoded."
R_TRUNCATED = "The image is incomplete (the file is cut off), so it could not be decoded."
R_TOO_MANY_PIXELS = f"The image is far too large (over {MAX_PIXELS // 1_000_000} megapixels), so it was not opened."
R_SYMLINK = "The entry is a symbolic link, which uploads may not contain."
R_UNSAFE_PATH = "The entry's path points outside the zip archive, so it was ignored."
R_NESTED = "This is a zip inside the zip; nested archives are not opened, so unzip it and upload it on its own."
R_ENCRYPTED = "The file is password-protected, so it could not be read."
R_RATIO = f"The file is compressed more than {MAX_RATIO} to 1, which is how zip bombs work, so it was not opened."
R_ZIP_READ = "The file could not be read from the zip archive; the archive may be damaged."
R_BAD_ZIP = "The file is not a valid zip archive; it may be damaged or incomplete."
R_ZIP_NAMES = "The zip archive has file names that are not valid UTF-8 text, so it could not be opened."
R_EMPTY_ZIP = "The zip archive is empty."
R_ZIP_NO_IMAGES = "The zip archive contains no images (PNG, JPEG, GIF, BMP or WebP)."
R_FILE_TOO_BIG = f"The file is over {MAX_FILE_BYTES >> 20} MB, the limit for one image."


def _too_small(w: int, h: int) -> str:
    return f"The image is too small ({w}×{h} pixels); each side needs at least {MIN_SIDE} pixels."


def _too_large(w: int, h: int) -> str:
    return (f"The image is too large ({w:,}×{h:,} pixels, over the {MAX_PIXELS // 1_000_000} megapixel limit), "
            "so it was not opened.")


def _clean_name(name) -> str:
    """Any file name (bytes, surrogate-escaped str, control characters) → printable text."""
    if isinstance(name, bytes):
        s = name.decode("utf-8", errors="replace")
    else:
        s = str(name).encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    s = "".join(ch if ch.isprintable() else "?" for ch in s)
    return s if len(s) <= 200 else s[:97] + "…" + s[-100:]


def _is_junk(name: str) -> bool:
    parts = [p for p in re.split(r"[\\/]", name) if p]
    return (not parts or parts[0] == "__MACOSX" or any(p.startswith(".") and p not in (".", "..") for p in parts)
            or parts[-1].lower() in _JUNK_NAMES)


def _ext(name: str) -> str:
    return os.path.splitext(name.lower())[1]


@functools.lru_cache(maxsize=1)
def _pil_formats() -> tuple[str, ...]:
    """The allowed decoders that this Pillow build really has (WebP needs libwebp)."""
    import importlib

    for mod in ("BmpImagePlugin", "GifImagePlugin", "JpegImagePlugin", "MpoImagePlugin", "PngImagePlugin",
                "WebPImagePlugin"):
        try:
            importlib.import_module(f"PIL.{mod}")
        except ImportError:
            pass
    return tuple(f for f in PIL_FORMATS if f in Image.OPEN)


def _decode(data: bytes) -> Image.Image:
    """Bytes → normalised PIL image, or _Skip with the plain reason. Header checks come first."""
    if len(data) == 0:
        raise _Skip(R_EMPTY)
    if len(data) > MAX_FILE_BYTES:
        raise _Skip(R_FILE_TOO_BIG)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=_pil_formats())  # lazy: reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _Skip(R_TOO_MANY_PIXELS) from None
        except (UnidentifiedImageError, SyntaxError, ValueError, OSError, EOFError):
            raise _Skip(R_UNREADABLE) from None
        w, h = img.size
        if w * h > MAX_PIXELS:
            raise _Skip(_too_large(w, h))
        if min(w, h) < MIN_SIDE:
            raise _Skip(_too_small(w, h))
        try:
            if img.format in ("JPEG", "MPO"):
                # decode big JPEGs at a reduced scale straight away (still ≥ 2× the largest output)
                img.draft(img.mode, (2 * max(UPLOAD_SIZES), 2 * max(UPLOAD_SIZES)))
            img.load()
            return _normalise(img)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _Skip(R_TOO_MANY_PIXELS) from None
        except OSError as e:
            if ImageFile.LOAD_TRUNCATED_IMAGES is False and "truncated" in str(e).lower():
                raise _Skip(R_TRUNCATED) from None
            raise _Skip(R_DAMAGED) from None
        except MemoryError:
            raise _Skip(R_TOO_MANY_PIXELS) from None
        except Exception:  # noqa: BLE001 - any decoder surprise on hostile bytes is a damaged file, not a crash
            raise _Skip(R_DAMAGED) from None


# A source is (display name, bytes or None, skip reason or None, silent?).
Source = tuple[str, bytes | None, str | None]


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    """Read one member in chunks, counting real bytes against the declared size and the zip budget."""
    cap = min(info.file_size, MAX_FILE_BYTES)
    parts, got = [], 0
    try:
        with zf.open(info) as f:
            while True:
                chunk = f.read(_CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise StudioError(
                        f"The upload unpacks to more than {MAX_UNCOMPRESSED_BYTES >> 20:,} MB, the limit, so it was not used.")
                if got > cap:
                    raise _Skip(R_FILE_TOO_BIG if got > MAX_FILE_BYTES else R_ZIP_READ)
                parts.append(chunk)
    except (_Skip, StudioError):
        raise
    except RuntimeError as e:  # encrypted member without a password
        raise _Skip(R_ENCRYPTED if "encrypt" in str(e).lower() or "password" in str(e).lower() else R_ZIP_READ) from None
    except Exception:  # noqa: BLE001 - BadZipFile (CRC), zlib.error, NotImplementedError (compression), EOFError
        raise _Skip(R_ZIP_READ) from None
    return b"".join(parts)


def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    # no UTF-8 flag: zipfile decoded it as cp437, but most modern tools really wrote UTF-8
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _declared_entries(fileobj) -> int | None:
    """The entry count from the zip's end record, read before zipfile parses (and holds) every entry."""
    try:
        fileobj.seek(0, os.SEEK_END)
        size = fileobj.tell()
        start = max(0, size - (1 << 16) - 22)  # the end record sits within the last 64 KB + 22 bytes
        fileobj.seek(start)
        tail = fileobj.read()
        i = tail.rfind(b"PK\x05\x06")
        if i < 0 or len(tail) < i + 22:
            return None
        n = int.from_bytes(tail[i + 10:i + 12], "little")
        if n == 0xFFFF and i >= 20 and tail[i - 20:i - 16] == b"PK\x06\x07":  # zip64: follow the locator
            fileobj.seek(int.from_bytes(tail[i - 12:i - 4], "little"))
            rec = fileobj.read(56)
            if rec[:4] == b"PK\x06\x06" and len(rec) >= 40:
                n = int.from_bytes(rec[32:40], "little")
        return n
    except (OSError, ValueError):
        return None
    finally:
        try:
            fileobj.seek(0)
        except (OSError, ValueError):
            pass


def _iter_zip(zip_name: str, fileobj, budget_bytes: int, count: list[int]) -> Iterator[Source]:
    """Members of a zip as sources, checked one by one; nothing is ever extracted to disk."""
    declared = _declared_entries(fileobj)
    if declared is not None and count[0] + declared > MAX_FILES:
        raise StudioError(f"The upload holds more than {MAX_FILES:,} files (the zip archive '{_clean_name(zip_name)}' "
                          f"alone lists {declared:,}), so it was not used.")
    try:
        zf = zipfile.ZipFile(fileobj)
        infos = zf.infolist()
    except UnicodeDecodeError:
        raise _Skip(R_ZIP_NAMES) from None
    except Exception:  # noqa: BLE001 - BadZipFile, truncated central directory, absurd offsets, ...
        raise _Skip(R_BAD_ZIP) from None
    with zf:
        files = [i for i in infos if not i.is_dir()]
        if not files:
            raise _Skip(R_EMPTY_ZIP)
        count[0] += len(files)
        if count[0] > MAX_FILES:
            raise StudioError(f"The upload holds more than {MAX_FILES:,} files (the zip archive '{_clean_name(zip_name)}' "
                              f"alone has {len(files):,}), so it was not used.")
        declared = sum(i.file_size for i in files)
        if declared > budget_bytes:
            raise StudioError(f"The zip archive '{_clean_name(zip_name)}' would unpack to {declared / 2**20:,.0f} MB, "
                              f"over the {MAX_UNCOMPRESSED_BYTES >> 20:,} MB limit, so it was not opened.")
        budget = [budget_bytes]
        named = [(info, _member_name(info)) for info in files]
        named = [(info, raw) for info, raw in named if not _is_junk(raw)]
        if not named:
            raise _Skip(R_EMPTY_ZIP)
        if not any(_ext(raw) in IMAGE_EXTENSIONS for _, raw in named):
            raise _Skip(R_ZIP_NO_IMAGES)
        for info, raw in named:
            shown = f"{_clean_name(zip_name)}/{_clean_name(raw)}"
            if raw.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", raw) or ".." in re.split(r"[\\/]", raw):
                yield shown, None, R_UNSAFE_PATH
                continue
            if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
                yield shown, None, R_SYMLINK
                continue
            ext = _ext(raw)
            if ext == ".zip":
                yield shown, None, R_NESTED
                continue
            if ext not in IMAGE_EXTENSIONS:
                yield shown, None, R_NOT_IMAGE_TYPE
                continue
            if info.flag_bits & 0x1:
                yield shown, None, R_ENCRYPTED
                continue
            if info.file_size > MAX_FILE_BYTES:
                yield shown, None, R_FILE_TOO_BIG
                continue
            if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                yield shown, None, R_RATIO
                continue
            try:
                data = _read_member(zf, info, budget)
            except _Skip as s:
                yield shown, None, str(s)
                continue
            if data[:4] == b"PK\x03\x04":
                yield shown, None, R_NESTED
                continue
            yield shown, data, None


def _iter_zip_file(zip_name: str, fileobj, budget_bytes: int, count: list[int]) -> Iterator[Source]:
    """_iter_zip, with a problem of the whole archive (empty, no images, damaged) as one skipped entry."""
    try:
        yield from _iter_zip(zip_name, fileobj, budget_bytes, count)
    except _Skip as s:
        yield _clean_name(zip_name), None, str(s)


def _iter_upload(files: Iterable[tuple[str, bytes]], count: list[int]) -> Iterator[Source]:
    budget = MAX_UNCOMPRESSED_BYTES
    for fname, data in files:
        shown = _clean_name(fname)
        if _is_junk(str(fname)):
            continue
        count[0] += 1
        if count[0] > MAX_FILES:
            raise StudioError(f"The upload holds more than {MAX_FILES:,} files, so it was not used.")
        if _ext(str(fname)) == ".zip" or data[:4] == b"PK\x03\x04":
            for src in _iter_zip_file(str(fname), io.BytesIO(data), budget, count):
                if src[1] is not None:
                    budget -= len(src[1])
                yield src
            continue
        if _ext(str(fname)) not in IMAGE_EXTENSIONS:
            yield shown, None, R_NOT_IMAGE_TYPE
            continue
        yield shown, data, None


def _iter_folder(root: Path) -> Iterator[Source]:
    """Image files under a folder (CLI). Hidden files and OS junk are ignored; zips inside are not opened."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            rel = str(p.relative_to(root))
            if _is_junk(rel):
                continue
            shown = _clean_name(rel)
            ext = _ext(fn)
            if ext == ".zip":
                yield shown, None, R_NESTED.replace("a zip inside the zip", "a zip inside the folder")
                continue
            if ext not in IMAGE_EXTENSIONS:
                yield shown, None, R_NOT_IMAGE_TYPE
                continue
            try:
                if p.stat().st_size > MAX_FILE_BYTES:
                    yield shown, None, R_FILE_TOO_BIG
                    continue
                data = p.read_bytes()
            except OSError:
                yield shown, None, "The file could not be read (check its permissions)."
                continue
            yield shown, data, None


class _Collector:
    """Decodes sources into processed arrays; keeps skips, duplicates and names in upload order."""

    def __init__(self, opts: PreprocessOptions, progress: Progress = None, estimate: int = 0):
        self.opts, self.progress, self.estimate = opts, progress, max(estimate, 1)
        self.images: list[np.ndarray] = []
        self.sources: list[str] = []
        self.skipped: list[tuple[str, str]] = []
        self.duplicates: list[tuple[str, str]] = []
        self.seen: dict[str, str] = {}
        self.upscaled = 0
        self.all_gray = True
        self.n_seen = 0

    def add_sources(self, sources: Iterator[Source]) -> None:
        it = iter(sources)
        while True:
            try:
                shown, data, reason = next(it)
            except StopIteration:
                return
            self.n_seen += 1
            _report(self.progress, min(0.99, self.n_seen / self.estimate), f"Reading {shown}")
            if reason is not None:
                self.skipped.append((shown, reason))
                continue
            try:
                img = _decode(data)
            except _Skip as s:
                self.skipped.append((shown, str(s)))
                continue
            arr = np.asarray(img)
            digest = hashlib.sha256(f"{img.mode}{img.size}".encode() + arr.tobytes()).hexdigest()
            if digest in self.seen:
                self.duplicates.append((shown, self.seen[digest]))
                continue
            self.seen[digest] = shown
            self.all_gray &= img.mode == "L"
            if min(img.size) < self.opts.image_size:
                self.upscaled += 1
            mode = self.opts.mode
            opts = self.opts if mode != "auto" else PreprocessOptions(self.opts.image_size, "RGB", self.opts.crop, self.opts.flip)
            self.images.append(_finish(img, opts))
            self.sources.append(shown)

    def stacked(self) -> np.ndarray:
        x = np.stack(self.images).astype(np.uint8, copy=False)
        if self.opts.mode == "auto" and self.all_gray:
            x = x[..., :1].copy()
        return x

    def check_enough(self, what: str, report: IngestReport | None = None) -> None:
        n = len(self.images)
        if n >= MIN_IMAGES:
            return
        if n == 0:
            if len(self.skipped) == 1 and not self.duplicates:
                # one file, one reason (an empty zip, a zip of text files, a single broken image)
                f, r = self.skipped[0]
                raise IngestError(f"'{f}' could not be used: {r[0].lower()}{r[1:]}", report)
            if self.skipped:
                raise IngestError("None of the files could be used as images; the list of skipped files says why.", report)
            raise IngestError(f"No images were found in {what}.", report)
        dup = f" (after dropping {len(self.duplicates)} exact duplicate{'s' if len(self.duplicates) != 1 else ''})" if self.duplicates else ""
        raise IngestError(f"Only {n} usable image{'s' if n != 1 else ''} {'were' if n != 1 else 'was'} found{dup}; "
                          f"at least {MIN_IMAGES} are needed to make a dataset.", report)


@dataclass
class IngestReport:
    name: str                                   # the safe name it was (or would be) saved under
    used: int                                   # images in the dataset
    skipped: list[tuple[str, str]]              # (file, plain reason)
    duplicates: list[tuple[str, str]]           # (file, the earlier file it repeats)
    preview: np.ndarray                         # uint8 grid of up to the first 64 processed images
    path: Path | None                           # the saved folder; None for a dry run
    warnings: list[str]                         # plain advice (small dataset, enlarged images, ...)
    images: np.ndarray | None = None            # uint8 (N,S,S,C), all processed images
    sources: list[str] = field(default_factory=list)  # file name of each used image, in order
    options: PreprocessOptions | None = None


def ingest_upload(files: list[tuple[str, bytes]], name: str, opts: PreprocessOptions, progress: Progress = None,
                  dry_run: bool = False, overwrite: bool = False) -> IngestReport:
    """Uploaded image files and/or zips → a saved dataset (or, with dry_run, just the report).

    Raises StudioError (an IngestError carrying the partial report) for whole-upload problems: too
    large, too many files, a zip that unpacks too far, nothing usable, fewer than MIN_IMAGES.
    """
    opts.validate()
    safe = safe_dataset_name(name) if dry_run else _check_new_name(name, overwrite)
    files = list(files)
    if not files:
        raise IngestError("No files were uploaded.")
    total = sum(len(d) for _, d in files)
    if total > MAX_UPLOAD_MB * 2**20:
        raise IngestError(f"The upload is {total / 2**20:,.0f} MB, over the {MAX_UPLOAD_MB} MB limit; "
                          "upload fewer or smaller files.")
    estimate = 0
    for fname, data in files:
        if _ext(str(fname)) == ".zip" or data[:4] == b"PK\x03\x04":
            estimate += min(_declared_entries(io.BytesIO(data)) or 1, MAX_FILES)
        else:
            estimate += 1
    col = _Collector(opts, progress, estimate)
    col.add_sources(_iter_upload(files, [0]))
    n = len(col.images)
    preview = make_grid(np.stack(col.images[:64])) if col.images else np.zeros((8, 8, 3), np.uint8)
    warn = []
    if 0 < n < SMALL_DATASET:
        warn.append(f"Fewer than {SMALL_DATASET:,} images: turn on DiffAugment on the Train page, so the judge "
                    "(the discriminator) cannot simply memorise them.")
    if n and col.upscaled * 2 > n:
        warn.append(f"Most of your images are smaller than {opts.image_size} pixels, so they were enlarged and may "
                    "look soft; a smaller image size may suit them better.")
    report = IngestReport(name=safe, used=n, skipped=list(col.skipped), duplicates=list(col.duplicates),
                          preview=preview, path=None, warnings=warn,
                          images=np.stack(col.images) if col.images else None, sources=list(col.sources),
                          options=opts)
    col.check_enough("the upload", report)
    if dry_run:
        _report(progress, 1.0, f"{n:,} images ready.")
        return report
    meta = {
        "source_files": [_clean_name(f) for f, _ in files],
        "skipped": [list(s) for s in report.skipped],
        "duplicates": [list(d) for d in report.duplicates],
        "crop": opts.crop,
        "mode": opts.mode,
        "description": f"Your {n:,} images, {opts.image_size}×{opts.image_size} "
                       f"{'colour' if opts.mode == 'RGB' else 'grayscale'}.",
    }
    _report(progress, 0.99, "Saving…")
    report.path = save_dataset(safe, report.images, flip=opts.flip, meta=meta, overwrite=overwrite)
    _report(progress, 1.0, f"Saved {n:,} images as '{safe}'.")
    return report
