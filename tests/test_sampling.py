"""Sampler's fast path (studio.generate.sampling._FastGenerator): the same pictures as the Keras generator.

The fast path recomputes G(z, training=False) from G's variables (transposed convolutions as a matmul
+ col2im, batch norm as a per-channel scale and offset; one image at a time through XLA). These tests
hold it to the Keras model's own output, to float rounding, with batch-norm statistics, biases and
class embeddings that are far from their initial values.
"""

import numpy as np
import pytest

from studio.train.config import RunConfig
from tests.web_helpers import scramble as _scramble

TOL = 1e-4


def _sampler(tmp_path, seed=0, **cfg_kw):
    """A Sampler of a fresh run whose only snapshot holds scrambled weights."""
    from studio.generate.sampling import Sampler
    from studio.train.models import build_generator
    from studio.train.runs import Run, step_name

    cfg = RunConfig(**cfg_kw).validate()
    run = Run.create(cfg, tmp_path / f"run-{seed}")
    G0 = build_generator(cfg)
    _scramble(G0, seed)
    G0.save_weights(str(run.path / "snapshots" / f"{step_name(0)}.weights.h5"))
    return Sampler(run)


def _keras(s, z, labels):
    return np.asarray(s.G([z, labels] if s.cfg.conditional else z, training=False))


def _inputs(s, n, seed=1):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, s.z_dim)).astype(np.float32)
    labels = rng.integers(0, max(s.cfg.num_classes, 1), n).astype(np.int32)
    return z, labels


@pytest.mark.parametrize(
    "cfg_kw",
    [
        dict(model="dcgan", image_size=32, channels=1),
        dict(model="dcgan", image_size=64, channels=3),
        dict(model="sngan", image_size=128, channels=1, base_filters=32),
        dict(model="dcgan", image_size=32, channels=3, conditional=True, num_classes=7, z_dim=64),
    ],
    ids=["dcgan32x1", "dcgan64x3", "sngan128x1", "conditional32x3"],
)
def test_fast_path_matches_the_keras_generator(tmp_path, cfg_kw):
    s = _sampler(tmp_path, **cfg_kw)
    assert s.fast_path
    z, labels = _inputs(s, 6)
    want = _keras(s, z, labels)
    assert want.shape == (6, s.cfg.image_size, s.cfg.image_size, s.cfg.channels)
    batch = s.generate_float(z, labels)  # the plain graph
    ones = np.concatenate([s.generate_float(z[i : i + 1], labels[i : i + 1]) for i in range(4)])  # XLA
    assert np.abs(batch - want).max() <= TOL
    assert np.abs(ones - want[:4]).max() <= TOL
    assert np.abs(want).max() > 0.1  # not a trivially flat output


def test_big_batches_go_through_in_chunks(tmp_path):
    s = _sampler(tmp_path, model="dcgan", image_size=64, channels=1)
    assert s._fast.chunk == 16  # 64 px: 16 images per call
    z, _ = _inputs(s, 17)  # a chunk of 16, then one of 1
    got = s.generate_float(z)
    assert got.shape == (17, 64, 64, 1)
    assert np.abs(got - _keras(s, z, None)).max() <= TOL


def test_conditional_labels_change_the_picture(tmp_path):
    s = _sampler(tmp_path, model="dcgan", image_size=32, channels=1, conditional=True, num_classes=5, z_dim=32)
    z, _ = _inputs(s, 1)
    a, b = s.generate_float(z, np.array([0])), s.generate_float(z, np.array([3]))
    assert np.abs(a - b).max() > 1e-3
    assert np.abs(b - _keras(s, z, np.array([3], np.int32))).max() <= TOL


def test_mixed_precision_is_computed_in_float32(tmp_path):
    from studio.train.models import build_generator

    s = _sampler(tmp_path, model="dcgan", image_size=32, channels=1, precision="mixed_bfloat16")
    assert s.fast_path
    G32 = build_generator(RunConfig(model="dcgan", image_size=32, channels=1).validate())
    G32.set_weights(s.G.get_weights())
    z, _ = _inputs(s, 3)
    want = np.asarray(G32(z, training=False))
    assert np.abs(s.generate_float(z) - want).max() <= TOL
    assert np.abs(s.generate_float(z[:1]) - want[:1]).max() <= TOL
    assert np.abs(s.generate_float(z) - _keras(s, z, None)).max() < 0.1  # bfloat16 rounding only


def test_mlp_generator_is_called_as_it_is(tmp_path):
    s = _sampler(tmp_path, model="mlp", image_size=28, channels=1)
    assert not s.fast_path
    z, _ = _inputs(s, 3)
    np.testing.assert_allclose(s.generate_float(z), _keras(s, z, None), atol=1e-6)


def test_weights_swapped_into_G_are_used_at_once(tmp_path):
    """export.SnapshotBank moves one Sampler through snapshots with set_weights / load_weights."""
    from studio.train.models import build_generator

    s = _sampler(tmp_path, model="dcgan", image_size=32, channels=1)
    z, _ = _inputs(s, 3)
    before = s.generate_float(z[:1])
    other = build_generator(s.cfg)
    _scramble(other, seed=5)
    s.G.set_weights(other.get_weights())
    want = np.asarray(other(z, training=False))
    assert np.abs(s.generate_float(z[:1]) - want[:1]).max() <= TOL
    assert np.abs(s.generate_float(z) - want).max() <= TOL
    assert np.abs(s.generate_float(z[:1]) - before).max() > 1e-3
    s.G.load_weights(str(s.run.snapshot_path(0)))  # back to the snapshot
    assert np.array_equal(s.generate_float(z[:1]), before)


def test_samplers_of_one_architecture_share_the_compiled_path_not_the_weights(tmp_path):
    a = _sampler(tmp_path, seed=1, model="dcgan", image_size=32, channels=1)
    b = _sampler(tmp_path, seed=2, model="dcgan", image_size=32, channels=1)
    z, _ = _inputs(a, 3)
    for s in (a, b):
        want = _keras(s, z, None)
        assert np.abs(s.generate_float(z[:1]) - want[:1]).max() <= TOL
        assert np.abs(s.generate_float(z) - want).max() <= TOL
    assert a._fast.compiled(a.z_dim) is b._fast.compiled(b.z_dim)
    assert np.abs(a.generate_float(z) - b.generate_float(z)).max() > 1e-3


def test_same_latent_same_pixels(tmp_path):
    s = _sampler(tmp_path, model="dcgan", image_size=64, channels=1)
    from studio.generate.sampling import Sampler

    z, _ = _inputs(s, 4)
    assert np.array_equal(s.generate(z[:1]), s.generate(z[:1]))
    assert np.array_equal(s.generate(z), s.generate(z))
    again = Sampler(s.run)
    assert np.array_equal(again.generate(z[:1]), s.generate(z[:1]))
    assert np.array_equal(again.generate(z), s.generate(z))


def _tiny_model(*layers):
    import keras

    z = keras.Input((8,))
    h = z
    for la in layers:
        h = la(h)
    return keras.Model(z, h)


def test_unknown_layers_fall_back_to_keras():
    import keras

    from studio.generate.sampling import _FastGenerator

    L = keras.layers

    def head():
        return [L.Dense(4 * 4 * 8, use_bias=False), L.Reshape((4, 4, 8)), L.BatchNormalization(), L.ReLU()]

    ok = _tiny_model(*head(), L.Conv2DTranspose(2, 4, strides=2, padding="same"), L.Activation("tanh"))
    assert _FastGenerator.of(ok) is not None
    for tail in (
        [L.Conv2DTranspose(2, 5, strides=2, padding="same"), L.Activation("tanh")],  # other kernel
        [L.Conv2DTranspose(2, 4, strides=2, padding="valid"), L.Activation("tanh")],  # other padding
        [L.Conv2DTranspose(2, 4, strides=2, padding="same", activation="relu"), L.Activation("tanh")],
        [L.Conv2DTranspose(2, 4, strides=2, padding="same"), L.LeakyReLU(), L.Activation("tanh")],
        [L.Conv2DTranspose(2, 4, strides=2, padding="same"), L.Activation("sigmoid")],
        [L.Conv2DTranspose(2, 4, strides=2, padding="same")],
    ):  # no tanh
        assert _FastGenerator.of(_tiny_model(*head(), *tail)) is None
