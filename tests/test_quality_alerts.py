"""Health alerts fired by constructed histories, and silent on a healthy one."""

from __future__ import annotations

import numpy as np

from studio.quality.alerts import AlertKind, at_floor, best_row, health_alerts
from studio.quality.store import QualityRow


def _history(n=12, **series):
    """Quality rows every 100 steps; ``series`` maps a field to a list (or a function of i)."""
    rows = []
    for i in range(n):
        values = dict(
            kid=1.0 / (i + 1),
            kid_se=0.01,
            precision=min(0.8, 0.1 * i),
            recall=min(0.7, 0.08 * i),
            density=0.9,
            coverage=min(0.8, 0.1 * i),
            duplicates=0.0,
            r_t=0.4,
            d_gap_auc=0.52,
            ct=0.5,
        )
        for k, v in series.items():
            values[k] = v(i) if callable(v) else v[i] if isinstance(v, list) else v
        rows.append(QualityRow(step=100 * i, features="digitnet", **values))
    return rows


def _losses(n=200, g=lambda i: 1.0, d=lambda i: 1.2, seed=0):
    rng = np.random.default_rng(seed)
    return [
        {"step": 10 * i, "g_loss": g(i) + 0.1 * rng.normal(), "d_loss": d(i) + 0.05 * rng.normal()} for i in range(n)
    ]


def _kinds(alerts):
    return [a.kind for a in alerts]


def test_a_healthy_history_raises_nothing():
    assert health_alerts(_history(), _losses()) == []
    assert health_alerts([], []) == []
    assert health_alerts(_history(2), _losses(5)) == []  # too early to judge anything


def test_recall_falling_to_half_its_best_is_collapse():
    recall = [0.1, 0.3, 0.5, 0.6, 0.6, 0.55, 0.5, 0.4, 0.35, 0.3, 0.2, 0.15]
    [a] = health_alerts(_history(recall=recall), _losses())
    assert a.kind is AlertKind.COLLAPSE and "collapsing" in a.title
    assert a.step == 1100 and "0.15" in a.message
    assert {x.key for x in a.actions} >= {"lower_lrs", "wgan_gp"}


def test_one_bad_snapshot_is_not_collapse():
    recall = [0.1, 0.3, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.1]
    assert health_alerts(_history(recall=recall)) == []


def test_near_twins_in_the_grid_are_collapse():
    dup = [0.0] * 10 + [0.4, 0.5]
    [a] = health_alerts(_history(duplicates=dup))
    assert a.kind is AlertKind.COLLAPSE and "near-twin" in a.message


def test_twins_at_the_start_of_a_run_are_not_collapse():
    # Every run starts with a grid of near-identical blurs (a real quick-sketch run: 1.0, 1.0, 0.3, 0).
    dup = [1.0, 1.0, 1.0, 0.6, 0.3] + [0.0] * 7
    assert health_alerts(_history(duplicates=dup)[:4]) == []
    assert health_alerts(_history(duplicates=dup)) == []


def test_d_sure_of_training_pictures_and_not_of_held_out_ones_is_memorising():
    r_t = [0.3] * 10 + [0.75, 0.8]
    auc = [0.5] * 10 + [0.7, 0.74]
    [a] = health_alerts(_history(r_t=r_t, d_gap_auc=auc))
    assert a.kind is AlertKind.MEMORISING
    assert {x.key for x in a.actions} == {"augment", "more_data", "lower_lr_d"}
    # r_t high while D scores held-out pictures alike: confident, not memorising.
    assert health_alerts(_history(r_t=r_t, d_gap_auc=0.5)) == []


def test_without_a_held_out_split_r_t_high_over_three_snapshots_is_memorising():
    # The last snapshots of a real run on 32 pictures without augmentation (fastgan, 2,000 steps).
    r_t = [0.5] * 6 + [0.93, 0.6, 0.81, 0.97, 0.82, 0.81]
    [a] = health_alerts(_history(r_t=r_t, d_gap_auc=None, ct=None))
    assert a.kind is AlertKind.MEMORISING and "r_t 0.87 over the last 3 snapshots" in a.message
    # One D at one moment swings: a single dip to or below 0.6 inside the window, or a mean below 0.8, is no alarm.
    assert health_alerts(_history(r_t=[0.5] * 9 + [0.99, 0.55, 0.99], d_gap_auc=None, ct=None)) == []
    assert health_alerts(_history(r_t=[0.5] * 9 + [0.7, 0.75, 0.8], d_gap_auc=None, ct=None)) == []
    # A healthy digits run's swings (benchmarks/README.md): 1.0, -0.38, 0.95.
    assert health_alerts(_history(r_t=[0.3] * 9 + [1.0, -0.38, 0.95], d_gap_auc=None, ct=None)) == []


def test_generated_pictures_closer_to_training_than_new_ones_is_copying():
    ct = [0.5] * 10 + [-4.0, -6.0]
    [a] = health_alerts(_history(ct=ct))
    assert a.kind is AlertKind.MEMORISING and "copying" in a.title


def test_kid_not_improving_for_many_snapshots_is_a_plateau_naming_the_best_step():
    kid = [1.0, 0.5, 0.3, 0.2, 0.25, 0.22, 0.24, 0.21, 0.23, 0.26, 0.22, 0.24]
    [a] = health_alerts(_history(kid=kid))
    assert a.kind is AlertKind.PLATEAU and a.best_step == 300
    assert "best snapshot is step 300" in a.message and "learned what it can" in a.title


def test_a_generator_loss_climbing_while_d_wins_is_divergence():
    g = lambda i: 1.0 if i < 150 else 1.0 + (i - 150) * 0.3  # noqa: E731
    d = lambda i: 1.2 if i < 150 else 0.02  # noqa: E731
    [a] = health_alerts(_history(), _losses(g=g, d=d))
    assert a.kind is AlertKind.UNSTABLE and "diverging" in a.title
    assert {x.key for x in a.actions} == {"lower_lrs", "wgan_gp"}


def test_swinging_losses_are_oscillation():
    g = lambda i: 1.0 if i < 150 else (0.2 if i % 2 else 4.0)  # noqa: E731
    [a] = health_alerts(_history(), _losses(g=g))
    assert a.kind is AlertKind.UNSTABLE and "oscillating" in a.title


def test_alerts_are_frozen_and_say_what_to_do():
    import dataclasses

    [a] = health_alerts(_history(ct=[0.5] * 10 + [-4.0, -6.0]))
    assert dataclasses.is_dataclass(a) and a.message and a.actions
    try:
        a.title = "x"
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("an Alert must be frozen")


def test_a_kid_within_noise_of_zero_is_its_floor_not_a_plateau():
    # As a fastgan run on ~1,000 photographs scores in randconv features: KID reaches noise level
    # by the fourth snapshot and stays there while the pictures keep gaining forms. Its lowest
    # value (0.02e-3, step 400) is noise; the best snapshot is the latest one at the floor.
    kid = [20e-3, 2.5e-3, 1.9e-3, 0.97e-3, 0.02e-3, 0.46e-3, 1.26e-3, 0.47e-3, 0.48e-3, 0.73e-3, 0.36e-3, 0.72e-3]
    se = [5e-3, 1.0e-3, 0.8e-3, 0.67e-3, 0.29e-3, 0.56e-3, 0.81e-3, 0.49e-3, 0.44e-3, 0.62e-3, 0.45e-3, 0.62e-3]
    rows = _history(kid=kid, kid_se=se)
    assert [r.step for r in rows if at_floor(r)] == [300, 400, 500, 600, 700, 800, 900, 1000, 1100]
    assert best_row(rows).step == 1100
    assert health_alerts(rows) == []


def test_a_run_that_left_the_floor_long_ago_is_on_a_plateau_from_its_last_floor_snapshot():
    kid = [20e-3, 2e-3, 0.3e-3, 0.2e-3] + [5e-3] * 8
    [a] = health_alerts(_history(kid=kid, kid_se=0.5e-3))
    assert a.kind is AlertKind.PLATEAU and a.best_step == 300
