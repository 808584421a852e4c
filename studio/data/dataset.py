"""The in-memory dataset every source becomes, and the catalogue entry the Data page lists."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# ------------------------------------------------------------------------------------------------
# The in-memory dataset


@dataclass
class Dataset:
    name: str
    images: np.ndarray  # uint8 (N, H, W, C), C in {1, 3}
    labels: np.ndarray | None = None  # int32 (N,), None = unlabelled
    class_names: list[str] = field(default_factory=list)  # names of labels 0..K-1; [] if unlabelled
    flip: bool = False  # random horizontal flip at train time
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, plain reason)

    def __post_init__(self):
        x = self.images
        assert isinstance(x, np.ndarray) and x.dtype == np.uint8, (
            f"images must be uint8, got {getattr(x, 'dtype', type(x))}"
        )
        assert x.ndim == 4 and x.shape[-1] in (1, 3) and x.shape[0] >= 1, f"images must be (N,H,W,1|3), got {x.shape}"
        if self.labels is not None:
            y = self.labels
            assert y.dtype == np.int32 and y.shape == (x.shape[0],), (
                f"labels must be int32 (N,), got {y.dtype} {y.shape}"
            )

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
    kind: str  # "built-in" | "yours"
    description: str
    count: int | None  # None if not downloaded yet / unknown
    image_size: int  # side in pixels as stored (digits: the 32 px it is served at)
    channels: int  # 1 grayscale, 3 colour
    labelled: bool
    available_offline: bool  # can be loaded right now without the internet
