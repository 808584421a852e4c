"""The fused training-mode batch norm computes what Keras's own does, and leaves the layer plain."""

import keras
import numpy as np
import tensorflow as tf

from studio.train import fused_bn


def _pair(channels=6, momentum=0.9):
    def build():
        x = keras.Input((8, 8, 4))
        y = keras.layers.Conv2D(channels, 3, padding="same")(x)
        y = keras.layers.BatchNormalization(momentum=momentum)(y)
        return keras.Model(x, y)

    keras.utils.set_random_seed(3)
    plain = build()
    fused = build()
    fused.set_weights(plain.get_weights())
    assert fused_bn.fuse(fused, None) == 1
    return plain, fused


def _step(model, x):
    with tf.GradientTape() as tape:
        y = model(x, training=True)
        loss = tf.reduce_mean(tf.square(y - 0.3) * tf.range(1.0, 7.0))
    return y, tape.gradient(loss, model.trainable_variables)


def test_training_outputs_gradients_and_moving_statistics_match_keras():
    plain, fused = _pair()
    x = tf.random.stateless_normal([5, 8, 8, 4], seed=[1, 2]) * 3.0 + 1.0
    for _ in range(3):  # moving averages over several batches
        y0, g0 = _step(plain, x)
        y1, g1 = tf.function(_step)(fused, x)
        np.testing.assert_allclose(y1.numpy(), y0.numpy(), atol=2e-4)
        for a, b in zip(g1, g0):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=2e-4, rtol=1e-3)
    for a, b in zip(fused.layers[-1].weights, plain.layers[-1].weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, rtol=1e-4)
    # Inference uses the moving statistics, as before.
    np.testing.assert_allclose(fused(x, training=False).numpy(), plain(x, training=False).numpy(), atol=1e-4)


def test_the_layer_stays_a_plain_keras_batch_norm_when_saved(tmp_path):
    _, fused = _pair()
    path = tmp_path / "m.keras"
    fused.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[-1]) is keras.layers.BatchNormalization
    x = tf.random.stateless_normal([2, 8, 8, 4], seed=[4, 5])
    np.testing.assert_allclose(loaded(x).numpy(), fused(x).numpy(), atol=1e-6)
