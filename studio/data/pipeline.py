"""The tf.data stream that feeds training: deterministic, stateless-RNG order and flips."""

from __future__ import annotations

import numpy as np

from studio.core.errors import StudioError
from studio.data.dataset import Dataset

# ------------------------------------------------------------------------------------------------
# The training pipeline


def make_pipeline(ds: Dataset, batch_size: int, seed: int):
    """Infinite tf.data stream of (float32 images in [-1, 1] (B,H,W,C), int32 labels (B,)).

    The uint8 array stays in memory once; each batch is gathered by index and converted, so the
    float copy never exists for the whole set. Order and flips come from stateless RNG keyed on
    (seed, epoch) and (seed, batch number): the same seed gives the same stream whatever the
    global TensorFlow seed or the number of parallel calls.
    """
    import tensorflow as tf

    n = len(ds)
    b = int(batch_size)
    if b < 1:
        raise StudioError("The batch size must be at least 1.")
    images = tf.constant(ds.images)
    labels = tf.constant(ds.labels if ds.labels is not None else np.zeros(n, np.int32))
    seed = int(seed) % (2**31 - 1)
    flip = bool(ds.flip)

    def epoch_order(epoch):
        return tf.data.Dataset.from_tensor_slices(
            tf.random.experimental.stateless_shuffle(
                tf.range(n, dtype=tf.int32), seed=tf.stack([tf.cast(seed, tf.int64), epoch])
            )
        )

    def to_batch(step, idx):
        x = tf.cast(tf.gather(images, idx), tf.float32) / 127.5 - 1.0
        if flip:
            coin = tf.random.stateless_uniform([b, 1, 1, 1], seed=tf.stack([tf.cast(seed, tf.int64) + 1, step]))
            x = tf.where(coin < 0.5, tf.reverse(x, axis=[2]), x)
        return x, tf.gather(labels, idx)

    # repeat (the epoch counter) before batch: a batch larger than the dataset still fills up
    pipe = (
        tf.data.Dataset.counter(dtype=tf.int64)
        .flat_map(epoch_order)
        .batch(b, drop_remainder=True)
        .enumerate()
        .map(to_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    return pipe
