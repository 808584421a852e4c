"""The compiled GAN train step and the training loop.

The step is one ``tf.function`` with explicit GradientTapes over each model's own variables. The
tutorial recipe "compile D, set D.trainable = False, compile the stacked GAN" silently stops D from
training under Keras 3, and ``predict`` + ``train_on_batch`` add a fixed overhead per call
(benchmarks/train_throughput.py measures the difference).

The step is written the tf.distribute way (per-example losses reduced with
``tf.nn.compute_average_loss`` over the global batch, models and optimizers built inside
``strategy.scope()``) so several GPUs are a different strategy, not a rewrite.

The loop knows nothing of any UI: it reports through ``Hooks`` (on_progress, should_stop,
wait_if_paused, pending_lr, on_snapshot), as StyleGAN's ``training_loop`` does with progress_fn
and abort_fn. The job manager (jobs.py) and the CLI (__main__.py) are two clients of it.

EMA generator: Karras et al., "Progressive Growing of GANs" (2018) / Yazıcı et al., "The Unusual
Effectiveness of Averaging in GAN Training" (2019). Every sample, grid and snapshot uses it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.images import encode_png, make_grid, to_uint8
from studio.core.paths import (
    append_line,
    atomic_write_bytes,
    atomic_write_text,
    atomic_write_with,
    check_room,
    disk_is_full,
    runs_dir,
)
from studio.generate.latent import fixed_labels, fixed_noise
from studio.train import ada as ada_mod
from studio.train import fused_bn
from studio.train import losses as losses_mod
from studio.train.ada import AdaState
from studio.train.config import RunConfig, resume_settings
from studio.train.metrics import History
from studio.train.models import build_discriminator_parts, build_generator
from studio.train.runs import Run, step_name
from studio.train.state import RunState


def _noop(*_a, **_k):
    return None


@dataclass
class Hooks:
    """How a client watches and steers the loop. Every hook is called from the training thread."""

    on_start: Callable[[Run, int], None] = _noop  # (run, starting step)
    on_progress: Callable[[int, dict], None] = _noop  # (step, metrics row) at each log line
    on_snapshot: Callable[[int, Path], None] = _noop  # (step, sample grid PNG path)
    should_stop: Callable[[], bool] = lambda: False  # True: checkpoint and return
    wait_if_paused: Callable[[], None] = _noop  # blocks while the client says pause
    pending_lr: Callable[[], dict | None] = lambda: None  # {"lr_d": .., "lr_g": ..} to apply now
    on_notice: Callable[[str], None] = _noop  # a plain sentence the person should see (e.g. a fallback)


@dataclass
class TrainResult:
    run: Run
    step: int
    state: RunState  # COMPLETED, STOPPED, BUDGET or FAILED
    message: str = ""
    metrics: list = field(default_factory=list)
    disk_full: bool = False  # stopped because a write found no room on the disk


def _scaled(opt, loss):
    """The loss as the optimizer wants it differentiated (scaled up under mixed_float16's loss scaling)."""
    return opt.scale_loss(loss) if hasattr(opt, "scale_loss") else loss


def _per_picture(t):
    """Per-picture values from per-picture (B,) or per-patch (B, P) ones (fastgan's 5×5 logits)."""
    import tensorflow as tf

    return tf.reduce_mean(t, axis=-1) if t.shape.rank == 2 else t


def _trainable_d_vars(cfg: RunConfig, D, decoders) -> list:
    """What D's optimizer updates: D's weights except its first ``freeze_d`` blocks (FreezeD, Mo et al.
    2020: the early judge layers keep the features of the run the weights came from), plus the
    decoders' (fastgan)."""
    from studio.train.models import discriminator_blocks

    frozen = set()
    if cfg.freeze_d:
        blocks = discriminator_blocks(D)
        if cfg.freeze_d > len(blocks):
            raise StudioError(
                f"The judge of this {cfg.model} model has {len(blocks)} blocks, so at most {len(blocks)} can be "
                f"frozen, not {cfg.freeze_d}."
            )
        frozen = {id(v) for block in blocks[: cfg.freeze_d] for layer in block for v in layer.trainable_weights}
        from studio.train.transfer import hold_still

        hold_still([layer for block in blocks[: cfg.freeze_d] for layer in block])
    out = [v for v in D.trainable_variables if id(v) not in frozen]
    return out + (list(decoders.trainable_variables) if decoders is not None else [])


def select_strategy(devices: str | None = None, multi_worker: bool = False):
    """The tf.distribute strategy for ``devices``.

    None: MirroredStrategy over every GPU when there are two or more, the default strategy otherwise.
    ``"N"``: mirror over N devices (N GPUs, or on a machine without GPUs N logical CPU devices, which
    is how the distributed path is tested on a CPU). ``"GPU:0,GPU:1"`` / ``"CPU:0,CPU:1"``: those.
    ``multi_worker``: MultiWorkerMirroredStrategy from TF_CONFIG (train/cluster.py).
    Logical CPU devices and the cluster can only be set up before TensorFlow starts its runtime, so
    call this first.
    """
    import tensorflow as tf

    from studio.train.devices import enable_memory_growth

    if multi_worker:
        if devices is not None:
            raise StudioError("--devices and --multi-worker do not combine: each worker trains on its own devices.")
        from studio.train.cluster import multi_worker_strategy

        enable_memory_growth()
        return multi_worker_strategy()[0]
    if devices is None:
        enable_memory_growth()
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    names = _device_names(str(devices))
    cpus = [int(n.split(":")[1]) for n in names if n.startswith("CPU")]
    if cpus and max(cpus) > 0:
        (cpu,) = tf.config.list_physical_devices("CPU")[:1]
        n = max(cpus) + 1
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
            # The replicas run at once on the same cores: each op gets its share of the cores
            # rather than all of them, so they do not fight over threads (benchmarks/distribute_overhead.py).
            if os.environ.get("STUDIO_REPLICA_THREADS", "share") == "share":
                tf.config.threading.set_intra_op_parallelism_threads(max(1, (os.cpu_count() or 1) // n))
        except RuntimeError:
            pass  # already initialised (a second run in this process): use what exists
    enable_memory_growth()
    have = {d.name.split("device:")[-1] for d in tf.config.list_logical_devices()}
    missing = [n for n in names if n not in have]
    if missing:
        raise StudioError(f"This machine has no {', '.join(missing)}; it has {', '.join(sorted(have))}.")
    return (
        tf.distribute.MirroredStrategy([f"/{n}" for n in names])
        if len(names) > 1
        else tf.distribute.OneDeviceStrategy(f"/{names[0]}")
    )


def _device_names(spec: str) -> list[str]:
    """'2' → ['GPU:0', 'GPU:1'] (or CPUs without GPUs); 'gpu:0, GPU:1' → ['GPU:0', 'GPU:1']."""
    from studio.train.devices import detect

    spec = spec.strip()
    if spec.isdigit():
        n = int(spec)
        if n < 1:
            raise StudioError("--devices needs at least 1 device.")
        kind = "GPU" if detect().gpus else "CPU"
        return [f"{kind}:{i}" for i in range(n)]
    names = []
    for part in spec.split(","):
        kind, _, index = part.strip().upper().partition(":")
        if kind not in ("GPU", "CPU") or not index.isdigit():
            raise StudioError(f"'{part.strip()}' is not a device; write e.g. GPU:0,GPU:1 or CPU:0,CPU:1, or a count.")
        names.append(f"{kind}:{int(index)}")
    return names


class GAN:
    """Models, optimizers, EMA generator, step counter and RNG of one run, plus the compiled step."""

    def __init__(self, cfg: RunConfig, strategy=None, on_generator: Callable | None = None):
        """``on_generator(G)`` is called as soon as G exists, before D and the optimizers are built:
        the step-0 grid of a new run is drawn there, so the person sees it seconds earlier."""
        import keras
        import tensorflow as tf

        self.cfg = cfg
        self.strategy = strategy or tf.distribute.get_strategy()
        self.d_loss_fn, self.g_loss_fn = losses_mod.LOSSES[cfg.loss]
        # Seeds weight initialisation; tf.data order and z come from their own seeded generators.
        keras.utils.set_random_seed(cfg.seed)
        with self.strategy.scope():
            self.G = build_generator(cfg)
            if on_generator is not None:
                on_generator(self.G)
            # fastgan: D_features (D's layers plus the features its decoders read) and the decoders.
            self.D, self.D_features, self.decoders = build_discriminator_parts(cfg)
        # Batch norm in one fused op while training: the same maths, ~15% less CPU per fastgan step.
        fused_bn.fuse(self.G, self.D, self.decoders)
        # The EMA generator is only read outside the step (grids, snapshots, exports), so one copy on
        # the first device is enough. Mirrored, every step would compute its update once and copy it
        # to each replica's copy (benchmarks/distribute_overhead.py). The default strategy's scope
        # changes nothing here: one device trains exactly as before.
        self.G_ema = build_generator(cfg, name="generator_ema")
        self.G_ema.set_weights(self.G.get_weights())
        with self.strategy.scope():
            self.d_vars = _trainable_d_vars(cfg, self.D, self.decoders)
            self.opt_g = self._optimizer(cfg.lr_g)
            self.opt_d = self._optimizer(cfg.lr_d)
            # Keras 3 optimizers must be built inside the scope before the first step (keras#19246).
            self.opt_g.build(self.G.trainable_variables)
            self.opt_d.build(self.d_vars)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.rng = tf.random.Generator.from_seed(cfg.seed)
            # "auto" is resolved when a run is created (prepare_config); unresolved here means off.
            self.ada = AdaState(cfg.ada_target, cfg.ada_kimg, cfg.batch_size) if cfg.ada == "on" else None
        extra = {"decoders": self.decoders} if self.decoders is not None else {}
        if self.ada is not None:
            extra.update(self.ada.trackables())
        self.ckpt = tf.train.Checkpoint(
            G=self.G,
            D=self.D,
            G_ema=self.G_ema,
            opt_g=self.opt_g,
            opt_d=self.opt_d,
            step=self.step,
            rng=self.rng,
            **extra,
        )
        # autograph=False: the step has no Python control flow on tensors, and converting it (and every
        # Keras call inside) cost ~10 s of every run's start.
        self._step_fn = tf.function(self._distributed_step, jit_compile=bool(cfg.xla), autograph=False)
        self._next_step_fn = None
        self._gen_fn = None
        self._augment = None
        if self.ada is not None:
            from studio.train.augment import diff_augment

            policy = cfg.diffaugment or ada_mod.DEFAULT_POLICY
            self._augment = lambda x: diff_augment(x, policy, rng=self.rng, p=self.ada.p, xflip=True)
        elif cfg.diffaugment:
            from studio.train.augment import diff_augment

            # The step's own Generator: augmentation draws live in the checkpointed RNG state, so a
            # resumed run continues the same random stream instead of restarting it.
            self._augment = lambda x: diff_augment(x, cfg.diffaugment, rng=self.rng)

    def _optimizer(self, lr):
        import keras

        opt = keras.optimizers.Adam(learning_rate=lr, beta_1=self.cfg.beta1, beta_2=self.cfg.beta2)
        if self.cfg.precision == "mixed_float16":
            opt = keras.optimizers.LossScaleOptimizer(opt)
        return opt

    # ---- the step ----------------------------------------------------------------
    def _g_in(self, z, y):
        return [z, y] if self.cfg.conditional else z

    def _aug(self, x):
        return self._augment(x) if self._augment is not None else x

    def _replica_step(self, reals, labels):
        import tensorflow as tf

        cfg = self.cfg
        k = cfg.n_critic
        if k == 1 and cfg.update == "simultaneous":
            return self._simultaneous_step(reals, labels)
        global_b = cfg.batch_size
        b = tf.shape(reals)[0] // k
        d_outs = []
        # n_critic is small and static: unrolling the loop keeps the graph simple for XLA.
        for i in range(k):
            real = reals[i * b : (i + 1) * b]
            y = labels[i * b : (i + 1) * b]
            z = self.rng.normal(tf.stack([b, cfg.z_dim]))
            with tf.GradientTape() as tape:
                fake = self.G(self._g_in(z, y), training=True)
                per_example, real_logits, fake_logits, extra = self._judge(real, fake, y, b)
                d_loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_b)
                scaled = _scaled(self.opt_d, d_loss)
            grads = tape.gradient(scaled, self.d_vars)
            self.opt_d.apply_gradients(zip(grads, self.d_vars))
            d_outs.append(dict(extra, d_loss=d_loss, **self._d_readings(real_logits, fake_logits)))

        z = self.rng.normal(tf.stack([b, cfg.z_dim]))
        y_fake = (
            self.rng.uniform_full_int(tf.stack([b]), dtype=tf.int32) % max(cfg.num_classes, 1)
            if cfg.conditional
            else tf.zeros([b], tf.int32)
        )
        y_fake = tf.abs(y_fake)
        with tf.GradientTape() as tape:
            fake = self.G(self._g_in(z, y_fake), training=True)
            fake_logits = self.D(self._g_in(self._aug(fake), y_fake), training=True)
            g_loss = tf.nn.compute_average_loss(_per_picture(self.g_loss_fn(fake_logits)), global_batch_size=global_b)
            scaled = _scaled(self.opt_g, g_loss)
        grads = tape.gradient(scaled, self.G.trainable_variables)
        self.opt_g.apply_gradients(zip(grads, self.G.trainable_variables))

        # Averages over the critic steps; the ADA sum is a total (its count is the whole batch).
        out = {key: tf.add_n([o[key] for o in d_outs]) / (1 if key == "ada_signs" else k) for key in d_outs[0]}
        out["g_loss"] = g_loss
        return out

    def _simultaneous_step(self, reals, labels):
        """D and G learn from one fake batch and one pass through D, as in the TensorFlow DCGAN
        tutorial: G(z) and D(G(z)) are computed once and both tapes differentiate them. The
        alternating step computes G(z) and D(G(z)) twice per step (once per player)."""
        import tensorflow as tf

        cfg = self.cfg
        global_b = cfg.batch_size
        b = tf.shape(reals)[0]
        z = self.rng.normal(tf.stack([b, cfg.z_dim]))
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self.G(self._g_in(z, labels), training=True)
            per_example, real_logits, fake_logits, out = self._judge(reals, fake, labels, b)
            d_loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_b)
            g_loss = tf.nn.compute_average_loss(_per_picture(self.g_loss_fn(fake_logits)), global_batch_size=global_b)
            d_scaled, g_scaled = _scaled(self.opt_d, d_loss), _scaled(self.opt_g, g_loss)
        d_grads = d_tape.gradient(d_scaled, self.d_vars)
        g_grads = g_tape.gradient(g_scaled, self.G.trainable_variables)
        self.opt_d.apply_gradients(zip(d_grads, self.d_vars))
        self.opt_g.apply_gradients(zip(g_grads, self.G.trainable_variables))
        out.update(d_loss=d_loss, g_loss=g_loss, **self._d_readings(real_logits, fake_logits))
        return out

    def _judge(self, real, fake, y, b):
        """D's per-picture loss on one real and one generated batch, inside the caller's tape(s):
        (per-picture loss, real logits, fake logits, extra readings). Adds the gradient penalty
        (wgan-gp) and, for a D with decoders (fastgan), the reconstruction error of the real pictures.
        """
        import tensorflow as tf

        cfg = self.cfg
        extra = {}
        real_in = self._aug(real)
        if self.decoders is not None:
            real_logits, f8, f16 = self.D_features(real_in, training=True)
            recon = self._reconstruction_error(real_in, f8, f16)
            extra["recon"] = tf.reduce_mean(recon)
        else:
            real_logits = self.D(self._g_in(real_in, y), training=True)
        fake_logits = self.D(self._g_in(self._aug(fake), y), training=True)
        per_example = _per_picture(self.d_loss_fn(real_logits, fake_logits))
        if self.decoders is not None:
            per_example = per_example + recon
        if cfg.loss == "wgan-gp":
            gp = self._gradient_penalty(real, fake, y, b)
            per_example = per_example + cfg.gp_weight * gp
            extra["gp"] = tf.reduce_mean(gp)
        if self.ada is not None:
            # ADA's overfitting heuristic reads D on the real pictures as it trains on them.
            extra["ada_signs"] = tf.reduce_sum(tf.sign(tf.cast(_per_picture(real_logits), tf.float32)))
        return per_example, real_logits, fake_logits, extra

    def _reconstruction_error(self, real_in, f8, f16):
        """FastGAN's self-supervision: the decoders rebuild the picture D saw from its 8×8 features,
        and one random quarter of it from the matching quarter of its 16×16 features, both at half
        size; mean squared error per picture (Liu et al. 2021, Section 3.2, with MSE as lightweight-gan)."""
        import tensorflow as tf

        half = self.cfg.image_size // 2
        q = self.rng.uniform_full_int([], dtype=tf.int32)
        q = tf.abs(q) % 4  # which quarter: the same for the whole batch, as in the paper's code
        qy, qx = q // 2, q % 2
        f_part = tf.slice(f16, tf.stack([0, qy * 8, qx * 8, 0]), tf.stack([-1, 8, 8, -1]))
        rebuilt_whole, rebuilt_part = self.decoders([f8, f_part], training=True)
        target = tf.cast(real_in, tf.float32)
        whole = tf.nn.avg_pool2d(target, 2, 2, "VALID")
        part = tf.slice(target, tf.stack([0, qy * half, qx * half, 0]), tf.stack([-1, half, half, -1]))
        return tf.reduce_mean(tf.square(rebuilt_whole - whole), axis=[1, 2, 3]) + tf.reduce_mean(
            tf.square(rebuilt_part - part), axis=[1, 2, 3]
        )

    def _d_readings(self, real_logits, fake_logits) -> dict:
        import tensorflow as tf

        return {
            "d_real": tf.reduce_mean(self._readable(real_logits)),
            "d_fake": tf.reduce_mean(self._readable(fake_logits)),
        }

    def _readable(self, logits):
        """Mean D(x) as a person reads it: a probability for ns/minimax, the raw score otherwise."""
        import tensorflow as tf

        return tf.sigmoid(logits) if self.cfg.loss in losses_mod.PROBABILISTIC else logits

    def _gradient_penalty(self, real, fake, y, b):
        import tensorflow as tf

        eps = self.rng.uniform(tf.stack([b, 1, 1, 1]), 0.0, 1.0)
        x_hat = eps * real + (1.0 - eps) * fake
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(x_hat)
            logits = _per_picture(self.D(self._g_in(x_hat, y), training=True))
        g = gp_tape.gradient(logits, x_hat)
        norm = tf.sqrt(tf.reduce_sum(tf.square(tf.cast(g, tf.float32)), axis=[1, 2, 3]) + 1e-12)
        return tf.square(norm - 1.0)

    def _ema_beta(self):
        """The EMA's decay for this step.

        ``ema_kimg`` > 0: a half-life counted in images, beta = 0.5 ** (batch / half-life), at most
        ``ema_rampup`` × the images seen before this step (StyleGAN2-ADA's ema_kimg / ema_rampup), so
        a short run's average forgets its random start as fast as it moves on, and the same setting
        means the same at every batch size. Otherwise the fixed ``ema_decay`` with a warm-up: average
        over roughly the steps so far until that exceeds it, so early previews are not dominated
        by the random initial weights.
        """
        import tensorflow as tf

        cfg = self.cfg
        s = tf.cast(self.step, tf.float32)  # already counts this step
        if cfg.ema_kimg > 0:
            half_life = tf.constant(cfg.ema_kimg * 1000.0, tf.float32)
            if cfg.ema_rampup > 0:
                half_life = tf.minimum(half_life, (s - 1.0) * cfg.batch_size * cfg.ema_rampup)
            return tf.pow(0.5, cfg.batch_size / tf.maximum(half_life, 1e-8))
        return tf.minimum(tf.constant(cfg.ema_decay, tf.float32), (1.0 + s) / (10.0 + s))

    def _update_ema(self):
        import tensorflow as tf

        decay = self._ema_beta()
        for ema_w, w in zip(self.G_ema.weights, self.G.weights):
            if ema_w.trainable:
                ema_w.assign(decay * ema_w + (1.0 - decay) * tf.cast(w, ema_w.dtype))
            else:  # batch-norm statistics: copy
                ema_w.assign(w)

    def _distributed_step(self, reals, labels):
        import tensorflow as tf

        per_replica = self.strategy.run(self._replica_step, args=(reals, labels))
        out = {}
        for key, value in per_replica.items():
            total = key in ("d_loss", "g_loss", "ada_signs")
            op = tf.distribute.ReduceOp.SUM if total else tf.distribute.ReduceOp.MEAN
            out[key] = self.strategy.reduce(op, value, axis=None)
        self.step.assign_add(1)
        self._update_ema()
        if self.ada is not None:
            self.ada.update(out.pop("ada_signs"), self.cfg.batch_size, self.step)
            out.update(ada_p=self.ada.p.read_value(), r_t=self.ada.r_t.read_value())
        return out

    def train_step(self, reals, labels) -> dict:
        return self._step_fn(reals, labels)

    def train_next(self, batches) -> dict:
        """One step on the next batch of ``batches`` (the loop's iterator).

        Over several replicas the batch is fetched inside the compiled step: an eager ``next()`` on a
        distributed iterator splits and places each replica's part from Python, which cost ~1 ms a
        step (benchmarks/distribute_overhead.py); in the graph it is one op per replica. One device
        (and XLA, which cannot compile an iterator) keeps the eager fetch.
        """
        import tensorflow as tf

        if self.strategy.num_replicas_in_sync == 1 or self.cfg.xla:
            reals, labels = next(batches)
            return self.train_step(reals, labels)
        if self._next_step_fn is None:
            self._next_step_fn = tf.function(lambda it: self._distributed_step(*next(it)), autograph=False)
        return self._next_step_fn(batches)

    # ---- sampling ------------------------------------------------------------------
    def generate(self, z: np.ndarray, labels: np.ndarray | None = None, ema: bool = True) -> np.ndarray:
        """uint8 images from latents, by calling the (EMA) generator inside a tf.function."""
        import tensorflow as tf

        if self._gen_fn is None:
            cond = self.cfg.conditional

            @tf.function(
                input_signature=[tf.TensorSpec([None, self.cfg.z_dim], tf.float32), tf.TensorSpec([None], tf.int32)],
                reduce_retracing=True,
            )
            def gen(z, y):
                return self.G_ema([z, y] if cond else z, training=False)

            self._gen_fn = gen
        if labels is None:
            labels = np.zeros(len(z), np.int32)
        return to_uint8(self._gen_fn(tf.constant(z, tf.float32), tf.constant(labels, tf.int32)).numpy())

    def set_learning_rates(self, lr_d: float | None = None, lr_g: float | None = None):
        if lr_d is not None:
            self.opt_d.learning_rate.assign(float(lr_d))
        if lr_g is not None:
            self.opt_g.learning_rate.assign(float(lr_g))

    def learning_rates(self) -> tuple[float, float]:
        return float(np.asarray(self.opt_d.learning_rate)), float(np.asarray(self.opt_g.learning_rate))

    def state_variables(self) -> list:
        """Every variable the checkpoint holds (what a worker takes from the chief: train/cluster.py)."""
        out = [*self.G.weights, *self.D.weights, *self.G_ema.weights, *self.opt_g.variables, *self.opt_d.variables]
        if self.decoders is not None:
            out += list(self.decoders.weights)
        if self.ada is not None:
            out += list(self.ada.trackables().values())
        return out + [self.step, self.rng.state]


# ---------------------------------------------------------------------------------------
def _resolve_dataset(cfg: RunConfig):
    from studio.data import load_dataset

    ds = load_dataset(cfg.dataset, cfg.image_size, cfg.channels)
    if cfg.conditional and (ds.labels is None or len(ds.class_names) < 2):
        raise StudioError(
            f"The dataset '{cfg.dataset}' has no class labels, so it cannot train a "
            "conditional model. Turn 'conditional' off."
        )
    return ds


def prepare_config(cfg: RunConfig) -> RunConfig:
    """Fill in what comes from the dataset (channels, classes) and validate, before a run starts."""
    from studio.data import load_dataset

    cfg.validate()
    ds = load_dataset(cfg.dataset, cfg.image_size, None)
    from studio.train.devices import resolve_precision

    # What the machine does best, recorded as what the run actually uses (never "auto" on disk);
    # the same for adaptive augmentation, which "auto" turns on for small datasets.
    changes = {
        "channels": int(ds.images.shape[-1]),
        "precision": resolve_precision(cfg.precision),
        "ada": ada_mod.resolve(cfg.ada, len(ds)),
    }
    if cfg.conditional:
        if ds.labels is None or len(ds.class_names) < 2:
            raise StudioError(
                f"The dataset '{cfg.dataset}' has no class labels, so it cannot train a "
                "conditional model. Turn 'conditional' off."
            )
        changes["num_classes"] = len(ds.class_names)
    cfg = cfg.replace(**changes).validate()
    if cfg.init_from:
        from studio.train.transfer import check_compatible

        source = Run.open(cfg.init_from["path"])
        check_compatible(source.config, cfg, source.id)
    return cfg


def _grid_inputs(cfg: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """The fixed noise (and labels) every grid of the run is drawn from."""
    n_grid = cfg.grid_size * cfg.grid_size
    return fixed_noise(cfg.seed, n_grid, cfg.z_dim), fixed_labels(n_grid, cfg.num_classes)


def _write_grid_png(run: Run, cfg: RunConfig, step: int, images: np.ndarray) -> Path:
    png = encode_png(
        make_grid(images, ncols=cfg.grid_size), {"run_id": run.id, "step": str(step), "kind": "fixed-noise grid"}
    )
    path = run.sample_path(step)
    atomic_write_bytes(path, png)
    return path


def _write_grid(gan: GAN, run: Run, step: int, z: np.ndarray, y: np.ndarray) -> Path:
    return _write_grid_png(run, gan.cfg, step, gan.generate(z, y))


def _write_snapshot(gan: GAN, run: Run, step: int) -> None:
    final = run.path / "snapshots" / f"{step_name(step)}.weights.h5"
    atomic_write_with(final, lambda tmp: gan.G_ema.save_weights(str(tmp)))


def _checkpoint_manager(gan: GAN, run: Run):
    import tensorflow as tf

    return tf.train.CheckpointManager(gan.ckpt, str(run.path / "checkpoints"), max_to_keep=3, checkpoint_name="ckpt")


def new_run(cfg: RunConfig, run_dir: Path | str | None = None) -> Run:
    """Validate ``cfg`` against its dataset and create the run folder (config.json, status)."""
    check_room(Path(run_dir).parent if run_dir else runs_dir(), "start a run")
    return Run.create(prepare_config(cfg), run_dir)


def train(
    cfg: RunConfig | None = None,
    run_dir: Path | str | None = None,
    hooks: Hooks | None = None,
    resume: bool = False,
    lr_from_config: bool = False,
    strategy=None,
) -> TrainResult:
    """Train a run to ``cfg.steps`` total steps (or its time budget), checkpointing as it goes.

    New run: ``cfg`` given, ``run_dir`` optional (a fresh folder under runs/ otherwise).
    Resume: ``resume=True`` and ``run_dir`` of an existing run; ``cfg`` may raise ``steps`` or
    change the time budget. ``lr_from_config`` applies the config's learning rates after restoring
    (forks with new rates); otherwise a resumed run keeps the rates it had.
    Under ``--multi-worker`` only the chief writes ``run_dir``; the other workers train the same run
    into a scratch folder (train/cluster.py).
    """
    from studio.train.cluster import role_of

    if not role_of(strategy).is_chief:
        return _train_as_worker(cfg, run_dir, hooks, resume, lr_from_config, strategy)
    if resume:
        if run_dir is None:
            raise StudioError("Resuming needs the run's folder.")
        run = Run.open(run_dir)
        check_room(run.path, "resume a run")
        if cfg is not None:
            saved = run.config
            lrs = {"lr_d": cfg.lr_d, "lr_g": cfg.lr_g} if lr_from_config else {}
            changed, _ = resume_settings(saved, steps=cfg.steps, time_budget=cfg.time_budget, **lrs)
            if changed != saved:
                run.write_config(changed)
    else:
        if cfg is None:
            raise StudioError("A new run needs a configuration.")
        run = new_run(cfg, run_dir)
    return train_run(run, hooks, resume=resume, lr_from_config=lr_from_config, strategy=strategy)


def _train_as_worker(cfg, run_dir, hooks, resume, lr_from_config, strategy) -> TrainResult:
    """A worker that is not the chief: the same run, trained into a scratch folder deleted at the end.

    Its step and weights come from the chief (``broadcast_from_chief`` in train_run), so it reads the
    chief's folder only for the config of a run it resumes.
    """
    from studio.train.cluster import remove_scratch, scratch_dir

    if resume:
        try:
            chief_run = Run.open(run_dir) if run_dir is not None else None
        except StudioError:
            chief_run = None
        if chief_run is None:
            raise StudioError(
                f"This worker cannot read the run folder '{run_dir}': to resume, every worker reads the chief's "
                "config.json there (a shared disk, or a copy of the chief's run folder at the same path)."
            )
        saved = chief_run.config
        lrs = {"lr_d": cfg.lr_d, "lr_g": cfg.lr_g} if (cfg is not None and lr_from_config) else {}
        cfg = resume_settings(saved, steps=cfg.steps, time_budget=cfg.time_budget, **lrs)[0] if cfg else saved
    elif cfg is None:
        raise StudioError("A new run needs a configuration.")
    else:
        cfg = prepare_config(cfg)
    scratch = scratch_dir()
    try:
        run = Run.create(cfg, scratch / "run")
        result = train_run(run, hooks, resume=False, lr_from_config=lr_from_config, strategy=strategy)
    finally:
        remove_scratch(scratch)
    if run_dir is not None:
        result.run = Run(Path(run_dir))
    return result


def train_run(
    run: Run, hooks: Hooks | None = None, resume: bool = False, lr_from_config: bool = False, strategy=None
) -> TrainResult:
    """Train the run in an existing folder: from scratch, or (``resume``) from its latest checkpoint.

    A run that was created but never reached its first checkpoint resumes by starting over.
    """
    from studio.train.cluster import broadcast_from_chief, check_same_run, identity, role_of

    hooks = hooks or Hooks()
    cfg = run.config
    if cfg.precision == "auto":  # a run folder written by hand or by an older studio
        from studio.train.devices import resolve_precision

        cfg = cfg.replace(precision=resolve_precision(cfg.precision))
    try:
        cfg.validate()
        ds = _resolve_dataset(cfg)
        first_grid: list[Path] = []

        def step0_grid(G):
            # A new run's first picture, from a first eager call of the untrained generator (G_ema
            # starts as its copy), before D is built and anything is traced: the Train page shows
            # it seconds after the click (issue 14; benchmarks/first_grid.py).
            z, y = _grid_inputs(cfg)
            images = to_uint8(np.asarray(G([z, y] if cfg.conditional else z, training=False)))
            first_grid.append(_write_grid_png(run, cfg, 0, images))
            hooks.on_snapshot(0, first_grid[0])

        fresh = not (resume and run.checkpoint_steps()) and not cfg.init_from and not role_of(strategy).multi
        gan = GAN(cfg, strategy or select_strategy(), on_generator=step0_grid if fresh else None)
        manager = _checkpoint_manager(gan, run)
        start_step = 0
        wall_offset = 0.0
        if resume and manager.latest_checkpoint is not None:
            start_step, notice = _restore_newest_readable(gan, run)
            if notice:
                hooks.on_notice(notice)
            if lr_from_config:
                gan.set_learning_rates(cfg.lr_d, cfg.lr_g)
        elif cfg.init_from and role_of(gan.strategy).is_chief:
            from studio.train.transfer import load_starting_weights

            hooks.on_notice(load_starting_weights(gan, cfg))
        if role_of(gan.strategy).multi:
            # Every worker starts from the chief's step and weights, and trains the same settings.
            check_same_run(gan.strategy, identity(cfg))
            broadcast_from_chief(gan.strategy, gan.state_variables())
            start_step = int(gan.step.numpy())
        # Anything logged or snapshotted after the checkpoint we start from never happened.
        run.truncate_metrics(start_step)
        run.drop_after(start_step)
        rows = run.read_metrics()
        wall_offset = float(rows[-1].get("time", 0.0)) if rows else 0.0
    except StudioError as e:
        run.write_status(RunState.FAILED, run.latest_checkpoint_step() or 0, str(e))
        raise
    except Exception as e:  # noqa: BLE001 - a broken run must say so on disk, then re-raise
        run.write_status(RunState.FAILED, run.latest_checkpoint_step() or 0, f"Could not start: {e}")
        raise

    try:
        return _loop(cfg, run, ds, gan, manager, hooks, start_step, wall_offset, drawn=bool(first_grid))
    except Exception as e:
        if not disk_is_full(e):
            raise
        return _stopped_by_full_disk(run)


def _stopped_by_full_disk(run: Run) -> TrainResult:
    """A write found no room. Every file was written atomically, so what is on disk is whole: the run
    goes on from its last checkpoint once there is space again (a resume drops anything after it)."""
    kept = run.latest_checkpoint_step()
    where = f"its last checkpoint, at step {kept:,}," if kept else "nothing (no checkpoint had been written yet)"
    message = (
        f"The disk is full, so training stopped; {where} is kept. Free some space, then resume to go on from there."
    )
    try:
        run.write_status(RunState.STOPPED, kept or 0, message)
    except OSError:
        pass  # no room for the status either: a reader then sees 'interrupted' and offers the same resume
    return TrainResult(run, kept or 0, RunState.STOPPED, message, disk_full=True)


def _restore_newest_readable(gan: GAN, run: Run) -> tuple[int, str]:
    """Restore the newest checkpoint that reads back whole; (its step, a sentence if it had to fall back).

    A checkpoint torn by a full disk or a damaged file must not end the run: the one before it
    (the manager keeps three) is a slightly earlier but sound place to go on from.
    """
    folder = run.path / "checkpoints"
    damaged = []
    for step in reversed(run.checkpoint_steps()):
        try:
            gan.ckpt.restore(str(folder / f"ckpt-{step}")).assert_existing_objects_matched()
        except Exception:  # noqa: BLE001 - DataLossError, NotFoundError, a mismatch: all mean "unreadable"
            damaged.append(step)
            continue
        restored = int(gan.step.numpy())
        if not damaged:
            return restored, ""
        which = ", ".join(f"{s:,}" for s in damaged)
        return restored, (
            f"The checkpoint{'s' if len(damaged) > 1 else ''} at step {which} could not be read (damaged or "
            f"incomplete), so training goes on from the previous one, at step {restored:,}."
        )
    raise StudioError(
        f"None of the run's checkpoints could be read (steps {', '.join(map(str, damaged)) or 'none'}); "
        "the run cannot be resumed. Fork it from another run or start a new one."
    )


def _loop(cfg, run, ds, gan, manager, hooks, step, wall_offset, drawn: bool = False) -> TrainResult:
    import tensorflow as tf

    from studio.data import make_pipeline
    from studio.quality.monitor import CLOSE_BUDGET_S, STOP_BUDGET_S, start_monitor, training_split

    # Health (studio/quality): a held-out share the run never trains on, and a background monitor
    # that scores each snapshot into quality.jsonl (None when the run's config turns it off).
    from studio.train.cluster import Agreement, role_of

    split = training_split(cfg, ds)
    role = role_of(gan.strategy)
    monitor = start_monitor(run, cfg, split, step) if role.is_chief else None
    agree = Agreement(gan.strategy)
    # A resumed run reseeds its data order by the step it resumes from: deterministic given the
    # same resume points, without checkpointing the shuffle buffer (which would hold images).
    pipeline = make_pipeline(split.train, cfg.batch_size * cfg.n_critic, seed=cfg.seed + step)
    if gan.strategy.num_replicas_in_sync > 1:
        # In-memory pictures have no files to shard: every worker builds the same stream, keeps its rows.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        pipeline = gan.strategy.experimental_distribute_dataset(pipeline.with_options(options))
    batches = iter(pipeline)
    z_fixed, y_fixed = _grid_inputs(cfg)
    writer = tf.summary.create_file_writer(str(run.path / "tb"))

    run.write_status(RunState.RUNNING, step)
    hooks.on_start(run, step)
    if step == 0:
        if not drawn:  # (a new run drew its step-0 grid while its models were being built)
            hooks.on_snapshot(0, _write_grid(gan, run, 0, z_fixed, y_fixed))
        _write_snapshot(gan, run, 0)
        if monitor:
            monitor.snapshot(0, gan.D)

    session_start = time.perf_counter()
    paused_total = 0.0
    acc: dict[str, list[float]] = {}
    interval_start, interval_steps = time.perf_counter(), 0
    state, message = RunState.COMPLETED, f"Finished all {cfg.steps} steps."
    last_ckpt = manager.latest_checkpoint and int(gan.step.numpy())
    rows_written = History()  # bounded: a 200,000-step run must not grow the server's memory

    def checkpoint():
        nonlocal last_ckpt
        manager.save(checkpoint_number=step)
        last_ckpt = step

    def snapshot():
        _write_snapshot(gan, run, step)
        path = _write_grid(gan, run, step, z_fixed, y_fixed)
        run.prune_snapshots(cfg.max_snapshots, cfg.snapshot_every)
        hooks.on_snapshot(step, path)
        if monitor:
            monitor.snapshot(step, gan.D)

    while step < cfg.steps:
        t_pause = time.perf_counter()
        hooks.wait_if_paused()
        paused = time.perf_counter() - t_pause
        if paused > 0.05:
            paused_total += paused
            interval_start += paused
            run.write_status(RunState.RUNNING, step)
        stop = hooks.should_stop()
        budget = bool(cfg.time_budget) and time.perf_counter() - session_start - paused_total >= cfg.time_budget
        lr = None if stop or budget else hooks.pending_lr()
        if lr:
            gan.set_learning_rates(lr.get("lr_d"), lr.get("lr_g"))
        stop, budget, new_lr = agree.decide(stop, budget, bool(lr))  # the same on every worker
        if stop:
            state, message = RunState.STOPPED, f"Stopped at step {step}; the checkpoint keeps everything."
            break
        if budget:
            state, message = RunState.BUDGET, f"Reached the time budget of {cfg.time_budget:g} s at step {step}."
            break
        if new_lr and role.multi:
            agree.share_learning_rates(gan)

        out = gan.train_next(batches)
        values = {k: float(v) for k, v in out.items()}
        step += 1
        interval_steps += 1
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:
            names = {
                "d_loss": "D loss",
                "g_loss": "G loss",
                "gp": "gradient penalty",
                "d_real": "D(x)",
                "d_fake": "D(G(z))",
            }
            keep = (
                f"the last good checkpoint (step {last_ckpt}) is kept"
                if last_ckpt
                else "no checkpoint had been written yet"
            )
            state = RunState.FAILED
            message = (
                f"Training stopped at step {step}: the {names.get(bad[0], bad[0])} became "
                f"{'NaN (not a number)' if math.isnan(values[bad[0]]) else 'infinite'}; {keep}. "
                "Try lower learning rates."
            )
            step -= 1  # the failed step never happened as far as the run is concerned
            break
        for k, v in values.items():
            acc.setdefault(k, []).append(v)

        if step % cfg.log_every == 0 or step == 1 or step == cfg.steps:
            now = time.perf_counter()
            dt = max(now - interval_start, 1e-9)
            lr_d, lr_g = gan.learning_rates()
            row = {"step": step, "time": round(wall_offset + now - session_start - paused_total, 3)}
            row.update({k: float(np.mean(v)) for k, v in acc.items()})
            row.update(
                {
                    "lr_d": lr_d,
                    "lr_g": lr_g,
                    "steps_per_s": interval_steps / dt,
                    "images_per_s": interval_steps * cfg.batch_size / dt,
                }
            )
            append_line(run.metrics_path, json.dumps(row))
            with writer.as_default(step=step):
                for k in ("d_loss", "g_loss", "d_real", "d_fake", "gp", "images_per_s"):
                    if k in row:
                        tf.summary.scalar(k, row[k])
            rows_written.append(row)
            acc = {}
            interval_start, interval_steps = now, 0
            run.write_status(RunState.RUNNING, step)
            hooks.on_progress(step, row)

        if step % cfg.snapshot_every == 0:
            snapshot()
        if step % cfg.checkpoint_every == 0:
            checkpoint()

    # Always leave a checkpoint and a snapshot at the final step (unless the last step was bad:
    # then the last good checkpoint stays the latest).
    if state is not RunState.FAILED:
        if last_ckpt != step:
            checkpoint()
        if step not in run.snapshot_steps():
            snapshot()
    if monitor:
        # The snapshots still waiting are scored before the run says it finished (briefly when the
        # person stopped it: ``python -m studio metrics`` fills in the rest).
        waiting = monitor.waiting()
        if waiting > 1 and state is RunState.COMPLETED:
            hooks.on_notice(f"Scoring the quality of the last {waiting} snapshots…")
        monitor.close(budget_s=CLOSE_BUDGET_S if state is RunState.COMPLETED else STOP_BUDGET_S)
    writer.flush()
    writer.close()
    run.write_status(state, step, message)
    return TrainResult(run, step, state, message, rows_written.snapshot())


def fork_run(
    source: Run, step: int | None = None, lr_d: float | None = None, lr_g: float | None = None, dest: Path | None = None
) -> Run:
    """A new run folder that continues from ``source``'s full checkpoint at ``step``.

    Config copied, lineage recorded as ``parent``, optional new learning rates; the checkpoint,
    metrics and snapshots up to that step are copied so the new run's timeline starts where its
    parent's was.
    """
    from studio.train.runs import new_run_id

    steps = source.checkpoint_steps()
    if not steps:
        raise StudioError(f"The run '{source.id}' has no full checkpoint to fork from yet.")
    step = steps[-1] if step is None else int(step)
    if step not in steps:
        raise StudioError(f"The run '{source.id}' keeps full checkpoints at steps {steps}; {step} is not one of them.")
    cfg = source.config
    cfg, _ = resume_settings(cfg, lr_d=lr_d, lr_g=lr_g)
    cfg = cfg.replace(parent={"run_id": source.id, "step": step})
    dest = dest or source.path.parent / new_run_id(cfg, source.path.parent)
    new = Run.create(cfg, dest)
    for f in (source.path / "checkpoints").glob(f"ckpt-{step}.*"):
        shutil.copy2(f, new.path / "checkpoints" / f.name)
    atomic_write_text(
        new.path / "checkpoints" / "checkpoint",
        f'model_checkpoint_path: "ckpt-{step}"\nall_model_checkpoint_paths: "ckpt-{step}"\n',
    )
    for s in source.snapshot_steps():
        if s <= step:
            shutil.copy2(source.path / "snapshots" / f"{step_name(s)}.weights.h5", new.path / "snapshots")
            if source.sample_path(s).exists():
                shutil.copy2(source.sample_path(s), new.sample_path(s))
    rows = [r for r in source.read_metrics() if r.get("step", 0) <= step]
    atomic_write_text(new.metrics_path, "".join(json.dumps(r) + "\n" for r in rows))
    from studio.quality.store import copy_rows

    copy_rows(source.path, new.path, step)
    new.write_status(RunState.STOPPED, step, f"Forked from {source.id} at step {step}; resume it to train.")
    return new
