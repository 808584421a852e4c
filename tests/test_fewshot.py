"""Few pictures: the fastgan model, adaptive augmentation (ADA), starting from another run's weights
with FreezeD, and the ``auto`` preset. Small real trainings on coloured shapes the tests draw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from studio.core.errors import StudioError
from studio.train.config import from_preset

REPO = Path(__file__).resolve().parents[1]


def shapes(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """Coloured ellipses and rectangles on dark backgrounds (uint8, N×size×size×3)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        im = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 80, 3)))
        d = ImageDraw.Draw(im)
        p0 = rng.integers(0, size // 2, 2)
        p1 = p0 + rng.integers(size // 4, size // 2, 2)
        fill = tuple(int(v) for v in rng.integers(100, 256, 3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)([int(p0[0]), int(p0[1]), int(p1[0]), int(p1[1])], fill=fill)
        out.append(np.asarray(im))
    return np.stack(out)


def fast_cfg(dataset: str, **kw):
    values = dict(
        dataset=dataset,
        model="fastgan",
        loss="hinge",
        image_size=32,
        base_filters=8,
        z_dim=16,
        batch_size=8,
        steps=10,
        log_every=1,
        snapshot_every=5,
        checkpoint_every=5,
        grid_size=2,
        ada="on",
        ada_kimg=0.05,  # p moves 8·4/50 = 0.64 per adjustment: visible within a few steps
        ema_kimg=0.1,
        ema_rampup=0.05,
        quality=False,
        holdout=0.0,
    )
    values.update(kw)
    return from_preset("tiny", **values)


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    """A finished 10-step fastgan run on 40 shapes, checkpoints and snapshots at steps 5 and 10."""
    from studio.data.store import save_dataset
    from studio.train.loop import train

    root = tmp_path_factory.mktemp("fewshot")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDIO_RUNS_DIR", str(root / "runs"))
        mp.setenv("STUDIO_DATA_DIR", str(root / "data"))
        save_dataset("shapes", shapes(40))
        res = train(fast_cfg("shapes"), run_dir=root / "runs" / "fast")
    assert res.state == "completed", res.message
    return {"root": root, "run": res.run}


@pytest.fixture
def in_fast_root(fast_run, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(fast_run["root"] / "runs"))
    monkeypatch.setenv("STUDIO_DATA_DIR", str(fast_run["root"] / "data"))
    return fast_run


# ---- the model ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [32, 64, 128])
def test_fastgan_shapes_at_every_size(size):
    import tensorflow as tf

    from studio.train.fastgan import discriminator_blocks
    from studio.train.models import build_discriminator_parts, build_generator
    from studio.train.models import discriminator_blocks as blocks_of

    cfg = from_preset(None, model="fastgan", image_size=size, base_filters=8, z_dim=16, channels=3)
    G = build_generator(cfg)
    D, D_features, decoders = build_discriminator_parts(cfg)
    x = G(tf.random.normal([2, 16]), training=False)
    assert x.shape == (2, size, size, 3) and float(tf.reduce_max(tf.abs(x))) <= 1.0
    logits, f8, f16 = D_features(x, training=False)
    assert D(x, training=False).shape == (2, 25) and logits.shape == (2, 25)
    assert f8.shape[1:3] == (8, 8) and f16.shape[1:3] == (16, 16)
    whole, part = decoders([f8, f16[:, :8, :8]], training=False)
    assert whole.shape == part.shape == (2, size // 2, size // 2, 3)
    assert len(blocks_of(D)) == discriminator_blocks(size) == int(np.log2(size)) - 3
    assert G.get_layer("g_features_4").output.shape[1:3] == (4, 4)


def test_fastgan_losses_finite_and_ada_logged(fast_run):
    rows = fast_run["run"].read_metrics()
    assert [r["step"] for r in rows] == list(range(1, 11))
    for key in ("d_loss", "g_loss", "recon", "ada_p", "r_t"):
        assert all(np.isfinite(r[key]) for r in rows), key
    assert all(0.0 <= r["ada_p"] <= 1.0 for r in rows)


def test_ada_p_is_checkpointed(fast_run):
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(fast_run["run"].path / "checkpoints" / "ckpt-10"))
    keys = [k for k in reader.get_variable_to_shape_map() if k.startswith("ada_p/")]
    assert keys, "ADA's p is not in the checkpoint"
    p = float(reader.get_tensor(keys[0]))
    assert p == pytest.approx(fast_run["run"].read_metrics()[-1]["ada_p"], abs=1e-6)


# ---- ADA's controller on a judge that memorises and one that cannot ------------------------------
def _judge_p(train_images: np.ndarray, others: np.ndarray, steps: int = 48, batch: int = 8) -> float:
    """Train fastgan's judge (hinge loss) to tell ``train_images`` from ``others`` drawn from the same
    shapes (a perfect generator), feeding ADA's controller D's signs on the training pictures each step,
    as the loop does. Only memorising the training pictures lets the judge win."""
    import tensorflow as tf

    from studio.train.ada import AdaState
    from studio.train.models import build_discriminator

    tf.keras.utils.set_random_seed(0)
    D = build_discriminator(from_preset(None, model="fastgan", image_size=32, base_filters=8, channels=3))
    opt = tf.keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.9)
    ada = AdaState(0.6, ada_kimg=0.05, batch_size=batch)
    to_f = lambda a: tf.constant(a, tf.float32) / 127.5 - 1.0  # noqa: E731
    rng = np.random.default_rng(0)

    @tf.function
    def step(real, fake, i):
        with tf.GradientTape() as tape:
            r, f = D(real, training=True), D(fake, training=True)
            loss = tf.reduce_mean(tf.nn.relu(1.0 - r)) + tf.reduce_mean(tf.nn.relu(1.0 + f))
        opt.apply_gradients(zip(tape.gradient(loss, D.trainable_variables), D.trainable_variables))
        ada.update(tf.reduce_sum(tf.sign(tf.reduce_mean(r, axis=-1))), batch, i)

    for i in range(1, steps + 1):
        real = train_images[rng.choice(len(train_images), batch, replace=False)]
        fake = others[(i * batch) % len(others) :][:batch]
        step(to_f(real), to_f(fake), tf.constant(i, tf.int64))
    return float(ada.p.numpy())


def test_ada_p_rises_when_the_judge_memorises_and_stays_low_when_it_cannot():
    others = shapes(400, seed=7)
    few = _judge_p(shapes(8, seed=1), others)  # 8 pictures seen over and over: memorised
    many = _judge_p(shapes(400, seed=2), others)  # each seen about once: nothing to memorise
    assert few >= 0.5, few
    assert many <= 0.15, many


# ---- starting from another run, FreezeD ------------------------------------------------------
def test_init_from_loads_the_other_runs_weights(in_fast_root):
    import tensorflow as tf

    from studio.train.loop import GAN
    from studio.train.transfer import load_starting_weights, start_from

    src = in_fast_root["run"]
    cfg = start_from(fast_cfg("shapes", seed=5), src.path, 5)
    assert cfg.init_from["step"] == 5 and cfg.init_from["source"] == "checkpoint"
    gan = GAN(cfg.replace(channels=3))
    before = [w.copy() for w in gan.G.get_weights()]
    assert "step 5" in load_starting_weights(gan, cfg)
    # Every weight of G equals the source checkpoint's (and differs from the fresh init with seed 5).
    src_gan = GAN(src.config)
    tf.train.Checkpoint(G=src_gan.G, D=src_gan.D).restore(str(src.path / "checkpoints" / "ckpt-5")).expect_partial()
    for a, b in zip(gan.G.get_weights(), src_gan.G.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(gan.D.get_weights(), src_gan.D.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(before, gan.G.get_weights()))


def test_freeze_d_keeps_frozen_blocks_and_records_lineage(in_fast_root):
    import tensorflow as tf

    from studio.train.loop import GAN, train
    from studio.train.models import discriminator_blocks
    from studio.train.transfer import start_from

    src = in_fast_root["run"]
    cfg = start_from(fast_cfg("shapes", steps=3, checkpoint_every=3, seed=1), src.path, 10, freeze_d=1)
    res = train(cfg, run_dir=in_fast_root["root"] / "runs" / "tuned")
    assert res.state == "completed", res.message
    saved = json.loads((res.run.path / "config.json").read_text())
    assert saved["init_from"]["run_id"] == src.id and saved["init_from"]["step"] == 10 and saved["freeze_d"] == 1

    def judge(run, step):
        gan = GAN(run.config)
        tf.train.Checkpoint(D=gan.D).restore(str(run.path / "checkpoints" / f"ckpt-{step}")).expect_partial()
        return gan.D

    before, after = judge(src, 10), judge(res.run, 3)
    b_blocks, a_blocks = discriminator_blocks(before), discriminator_blocks(after)
    for lb, la in zip(b_blocks[0], a_blocks[0]):  # frozen: every trainable weight as it was
        for wb, wa in zip(lb.trainable_weights, la.trainable_weights):
            np.testing.assert_array_equal(wb.numpy(), wa.numpy())
    moved = [
        not np.array_equal(wb.numpy(), wa.numpy())
        for lb, la in zip(b_blocks[1], a_blocks[1])
        for wb, wa in zip(lb.trainable_weights, la.trainable_weights)
    ]
    assert any(moved), "the unfrozen block did not train"


def test_init_from_refuses_another_architecture_in_one_sentence(in_fast_root):
    from studio.train.transfer import start_from

    with pytest.raises(StudioError) as e:
        start_from(fast_cfg("shapes", image_size=64), in_fast_root["run"].path)
    msg = str(e.value)
    assert "cannot start it" in msg and "image size" in msg and msg.count(". ") == 0 and "\n" not in msg

    env = dict(os.environ, PYTHONPATH=str(REPO))
    args = ["train", "--dataset", "shapes", "--model", "dcgan", "--image-size", "32", "--preset", "tiny"]
    args += ["--init-from", f"{in_fast_root['run'].path}:5", "--run-dir", str(in_fast_root["root"] / "runs" / "x")]
    r = subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "cannot start it" in lines[0] and "Traceback" not in r.stderr
    assert not (in_fast_root["root"] / "runs" / "x").exists()


# ---- everything else the studio does, with a fastgan run --------------------------------------
def test_fastgan_samples_directions_export_fork_resume(in_fast_root, tmp_path):
    import keras

    from studio.generate.directions import directions_for
    from studio.generate.sampling import Sampler
    from studio.media.model import export_generator
    from studio.train.loop import fork_run, train

    src = in_fast_root["run"]
    s = Sampler(src.path)
    a = s.from_seeds([1, 2, 3])
    assert a.shape == (3, 32, 32, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, s.from_seeds([1, 2, 3]))  # a seed is a picture
    d = directions_for(s, n_samples=64, n_components=4)
    assert d.layer == "g_features_4" and np.isfinite(d.directions).all() and len(d) == 4
    out = export_generator(src.path, tmp_path / "g.keras")
    G = keras.models.load_model(out)
    assert G.output_shape == (None, 32, 32, 3)

    fork = fork_run(src, 5, dest=in_fast_root["root"] / "runs" / "fork")
    res = train(fork.config.replace(steps=7), run_dir=fork.path, resume=True)
    assert res.state == "completed" and res.step == 7, res.message
    assert [r["step"] for r in res.run.read_metrics()] == list(range(1, 8))


# ---- the auto preset ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "n,batch,ada",
    [(50, 8, "on"), (1000, 16, "on"), (50_000, 16, "off")],
)
def test_auto_chooses_sensibly(n, batch, ada):
    from studio.train.auto import choose
    from studio.train.devices import Devices

    laptop = Devices(gpus=(), cpu_cores=2, cpu_bf16=False)
    c = choose(n, 64, laptop)
    v = c.values
    assert v["model"] == "fastgan" and v["image_size"] == 64 and v["batch_size"] == batch and v["ada"] == ada
    assert v["ema_kimg"] > 0 and v["ema_rampup"] > 0 and v["snapshot_every"] >= 20
    assert f"{n:,} pictures" in c.sentence and c.sentence.count(". ") == 0 and c.sentence.endswith(".")
    cfg = from_preset("auto", **{k: v[k] for k in v}).validate()
    assert cfg.preset == "auto"
    # A bigger picture gets a narrower network on the same laptop; a GPU a wider one and bigger batches.
    assert choose(n, 128, laptop).values["base_filters"] < v["base_filters"]
    gpu = choose(n, 64, Devices(gpus=("NVIDIA A100",), cpu_cores=8, cpu_bf16=False)).values
    assert gpu["base_filters"] > v["base_filters"] and gpu["batch_size"] >= batch


def test_auto_on_a_zip_of_pictures(tmp_path):
    import zipfile

    from studio.train.auto import auto_choice

    z = tmp_path / "pics.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for i, im in enumerate(shapes(30, 48)):
            p = tmp_path / f"{i}.png"
            Image.fromarray(im).save(p)
            zf.write(p, f"pics/{i}.png")
    c = auto_choice(str(z))
    assert c.n_images == 30 and c.image_size == 64 and c.values["ada"] == "on" and "30 pictures" in c.sentence
