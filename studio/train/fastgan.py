"""FastGAN-style generator and discriminator for few pictures and little compute.

Liu, Zhu, Song and Elgammal, "Towards Faster and Stabilized GAN Training for High-fidelity Few-shot
Image Synthesis", ICLR 2021 (arXiv:2101.04775), scaled down to 32, 64 and 128 pixels:

- **Generator**: z → 4×4 features, then one up-block per octave (each with a gated linear unit,
  Dauphin et al. 2017, as in the paper's code) and **skip-layer excitation** (SLE): the 4×4
  (and 8×8, 16×16) features, pooled to 4×4 and squeezed to one gate per channel, multiply the
  channels of the features three octaves finer. The coarse layout thereby steers the fine texture
  directly, which is what lets G learn global shape in few steps. A 3×3 convolution and tanh make
  the picture.
- **Discriminator**: residual down-blocks (a 4×4 stride-2 conv path averaged with an avg-pool +
  1×1 conv path) from S/2 down to 8×8, spectral norm on every conv (Miyato et al. 2018), then
  5×5 patch logits, trained with the hinge loss. It is also an **auto-encoder on real pictures**:
  two small decoders rebuild the whole picture from the 8×8 features and a random quarter of it
  from the 16×16 features (both at S/2 pixels), and their reconstruction error is part of D's
  loss. D must keep features that describe the picture, not just ones that tell real from fake,
  which is the paper's defence against a discriminator that memorises a small set.

What changed from the paper, and why:
- Up-sampling is a 4×4 stride-2 transposed convolution *initialised* to equal nearest-neighbour
  up-sampling followed by a 3×3 convolution (the paper's up-block). Up-sample + 3×3 conv is
  exactly a 4×4 stride-2 transposed conv with tied taps (each output pixel sees 2×2 inputs), so
  the start is the paper's block with none of the checkerboard a random transposed-conv init
  gives (Aitken et al. 2017, "Checkerboard artifact free sub-pixel convolution"), at 4/9 of the
  multiply-adds; training may then untie the taps.
- The gated linear unit is two convolutions (value and gate) and a ``Multiply``, not one conv and a
  channel split, so every layer is a built-in Keras layer: exports load with plain Keras and the
  in-browser generator needs no custom ops.
- Reconstruction error is mean squared error (as lightweight-gan), not LPIPS: LPIPS needs a VGG
  download. No noise injection (samples stay a pure function of z), no second "small" D path and
  no SLE inside D: each cost CPU time the short runs this model is for cannot spare.
- G has no spectral norm (the paper's code normalises G too): batch norm already bounds it here,
  and plain layers keep G cheap to sample.
"""

from __future__ import annotations

import numpy as np

from studio.core.errors import StudioError

SLE_SPAN = 8  # an SLE gate made at resolution r multiplies the features at resolution 8·r (3 octaves)


def _keras():
    import keras

    return keras


class _Names:
    """Explicit, unique layer names (see models._Names)."""

    def __init__(self, prefix: str):
        self.prefix, self.counts = prefix, {}

    def __call__(self, kind: str) -> str:
        n = self.counts.get(kind, 0)
        self.counts[kind] = n + 1
        return f"{self.prefix}_{kind}_{n}"


def _octaves(image_size: int) -> int:
    n = int(round(np.log2(image_size / 4)))
    if 4 * 2**n != image_size or not 3 <= n <= 5:
        raise StudioError(f"The fastgan model makes 32, 64 or 128 pixel images, not {image_size}.")
    return n


def g_widths(image_size: int, base_filters: int) -> dict[int, int]:
    """Channels of G's features at each resolution: ``base_filters`` at full size, doubling per octave down."""
    return {4 * 2**i: min(base_filters * image_size // (4 * 2**i), 512) for i in range(_octaves(image_size) + 1)}


def d_widths(image_size: int, base_filters: int) -> dict[int, int]:
    """Channels of D's features: ``base_filters`` at half size, doubling per octave down to 8×8 (half
    of G's width at the same resolution, as in the paper's code)."""
    return {r: min(base_filters * image_size // (2 * r), 512) for r in (2**i for i in range(3, 8)) if r < image_size}


def _tied_upsample_kernel(k3: np.ndarray) -> np.ndarray:
    """The 4×4 stride-2 ``Conv2DTranspose`` kernel (kh, kw, out, in) equal to nearest ×2 up-sampling
    followed by the 3×3 "same" convolution ``k3`` (kh, kw, in, out).

    Along one axis, output 2m sees up-sampled rows 2m-1, 2m, 2m+1 = inputs m-1, m, m; output 2m+1
    sees m, m, m+1. Keras's transposed conv makes output 2m from taps 1 (input m) and 3 (input m-1),
    and 2m+1 from taps 2 (input m) and 0 (input m+1) (see generate/sampling._deconv4x4s2), so per
    axis: t0 = w2, t1 = w1 + w2, t2 = w0 + w1, t3 = w0.
    """
    a = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], np.float32)  # (4 taps, 3 weights)
    k4 = np.einsum("ai,bj,ijco->aboc", a, a, k3)
    return k4.astype(np.float32)


def _glu_up(h, ch: int, nm: _Names, dt, L, tied: list, bn: bool = True):
    """Up-sample ×2 to ``ch`` channels through a gated linear unit: value · sigmoid(gate)."""
    outs = []
    for part in ("value", "gate"):
        conv = L.Conv2DTranspose(ch, 4, strides=2, padding="same", use_bias=not bn, dtype=dt, name=nm(f"up_{part}"))
        tied.append(conv)
        t = conv(h)
        if bn:
            t = L.BatchNormalization(dtype=dt, name=nm(f"bn_{part}"))(t)
        outs.append(t)
    gate = L.Activation("sigmoid", dtype=dt, name=nm("gate"))(outs[1])
    return L.Multiply(dtype=dt, name=nm("glu"))([outs[0], gate])


def _sle(low, high, nm: _Names, dt, L):
    """Skip-layer excitation: one sigmoid gate per channel of ``high``, made from ``low``'s layout."""
    side = int(low.shape[1])
    s = L.AveragePooling2D(side // 4, dtype=dt, name=nm("sle_pool"))(low) if side > 4 else low
    ch = int(high.shape[-1])
    s = L.Conv2D(ch, 4, padding="valid", use_bias=False, dtype=dt, name=nm("sle_conv"))(s)  # → 1×1
    s = L.Activation("silu", dtype=dt, name=nm("sle_swish"))(s)
    s = L.Conv2D(ch, 1, dtype=dt, name=nm("sle_gate_conv"))(s)
    s = L.Activation("sigmoid", dtype=dt, name=nm("sle_gate"))(s)
    return L.Multiply(dtype=dt, name=nm("sle"))([high, s])


def _init_tied(layers: list, seed: int) -> None:
    """Give each up-sampling transposed conv the taps of up-sample + a He-initialised 3×3 conv."""
    rng = np.random.default_rng([seed, 0xFA57])
    for layer in layers:
        k = layer.kernel
        kh, kw, cout, cin = (int(d) for d in k.shape)
        k3 = rng.standard_normal((3, 3, cin, cout)).astype(np.float32) * np.sqrt(2.0 / (9 * cin))
        layer.kernel.assign(_tied_upsample_kernel(k3).astype(k.dtype))


def build_generator(cfg, dt, name: str):
    keras = _keras()
    L = keras.layers
    if cfg.conditional:
        raise StudioError("The fastgan model is not conditional; turn 'conditional' off.")
    nm = _Names("g")
    S, widths = cfg.image_size, g_widths(cfg.image_size, cfg.base_filters)
    z = keras.Input(shape=(cfg.z_dim,), name="z")
    c4 = widths[4]
    tied: list = []
    # z → 4×4 through a GLU, as the paper's init layer (a 4×4 transposed conv of a 1×1 input is a Dense).
    parts = []
    for part in ("value", "gate"):
        t = L.Dense(4 * 4 * c4, use_bias=False, dtype=dt, name=nm(f"dense_{part}"))(z)
        t = L.Reshape((4, 4, c4), dtype=dt, name=nm(f"reshape_{part}"))(t)
        parts.append(L.BatchNormalization(dtype=dt, name=nm(f"bn_{part}"))(t))
    gate = L.Activation("sigmoid", dtype=dt, name=nm("gate"))(parts[1])
    h = L.Multiply(dtype=dt, name="g_features_4")([parts[0], gate])  # GANSpace reads this layer
    feats = {4: h}
    r = 4
    while r < S:
        r *= 2
        h = _glu_up(h, widths[r], nm, dt, L, tied)
        if r // SLE_SPAN in feats:
            h = _sle(feats[r // SLE_SPAN], h, nm, dt, L)
        feats[r] = h
    h = L.Conv2D(cfg.channels, 3, padding="same", dtype=dt, name=nm("to_image"))(h)
    out = L.Activation("tanh", dtype="float32", name="image_out")(h)
    model = keras.Model(z, out, name=name)
    _init_tied(tied, cfg.seed)
    return model


def _sn(layer, dt, L, nm):
    return L.SpectralNormalization(layer, dtype=dt, name=nm("sn"))


def _down_block(h, ch: int, nm: _Names, dt, L, block: int):
    """The paper's DownBlockComp: (4×4/2 conv, BN, LReLU, 3×3 conv, BN, LReLU) averaged with
    (avg-pool, 1×1 conv, BN, LReLU). Layer names start with ``d_b{block}_`` (FreezeD finds them)."""
    b = _Names(f"d_b{block}")

    def conv_bn_act(t, k, stride, label):
        t = _sn(L.Conv2D(ch, k, strides=stride, padding="same", use_bias=False, dtype=dt, name=b(label)), dt, L, b)(t)
        t = L.BatchNormalization(dtype=dt, name=b("bn"))(t)
        return L.LeakyReLU(negative_slope=0.2, dtype=dt, name=b("lrelu"))(t)

    main = conv_bn_act(h, 4, 2, "conv_down")
    main = conv_bn_act(main, 3, 1, "conv")
    direct = L.AveragePooling2D(2, dtype=dt, name=b("pool"))(h)
    direct = conv_bn_act(direct, 1, 1, "conv_skip")
    added = L.Add(dtype=dt, name=b("add"))([main, direct])
    return L.Rescaling(0.5, dtype=dt, name=b("mean"))(added)


def discriminator_blocks(image_size: int) -> int:
    """How many down-blocks D has (FreezeD can freeze up to all of them)."""
    return _octaves(image_size) - 1


def build_discriminator_parts(cfg, dt, name: str):
    """(D, D_features): D maps pictures to patch logits (B, 25); D_features, sharing D's layers,
    also returns the 8×8 and 16×16 features the decoders rebuild the picture from."""
    keras = _keras()
    L = keras.layers
    if cfg.conditional:
        raise StudioError("The fastgan model is not conditional; turn 'conditional' off.")
    nm = _Names("d")
    S, widths = cfg.image_size, d_widths(cfg.image_size, cfg.base_filters)
    x = keras.Input(shape=(S, S, cfg.channels), name="image")
    h, r, feats, block = x, S, {}, 0
    while r > 8:
        r //= 2
        h = _down_block(h, widths[r], nm, dt, L, block)
        feats[r] = h
        block += 1
    c8 = widths[8]
    t = _sn(L.Conv2D(c8 // 2, 1, use_bias=False, dtype=dt, name=nm("head_conv")), dt, L, nm)(h)
    t = L.BatchNormalization(dtype=dt, name=nm("head_bn"))(t)
    t = L.LeakyReLU(negative_slope=0.2, dtype=dt, name=nm("head_lrelu"))(t)
    t = _sn(L.Conv2D(1, 4, padding="valid", dtype=dt, name=nm("head_logits")), dt, L, nm)(t)  # 8×8 → 5×5
    t = L.Activation("linear", dtype="float32", name="logit")(t)
    logits = L.Reshape((25,), dtype="float32", name=nm("reshape"))(t)
    D = keras.Model(x, logits, name=name)
    D_features = keras.Model(x, [logits, feats[8], feats[16]], name=f"{name}_features")
    return D, D_features


def build_decoders(cfg, dt, name: str = "decoders"):
    """The discriminator's two decoders: (8×8 features of the whole picture, 8×8 features of one
    quarter) → (the whole picture, that quarter), both at S/2 pixels, in float32."""
    keras = _keras()
    L = keras.layers
    S, widths = cfg.image_size, d_widths(cfg.image_size, cfg.base_filters)
    out_side = S // 2
    inputs, outputs, tied = [], [], []
    for part, ch_in in (("whole", widths[8]), ("part", widths[16])):
        nm = _Names(f"dec_{part}")
        f = keras.Input(shape=(8, 8, ch_in), name=f"features_{part}")
        inputs.append(f)
        h = L.Conv2D(cfg.base_filters, 1, use_bias=False, dtype=dt, name=nm("squeeze"))(f)
        side, ch = 8, cfg.base_filters
        while side < out_side:
            side *= 2
            ch = max(ch // 2, 8)
            h = _glu_up(h, ch, nm, dt, L, tied)
        h = L.Conv2D(cfg.channels, 3, padding="same", dtype=dt, name=nm("to_image"))(h)
        outputs.append(L.Activation("tanh", dtype="float32", name=f"rebuilt_{part}")(h))
    model = keras.Model(inputs, outputs, name=name)
    _init_tied(tied, cfg.seed + 1)
    return model
