"""DiffAugment (studio.train.augment): shapes, differentiability, identity, policy checks, graph mode."""

import numpy as np
import pytest
import tensorflow as tf

from studio.core.errors import StudioError
from studio.train.augment import DEFAULT_POLICY, diff_augment, parse_policy


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("policy", ["color", "translation", "cutout", DEFAULT_POLICY])
def test_shape_and_dtype_kept(policy, channels):
    x = tf.random.uniform([4, 16, 16, channels], -1, 1, seed=1)
    y = diff_augment(x, policy)
    assert y.shape == x.shape and y.dtype == tf.float32
    assert np.isfinite(y.numpy()).all()


def test_empty_policy_is_identity():
    x = tf.random.uniform([2, 8, 8, 3], -1, 1)
    assert diff_augment(x, "") is x or np.array_equal(diff_augment(x, "").numpy(), x.numpy())
    assert parse_policy(" ") == []


def test_unknown_policy_is_a_plain_error():
    with pytest.raises(StudioError, match="Unknown DiffAugment policy 'zoom'"):
        diff_augment(tf.zeros([1, 8, 8, 1]), "color,zoom")


def test_differentiable_through_every_policy():
    v = tf.Variable(tf.random.uniform([3, 16, 16, 3], -1, 1, seed=2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(diff_augment(v, DEFAULT_POLICY) ** 2)
    g = tape.gradient(loss, v)
    assert g is not None and float(tf.reduce_sum(tf.abs(g))) > 0


def test_inside_tf_function_with_none_batch_grayscale():
    @tf.function(input_signature=[tf.TensorSpec([None, 16, 16, 1], tf.float32)])
    def aug(x):
        return diff_augment(x, DEFAULT_POLICY)

    for b in (1, 5):
        assert aug(tf.zeros([b, 16, 16, 1])).shape == (b, 16, 16, 1)


def test_translation_and_cutout_bring_in_zeros_only():
    ones = tf.ones([16, 16, 16, 1])
    t = diff_augment(ones, "translation").numpy()
    c = diff_augment(ones, "cutout").numpy()
    for y in (t, c):
        assert set(np.unique(y)) <= {0.0, 1.0}
    # a shift of at most 1/8 of 16 px = 2 rows/columns; a cutout of at most 8×8 = 64 px
    assert (t.sum(axis=(1, 2, 3)) >= 14 * 14).all()
    assert (c.sum(axis=(1, 2, 3)) >= 256 - 64).all() and (c.sum(axis=(1, 2, 3)) < 256).any()


def test_saturation_is_noop_for_grayscale_and_generator_is_reproducible():
    x = tf.random.uniform([4, 8, 8, 1], -1, 1, seed=3)
    a = diff_augment(x, "color", rng=tf.random.Generator.from_seed(7)).numpy()
    b = diff_augment(x, "color", rng=tf.random.Generator.from_seed(7)).numpy()
    np.testing.assert_array_equal(a, b)
    # grayscale colour = brightness then contrast: still an affine map of each image
    for i in range(4):
        slope, intercept = np.polyfit(x.numpy()[i].ravel(), a[i].ravel(), 1)
        np.testing.assert_allclose(a[i].ravel(), slope * x.numpy()[i].ravel() + intercept, atol=1e-4)
