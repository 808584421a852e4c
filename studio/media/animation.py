"""Timelapses of a run: frames labelled with their training step, saved as animated GIF or MP4.

Holding the inputs fixed while the weights change is what makes a training timelapse readable:
the grid frames are the run's fixed-noise samples (the same latents at every snapshot, as in
StyleGAN's ``fakes*.png`` series, Karras et al. 2019), and a latent timelapse renders one chosen z
through every snapshot of the generator.

- GIF: Pillow, one adaptive palette per frame. Pillow merges *identical* consecutive frames into
  one longer frame; labelled frames always differ (their step text does), so a labelled timelapse
  has exactly one frame per snapshot.
- MP4: H.264 through imageio-ffmpeg, which ships its own ffmpeg binary inside the wheel (no system
  ffmpeg needed). H.264 with yuv420p wants even sides, so frames are padded (never resized: a
  resample would smear the pixel art).

Small images are upscaled by a whole factor with nearest-neighbour sampling so a 32 px latent is
not a postage stamp and its pixels stay square and crisp.

Scrubbing (the Checkpoints page) and latent timelapses use a ``SnapshotBank``: one generator per run
whose weights are swapped between snapshots, instead of one model per snapshot.

``progress`` arguments are callables ``progress(fraction in [0, 1], text)``; the Checkpoints page
passes one that drives ``st.progress``. This module never imports streamlit.
"""

from __future__ import annotations

import collections
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.images import upscale
from studio.core.progress import Progress
from studio.core.progress import report as _report

BAND_COLOR = (18, 18, 22)  # the dark strip the step label sits on, below the image
TEXT_COLOR = (240, 240, 240)


def _rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H,W), (H,W,1), (H,W,3) or (H,W,4) → uint8 (H,W,3)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"expected uint8 images, got {image.dtype}; use imageutils.to_uint8 first")
    if image.ndim == 2:
        image = image[..., None]
    assert image.ndim == 3, f"expected (H,W,C), got shape {image.shape}"
    c = image.shape[-1]
    if c == 1:
        return np.repeat(image, 3, axis=-1)
    if c == 3:
        return image
    if c == 4:
        return image[..., :3]
    raise ValueError(f"expected 1, 3 or 4 channels, got {c}")


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow ≥ 10.1 with FreeType: a scalable font
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()


def label_frame(image: np.ndarray, text: str, scale_to: int | None = None) -> np.ndarray:
    """``image`` (uint8, any of 1/3/4 channels), upscaled to ``scale_to``, with ``text`` on a dark band below.

    The band is added under the picture rather than drawn over it, so the label never hides part
    of the image. Returns uint8 (H + band, W, 3).
    """
    from PIL import Image, ImageDraw

    img = upscale(_rgb(image), scale_to)
    h, w = img.shape[:2]
    size = max(8, min(32, w // 12))
    font = _font(size)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    while size > 8 and probe.textlength(text, font=font) > w - 8:
        size -= 1
        font = _font(size)
    pad = max(3, size // 3)
    band = size + 2 * pad
    canvas = Image.new("RGB", (w, h + band), BAND_COLOR)
    canvas.paste(Image.fromarray(img), (0, 0))
    draw = ImageDraw.Draw(canvas)
    tw = probe.textlength(text, font=font)
    draw.text((max(2, (w - tw) / 2), h + band / 2), text, fill=TEXT_COLOR, font=font, anchor="lm")
    return np.asarray(canvas, dtype=np.uint8)


def _prepare(
    frames: Sequence[np.ndarray], labels: Sequence[str] | None, scale_to: int | None, progress: Progress, share: float
) -> list[np.ndarray]:
    """Label / upscale / RGB every frame (the first ``share`` of the progress bar)."""
    if len(frames) == 0:
        raise StudioError("There are no frames to export: this run has no snapshots yet.")
    if labels is not None and len(labels) != len(frames):
        raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
    out = []
    for i, f in enumerate(frames):
        out.append(label_frame(f, labels[i], scale_to) if labels is not None else upscale(_rgb(f), scale_to))
        _report(progress, share * (i + 1) / len(frames), f"Preparing frame {i + 1} of {len(frames)}")
    shape = out[0].shape
    if any(f.shape != shape for f in out):
        raise StudioError("All frames of a timelapse must have the same size.")
    return out


def gif_bytes(
    frames: list[np.ndarray],
    fps: float = 4,
    loop: bool = True,
    labels: list[str] | None = None,
    scale_to: int | None = None,
    progress: Progress = None,
) -> bytes:
    """An animated GIF of ``frames`` (uint8 images of one size), ``fps`` frames per second."""
    import io

    from PIL import Image

    if fps <= 0:
        raise StudioError("Frames per second must be above 0.")
    prepared = _prepare(frames, labels, scale_to, progress, 0.8)
    images = [Image.fromarray(f) for f in prepared]
    _report(progress, 0.85, "Encoding the GIF")
    buf = io.BytesIO()
    extra = {"loop": 0} if loop else {}  # loop=0 means forever; no loop key means play once
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(20, round(1000 / fps)),
        disposal=1,
        **extra,
    )
    _report(progress, 1.0, "GIF ready")
    return buf.getvalue()


def pad_even(image: np.ndarray) -> np.ndarray:
    """Pad the bottom / right edge with the band colour so both sides are even (H.264 yuv420p)."""
    h, w = image.shape[:2]
    ph, pw = h % 2, w % 2
    if not (ph or pw):
        return image
    out = np.empty((h + ph, w + pw, image.shape[2]), np.uint8)
    out[...] = np.array(BAND_COLOR, np.uint8)[: image.shape[2]]
    out[:h, :w] = image
    return out


def mp4_bytes(
    frames: list[np.ndarray],
    fps: float = 4,
    labels: list[str] | None = None,
    scale_to: int | None = None,
    progress: Progress = None,
) -> bytes:
    """An H.264 MP4 (yuv420p, plays in browsers and phones) of ``frames`` at ``fps``."""
    import imageio.v2 as iio

    if fps <= 0:
        raise StudioError("Frames per second must be above 0.")
    prepared = [pad_even(f) for f in _prepare(frames, labels, scale_to, progress, 0.3)]
    with tempfile.TemporaryDirectory(prefix="studio-mp4-") as tmp:
        path = os.path.join(tmp, "timelapse.mp4")
        # macro_block_size=2: we padded to even sides ourselves; imageio's default (16) would
        # resize every frame and smear the pixels. quality 8 ≈ crf 10: pixel art stays crisp.
        writer = iio.get_writer(
            path,
            format="FFMPEG",
            mode="I",
            fps=fps,
            codec="libx264",
            pixelformat="yuv420p",
            quality=8,
            macro_block_size=2,
            ffmpeg_log_level="error",
        )
        try:
            for i, f in enumerate(prepared):
                writer.append_data(f)
                _report(progress, 0.3 + 0.65 * (i + 1) / len(prepared), f"Encoding frame {i + 1} of {len(prepared)}")
        finally:
            writer.close()
        data = Path(path).read_bytes()
    _report(progress, 1.0, "MP4 ready")
    return data


class SnapshotBank:
    """One run's generator, moved through its snapshots by swapping weights: scrubbing through time.

    A ``Sampler`` per snapshot costs a model build plus a ``tf.function`` trace (measured 0.25-0.5 s
    each on 2 CPU cores), and a bounded cache of them thrashes on a run with more snapshots than
    entries. Here one ``Sampler`` is traced once; each snapshot's weights are read from disk once
    (``load_weights``, ~50-130 ms), kept as NumPy arrays in an LRU bounded by bytes, and swapped in
    with ``set_weights`` (~3 ms).

    ``prefetch`` does the rest in a background thread: it reads the other snapshots' weights (into a
    second generator, so it never blocks a swap) and then draws the latent being followed at every
    snapshot into a small image cache, so that moving the slider is a cache lookup. (Measured in the
    studio's server on 2 busy cores: the first TensorFlow call after the process sat idle took
    50-150 ms, against ~3 ms back to back; a lookup has no such wake-up cost.)

    Thread-safe: Streamlit sessions share one bank; a lock keeps a swap and its call together.
    Weights and images are keyed by (step, file mtime), so a snapshot rewritten after a resume is
    read again rather than served stale.
    """

    def __init__(self, run, max_bytes: int = 192 * 2**20, max_images: int = 2048):
        from studio.train.runs import Run

        self.run = run if isinstance(run, Run) else Run.open(run)
        self.max_bytes = int(max_bytes)
        self.max_images = int(max_images)
        self._lock = threading.RLock()
        self._sampler = None
        self._loaded: tuple | None = None  # (step, mtime) whose weights are in the generator now
        self._weights: collections.OrderedDict = collections.OrderedDict()  # (step, mtime) -> arrays
        self._bytes = 0
        self._images: collections.OrderedDict = collections.OrderedDict()  # (step, mtime, latent) -> uint8
        self._prefetch_thread: threading.Thread | None = None
        self._want_steps: list[int] = []
        self._want_latent: tuple | None = None  # (z (z_dim,), label) to draw at every snapshot

    # ---- weights -------------------------------------------------------------------------------------
    def _key(self, step: int) -> tuple[int, int]:
        path = self.run.snapshot_path(step)  # StudioError (listing the steps) if it is gone
        try:
            return int(step), path.stat().st_mtime_ns
        except FileNotFoundError:
            raise StudioError(
                f"The snapshot at step {step} of '{self.run.id}' was just removed "
                "(old snapshots are thinned out as a run grows)."
            ) from None

    def _key_or_none(self, step: int):
        try:
            return self._key(step)
        except StudioError:
            return None

    def _remember(self, key: tuple, arrays: list[np.ndarray]) -> None:
        """Keep ``arrays`` under ``key`` (caller holds the lock), evicting the least recently used."""
        if key in self._weights:
            self._weights.move_to_end(key)
            return
        self._weights[key] = arrays
        self._bytes += sum(a.nbytes for a in arrays)
        while self._bytes > self.max_bytes and len(self._weights) > 1:
            _, old = self._weights.popitem(last=False)
            self._bytes -= sum(a.nbytes for a in old)

    def _load(self, model, step: int) -> None:
        try:
            model.load_weights(str(self.run.snapshot_path(step)))
        except StudioError:
            raise
        except Exception as e:  # noqa: BLE001 - a damaged file is a person-level problem
            raise StudioError(f"The snapshot at step {step} of '{self.run.id}' could not be read ({e}).") from None

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def sampler(self, step: int):
        """The bank's ``Sampler`` with the weights of ``step`` in it. Hold ``self.lock`` while using it."""
        from studio.generate.sampling import Sampler

        key = self._key(step)
        with self._lock:
            if self._sampler is None:
                self._sampler = Sampler(self.run, int(step))
                self._loaded = key
                self._remember(key, self._sampler.G.get_weights())
            elif self._loaded != key:
                arrays = self._weights.get(key)
                if arrays is not None:
                    self._sampler.G.set_weights(arrays)
                    self._weights.move_to_end(key)
                else:
                    self._load(self._sampler.G, int(step))
                    self._remember(key, self._sampler.G.get_weights())
                self._loaded = key
            return self._sampler

    def generate(self, step: int, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """uint8 (N,H,W,C) images of latents ``z`` (N, z_dim) as the snapshot at ``step`` draws them."""
        with self._lock:
            return self.sampler(step).generate(z, labels)

    @property
    def z_dim(self) -> int:
        return self.run.config.z_dim

    def cached_steps(self) -> list[int]:
        with self._lock:
            return sorted(k[0] for k in self._weights)

    # ---- one latent across time, cached --------------------------------------------------------------
    @staticmethod
    def _latent_id(z: np.ndarray, label: int | None) -> bytes:
        return np.asarray(z, np.float32).reshape(-1).tobytes() + (
            b"" if label is None else int(label).to_bytes(4, "little")
        )

    def image(self, step: int, z: np.ndarray, label: int | None = None) -> np.ndarray:
        """uint8 (H,W,C): latent ``z`` (z_dim,) drawn by the snapshot at ``step`` (cached; treat as read-only)."""
        key = (*self._key(step), self._latent_id(z, label))
        with self._lock:
            img = self._images.get(key)
            if img is not None:
                self._images.move_to_end(key)
                return img
            img = self.sampler(step).generate(
                np.asarray(z, np.float32).reshape(1, -1), None if label is None else np.array([int(label)], np.int32)
            )[0]
            img.setflags(write=False)
            self._images[key] = img
            while len(self._images) > self.max_images:
                self._images.popitem(last=False)
            return img

    # ---- prefetch ------------------------------------------------------------------------------------
    def prefetch(self, around: int | None = None, z: np.ndarray | None = None, label: int | None = None) -> None:
        """Read the other snapshots' weights in the background, nearest to ``around`` first, then draw
        latent ``z`` (if given) at each of them into the image cache.

        Weights stop at the byte budget (prefetch never evicts). Returns at once; calling it again
        while it works re-centres the order and switches to the new latent.
        """
        steps = self.run.snapshot_steps()
        if around is not None:
            steps.sort(key=lambda s: (abs(s - around), s))
        with self._lock:
            self._want_steps = steps
            self._want_latent = None if z is None else (np.asarray(z, np.float32).reshape(-1).copy(), label)
            if self._prefetch_thread is not None and self._prefetch_thread.is_alive():
                return
            self._prefetch_thread = threading.Thread(
                target=self._prefetch_work, daemon=True, name=f"prefetch-{self.run.id}"
            )
            self._prefetch_thread.start()

    def wait_prefetch(self, timeout: float | None = None) -> None:
        t = self._prefetch_thread
        if t is not None:
            t.join(timeout)

    def _next_weights(self) -> tuple | None:
        """(step, key) of the nearest wanted snapshot whose weights are not held, within the budget."""
        if self._weights:
            per = self._bytes / len(self._weights)
            if self._bytes + per > self.max_bytes:
                return None
        for s in self._want_steps:
            key = self._key_or_none(s)
            if key is not None and key not in self._weights:
                return s, key
        return None

    def _next_image(self) -> int | None:
        """The nearest wanted snapshot (with weights held) not yet drawn for the wanted latent."""
        if self._want_latent is None:
            return None
        lid = self._latent_id(*self._want_latent)
        for s in self._want_steps:
            key = self._key_or_none(s)
            if key is not None and key in self._weights and (*key, lid) not in self._images:
                return s
        return None

    def _prefetch_work(self) -> None:
        from studio.train.models import build_generator

        loader = None
        failed: set[int] = set()
        while True:
            with self._lock:
                job = self._next_weights()
                if job is not None and job[0] in failed:
                    self._want_steps = [s for s in self._want_steps if s != job[0]]
                    continue
                if job is None:
                    step = self._next_image()
                    if step is None:
                        return
                    try:  # a swap (~3 ms) and one call, under the lock
                        self.image(step, *self._want_latent)
                    except StudioError:
                        self._want_steps = [s for s in self._want_steps if s != step]
                    continue
            try:  # disk reads outside the lock: scrubbing goes on
                if loader is None:
                    loader = build_generator(self.run.config, name="generator")
                self._load(loader, job[0])
                arrays = loader.get_weights()
            except Exception:  # noqa: BLE001 - best effort; image()/generate() report real errors
                failed.add(job[0])
                continue
            with self._lock:
                if self._key_or_none(job[0]) == job[1]:
                    self._remember(job[1], arrays)


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
