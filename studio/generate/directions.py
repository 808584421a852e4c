"""Semantic directions in a generator's latent space, found the GANSpace way.

Härkönen, Hertzmann, Lehtinen, Paris, "GANSpace: Discovering Interpretable GAN Controls" (NeurIPS
2020). For generators without a StyleGAN mapping network (their BigGAN recipe, and our MLP/DCGAN):

1. sample N latents z ~ N(0, I) and run them through G up to an early layer (here: the first
   non-linearity after G's first Dense layer, i.e. the end of its first block), flattened to y;
2. PCA on the y's: components V (k, F), coefficients x = V (y - mean);
3. regress the latents onto the coefficients, z ≈ U x (least squares), so column i of U is the
   latent direction that moves the activation along principal component i; normalise it.

We then orthonormalise the directions in explained-variance order (QR = Gram-Schmidt), so moving
one slider never secretly moves another, and measure the standard deviation of the sampled latents'
projections on each direction: sliders are in those standard deviations (GANSpace's "sigma" units).

The result depends only on the snapshot's weights and a fixed sampling seed, so it is computed once
per snapshot and kept beside it (``snapshots/step_XXXXXXXX.directions.npz``, written atomically,
tagged with the snapshot's content hash so a rewritten snapshot gets fresh directions).
Never ``model.predict``: batches go through one ``tf.function`` with a None-batch signature.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.paths import atomic_write_bytes
from studio.core.progress import Progress
from studio.core.progress import report as _report

METHOD_VERSION = 1  # bump when the recipe below changes: cached files are then recomputed
DEFAULT_SAMPLES = 4096
DEFAULT_COMPONENTS = 16
_SAMPLING_SEED = 0x6A5  # fixed: the same snapshot always gets the same directions
FEATURES_LAYER = "g_features_4"  # a generator's 4×4 features, where it names them (fastgan)
_ACTIVATIONS = ("ReLU", "LeakyReLU", "Activation", "ELU", "PReLU")


@dataclass
class Directions:
    directions: np.ndarray  # float32 (n, z_dim), orthonormal rows, explained-variance order
    variance_ratio: np.ndarray  # float32 (n,), PCA explained-variance ratio, non-increasing
    stds: np.ndarray  # float32 (n,), std of N(0, I) latents' projection on each direction
    layer: str  # name of the G layer whose activations were analysed
    n_samples: int  # latents sampled
    snapshot_hash: str = ""  # blake2b of the snapshot file the directions came from

    def __len__(self) -> int:
        return int(self.directions.shape[0])

    def offset(self, amounts_std: dict[int, float] | np.ndarray | None) -> np.ndarray:
        """The latent offset (z_dim,) for slider values in standard deviations, {index: amount}."""
        out = np.zeros(self.directions.shape[1], np.float32)
        if amounts_std is None:
            return out
        items = amounts_std.items() if isinstance(amounts_std, dict) else enumerate(np.asarray(amounts_std))
        for i, a in items:
            i = int(i)
            if not 0 <= i < len(self):
                raise IndexError(f"direction {i} out of range ({len(self)} directions)")
            out += np.float32(a) * self.stds[i] * self.directions[i]
        return out.astype(np.float32)

    def apply(self, z: np.ndarray, amounts_std: dict[int, float] | np.ndarray | None) -> np.ndarray:
        """``z`` (z_dim,) moved by ``amounts_std`` standard deviations along the directions."""
        return (np.asarray(z, np.float32).reshape(-1) + self.offset(amounts_std)).astype(np.float32)


# ---- the analysis ----------------------------------------------------------------------------


def early_layer(G):
    """The layer whose output GANSpace analyses: the first non-linearity after G's first Dense layer.

    For our DCGAN that is the ReLU closing the Dense→Reshape→BatchNorm block (4×4×C features); for the
    MLP, the LeakyReLU after the first Dense; for fastgan, its layer named ``g_features_4`` (the 4×4
    gated features). Falls back to the first Dense layer itself.
    """
    named = [layer for layer in G.layers if layer.name == FEATURES_LAYER]
    if named:  # fastgan: its 4×4 features are a gated product (value · sigmoid(gate)), not one activation
        return named[0]
    first_dense = None
    for layer in G.layers:
        kind = type(layer).__name__
        if first_dense is None:
            if kind == "Dense":
                first_dense = layer
            continue
        if kind in _ACTIVATIONS:
            return layer
    if first_dense is None:
        raise StudioError("This generator has no fully-connected first layer to analyse for directions.")
    return first_dense


def _feature_fn(G, z_dim: int, conditional: bool):
    """tf.function: (z (None, z_dim), labels (None,)) → flattened float32 early-layer activations."""
    import keras
    import tensorflow as tf

    layer = early_layer(G)
    sub = keras.Model(G.inputs if conditional else G.inputs[0], layer.output, name="ganspace_features")

    @tf.function(
        input_signature=[tf.TensorSpec([None, z_dim], tf.float32), tf.TensorSpec([None], tf.int32)],
        reduce_retracing=True,
    )
    def features(z, y):
        out = sub([z, y] if conditional else z, training=False)
        return tf.reshape(tf.cast(out, tf.float32), [tf.shape(z)[0], -1])

    return features, layer.name


def compute_directions(
    G,
    z_dim: int,
    *,
    conditional: bool = False,
    num_classes: int = 0,
    n_samples: int = DEFAULT_SAMPLES,
    n_components: int = DEFAULT_COMPONENTS,
    batch_size: int = 512,
    progress: Progress = None,
) -> Directions:
    """GANSpace directions of generator ``G`` (a Keras functional model). Deterministic for given weights.

    Conditional models get labels drawn uniformly over the classes, so the directions are shared by
    every class rather than tied to one.
    """
    import tensorflow as tf
    from sklearn.utils.extmath import randomized_svd

    n_samples = int(n_samples)
    if n_samples < 64:
        raise ValueError("GANSpace needs at least 64 samples")
    rng = np.random.default_rng(_SAMPLING_SEED)
    Z = rng.standard_normal((n_samples, z_dim)).astype(np.float32)
    Y = (rng.integers(0, num_classes, n_samples) if conditional and num_classes > 0 else np.zeros(n_samples)).astype(
        np.int32
    )

    features, layer_name = _feature_fn(G, z_dim, conditional)
    chunks = []
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        chunks.append(features(tf.constant(Z[start:stop]), tf.constant(Y[start:stop])).numpy())
        _report(progress, 0.5 * stop / n_samples, f"Sampling the generator: {stop} of {n_samples} latents")
    X = np.concatenate(chunks).astype(np.float32)
    del chunks

    _report(progress, 0.55, "Finding the main directions of variation (PCA)")
    X -= X.mean(axis=0, keepdims=True)
    total_var = float(np.einsum("ij,ij->", X, X, dtype=np.float64)) / (n_samples - 1)
    k = int(min(n_components, z_dim, X.shape[1], n_samples - 1))
    if total_var <= 0 or k < 1:
        raise StudioError(
            "This generator's early layer does not vary with the latent, so it has no "
            "directions to find. Train it a little longer."
        )
    U, S, _ = randomized_svd(X, n_components=k, n_oversamples=max(10, k), n_iter=6, random_state=0)
    coeffs = (U * S).astype(np.float64)  # PCA coefficients x_j (N, k)
    variance_ratio = (S.astype(np.float64) ** 2 / (n_samples - 1)) / total_var
    del X

    _report(progress, 0.85, "Mapping the directions back to the latent space")
    # z ≈ x @ B  (B: (k, z_dim)) by least squares: row i of B is component i's latent direction.
    B, *_ = np.linalg.lstsq(coeffs, Z.astype(np.float64), rcond=None)
    B /= np.maximum(np.linalg.norm(B, axis=1, keepdims=True), 1e-12)
    # Gram-Schmidt in explained-variance order; R's diagonal sign keeps each direction's orientation.
    Q, R = np.linalg.qr(B.T)
    Q = Q * np.sign(np.where(np.diag(R) == 0, 1.0, np.diag(R)))
    D = Q.T
    # PCA signs are arbitrary: orient each direction so its largest entry is positive (stable files).
    idx = np.argmax(np.abs(D), axis=1)
    D *= np.sign(D[np.arange(len(D)), idx])[:, None]
    stds = (Z.astype(np.float64) @ D.T).std(axis=0, ddof=1)
    _report(progress, 1.0, "Directions ready")
    return Directions(
        D.astype(np.float32), variance_ratio.astype(np.float32), stds.astype(np.float32), layer_name, n_samples
    )


# ---- the cache beside the snapshot ---------------------------------------------------------------


def directions_path(snapshot: Path | str) -> Path:
    """``.../snapshots/step_XXXXXXXX.weights.h5`` → ``.../snapshots/step_XXXXXXXX.directions.npz``."""
    snapshot = Path(snapshot)
    return snapshot.with_name(snapshot.name.split(".")[0] + ".directions.npz")


def file_hash(path: Path | str) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_directions(d: Directions, path: Path | str) -> Path:
    buf = io.BytesIO()
    np.savez(
        buf,
        directions=d.directions,
        variance_ratio=d.variance_ratio,
        stds=d.stds,
        layer=np.array(d.layer),
        n_samples=np.array(d.n_samples),
        snapshot_hash=np.array(d.snapshot_hash),
        method_version=np.array(METHOD_VERSION),
    )
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def load_directions(path: Path | str, snapshot_hash: str | None = None) -> Directions | None:
    """The cached directions, or None if missing, unreadable, stale (other snapshot hash) or older method."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if int(f["method_version"]) != METHOD_VERSION:
                return None
            d = Directions(
                f["directions"].astype(np.float32),
                f["variance_ratio"].astype(np.float32),
                f["stds"].astype(np.float32),
                str(f["layer"]),
                int(f["n_samples"]),
                str(f["snapshot_hash"]),
            )
    except (OSError, KeyError, ValueError, TypeError):
        return None
    if snapshot_hash is not None and d.snapshot_hash != snapshot_hash:
        return None
    return d


def cached_directions(sampler) -> Directions | None:
    """The directions saved beside ``sampler``'s snapshot, if they are there and still match it."""
    snap = sampler.run.snapshot_path(sampler.step)
    return load_directions(directions_path(snap), file_hash(snap))


def directions_for(
    sampler, progress: Progress = None, n_samples: int = DEFAULT_SAMPLES, n_components: int = DEFAULT_COMPONENTS
) -> Directions:
    """Directions of a ``sampling.Sampler``'s snapshot: from the file beside it, else computed and saved.

    Uses the sampler's own generator instance (never the one being trained).
    """
    snap = sampler.run.snapshot_path(sampler.step)
    digest = file_hash(snap)
    path = directions_path(snap)
    d = load_directions(path, digest)
    if d is not None:
        _report(progress, 1.0, "Directions loaded")
        return d
    cfg = sampler.cfg
    d = compute_directions(
        sampler.G,
        cfg.z_dim,
        conditional=cfg.conditional,
        num_classes=cfg.num_classes,
        n_samples=n_samples,
        n_components=n_components,
        progress=progress,
    )
    d.snapshot_hash = digest
    save_directions(d, path)
    return d
