"""The compiled step and the loop (studio.train.loop): every loss learns, checkpoints round-trip,
resume continues, seeds reproduce, NaN stops a run with its reason."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from studio.core.errors import StudioError
from studio.train import losses as losses_mod
from studio.train.config import RunConfig, from_preset
from studio.train.loop import GAN, Hooks, train
from studio.train.runs import Run


def _small(**kw):
    base = dict(image_size=32, channels=1, base_filters=8, z_dim=16, batch_size=8, seed=1)
    base.update(kw)
    return from_preset("tiny", **base).validate()


def _batch(cfg, rng):
    n = cfg.batch_size * cfg.n_critic
    x = rng.uniform(-1, 1, (n, cfg.image_size, cfg.image_size, cfg.channels)).astype(np.float32)
    y = (np.arange(n) % max(cfg.num_classes, 1)).astype(np.int32)
    return tf.constant(x), tf.constant(y)


def _weights(model):
    return [v.numpy() for v in model.trainable_variables]


def _unchanged(before, model, allowed=()):
    """Paths of variables that did not move, minus the ones allowed to stay."""
    return [
        v.path
        for a, v in zip(before, model.trainable_variables)
        if np.array_equal(a, v.numpy()) and v.path not in allowed
    ]


def _changed(before, model, allowed=()):
    return not _unchanged(before, model, allowed)


# ---- the step -------------------------------------------------------------------------------
STEP_CASES = [
    dict(loss="ns"),
    dict(loss="minimax"),
    dict(loss="wgan-gp"),
    dict(loss="hinge", model="sngan"),
    dict(loss="hinge"),
    dict(loss="ns", conditional=True, num_classes=10),
    dict(loss="hinge", model="sngan", conditional=True, num_classes=10),
    dict(loss="ns", diffaugment="color,translation,cutout"),
    dict(loss="ns", model="mlp", image_size=28),
    dict(loss="ns", precision="mixed_bfloat16"),
    dict(loss="ns", precision="mixed_float16"),
    dict(loss="ns", model="mlp", image_size=28, xla=True),
    dict(loss="wgan-gp", n_critic=1),  # the gradient penalty in the simultaneous step
    dict(loss="ns", update="alternating"),
    dict(loss="hinge", model="sngan", update="alternating"),
    dict(loss="ns", conditional=True, num_classes=10, update="alternating"),
    dict(loss="ns", model="mlp", image_size=28, update="alternating"),
]


def test_simultaneous_step_gives_d_the_alternating_update_and_g_its_own():
    """Both schemes make D's update from the same first z and reals; G's differs: the simultaneous step
    reuses that fake batch and D before its update, the alternating one draws fresh noise after it."""
    rng = np.random.default_rng(0)
    cfg = _small(loss="ns")
    batch = _batch(cfg, rng)
    sim, alt = GAN(cfg), GAN(cfg.replace(update="alternating"))
    for a, b in zip(_weights(sim.G) + _weights(sim.D), _weights(alt.G) + _weights(alt.D)):
        assert np.array_equal(a, b)  # same seed, same start
    sim.train_step(*batch)
    alt.train_step(*batch)
    for a, b in zip(sim.D.trainable_variables, alt.D.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)
    assert any(
        not np.allclose(a.numpy(), b.numpy()) for a, b in zip(sim.G.trainable_variables, alt.G.trainable_variables)
    )


def test_unknown_update_scheme_is_refused_in_words():
    with pytest.raises(StudioError, match="update scheme"):
        RunConfig(update="sideways").validate()


@pytest.mark.parametrize("case", STEP_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_a_few_steps_change_every_weight_of_g_and_d_with_finite_losses(case):
    cfg = _small(**case)
    gan = GAN(cfg)
    g0, d0, e0 = _weights(gan.G), _weights(gan.D), _weights(gan.G_ema)
    rng = np.random.default_rng(0)
    for _ in range(3):
        out = {k: float(v) for k, v in gan.train_step(*_batch(cfg, rng)).items()}
        assert all(math.isfinite(v) for v in out.values()), out
    assert set(out) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    assert ("gp" in out) == (cfg.loss == "wgan-gp")
    # Every trainable variable of both models moved, so D really trains (no frozen-D recipe).
    # Exception: under wgan-gp and hinge (with every margin active) the final logit bias adds the same
    # constant to real and fake scores, which cancels in D's loss: its gradient is exactly zero.
    logit_bias = [v.path for v in gan.D.trainable_variables if v.path.endswith("bias")][-1:]
    allowed = () if cfg.loss in ("ns", "minimax") else tuple(logit_bias)
    assert not _unchanged(g0, gan.G), f"G did not train: {_unchanged(g0, gan.G)}"
    assert not _unchanged(d0, gan.D, allowed), f"D did not train: {_unchanged(d0, gan.D, allowed)}"
    assert int(gan.step.numpy()) == 3
    assert int(gan.opt_g.iterations.numpy()) == 3
    assert int(gan.opt_d.iterations.numpy()) == 3 * cfg.n_critic
    # The EMA generator follows G but is not G.
    assert _changed(e0, gan.G_ema)
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(_weights(gan.G), gan.G_ema.trainable_variables))


def test_probabilistic_losses_report_d_as_a_probability():
    cfg = _small(loss="ns")
    out = GAN(cfg).train_step(*_batch(cfg, np.random.default_rng(0)))
    assert 0.0 <= float(out["d_real"]) <= 1.0 and 0.0 <= float(out["d_fake"]) <= 1.0


def test_generate_gives_uint8_images_from_the_ema_generator():
    cfg = _small()
    gan = GAN(cfg)
    imgs = gan.generate(np.zeros((5, cfg.z_dim), np.float32))
    assert imgs.dtype == np.uint8 and imgs.shape == (5, 32, 32, 1)


def test_learning_rates_can_change_live():
    gan = GAN(_small())
    gan.set_learning_rates(lr_d=1e-3, lr_g=5e-4)
    lr_d, lr_g = gan.learning_rates()
    assert lr_d == pytest.approx(1e-3) and lr_g == pytest.approx(5e-4)


# ---- the loop -------------------------------------------------------------------------------
def _loop_cfg(**kw):
    base = dict(steps=20, checkpoint_every=10, snapshot_every=10, log_every=5, batch_size=16)
    base.update(kw)
    return from_preset("tiny", **base)


def _capture_gans(monkeypatch):
    """Record every GAN the loop builds, so a test can look at the trained models."""
    import studio.train.loop as training

    made = []

    class Recording(training.GAN):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    monkeypatch.setattr(training, "GAN", Recording)
    return made


def test_checkpoint_round_trip_restores_weights_optimizers_step_and_rng(tmp_path, monkeypatch):
    made = _capture_gans(monkeypatch)
    res = train(_loop_cfg(), run_dir=tmp_path / "run")
    assert res.state == "completed" and res.step == 20
    assert res.run.checkpoint_steps() == [10, 20]
    trained = made[-1]

    fresh = GAN(res.run.config)
    ckpt = tf.train.latest_checkpoint(str(res.run.path / "checkpoints"))
    fresh.ckpt.restore(ckpt).assert_existing_objects_matched()
    for name in ("G", "D", "G_ema"):
        a, b = getattr(trained, name).weights, getattr(fresh, name).weights
        assert len(a) == len(b)
        for va, vb in zip(a, b):  # all weights, batch-norm statistics too
            np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=f"{name}/{va.path}")
    for name in ("opt_g", "opt_d"):
        assert int(getattr(fresh, name).iterations.numpy()) == 20
        for va, vb in zip(getattr(trained, name).variables, getattr(fresh, name).variables):
            np.testing.assert_array_equal(va.numpy(), vb.numpy())
    assert int(fresh.step.numpy()) == 20
    np.testing.assert_array_equal(fresh.rng.state.numpy(), trained.rng.state.numpy())

    # The latest snapshot is the EMA generator at the last step.
    from studio.generate.sampling import Sampler

    s = Sampler(res.run, "latest")
    assert s.step == 20
    for va, vb in zip(s.G.weights, trained.G_ema.weights):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())


@pytest.mark.parametrize("diffaugment", ["", "color,translation,cutout"], ids=["plain", "diffaugment"])
def test_restored_state_continues_exactly_as_if_never_interrupted(tmp_path, diffaugment):
    """Item 8: resume restores optimizer state, step and RNG, so the steps after a restore are the very
    steps the uninterrupted run took (same batches fed in; all randomness lives in the checkpoint)."""
    cfg = _small(diffaugment=diffaugment)
    rng = np.random.default_rng(0)
    batches = [_batch(cfg, rng) for _ in range(4)]
    a = GAN(cfg)
    for x, y in batches[:2]:
        a.train_step(x, y)
    path = a.ckpt.save(str(tmp_path / "ckpt"))
    after = [{k: float(v) for k, v in a.train_step(x, y).items()} for x, y in batches[2:]]

    b = GAN(cfg)
    b.train_step(*batches[0])  # b's own history differs before the restore; the restore must erase it
    b.ckpt.restore(path).assert_existing_objects_matched()
    again = [{k: float(v) for k, v in b.train_step(x, y).items()} for x, y in batches[2:]]
    for ra, rb in zip(after, again):
        for k in ra:
            assert ra[k] == pytest.approx(rb[k], abs=1e-6), k
    for va, vb in zip(a.G.weights, b.G.weights):
        np.testing.assert_allclose(va.numpy(), vb.numpy(), atol=1e-6)


def _steps(run):
    return [r["step"] for r in run.read_metrics()]


def test_resume_continues_the_step_count(tmp_path):
    cfg = _loop_cfg()
    first = train(cfg, run_dir=tmp_path / "run")
    assert _steps(first.run)[-1] == 20
    # steps is the run's total: 30 means train steps 21..30.
    res = train(cfg.replace(steps=30), run_dir=tmp_path / "run", resume=True)
    assert res.state == "completed" and res.step == 30
    steps = _steps(res.run)
    assert steps == sorted(set(steps)), f"steps repeat or go back: {steps}"
    assert steps[-1] == 30 and 25 in steps and 20 in steps
    assert res.run.checkpoint_steps() == [10, 20, 30]
    assert res.run.config.steps == 30
    assert json.loads((res.run.path / "status.json").read_text())["state"] == "completed"
    # Resuming a run that is already at its total trains nothing and repeats nothing.
    again = train(cfg.replace(steps=30), run_dir=tmp_path / "run", resume=True)
    assert again.step == 30 and _steps(again.run) == steps


def test_resume_after_a_crash_past_the_checkpoint_drops_what_the_checkpoint_never_saw(tmp_path):
    res = train(_loop_cfg(steps=20), run_dir=tmp_path / "run")
    run = res.run
    # Pretend the process died at step 25: metrics and a snapshot past the last checkpoint (20).
    with open(run.metrics_path, "a") as f:
        f.write(json.dumps({"step": 25, "time": 9.0, "d_loss": 1.0}) + "\n")
        f.write('{"step": 26, "ti')  # torn last line
    (run.path / "snapshots" / "step_00000025.weights.h5").write_bytes(b"x")
    run.write_status("running", 25, pid=999999999)
    res = train(_loop_cfg(steps=30), run_dir=run.path, resume=True)
    steps = _steps(res.run)
    assert steps == sorted(set(steps)) and steps[-1] == 30
    assert 25 in steps and steps.count(25) == 1
    assert res.run.snapshot_steps()[-2:] == [20, 30]


def test_same_seed_same_first_losses_different_seed_different(tmp_path):
    cfg = _loop_cfg(steps=5, checkpoint_every=100, snapshot_every=100, log_every=1)
    a = train(cfg, run_dir=tmp_path / "a").run.read_metrics()
    b = train(cfg, run_dir=tmp_path / "b").run.read_metrics()
    c = train(cfg.replace(seed=cfg.seed + 1), run_dir=tmp_path / "c").run.read_metrics()
    keys = ("d_loss", "g_loss", "d_real", "d_fake")
    for ra, rb in zip(a[:3], b[:3]):
        for k in keys:
            assert ra[k] == pytest.approx(rb[k], abs=1e-5), (ra["step"], k)
    assert any(abs(a[0][k] - c[0][k]) > 1e-4 for k in keys)
    # The fixed-noise grid at step 0 (the freshly initialised G-EMA) is the same picture too.
    from PIL import Image

    pixels = [np.asarray(Image.open(tmp_path / r / "samples/step_00000000.png")) for r in "abc"]
    np.testing.assert_array_equal(pixels[0], pixels[1])
    assert not np.array_equal(pixels[0], pixels[2])


def test_a_nan_loss_stops_the_run_with_its_reason_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    import studio.train.loop as training

    good = dict(losses_mod.LOSSES)
    d_ns, g_ns = good["ns"]
    counter = {}

    def d_nan_from_step_13(real_logits, fake_logits):
        # Traced once; the GAN's step variable decides at run time when the loss turns NaN.
        return d_ns(real_logits, fake_logits) + tf.where(counter["step"] >= 12, np.nan, 0.0)

    orig_init = training.GAN.__init__

    def init(self, *a, **k):
        orig_init(self, *a, **k)
        counter["step"] = self.step

    monkeypatch.setattr(training.GAN, "__init__", init)
    monkeypatch.setattr(losses_mod, "LOSSES", {**good, "ns": (d_nan_from_step_13, g_ns)})
    res = train(_loop_cfg(steps=30), run_dir=tmp_path / "run")
    assert res.state == "failed"
    assert "NaN" in res.message and "D loss" in res.message and "step 13" in res.message
    assert "checkpoint (step 10) is kept" in res.message
    assert "Traceback" not in res.message
    status = json.loads((res.run.path / "status.json").read_text())
    assert status["state"] == "failed" and "NaN" in status["message"]
    assert status["step"] == 12
    assert res.run.checkpoint_steps() == [10]
    assert all(math.isfinite(r["d_loss"]) for r in res.run.read_metrics())
    assert Run(res.run.path).status().state == "failed"
    # Once the loss behaves again, the run resumes from the good checkpoint.
    monkeypatch.setattr(losses_mod, "LOSSES", good)
    again = train(_loop_cfg(steps=20), run_dir=res.run.path, resume=True)
    assert again.state == "completed" and again.step == 20
    steps = _steps(again.run)
    assert steps == sorted(set(steps)) and steps[-1] == 20


def test_should_stop_checkpoints_and_reports_stopped(tmp_path):
    seen = []

    def stop():
        return len(seen) >= 2

    res = train(
        _loop_cfg(steps=40, log_every=5),
        run_dir=tmp_path / "run",
        hooks=Hooks(on_progress=lambda s, m: seen.append(s), should_stop=stop),
    )
    assert res.state == "stopped"
    assert res.step == 5
    assert res.run.latest_checkpoint_step() == 5
    assert 5 in res.run.snapshot_steps()
    row = res.run.read_metrics()[-1]
    for key in ("step", "time", "d_loss", "g_loss", "d_real", "d_fake", "lr_d", "lr_g", "images_per_s"):
        assert key in row
    assert list((res.run.path / "tb").glob("events.out.tfevents.*"))


def test_time_budget_ends_the_session_with_a_checkpoint(tmp_path):
    res = train(_loop_cfg(steps=100_000, time_budget=0.5), run_dir=tmp_path / "run")
    assert res.state == "budget" and "time budget" in res.message
    assert 1 <= res.step < 100_000
    assert res.run.latest_checkpoint_step() == res.step
    assert res.run.snapshot_steps()[-1] == res.step


def test_fork_copies_the_timeline_up_to_the_step_and_trains_on_with_new_rates(tiny_run, tmp_path):
    from studio.train.loop import fork_run

    new = fork_run(tiny_run, 20, lr_d=1e-4, lr_g=3e-4, dest=tmp_path / "fork")
    cfg = new.config
    assert cfg.parent == {"run_id": tiny_run.id, "step": 20}
    assert (cfg.lr_d, cfg.lr_g) == (1e-4, 3e-4)
    assert new.checkpoint_steps() == [20]
    assert new.snapshot_steps() == [0, 10, 20]
    assert [r["step"] for r in new.read_metrics()][-1] == 20
    assert new.read_status()["state"] == "stopped"
    from studio.quality import quality_history

    parent_q = [r.step for r in quality_history(tiny_run) if r.step <= 20]
    assert [r.step for r in quality_history(new)] == parent_q  # the quality curve forks along
    # The source is untouched.
    assert tiny_run.checkpoint_steps() == [10, 20, 30] and tiny_run.snapshot_steps()[-1] == 30

    res = train(cfg.replace(steps=25), run_dir=new.path, resume=True, lr_from_config=True)
    assert res.state == "completed" and res.step == 25
    row = res.run.read_metrics()[-1]
    assert row["step"] == 25
    assert row["lr_d"] == pytest.approx(1e-4) and row["lr_g"] == pytest.approx(3e-4)
    steps = _steps(res.run)
    assert steps == sorted(set(steps))

    with pytest.raises(StudioError, match="15 is not one of them"):
        fork_run(tiny_run, 15, dest=tmp_path / "bad")
