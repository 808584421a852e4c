"""Quality metrics against answers known in closed form or by construction (no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.core.errors import StudioError
from studio.quality import copying, frechet, kid, prdc
from studio.quality.metric_main import MetricInputs, compute_metrics, metric_names


def _gauss(n, d, seed, shift=0.0):
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


def test_kid_of_two_samples_of_one_distribution_is_zero_within_its_standard_error():
    for seed in range(3):
        r = kid.kid(_gauss(600, 32, seed), _gauss(500, 32, 100 + seed), seed=seed)
        assert r.kid_se > 0
        assert abs(r.kid) <= 3 * r.kid_se, r
        assert r.subset_size == 250  # at most half the smaller set, so subsets differ


def test_kid_of_a_set_against_itself_is_never_a_distance_and_tiny_next_to_a_real_one():
    x = _gauss(400, 16, 0)
    same = kid.kid(x, x.copy())
    shifted = kid.kid(x, _gauss(400, 16, 1, shift=0.5))
    # The unbiased estimate of identical sets sits at or just below 0 (the pairs of identical
    # pictures make them look closer than two independent samples: the copying direction).
    assert same.kid <= same.kid_se
    assert abs(same.kid) < 0.05 * shifted.kid
    assert shifted.kid > 10 * shifted.kid_se


def test_kid_subsets_agree_with_the_direct_formula():
    x, y = _gauss(40, 8, 0), _gauss(40, 8, 1, 0.3)
    # Subsets of 20 from 40: the mean over many subsets approaches the full-set estimate.
    r = kid.kid(x, y, num_subsets=400, max_subset_size=20)
    assert r.kid == pytest.approx(kid.polynomial_mmd2(x, y), abs=4 * r.kid_se)


def test_kid_refuses_tiny_sets():
    with pytest.raises(StudioError):
        kid.kid(_gauss(3, 4, 0), _gauss(10, 4, 1))


def test_frechet_distance_of_two_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(0)
    d = 4
    a = rng.normal(size=(d, d))
    s1 = a @ a.T + np.eye(d)
    s2 = np.diag([0.5, 1.0, 2.0, 3.0])
    mu1, mu2 = np.zeros(d), np.array([1.0, -1.0, 0.5, 0.0])
    from scipy.linalg import sqrtm

    expected = float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(sqrtm(s1 @ s2))))
    assert frechet.frechet_distance_gaussians(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    # Diagonal covariances: |Δμ|² + Σ(√σ₁ − √σ₂)².
    d1, d2 = np.array([1.0, 4.0]), np.array([9.0, 1.0])
    closed = 2.0**2 + (1 - 3) ** 2 + (2 - 1) ** 2
    assert frechet.frechet_distance_gaussians([0, 0], np.diag(d1), [2, 0], np.diag(d2)) == pytest.approx(closed)
    # From samples: near the closed form.
    x = rng.multivariate_normal(mu1, s1, 20000)
    y = rng.multivariate_normal(mu2, s2, 20000)
    assert frechet.frechet_distance(x, y).fd == pytest.approx(expected, rel=0.05)


def test_frechet_distance_is_withheld_when_there_are_too_few_samples_for_the_features():
    r = frechet.frechet_distance(_gauss(100, 64, 0), _gauss(1000, 64, 1))
    assert r.fd is None and "128" in r.reason and "100" in r.reason


def test_precision_and_recall_of_a_set_against_a_strict_subset():
    x = _gauss(400, 8, 0)
    sub = x[:150]
    r = prdc.prdc(x, sub)  # generated = part of the real set
    assert r.precision == 1.0  # every generated picture is a real one
    assert r.recall < 1.0  # ... but it misses most of the real set
    back = prdc.prdc(sub, x)  # real = part of the generated set
    assert back.recall == 1.0 and back.coverage == 1.0
    assert back.precision < 1.0
    same = prdc.prdc(x, _gauss(400, 8, 1))
    assert 0.6 < same.density < 1.4 and same.coverage > 0.8
    far = prdc.prdc(x, _gauss(400, 8, 2, shift=10.0))
    assert far.precision == far.recall == far.density == far.coverage == 0.0


def test_data_copying_test_flags_copies_and_passes_new_pictures():
    train, held, new = _gauss(600, 6, 0), _gauss(120, 6, 1), _gauss(500, 6, 2)
    copies = train[np.random.default_rng(3).integers(0, 600, 500)] + 1e-3 * _gauss(500, 6, 4)
    ct_new, _ = copying.data_copying_ct(train, held, new)
    ct_copy, _ = copying.data_copying_ct(train, held, copies)
    assert abs(ct_new) < 3
    assert ct_copy < -3
    assert copying.authenticity(train, copies) < 0.05 < copying.authenticity(train, new)
    none, reason = copying.data_copying_ct(train, np.zeros((0, 6)), new)
    assert none is None and reason


def test_the_registry_computes_every_named_metric():
    inputs = MetricInputs(_gauss(300, 8, 0), _gauss(200, 8, 1), _gauss(40, 8, 2), grid=16)
    out = compute_metrics(inputs)
    for key in ("kid", "kid_se", "precision", "recall", "density", "coverage", "fd", "ct", "duplicates"):
        assert key in out
    assert set(metric_names()) >= {"kid", "fd", "prdc", "copying", "duplicates"}
    with pytest.raises(StudioError):
        compute_metrics(inputs, ["nope"])


def test_duplicates_counts_near_twins_in_the_grid():
    train = _gauss(300, 8, 0)
    grid = np.repeat(_gauss(4, 8, 1), 4, axis=0)  # 16 pictures, 4 distinct
    assert compute_metrics(MetricInputs(train, grid, grid=16), ["duplicates"])["duplicates"] == 1.0
    assert compute_metrics(MetricInputs(train, _gauss(16, 8, 2), grid=16), ["duplicates"])["duplicates"] == 0.0
