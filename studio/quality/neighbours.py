"""Is this picture a copy? Its nearest training pictures, in pixels and in features, with a verdict.

Distances are judged against the typical distance between two training pictures: the median, over
training pictures, of each one's distance to its nearest other training picture. A generated picture
much closer to a training picture than training pictures are to each other is a likely copy (the
nearest-neighbour test of Meehan et al. 2020 and of the memorisation checks in the StyleGAN papers,
made into one sentence). Pixel distances are root-mean-square over pixels on the 0-255 scale.

A :class:`TrainingIndex` holds a run's training pictures and their features; build it once per run
(pages cache it) and ask it about as many pictures as needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.errors import StudioError
from studio.quality.features import extractor_for, get_extractor
from studio.quality.prdc import pairwise_distances

COPY_RATIO = 0.5  # closer than half the typical gap: "likely a copy"
CLOSE_RATIO = 1.0  # closer than the typical gap: "close"; beyond it: "no training image is close"


@dataclass(frozen=True)
class Neighbour:
    index: int  # the picture's position in the run's dataset (the "#123" shown to people)
    distance: float
    ratio: float  # distance / the typical distance between two training pictures (same space)


@dataclass(frozen=True)
class NeighbourReport:
    pixels: tuple[Neighbour, ...]  # nearest first
    features: tuple[Neighbour, ...]
    features_name: str
    verdict: str  # "copy" | "close" | "far"
    message: str  # one sentence for the person

    @property
    def is_copy(self) -> bool:
        return self.verdict == "copy"


def _typical(x: np.ndarray, sample: int = 500, chunk: int = 4096) -> float:
    """Median distance from a training picture to its nearest other one, over (at most) ``sample``
    of them against all, in chunks: a 60,000-picture set never makes a 60,000² matrix."""
    rng = np.random.default_rng(0)
    pick = np.sort(rng.permutation(len(x))[:sample])
    best = np.full(len(pick), np.inf)
    for start in range(0, len(x), chunk):
        d = pairwise_distances(x[pick], x[start : start + chunk])
        own = (pick >= start) & (pick < start + chunk)
        d[np.flatnonzero(own), pick[own] - start] = np.inf  # not itself
        best = np.minimum(best, d.min(axis=1))
    return float(np.median(best))


class TrainingIndex:
    """The training pictures of a run (its held-out pictures excluded: it never saw them)."""

    def __init__(self, images: np.ndarray, index: np.ndarray, features_name: str):
        assert images.dtype == np.uint8 and images.ndim == 4, (images.dtype, images.shape)
        if len(images) < 2:
            raise StudioError("The nearest-picture check needs at least two training pictures.")
        self.images, self.index, self.features_name = images, np.asarray(index), features_name
        self._ex = get_extractor(features_name)
        self.pixels = images.reshape(len(images), -1).astype(np.float32)
        self.feats = self._ex(images)
        self.typical_pixels = _typical(self.pixels)
        self.typical_features = _typical(self.feats)
        self._n_px = self.pixels.shape[1]

    @classmethod
    def for_run(cls, run) -> TrainingIndex:
        from studio.quality.scoring import load_split
        from studio.train.runs import Run

        run = run if isinstance(run, Run) else Run.open(run)
        cfg = run.config
        split = load_split(cfg)
        return cls(split.train.images, split.train_index, extractor_for(cfg.dataset, cfg.channels))

    def image(self, dataset_index: int) -> np.ndarray:
        """The training picture the person knows as ``#dataset_index`` (uint8 H×W×C)."""
        pos = int(np.searchsorted(self.index, dataset_index))  # index is sorted (a split keeps order)
        if pos >= len(self.index) or self.index[pos] != dataset_index:
            raise StudioError(f"Training image #{dataset_index} is not among this run's training pictures.")
        return self.images[pos]

    def _top(self, d: np.ndarray, typical: float, k: int) -> tuple[Neighbour, ...]:
        order = np.argsort(d)[:k]
        return tuple(Neighbour(int(self.index[i]), float(d[i]), float(d[i] / max(typical, 1e-12))) for i in order)

    def nearest(self, image: np.ndarray, k: int = 3) -> NeighbourReport:
        """The ``k`` nearest training pictures of one uint8 picture (H,W,C) of the run's size."""
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[..., None]
        if image.dtype != np.uint8 or image.shape != self.images.shape[1:]:
            raise StudioError(
                f"The picture must be {self.images.shape[1]}×{self.images.shape[2]} with "
                f"{self.images.shape[3]} channel(s), as the run's pictures are."
            )
        # RMS over pixels: independent of the picture size, in the 0-255 units people know.
        d_px = pairwise_distances(image.reshape(1, -1).astype(np.float32), self.pixels)[0] / np.sqrt(self._n_px)
        d_ft = pairwise_distances(self._ex(image[None]), self.feats)[0]
        px = self._top(d_px, self.typical_pixels / np.sqrt(self._n_px), k)
        ft = self._top(d_ft, self.typical_features, k)
        best = min(px[0].ratio, ft[0].ratio)
        who = px[0] if px[0].ratio <= ft[0].ratio else ft[0]
        if best < COPY_RATIO:
            verdict, msg = "copy", f"Close to training image #{who.index} — likely a copy."
        elif best < CLOSE_RATIO:
            verdict, msg = (
                "close",
                f"Training image #{who.index} is similar: closer than training images usually are to each other.",
            )
        else:
            verdict, msg = "far", "No training image is close: this picture is the generator's own."
        return NeighbourReport(px, ft, self.features_name, verdict, msg)
