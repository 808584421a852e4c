"""A scrub cache: one run's generator moved through its snapshots by swapping weights.

Used by the Checkpoints page (scrubbing, Compare) and by latent timelapses; a background thread
reads the other snapshots' weights and draws the followed latent ahead of the slider.
"""

from __future__ import annotations

import collections
import threading

import numpy as np

from studio.core.errors import StudioError


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
