"""DiffAugment: differentiable augmentation for data-efficient GAN training.

Zhao, Liu, Lin, Zhu and Han, "Differentiable Augmentation for Data-Efficient GAN Training",
NeurIPS 2020 (arXiv:2006.10738). With few images the discriminator memorises the training set and
training collapses. Augmenting only the real images would teach G to make augmented-looking images;
DiffAugment applies the *same kind* of random transform to real and fake images alike, every time D
sees them (in both the D and the G step), and because every transform is differentiable the G
gradient flows back through it.

Policies (comma list, applied in this order as in the paper's code):
  color        random brightness (±0.5), saturation (×0..2), contrast (×0.5..1.5)
  translation  shift by up to 1/8 of the image side, filling with zeros (mid-grey in [-1, 1])
  cutout       zero a square of half the image side at a random place (it may hang off the edge)

Adaptive use (ADA, Karras et al., "Training Generative Adversarial Networks with Limited Data",
NeurIPS 2020): ``diff_augment(x, policy, rng, p=...)`` applies each operation (brightness,
saturation, contrast, translation, cutout, and an x-flip) to each picture independently with
probability ``p``, a tensor the train step tunes; a picture that draws "no" for an operation passes
through it unchanged. While p stays below 1 the augmented pictures still include clean ones, so
augmentations do not leak into the generated pictures (the paper's Section 2.2).

Works on float (B, H, W, C) tensors in [-1, 1] with C = 1 or 3, inside a tf.function with a None
batch dimension. Saturation is skipped for grayscale, where it is the identity anyway.
"""

from __future__ import annotations

from studio.core.errors import StudioError

POLICIES = ("color", "translation", "cutout")
DEFAULT_POLICY = "color,translation,cutout"  # the paper's choice for small datasets


def parse_policy(policy: str) -> list[str]:
    """'color, cutout' → ['color', 'cutout']; '' → []; unknown names → StudioError."""
    names = [p.strip() for p in (policy or "").split(",") if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise StudioError(
            f"Unknown DiffAugment policy {', '.join(repr(u) for u in unknown)}; "
            f"use a comma list of {', '.join(POLICIES)}."
        )
    return names


def diff_augment(x, policy: str, rng=None, p=None, xflip: bool = False):
    """Randomly augment a batch, differentiably. ``rng``: optional tf.random.Generator for reproducibility.

    Without ``rng`` the stateful tf.random ops are used (seeded by the global seed); passing the
    train step's own Generator keeps augmentation inside the checkpointed RNG state.
    ``p`` None: every operation on every picture (DiffAugment). ``p`` a float tensor: each operation
    on each picture with probability p (ADA), and with ``xflip`` also a left-right flip, which
    half of the pictures that draw it get (ADA's xflip: flipped or not, at random).
    """
    import tensorflow as tf

    names = parse_policy(policy)
    x = tf.convert_to_tensor(x)
    if not names and not (p is not None and xflip):
        return x

    def uniform(shape, minval=0.0, maxval=1.0, dtype=tf.float32):
        if rng is not None:
            return rng.uniform(shape, minval=minval, maxval=maxval, dtype=dtype)
        return tf.random.uniform(shape, minval=minval, maxval=maxval, dtype=dtype)

    def chosen():
        """Which pictures an operation touches: all (DiffAugment), or each with probability p (ADA)."""
        if p is None:
            return None
        return uniform(tf.stack([tf.shape(x)[0], 1, 1, 1])) < tf.cast(p, tf.float32)

    if p is not None and xflip:
        flip = chosen() & (uniform(tf.stack([tf.shape(x)[0], 1, 1, 1])) < 0.5)
        x = tf.where(flip, tf.reverse(x, axis=[2]), x)
    for name in names:
        if name == "color":
            x = _brightness(x, uniform, chosen())
            if x.shape[-1] != 1:
                x = _saturation(x, uniform, chosen())
            x = _contrast(x, uniform, chosen())
        elif name == "translation":
            x = _translation(x, uniform, chosen())
        elif name == "cutout":
            x = _cutout(x, uniform, chosen())
    return x


def _per_image(x, uniform, lo, hi, mask=None, identity=0.0):
    """One random amount per picture in [lo, hi); ``identity`` where ``mask`` (B,1,1,1) is False."""
    import tensorflow as tf

    amount = tf.cast(uniform(tf.stack([tf.shape(x)[0], 1, 1, 1]), lo, hi), x.dtype)
    return amount if mask is None else tf.where(mask, amount, tf.cast(identity, x.dtype))


def _brightness(x, uniform, mask=None):
    return x + _per_image(x, uniform, -0.5, 0.5, mask, 0.0)


def _saturation(x, uniform, mask=None):
    import tensorflow as tf

    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    return (x - mean) * _per_image(x, uniform, 0.0, 2.0, mask, 1.0) + mean


def _contrast(x, uniform, mask=None):
    import tensorflow as tf

    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * _per_image(x, uniform, 0.5, 1.5, mask, 1.0) + mean


def _translation(x, uniform, mask=None, ratio: float = 0.125):
    """Shift each image by its own (dy, dx) in [-s, s], s = round(side * ratio); zeros come in."""
    import tensorflow as tf

    b = tf.shape(x)[0]
    h, w = tf.shape(x)[1], tf.shape(x)[2]
    sh = tf.cast(tf.cast(h, tf.float32) * ratio + 0.5, tf.int32)
    sw = tf.cast(tf.cast(w, tf.float32) * ratio + 0.5, tf.int32)
    dy = uniform(tf.stack([b, 1]), -sh, sh + 1, dtype=tf.int32)
    dx = uniform(tf.stack([b, 1]), -sw, sw + 1, dtype=tf.int32)
    if mask is not None:  # no shift for the pictures that did not draw this operation
        keep = tf.cast(tf.reshape(mask, tf.stack([b, 1])), tf.int32)
        dy, dx = dy * keep, dx * keep
    padded = tf.pad(x, tf.stack([[0, 0], [sh, sh], [sw, sw], [0, 0]]))
    rows = tf.range(h)[None, :] + sh - dy  # (B, H) indices into padded rows
    cols = tf.range(w)[None, :] + sw - dx  # (B, W) indices into padded columns
    x = tf.gather(padded, rows, axis=1, batch_dims=1)  # (B, H, W + 2sw, C)
    return tf.gather(x, cols, axis=2, batch_dims=1)  # (B, H, W, C)


def _cutout(x, uniform, mask=None, ratio: float = 0.5):
    """Zero one square of side round(side * ratio) per image, centred anywhere in the image."""
    import tensorflow as tf

    b = tf.shape(x)[0]
    h, w = tf.shape(x)[1], tf.shape(x)[2]
    ch = tf.cast(tf.cast(h, tf.float32) * ratio + 0.5, tf.int32)
    cw = tf.cast(tf.cast(w, tf.float32) * ratio + 0.5, tf.int32)
    # centre ranges as in the paper's code: the square may hang off any edge
    cy = uniform(tf.stack([b, 1, 1]), 0, h + (1 - ch % 2), dtype=tf.int32)
    cx = uniform(tf.stack([b, 1, 1]), 0, w + (1 - cw % 2), dtype=tf.int32)
    ys = tf.range(h)[None, :, None]
    xs = tf.range(w)[None, None, :]
    inside = ((ys >= cy - ch // 2) & (ys < cy - ch // 2 + ch)) & ((xs >= cx - cw // 2) & (xs < cx - cw // 2 + cw))
    if mask is not None:  # nothing cut from the pictures that did not draw this operation
        inside = inside & tf.reshape(mask, tf.stack([b, 1, 1]))
    keep = tf.cast(tf.logical_not(inside), x.dtype)[..., None]  # (B, H, W, 1)
    return x * keep
