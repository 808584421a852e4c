"""GANSpace directions (studio.generate.directions): orthonormal, ordered, right on a known linear map, cached on disk."""

import shutil

import numpy as np
import pytest

from studio.generate import directions as dirs_mod
from studio.generate.directions import (
    compute_directions,
    directions_for,
    directions_path,
    early_layer,
    file_hash,
    load_directions,
)


@pytest.fixture(scope="module")
def own_run(tiny_run, tmp_path_factory):
    """A private copy of the session's tiny run: these tests write directions files beside its snapshots."""
    from studio.train.runs import Run

    dest = tmp_path_factory.mktemp("dirs") / "run"
    shutil.copytree(tiny_run.path, dest)
    return Run(dest)


@pytest.fixture(scope="module")
def sampler(own_run):
    from studio.generate.sampling import Sampler

    return Sampler(own_run)


@pytest.fixture(scope="module")
def found(sampler):
    return compute_directions(sampler.G, sampler.z_dim, n_samples=1024, n_components=12)


def test_directions_are_orthonormal(found, sampler):
    D = found.directions.astype(np.float64)
    assert D.shape == (12, sampler.z_dim) and found.directions.dtype == np.float32
    np.testing.assert_allclose(D @ D.T, np.eye(len(D)), atol=1e-5)


def test_directions_are_ordered_by_explained_variance(found):
    r = found.variance_ratio
    assert r.shape == (12,)
    assert np.all(np.diff(r) <= 1e-7), r
    assert np.all(r > 0) and r.sum() <= 1.0 + 1e-6


def test_stds_are_of_gaussian_latents_projected(found):
    # Projections of N(0, I) on unit vectors: std close to 1, so sliders in std units ≈ latent units.
    assert np.all(np.abs(found.stds - 1.0) < 0.15), found.stds


def test_deterministic_for_the_same_weights(found, sampler):
    again = compute_directions(sampler.G, sampler.z_dim, n_samples=1024, n_components=12)
    assert np.array_equal(found.directions, again.directions)


def test_apply_moves_along_one_direction_only(found, sampler):
    z = np.random.default_rng(0).standard_normal(sampler.z_dim).astype(np.float32)
    moved = found.apply(z, {2: 1.5})
    proj = (moved - z).astype(np.float64) @ found.directions.T.astype(np.float64)
    expect = np.zeros(len(found))
    expect[2] = 1.5 * found.stds[2]
    np.testing.assert_allclose(proj, expect, atol=1e-5)
    assert np.array_equal(found.apply(z, None), z)
    with pytest.raises(IndexError):
        found.offset({99: 1.0})


def test_early_layer_is_the_first_block():
    from studio.train.config import from_preset
    from studio.train.models import build_generator

    dc = build_generator(from_preset("tiny"))
    assert type(early_layer(dc)).__name__ == "ReLU"
    mlp = build_generator(from_preset("tiny", model="mlp", image_size=16))
    assert type(early_layer(mlp)).__name__ == "LeakyReLU"


def test_recovers_the_principal_directions_of_a_linear_generator():
    """For y = z K (K = U S Vᵀ), GANSpace's latent direction i is U[:, i]: check the method, not just shapes."""
    import keras

    rng = np.random.default_rng(1)
    z_dim, feat = 6, 24
    U, _ = np.linalg.qr(rng.standard_normal((z_dim, z_dim)))
    V, _ = np.linalg.qr(rng.standard_normal((feat, z_dim)))
    S = np.array([6.0, 4.0, 2.5, 1.5, 1.0, 0.5])
    K = (U * S) @ V.T
    z = keras.Input((z_dim,), name="z")
    dense = keras.layers.Dense(feat, use_bias=False)
    G = keras.Model(z, dense(z))
    dense.set_weights([K.astype(np.float32)])
    d = compute_directions(G, z_dim, n_samples=4096, n_components=4)
    cos = np.abs(np.sum(d.directions.astype(np.float64) * U[:, :4].T, axis=1))
    assert np.all(cos > 0.99), cos
    expected = S[:4] ** 2 / np.sum(S**2)
    np.testing.assert_allclose(d.variance_ratio, expected, rtol=0.1)


def test_conditional_generator(tmp_path):
    from studio.train.config import from_preset
    from studio.train.models import build_generator

    cfg = from_preset("tiny", conditional=True, num_classes=3)
    G = build_generator(cfg)
    d = compute_directions(G, cfg.z_dim, conditional=True, num_classes=3, n_samples=256, n_components=8)
    np.testing.assert_allclose(d.directions @ d.directions.T, np.eye(8), atol=1e-5)


def test_cached_beside_the_snapshot_and_reused(sampler, monkeypatch):
    snap = sampler.run.snapshot_path(sampler.step)
    path = directions_path(snap)
    assert path.name == snap.name.split(".")[0] + ".directions.npz" and path.parent == snap.parent
    path.unlink(missing_ok=True)
    seen = []
    first = directions_for(sampler, progress=lambda f, t: seen.append(f), n_samples=512)
    assert path.is_file()
    assert seen and seen[-1] == 1.0 and all(b >= a for a, b in zip(seen, seen[1:]))
    assert first.snapshot_hash == file_hash(snap)

    def boom(*a, **k):
        raise AssertionError("recomputed although the file beside the snapshot was valid")

    monkeypatch.setattr(dirs_mod, "compute_directions", boom)
    again = directions_for(sampler, n_samples=512)
    assert np.array_equal(again.directions, first.directions)
    assert np.array_equal(again.variance_ratio, first.variance_ratio)


def test_stale_or_broken_cache_is_ignored(sampler, tmp_path):
    snap = sampler.run.snapshot_path(sampler.step)
    d = directions_for(sampler, n_samples=512)
    assert load_directions(directions_path(snap), "some-other-snapshot") is None
    broken = tmp_path / "x.directions.npz"
    broken.write_bytes(b"not a numpy file")
    assert load_directions(broken) is None
    assert load_directions(tmp_path / "missing.npz") is None
    assert load_directions(directions_path(snap), d.snapshot_hash) is not None
