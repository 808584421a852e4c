"""Batch normalisation in one fused op while training (TensorFlow's FusedBatchNormV3).

Keras 3's ``BatchNormalization`` computes its training-mode statistics and normalisation from
separate element-wise ops (mean, squared difference, multiply, add, and their gradients), each a
full pass over the feature map. On a CPU those passes cost more than the convolutions between them
at the narrow channel counts the studio's small models use. TensorFlow's fused kernel does the same
maths in one op forward and one backward (benchmarks/README.md, "Where a 64 px fastgan step's time
goes", has the measurement).

``fuse(*models)`` gives each ``BatchNormalization`` layer of the models a training-mode ``call``
that uses the fused op; inference (``training=False``) keeps Keras's own path. The layers stay
plain ``keras.layers.BatchNormalization`` — the class, the config and the weights are unchanged —
so saved models, exports and the in-browser generator see exactly what they saw before. The
statistics are the same: the batch mean and the biased batch variance normalise the batch and feed
the moving averages (the fused op reports Bessel's corrected variance, which is undone here).

Layers the fused op does not cover keep Keras's path: a mask, batch renormalisation, synchronised
statistics across replicas, an axis other than the last, or inputs that are not float32 feature maps.
``STUDIO_FUSED_BN=0`` in the environment turns the fusion off (to compare, or to rule it out).
"""

from __future__ import annotations

import os
import types


def _fusable(layer) -> bool:
    return (
        not layer.renorm
        and not layer.synchronized
        and layer.scale
        and layer.center
        and layer.axis in (-1, 3)  # Keras 3 keeps it as one int
        and layer.epsilon >= 1.001e-5  # the fused kernel's floor
    )


def _fused_call(self, inputs, training=None, mask=None):
    import tensorflow as tf

    if not (training and self.trainable) or mask is not None or inputs.dtype != tf.float32 or inputs.shape.rank != 4:
        return type(self).call(self, inputs, training=training, mask=mask)
    y, mean, var, *_ = tf.compat.v1.nn.fused_batch_norm(
        inputs, self.gamma, self.beta, epsilon=self.epsilon, data_format="NHWC", is_training=True
    )
    shape = tf.shape(inputs)
    n = tf.cast(shape[0] * shape[1] * shape[2], tf.float32)
    var = var * tf.maximum(n - 1.0, 1.0) / n  # back to the biased variance Keras averages
    m = self.momentum
    self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
    self.moving_variance.assign(self.moving_variance * m + var * (1.0 - m))
    return y


def fuse(*models) -> int:
    """Switch every fusable ``BatchNormalization`` in ``models`` (None skipped) to the fused op while
    training; returns how many layers were switched."""
    import keras

    if os.environ.get("STUDIO_FUSED_BN", "1") == "0":
        return 0
    n = 0
    for model in models:
        if model is None:
            continue
        for layer in model._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, keras.layers.BatchNormalization) and _fusable(layer):
                layer.call = types.MethodType(_fused_call, layer)
                n += 1
    return n
