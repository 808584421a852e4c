"""Generators and discriminators of the GAN zoo.

- ``mlp``: the fully-connected GAN of Goodfellow et al., "Generative Adversarial Nets" (2014), in
  the layer sizes of the classic tutorials (256-512-1024 for G, mirrored for D).
- ``dcgan``: Radford et al., "Unsupervised Representation Learning with Deep Convolutional GANs"
  (2016): transposed convolutions + batch norm in G, strided convolutions + LeakyReLU in D.
- ``sngan``: the DCGAN generator with a spectrally normalised discriminator, Miyato et al.,
  "Spectral Normalization for Generative Adversarial Networks" (2018), meant for the hinge loss.
- ``fastgan``: Liu et al., "Towards Faster and Stabilized GAN Training for High-fidelity Few-shot
  Image Synthesis" (ICLR 2021), scaled to 32-128 px: skip-layer excitation in G, a discriminator
  that also rebuilds real pictures through small decoders; see fastgan.py.
- Conditional variants: G gets a learned class embedding concatenated to z; D gets a projection
  term, Miyato & Koyama, "cGANs with Projection Discriminator" (2018).

Every builder returns a functional ``keras.Model``. Generators take ``z`` (and ``label`` when
conditional) and return images in [-1, 1] (tanh) in float32; discriminators return one float32
logit per image. Mixed precision is a per-layer dtype policy, never the global one, so a training
thread cannot change how another thread's models compute.
"""

from __future__ import annotations

import math

from studio.core.errors import StudioError
from studio.train.config import RunConfig


def _keras():
    import keras

    return keras


def _policy(cfg: RunConfig):
    from studio.train.devices import resolve_precision

    keras = _keras()
    return keras.DTypePolicy(resolve_precision(cfg.precision))


def _num_ups(image_size: int) -> int:
    n = int(round(math.log2(image_size / 4)))
    if 4 * 2**n != image_size or n < 3:
        raise StudioError(f"Convolutional models make 32, 64 or 128 pixel images, not {image_size}.")
    return n


class _Names:
    """Explicit, unique layer names. Keras's automatic names come from a per-thread counter, so
    models built in a fresh training thread could end up with duplicate names."""

    def __init__(self, prefix: str):
        self.prefix, self.counts = prefix, {}

    def __call__(self, kind: str) -> str:
        n = self.counts.get(kind, 0)
        self.counts[kind] = n + 1
        return f"{self.prefix}_{kind}_{n}"


def _inputs(cfg: RunConfig, image: bool):
    keras = _keras()
    shape = (cfg.image_size, cfg.image_size, cfg.channels) if image else (cfg.z_dim,)
    x = keras.Input(shape=shape, name="image" if image else "z")
    if cfg.conditional:
        if cfg.num_classes < 2:
            raise StudioError("A conditional model needs a dataset with at least two labelled classes.")
        y = keras.Input(shape=(), dtype="int32", name="label")
        return [x, y], x, y
    return [x], x, None


def build_generator(cfg: RunConfig, name: str = "generator"):
    keras = _keras()
    L = keras.layers
    dt = _policy(cfg)
    if cfg.model == "fastgan":
        from studio.train import fastgan

        return fastgan.build_generator(cfg, dt, name)
    nm = _Names("g")
    inputs, z, y = _inputs(cfg, image=False)
    h = z
    if y is not None:
        emb = L.Embedding(cfg.num_classes, min(50, cfg.z_dim), dtype=dt, name="class_embedding")(y)
        h = L.Concatenate(dtype=dt, name=nm("concatenate"))([h, emb])
    H = W = cfg.image_size
    C = cfg.channels
    if cfg.model == "mlp":
        for units in (256, 512, 1024):
            h = L.Dense(units, dtype=dt, name=nm("dense"))(h)
            h = L.LeakyReLU(negative_slope=0.01, dtype=dt, name=nm("lrelu"))(h)
        h = L.Dense(H * W * C, dtype=dt, name=nm("dense"))(h)
        h = L.Activation("tanh", dtype="float32", name=nm("activation"))(h)
        out = L.Reshape((H, W, C), dtype="float32", name=nm("reshape"))(h)
    else:
        n = _num_ups(cfg.image_size)
        ch = min(cfg.base_filters * 2 ** (n - 1), 512)
        h = L.Dense(4 * 4 * ch, use_bias=False, dtype=dt, name=nm("dense"))(h)
        h = L.Reshape((4, 4, ch), dtype=dt, name=nm("reshape"))(h)
        h = L.BatchNormalization(dtype=dt, name=nm("bn"))(h)
        h = L.ReLU(dtype=dt, name=nm("relu"))(h)
        for i in range(n - 1):
            ch = min(cfg.base_filters * 2 ** (n - 2 - i), 512)
            h = L.Conv2DTranspose(ch, 4, strides=2, padding="same", use_bias=False, dtype=dt, name=nm("deconv"))(h)
            h = L.BatchNormalization(dtype=dt, name=nm("bn"))(h)
            h = L.ReLU(dtype=dt, name=nm("relu"))(h)
        h = L.Conv2DTranspose(C, 4, strides=2, padding="same", dtype=dt, name=nm("deconv"))(h)
        out = L.Activation("tanh", dtype="float32", name="image_out")(h)
    return keras.Model(inputs if y is not None else inputs[0], out, name=name)


def build_discriminator(cfg: RunConfig, name: str = "discriminator"):
    """D: pictures → one float32 logit per picture (fastgan: 25 patch logits, (B, 25))."""
    if cfg.model == "fastgan":
        return build_discriminator_parts(cfg, name)[0]
    keras = _keras()
    L = keras.layers
    dt = _policy(cfg)
    sn = cfg.model == "sngan"

    def wrap(layer):
        return L.SpectralNormalization(layer, dtype=dt, name=nm("sn")) if sn else layer

    nm = _Names("d")
    inputs, x, y = _inputs(cfg, image=True)
    if cfg.model == "mlp":
        h = L.Flatten(dtype=dt, name=nm("flatten"))(x)
        for units in (1024, 512, 256):
            h = L.Dense(units, dtype=dt, name=nm("dense"))(h)
            h = L.LeakyReLU(negative_slope=0.01, dtype=dt, name=nm("lrelu"))(h)
    else:
        n = _num_ups(cfg.image_size)
        h = x
        for i in range(n):
            ch = min(cfg.base_filters * 2**i, 512)
            h = wrap(L.Conv2D(ch, 4, strides=2, padding="same", dtype=dt, name=nm("conv")))(h)
            h = L.LeakyReLU(negative_slope=0.2, dtype=dt, name=nm("lrelu"))(h)
        h = L.Flatten(dtype=dt, name=nm("flatten"))(h)
    logit = wrap(L.Dense(1, dtype=dt, name=nm("dense")))(h)
    if y is not None:
        # Projection: <embed(y), phi(x)> added to the unconditional logit.
        emb = L.Embedding(cfg.num_classes, h.shape[-1], dtype=dt, name="class_projection")(y)
        proj = L.Dot(axes=1, dtype=dt, name=nm("dot"))([emb, h])
        logit = L.Add(dtype=dt, name=nm("add"))([logit, proj])
    logit = L.Activation("linear", dtype="float32", name="logit")(logit)
    logit = L.Reshape((), dtype="float32", name=nm("reshape"))(logit)
    return keras.Model(inputs if y is not None else inputs[0], logit, name=name)


def build_discriminator_parts(cfg: RunConfig, name: str = "discriminator"):
    """(D, D_features, decoders) for models whose D also rebuilds real pictures (fastgan), else
    (D, None, None). D_features shares D's layers and adds the features the decoders read."""
    if cfg.model != "fastgan":
        return build_discriminator(cfg, name), None, None
    from studio.train import fastgan

    dt = _policy(cfg)
    D, D_features = fastgan.build_discriminator_parts(cfg, dt, name)
    return D, D_features, fastgan.build_decoders(cfg, dt)


def judge_block_count(cfg: RunConfig) -> int:
    """How many blocks ``discriminator_blocks`` finds in ``cfg``'s D, without building it (FreezeD's most)."""
    if cfg.model == "fastgan":
        from studio.train import fastgan

        return fastgan.discriminator_blocks(cfg.image_size)
    return 3 if cfg.model == "mlp" else _num_ups(cfg.image_size)


def discriminator_blocks(D) -> list[list]:
    """D's layers grouped into blocks from the input side, for FreezeD (Mo et al. 2020).

    fastgan: one block per down-block (its layers are named ``d_b{i}_...``); dcgan, sngan and mlp:
    one block per layer with weights (a strided conv, its spectral-norm wrapper, a Dense). The
    output head (the last layer with weights, and a conditional projection) is never a block: it
    always trains.
    """
    import re

    if any(layer.name.startswith("d_b") for layer in D.layers):
        blocks: dict[int, list] = {}
        for layer in D.layers:
            m = re.match(r"d_b(\d+)_", layer.name)
            if m and layer.weights:
                blocks.setdefault(int(m.group(1)), []).append(layer)
        return [blocks[i] for i in sorted(blocks)]
    weighted = [la for la in D.layers if la.trainable_weights and la.name != "class_projection"]
    return [[la] for la in weighted[:-1]]


def count_params(model) -> int:
    return int(sum(int(math.prod(v.shape)) for v in model.trainable_variables))
