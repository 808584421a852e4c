"""Latent helpers (studio.generate.latent): seeds, truncation, slerp, journey paths, offsets, variations."""

import numpy as np
import pytest

from studio.generate.latent import (
    MAX_SEED,
    add_offsets,
    line_path,
    random_seed,
    seed_to_z,
    slerp,
    slerp_path,
    truncate,
    variation_latents,
)


def test_seed_maps_to_the_same_latent_every_time():
    a, b = seed_to_z(42, 64), seed_to_z(42, 64)
    assert a.dtype == np.float32 and a.shape == (64,)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, seed_to_z(43, 64))


def test_seed_latent_is_pinned_across_machines():
    # PCG64 + NumPy's standard normal: the same stream on every platform. If this ever fails, "seed 42"
    # no longer names the same picture as before, and every saved recipe's seed field is wrong.
    np.testing.assert_array_equal(
        seed_to_z(42, 4),
        np.array([0.304717093706131, -1.039984107017517, 0.7504512071609497, 0.9405646920204163], np.float32),
    )


def test_same_seed_same_image_bit_identical(tiny_run):
    from studio.generate.sampling import Sampler

    z = seed_to_z(7, tiny_run.config.z_dim)[None]
    s1, s2 = Sampler(tiny_run), Sampler(tiny_run)
    first = s1.generate(z)
    assert first.dtype == np.uint8 and first.shape[0] == 1
    assert np.array_equal(first, s1.generate(seed_to_z(7, tiny_run.config.z_dim)[None]))
    assert np.array_equal(first, s2.generate(z))  # another generator instance, same snapshot
    assert not np.array_equal(first, s1.generate(seed_to_z(8, tiny_run.config.z_dim)[None]))


def test_truncation():
    z = seed_to_z(3, 16)
    assert np.array_equal(truncate(z, 1.0), z)
    assert np.array_equal(truncate(z, 0.0), np.zeros_like(z))
    np.testing.assert_allclose(truncate(z, 0.5), 0.5 * z, rtol=1e-6)


def test_slerp_endpoints_are_the_inputs():
    a, b = seed_to_z(1, 32), seed_to_z(2, 32) * 1.3
    np.testing.assert_allclose(slerp(a, b, 0.0), a, atol=1e-6)
    np.testing.assert_allclose(slerp(a, b, 1.0), b, atol=1e-6)


@pytest.mark.parametrize("t", [0.1, 0.25, 0.5, 0.8])
def test_slerp_norm_and_angle_interpolate_linearly(t):
    a, b = seed_to_z(1, 32), seed_to_z(2, 32) * 1.5
    m = slerp(a, b, t).astype(np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    assert np.linalg.norm(m) == pytest.approx((1 - t) * na + t * nb, rel=1e-5)

    def angle(u, v):
        return np.arccos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))

    omega = angle(a, b)
    assert angle(a, m) == pytest.approx(t * omega, abs=1e-4)
    assert angle(m, b) == pytest.approx((1 - t) * omega, abs=1e-4)


def test_slerp_keeps_the_norm_where_lerp_shrinks_it():
    a, b = seed_to_z(5, 128), seed_to_z(6, 128)
    mid = slerp(a, b, 0.5)
    lerp = 0.5 * (a + b)
    assert np.linalg.norm(mid) > 1.3 * np.linalg.norm(lerp)  # ~sqrt(2) for near-orthogonal Gaussians


def test_slerp_of_parallel_vectors_is_finite():
    a = seed_to_z(9, 8)
    out = slerp(a, 2 * a, 0.5)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, 1.5 * a, rtol=1e-5)


def test_slerp_path_endpoints_and_loop():
    a, b = seed_to_z(1, 16), seed_to_z(2, 16)
    p = slerp_path(a, b, 10)
    assert p.shape == (10, 16) and p.dtype == np.float32
    np.testing.assert_allclose(p[0], a, atol=1e-6)
    np.testing.assert_allclose(p[-1], b, atol=1e-6)
    loop = slerp_path(a, b, 8, loop=True)
    assert loop.shape == (8, 16)
    np.testing.assert_allclose(loop[0], a, atol=1e-6)
    np.testing.assert_allclose(loop[4], b, atol=1e-6)  # the far end, reached once
    np.testing.assert_allclose(loop[3], loop[5], atol=1e-6)  # there and back: symmetric
    assert not np.allclose(loop[-1], a)  # the GIF's wrap-around supplies the return
    with pytest.raises(ValueError):
        slerp_path(a, b, 1)


def test_line_path_moves_along_the_direction_only():
    z = seed_to_z(4, 8)
    d = np.eye(8, dtype=np.float32)[2]
    p = line_path(z, d, -2.0, 2.0, 5)
    np.testing.assert_allclose(p[:, 2] - z[2], [-2, -1, 0, 1, 2], atol=1e-6)
    np.testing.assert_array_equal(np.delete(p, 2, axis=1), np.repeat(np.delete(z, 2)[None], 5, axis=0))


def test_add_offsets():
    z = seed_to_z(11, 6)
    out = add_offsets(z, {0: 1.0, "3": -0.5})
    assert out.dtype == np.float32 and out is not z
    np.testing.assert_allclose(out - z, [1, 0, 0, -0.5, 0, 0], atol=1e-6)
    assert np.array_equal(add_offsets(z, {}), z)
    with pytest.raises(IndexError):
        add_offsets(z, {6: 1.0})


def test_variations_start_with_the_image_itself_and_are_seeded():
    z = seed_to_z(2, 12)
    v = variation_latents(z, seed=2, n=16, strength=0.4)
    assert v.shape == (16, 12) and v.dtype == np.float32
    assert np.array_equal(v[0], z)
    assert np.array_equal(v, variation_latents(z, seed=2, n=16, strength=0.4))
    assert not np.array_equal(v, variation_latents(z, seed=3, n=16, strength=0.4))
    assert np.all(np.linalg.norm(v[1:] - z, axis=1) > 0)


def test_random_seed_is_in_range():
    rng = np.random.default_rng(0)
    seeds = [random_seed(rng) for _ in range(100)]
    assert all(0 <= s <= MAX_SEED for s in seeds) and len(set(seeds)) > 95
    assert isinstance(random_seed(), int)
