"""GAN objectives as plain functions on logits, per example (reduce with compute_average_loss).

- ``ns`` / ``minimax``: Goodfellow et al., "Generative Adversarial Nets" (2014). D minimises
  -[log D(x) + log(1 - D(G(z)))]; minimax G minimises log(1 - D(G(z))), which saturates early in
  training; the non-saturating G minimises -log D(G(z)) instead. Written with softplus so large
  logits never reach log(0): -log(sigmoid(l)) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l).
- ``wgan-gp``: Gulrajani et al., "Improved Training of Wasserstein GANs" (2017); the gradient
  penalty lives in loop.py because it needs the critic itself.
- ``hinge``: Lim & Ye, "Geometric GAN" (2017), as used with spectral norm by Miyato et al. (2018).
"""

from __future__ import annotations


def _tf():
    import tensorflow as tf

    return tf


def d_ns(real_logits, fake_logits):
    tf = _tf()
    return tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits)


def g_ns(fake_logits):
    return _tf().nn.softplus(-fake_logits)


def g_minimax(fake_logits):
    # log(1 - sigmoid(l)) = -softplus(l)
    return -_tf().nn.softplus(fake_logits)


def d_wgan(real_logits, fake_logits):
    return fake_logits - real_logits


def g_wgan(fake_logits):
    return -fake_logits


def d_hinge(real_logits, fake_logits):
    tf = _tf()
    return tf.nn.relu(1.0 - real_logits) + tf.nn.relu(1.0 + fake_logits)


def g_hinge(fake_logits):
    return -fake_logits


LOSSES = {
    "ns": (d_ns, g_ns),
    "minimax": (d_ns, g_minimax),
    "wgan-gp": (d_wgan, g_wgan),
    "hinge": (d_hinge, g_hinge),
}

# Losses whose D output is a probability logit (shown to people as mean sigmoid(D)).
PROBABILISTIC = {"ns", "minimax"}
