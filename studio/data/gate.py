"""Uploads: the gate every file from outside goes through.

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
import os
import re
import stat
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from studio.core.errors import StudioError
from studio.core.images import make_grid
from studio.core.progress import Progress
from studio.core.progress import report as _report
from studio.data.preprocess import UPLOAD_SIZES, PreprocessOptions, _finish, _normalise
from studio.data.store import _check_new_name, safe_dataset_name, save_dataset

# --- limits (one place; the tests and the Data page read them from here) -----------------------
MIN_IMAGES = 16  # fewer usable images than this cannot make a dataset
SMALL_DATASET = 1000  # below this, recommend DiffAugment
MAX_UPLOAD_MB = 200  # matches server.maxUploadSize in .streamlit/config.toml
MAX_FILES = 20_000  # files in one upload, zip members included
MAX_UNCOMPRESSED_BYTES = 1 << 30  # everything a zip may unpack to (1 GB)
MAX_RATIO = 100  # per zip member: uncompressed / compressed
RATIO_MIN_BYTES = 1 << 20  # ratios only matter for members above 1 MB (tiny flat files compress well)
MAX_FILE_BYTES = 64 << 20  # one image file
MAX_PIXELS = 40_000_000  # one image, checked from its header before decoding
MIN_SIDE = 8  # smallest image side that is still a picture

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
# Only these decoders ever run on uploaded bytes (Pillow would otherwise also try e.g. EPS, which
# shells out to Ghostscript). MPO is how Pillow labels many camera JPEGs.
PIL_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "BMP", "WEBP")
# Files that operating systems sprinkle into folders and zips: ignored without a word.
_JUNK_NAMES = {"thumbs.db", "desktop.ini"}
_CHUNK = 1 << 20

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
    return (
        f"The image is too large ({w:,}×{h:,} pixels, over the {MAX_PIXELS // 1_000_000} megapixel limit), "
        "so it was not opened."
    )


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
    return (
        not parts
        or parts[0] == "__MACOSX"
        or any(p.startswith(".") and p not in (".", "..") for p in parts)
        or parts[-1].lower() in _JUNK_NAMES
    )


def _ext(name: str) -> str:
    return os.path.splitext(name.lower())[1]


@functools.lru_cache(maxsize=1)
def _pil_formats() -> tuple[str, ...]:
    """The allowed decoders that this Pillow build really has (WebP needs libwebp)."""
    import importlib

    for mod in (
        "BmpImagePlugin",
        "GifImagePlugin",
        "JpegImagePlugin",
        "MpoImagePlugin",
        "PngImagePlugin",
        "WebPImagePlugin",
    ):
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


@dataclass
class _Counter:
    """A number several readers of one upload share: files seen so far, or bytes still allowed."""

    value: int = 0


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Counter) -> bytes:
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
                budget.value -= len(chunk)
                if budget.value < 0:
                    raise StudioError(
                        f"The upload unpacks to more than {MAX_UNCOMPRESSED_BYTES >> 20:,} MB, the limit, so it was not used."
                    )
                if got > cap:
                    raise _Skip(R_FILE_TOO_BIG if got > MAX_FILE_BYTES else R_ZIP_READ)
                parts.append(chunk)
    except (_Skip, StudioError):
        raise
    except RuntimeError as e:  # encrypted member without a password
        raise _Skip(
            R_ENCRYPTED if "encrypt" in str(e).lower() or "password" in str(e).lower() else R_ZIP_READ
        ) from None
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
        n = int.from_bytes(tail[i + 10 : i + 12], "little")
        if n == 0xFFFF and i >= 20 and tail[i - 20 : i - 16] == b"PK\x06\x07":  # zip64: follow the locator
            fileobj.seek(int.from_bytes(tail[i - 12 : i - 4], "little"))
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


def _iter_zip(zip_name: str, fileobj, budget_bytes: int, count: _Counter) -> Iterator[Source]:
    """Members of a zip as sources, checked one by one; nothing is ever extracted to disk."""
    declared = _declared_entries(fileobj)
    if declared is not None and count.value + declared > MAX_FILES:
        raise StudioError(
            f"The upload holds more than {MAX_FILES:,} files (the zip archive '{_clean_name(zip_name)}' "
            f"alone lists {declared:,}), so it was not used."
        )
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
        count.value += len(files)
        if count.value > MAX_FILES:
            raise StudioError(
                f"The upload holds more than {MAX_FILES:,} files (the zip archive '{_clean_name(zip_name)}' "
                f"alone has {len(files):,}), so it was not used."
            )
        declared = sum(i.file_size for i in files)
        if declared > budget_bytes:
            raise StudioError(
                f"The zip archive '{_clean_name(zip_name)}' would unpack to {declared / 2**20:,.0f} MB, "
                f"over the {MAX_UNCOMPRESSED_BYTES >> 20:,} MB limit, so it was not opened."
            )
        budget = _Counter(budget_bytes)
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


def _iter_zip_file(zip_name: str, fileobj, budget_bytes: int, count: _Counter) -> Iterator[Source]:
    """_iter_zip, with a problem of the whole archive (empty, no images, damaged) as one skipped entry."""
    try:
        yield from _iter_zip(zip_name, fileobj, budget_bytes, count)
    except _Skip as s:
        yield _clean_name(zip_name), None, str(s)


def _iter_upload(files: Iterable[tuple[str, bytes]], count: _Counter) -> Iterator[Source]:
    budget = MAX_UNCOMPRESSED_BYTES
    for fname, data in files:
        shown = _clean_name(fname)
        if _is_junk(str(fname)):
            continue
        count.value += 1
        if count.value > MAX_FILES:
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
            opts = (
                self.opts
                if mode != "auto"
                else PreprocessOptions(self.opts.image_size, "RGB", self.opts.crop, self.opts.flip)
            )
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
                raise IngestError(
                    "None of the files could be used as images; the list of skipped files says why.", report
                )
            raise IngestError(f"No images were found in {what}.", report)
        dup = (
            f" (after dropping {len(self.duplicates)} exact duplicate{'s' if len(self.duplicates) != 1 else ''})"
            if self.duplicates
            else ""
        )
        raise IngestError(
            f"Only {n} usable image{'s' if n != 1 else ''} {'were' if n != 1 else 'was'} found{dup}; "
            f"at least {MIN_IMAGES} are needed to make a dataset.",
            report,
        )


@dataclass
class IngestReport:
    name: str  # the safe name it was (or would be) saved under
    used: int  # images in the dataset
    skipped: list[tuple[str, str]]  # (file, plain reason)
    duplicates: list[tuple[str, str]]  # (file, the earlier file it repeats)
    preview: np.ndarray  # uint8 grid of up to the first 64 processed images
    path: Path | None  # the saved folder; None for a dry run
    warnings: list[str]  # plain advice (small dataset, enlarged images, ...)
    images: np.ndarray | None = None  # uint8 (N,S,S,C), all processed images
    sources: list[str] = field(default_factory=list)  # file name of each used image, in order
    options: PreprocessOptions | None = None


def ingest_upload(
    files: list[tuple[str, bytes]],
    name: str,
    opts: PreprocessOptions,
    progress: Progress = None,
    dry_run: bool = False,
    overwrite: bool = False,
) -> IngestReport:
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
        raise IngestError(
            f"The upload is {total / 2**20:,.0f} MB, over the {MAX_UPLOAD_MB} MB limit; upload fewer or smaller files."
        )
    estimate = 0
    for fname, data in files:
        if _ext(str(fname)) == ".zip" or data[:4] == b"PK\x03\x04":
            estimate += min(_declared_entries(io.BytesIO(data)) or 1, MAX_FILES)
        else:
            estimate += 1
    col = _Collector(opts, progress, estimate)
    col.add_sources(_iter_upload(files, _Counter()))
    n = len(col.images)
    preview = make_grid(np.stack(col.images[:64])) if col.images else np.zeros((8, 8, 3), np.uint8)
    warn = []
    if 0 < n < SMALL_DATASET:
        warn.append(
            f"Fewer than {SMALL_DATASET:,} images: turn on DiffAugment on the Train page, so the judge "
            "(the discriminator) cannot simply memorise them."
        )
    if n and col.upscaled * 2 > n:
        warn.append(
            f"Most of your images are smaller than {opts.image_size} pixels, so they were enlarged and may "
            "look soft; a smaller image size may suit them better."
        )
    report = IngestReport(
        name=safe,
        used=n,
        skipped=list(col.skipped),
        duplicates=list(col.duplicates),
        preview=preview,
        path=None,
        warnings=warn,
        images=np.stack(col.images) if col.images else None,
        sources=list(col.sources),
        options=opts,
    )
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
