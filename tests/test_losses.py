"""GAN objectives (studio.train.losses): values on known logits, stability at large logits, gradients."""

import math

import numpy as np
import pytest
import tensorflow as tf

from studio.train import losses
from studio.train.losses import LOSSES, d_hinge, d_ns, d_wgan, g_hinge, g_minimax, g_ns, g_wgan


def _t(*v):
    return tf.constant(v, tf.float32)


def test_every_config_loss_has_a_pair():
    from studio.train.config import LOSSES as NAMES

    assert set(LOSSES) == set(NAMES)
    assert losses.PROBABILISTIC == {"ns", "minimax"}


def test_ns_on_zero_logits():
    # D(x) = D(G(z)) = 1/2: D loss = -[log 1/2 + log 1/2] = 2 log 2; G loss = log 2.
    np.testing.assert_allclose(d_ns(_t(0.0), _t(0.0)).numpy(), [2 * math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(g_ns(_t(0.0)).numpy(), [math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(g_minimax(_t(0.0)).numpy(), [-math.log(2)], rtol=1e-6)


def test_ns_matches_the_textbook_formula_on_moderate_logits():
    r, f = np.array([-2.0, 0.5, 3.0], np.float32), np.array([1.0, -0.3, -4.0], np.float32)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    want_d = -(np.log(sig(r)) + np.log(1 - sig(f)))
    np.testing.assert_allclose(d_ns(tf.constant(r), tf.constant(f)).numpy(), want_d, rtol=1e-5)
    np.testing.assert_allclose(g_ns(tf.constant(f)).numpy(), -np.log(sig(f)), rtol=1e-5)
    np.testing.assert_allclose(g_minimax(tf.constant(f)).numpy(), np.log(1 - sig(f)), rtol=1e-5)


def test_wgan_and_hinge_values():
    np.testing.assert_allclose(d_wgan(_t(2.0), _t(-1.0)).numpy(), [-3.0])
    np.testing.assert_allclose(g_wgan(_t(-1.0)).numpy(), [1.0])
    # hinge: relu(1 - r) + relu(1 + f)
    np.testing.assert_allclose(d_hinge(_t(0.0, 2.0, -1.0), _t(0.0, -2.0, 1.0)).numpy(), [2.0, 0.0, 4.0])
    np.testing.assert_allclose(g_hinge(_t(0.5)).numpy(), [-0.5])


@pytest.mark.parametrize("name", list(LOSSES))
def test_stable_at_extreme_logits(name):
    d_fn, g_fn = LOSSES[name]
    big = _t(-100.0, 100.0, -1e4, 1e4)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(big)
        d = d_fn(big, big[::-1])
        g = g_fn(big)
    for value in (d, g, tape.gradient(d, big), tape.gradient(g, big)):
        assert np.isfinite(value.numpy()).all(), (name, value)


def test_ns_is_exact_where_naive_logs_would_overflow():
    # -log(sigmoid(-100)) = 100 (+ e^-100); a naive log(sigmoid) gives inf in float32.
    np.testing.assert_allclose(g_ns(_t(-100.0)).numpy(), [100.0], rtol=1e-6)
    np.testing.assert_allclose(d_ns(_t(100.0), _t(-100.0)).numpy(), [0.0], atol=1e-30)


def test_minimax_saturates_where_non_saturating_does_not():
    """When D confidently rejects fakes (logit -8), minimax G barely learns; ns G gets a strong push."""
    fake = tf.Variable([-8.0])
    with tf.GradientTape(persistent=True) as tape:
        mm = g_minimax(fake)
        ns = g_ns(fake)
    g_mm = abs(float(tape.gradient(mm, fake)[0]))
    g_ns_ = abs(float(tape.gradient(ns, fake)[0]))
    assert g_mm < 1e-3 < 0.99 < g_ns_
    # Both push the fake logit up (G wants D to call fakes real).
    assert float(tape.gradient(mm, fake)[0]) < 0 and float(tape.gradient(ns, fake)[0]) < 0


def test_losses_are_per_example():
    for name, (d_fn, g_fn) in LOSSES.items():
        r, f = tf.zeros([5]), tf.ones([5])
        assert d_fn(r, f).shape == (5,), name
        assert g_fn(f).shape == (5,), name
