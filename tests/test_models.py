"""The GAN zoo (studio.train.models): exact MLP parameter counts, shapes, dtypes and ranges of every model."""

import numpy as np
import pytest
import tensorflow as tf

from studio.core.errors import StudioError
from studio.train.config import RunConfig
from studio.train.models import build_discriminator, build_generator, count_params


def _cfg(**kw):
    base = dict(z_dim=16, base_filters=8, num_classes=0)
    base.update(kw)
    return RunConfig(**base).validate()


def _inputs(cfg, n, rng):
    z = rng.standard_normal((n, cfg.z_dim)).astype(np.float32)
    x = rng.uniform(-1, 1, (n, cfg.image_size, cfg.image_size, cfg.channels)).astype(np.float32)
    y = tf.constant((np.arange(n) % max(cfg.num_classes, 1)).astype(np.int32))
    z, x = tf.constant(z), tf.constant(x)
    return ([z, y], [x, y]) if cfg.conditional else (z, x)


def test_mlp_parameter_counts_match_the_classic_gan():
    cfg = RunConfig(model="mlp", image_size=28, channels=1, z_dim=100).validate()
    assert count_params(build_generator(cfg)) == 1_486_352
    assert count_params(build_discriminator(cfg)) == 1_460_225


def test_mlp_layer_sizes_are_the_classic_ones():
    cfg = RunConfig(model="mlp", image_size=28, channels=1, z_dim=100).validate()
    dense = [layer.units for layer in build_generator(cfg).layers if hasattr(layer, "units")]
    assert dense == [256, 512, 1024, 784]
    dense = [layer.units for layer in build_discriminator(cfg).layers if hasattr(layer, "units")]
    assert dense == [1024, 512, 256, 1]


CASES = [("mlp", 28)] + [(m, s) for m in ("dcgan", "sngan") for s in (32, 64, 128)]


@pytest.mark.parametrize("conditional", [False, True], ids=["uncond", "cond"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("model, size", CASES)
def test_shapes_dtypes_and_ranges(model, size, channels, conditional):
    cfg = _cfg(
        model=model, image_size=size, channels=channels, conditional=conditional, num_classes=10 if conditional else 0
    )
    G, D = build_generator(cfg), build_discriminator(cfg)
    n = 3
    g_in, d_in = _inputs(cfg, n, np.random.default_rng(0))
    # Large latents push tanh towards its limits: the output must still stay in [-1, 1].
    g_in = [g_in[0] * 10, g_in[1]] if conditional else g_in * 10
    img = G(g_in, training=False)
    assert img.dtype == "float32"
    assert tuple(img.shape) == (n, size, size, channels)
    a = np.asarray(img)
    assert np.isfinite(a).all() and a.min() >= -1.0 and a.max() <= 1.0
    logit = D(d_in, training=False)
    assert logit.dtype == "float32"
    assert tuple(logit.shape) == (n,)
    assert np.isfinite(np.asarray(logit)).all()
    # D takes G's output directly (training=True goes through batch-norm batch statistics).
    fake = G(g_in, training=True)
    assert tuple(D([fake, g_in[1]] if conditional else fake, training=True).shape) == (n,)


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_mixed_bfloat16_keeps_float32_at_the_edges(model):
    cfg = _cfg(model=model, image_size=28 if model == "mlp" else 32, precision="mixed_bfloat16")
    G, D = build_generator(cfg), build_discriminator(cfg)
    img = G(np.zeros((2, cfg.z_dim), np.float32), training=False)
    assert img.dtype == "float32" and tuple(img.shape) == (2, cfg.image_size, cfg.image_size, 1)
    assert D(img, training=False).dtype == "float32"
    # The weights stay float32 (the policy only changes the compute dtype).
    assert all(v.dtype == "float32" for v in G.trainable_variables)


def test_sngan_discriminator_is_spectrally_normalised_and_dcgan_is_not():
    names = lambda cfg: {type(layer).__name__ for layer in build_discriminator(cfg).layers}  # noqa: E731
    assert "SpectralNormalization" in names(_cfg(model="sngan"))
    assert "SpectralNormalization" not in names(_cfg(model="dcgan"))


def test_dcgan_generator_uses_transposed_convs_and_batch_norm():
    kinds = [type(layer).__name__ for layer in build_generator(_cfg(model="dcgan", image_size=64)).layers]
    assert kinds.count("Conv2DTranspose") == 4  # 4 -> 8 -> 16 -> 32 -> 64
    assert "BatchNormalization" in kinds


def test_conditional_model_needs_classes():
    with pytest.raises(StudioError, match="labelled classes"):
        build_generator(RunConfig(conditional=True, num_classes=0))


def test_conv_models_refuse_other_sizes():
    with pytest.raises(StudioError, match="32, 64 or 128"):
        build_generator(RunConfig(model="dcgan", image_size=48))
