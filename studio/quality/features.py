"""Feature extractors that work offline, registered by name; every quality number is computed in one.

Published metric tools download Inception or VGG weights at first use; the studio cannot. Two
extractors instead, both plain convolution stacks run from numpy weights inside one compiled
``tf.function`` (a None-batch input signature, so any batch size traces once):

* ``randconv`` — a fixed-seed, randomly initialised conv net. Random features rank generative models
  sensibly (Lee et al., "Exploring the Feature Space of Random Networks for GAN Evaluation", 2022,
  arXiv 2208.09218) and need no training, so they fit any image size and channel count: an artist's
  own colour pictures. The pooled outputs of its last three layers are the features (448 numbers).
* ``digitnet`` — a small CNN trained on the built-in digits (``scripts/train_feature_net.py`` makes
  ``weights/digitnet.npz``, committed), the offline stand-in for a LeNet-on-MNIST domain classifier:
  its 128 pooled features know what strokes of a digit are. Used for grayscale digit data.

Numbers from either compare runs inside the studio, not with papers (which use Inception). Each
quality row records the extractor's name, and rows from different extractors are never compared.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
RANDCONV_SEED = 20220818  # fixed for ever: changing it changes every randconv number
RANDCONV_WIDTHS = (32, 64, 128, 256)
RANDCONV_MAX_SIDE = 64  # larger pictures are shrunk first: texture at 64 px is what a 2-core machine can afford
DIGIT_DATASETS = ("digits", "mnist")  # grayscale handwritten digits: the trained net's own domain


@dataclass
class ConvFeatures:
    """A stack of 3×3 stride-2 'same' convolutions with ReLU, global-average-pooled at chosen layers.

    ``kernels[i]`` is (3, 3, Cin, Cout) float32, ``biases[i]`` (Cout,). ``pooled`` names the layers
    whose pooled outputs are concatenated into the feature vector. Images are resized to ``side``
    (None: kept, but capped at ``max_side``) and converted to ``channels`` (None: kept).
    """

    name: str
    kernels: list[np.ndarray]
    biases: list[np.ndarray]
    pooled: tuple[int, ...]
    side: int | None = None
    max_side: int | None = None
    scale: float = 1.0  # features are divided by it (digitnet: their RMS on the digits)
    channels: int | None = None
    _fn: object = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def dim(self) -> int:
        return int(sum(self.kernels[i].shape[-1] for i in self.pooled))

    def _function(self):
        import tensorflow as tf

        with self._lock:
            if self._fn is None:
                ks = [tf.constant(k, tf.float32) for k in self.kernels]
                bs = [tf.constant(b, tf.float32) for b in self.biases]
                pooled = set(self.pooled)

                @tf.function(input_signature=[tf.TensorSpec([None, None, None, None], tf.float32)])
                def run(x):
                    outs = []
                    h = x
                    for i, (k, b) in enumerate(zip(ks, bs)):
                        h = tf.nn.relu(tf.nn.conv2d(h, k, strides=2, padding="SAME") + b)
                        if i in pooled:
                            outs.append(tf.reduce_mean(h, axis=[1, 2]))
                    return tf.concat(outs, axis=-1)

                self._fn = run
        return self._fn

    def _prepare(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N,H,W,C) → float32 in [-1, 1] at the extractor's size and channels."""
        x = images.astype(np.float32) / 127.5 - 1.0
        c_in = x.shape[-1]
        want_c = self.channels or c_in
        if want_c == 1 and c_in == 3:
            x = x.mean(axis=-1, keepdims=True)
        elif want_c == 3 and c_in == 1:
            x = np.repeat(x, 3, axis=-1)
        side = self.side or (min(x.shape[1], self.max_side) if self.max_side else x.shape[1])
        if x.shape[1] != side or x.shape[2] != side:
            import tensorflow as tf

            # Area averaging when shrinking keeps fine strokes from aliasing away.
            method = "area" if x.shape[1] > side else "bilinear"
            x = tf.image.resize(x, (side, side), method=method).numpy()
        return x

    def kernels_for(self, channels: int) -> ConvFeatures:
        return self

    def __call__(self, images: np.ndarray, batch: int = 250) -> np.ndarray:
        """Features (N, dim) float64 of uint8 images (N,H,W,C)."""
        images = np.asarray(images)
        assert images.dtype == np.uint8 and images.ndim == 4, (images.dtype, images.shape)
        if len(images) == 0:
            return np.zeros((0, self.dim))
        ex = self.kernels_for(images.shape[-1])
        fn = ex._function()
        parts = [fn(ex._prepare(images[i : i + batch])).numpy() for i in range(0, len(images), batch)]
        return np.concatenate(parts).astype(np.float64) / ex.scale


class RandConv(ConvFeatures):
    """``randconv``: He-initialised random weights from a fixed seed, one set per input channel count."""

    def __init__(self):
        super().__init__("randconv", [], [], pooled=(1, 2, 3), max_side=RANDCONV_MAX_SIDE)
        self._by_channels: dict[int, ConvFeatures] = {}

    @property
    def dim(self) -> int:
        return int(sum(RANDCONV_WIDTHS[i] for i in self.pooled))

    def kernels_for(self, channels: int) -> ConvFeatures:
        with self._lock:
            if channels not in self._by_channels:
                rng = np.random.default_rng([RANDCONV_SEED, channels])
                kernels, biases, cin = [], [], channels
                for cout in RANDCONV_WIDTHS:
                    # He scaling keeps activations near unit size through the ReLUs, so no layer's
                    # pooled features swamp the others'.
                    std = np.sqrt(2.0 / (9 * cin))
                    kernels.append(rng.normal(0.0, std, (3, 3, cin, cout)).astype(np.float32))
                    biases.append(np.zeros(cout, np.float32))
                    cin = cout
                self._by_channels[channels] = ConvFeatures(
                    f"randconv-{channels}ch", kernels, biases, self.pooled, max_side=self.max_side
                )
            return self._by_channels[channels]


def _load_digitnet() -> ConvFeatures:
    path = WEIGHTS_DIR / "digitnet.npz"
    try:
        with np.load(path, allow_pickle=False) as f:
            n = int(f["layers"])
            kernels = [f[f"kernel_{i}"] for i in range(n)]
            biases = [f[f"bias_{i}"] for i in range(n)]
            side = int(f["side"])
            scale = float(f["scale"])
    except (OSError, KeyError) as e:
        raise StudioError(
            f"The studio's digit feature network ({path.name}) is missing or damaged; "
            "run scripts/train_feature_net.py to make it again."
        ) from e
    return ConvFeatures("digitnet", kernels, biases, pooled=(n - 1,), side=side, channels=1, scale=scale)


_FACTORIES = {"randconv": RandConv, "digitnet": _load_digitnet}
_MADE: dict[str, ConvFeatures] = {}
_MADE_LOCK = threading.Lock()


def extractor_names() -> list[str]:
    return list(_FACTORIES)


def get_extractor(name: str) -> ConvFeatures:
    """The extractor registered as ``name`` (made once per process; its compiled function is reused)."""
    if name not in _FACTORIES:
        raise StudioError(f"Unknown feature extractor '{name}'. Known: {', '.join(_FACTORIES)}.")
    with _MADE_LOCK:
        if name not in _MADE:
            _MADE[name] = _FACTORIES[name]()
        return _MADE[name]


def extractor_for(dataset: str, channels: int) -> str:
    """The extractor a run's pictures are measured in: the trained digit net for grayscale digits,
    random conv features (no training, any picture) for everything else."""
    if channels == 1 and str(dataset) in DIGIT_DATASETS:
        return "digitnet"
    return "randconv"
