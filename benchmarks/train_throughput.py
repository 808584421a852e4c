"""Training throughput: our compiled GAN step against the tutorial recipe, measured in one run.

    python benchmarks/train_throughput.py            # full table (~10 min on 2 busy cores)
    python benchmarks/train_throughput.py --quick    # fewer, shorter windows; no variants

What is measured (issue 2, item 10):

- **ours**: ``studio.training.GAN.train_step`` — the one ``tf.function`` with explicit GradientTapes,
  both Adam updates and the EMA update of G — on in-memory batches, with a ``float()`` of the losses
  after every step as the real loop does (``--no-sync`` drops it). Its default is the simultaneous
  update (D and G learn from one fake batch and one pass through D, as in the TensorFlow DCGAN
  tutorial); "ours, alternating" is the same step with G updating on fresh noise after D's update
  (Goodfellow et al.'s Algorithm 1, the reference's schedule), always measured beside it.
  Variants: XLA on, mixed_bfloat16.
- **reference**: the tutorial recipe — ``G.predict`` + ``D.train_on_batch`` on the real half and on the
  fake half + ``combined.train_on_batch`` on a stacked ``Model(z, D(G(z)))`` — with the same G and D
  builders, the same Adam settings and numpy batches as in the tutorials. Made fair for Keras 3: the
  classic "set D.trainable = False, then compile the combined model" freezes D for good (D's own
  ``train_on_batch`` then has no trainable weights), so D.trainable is switched on before each D
  update and off before each combined update; Keras traces each model's train function on first use
  with the right variables. The benchmark asserts that every timed window changed D's weights in the
  D updates and left them alone in the combined update. A second reference, "reference (1 D call)",
  concatenates real and fake into one ``D.train_on_batch`` (fewer calls: a stronger reference).
- windows of a fixed number of steps (calibrated to ``--window-secs``), run round-robin over the
  variants of a model so machine load hits them alike; the median window is reported. Ratios are
  of medians measured in this run.
- GFLOP/s: FLOPs of one step counted with the TensorFlow profiler's per-op FLOP registry
  (``tf.compat.v1.profiler``, the same ``RegisterStatistics('flops')`` functions) over the *live*
  ops of the step's concrete-function graph — ops whose results reach an output or a variable update.
  Plain ``profiler.profile`` over the whole graph also counts the gradient ops TensorFlow emits and
  grappler then prunes (e.g. G's weight gradients on the D tape), overcounting DCGAN by 25%. An
  analytic count from layer shapes (4 G-forwards + 8 D-forwards per image) is printed beside it.
  Peak: the median of a ``tf.function`` 2048x2048 float32 matmul, measured before and after.
- memory: ``ru_maxrss`` / ``VmHWM`` of this process, and of a separate process that runs the real
  ``train()`` loop (digits, tf.data pipeline, logging) — that one is "training resident memory".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import studio  # noqa: E402,F401  (TensorFlow switches the studio sets before TensorFlow loads: oneDNN)

SETUPS = {  # name: (RunConfig overrides, images per step)
    "mlp": dict(model="mlp", image_size=28, channels=1, z_dim=100, batch_size=128),
    "dcgan": dict(model="dcgan", image_size=32, channels=1, z_dim=100, batch_size=64, base_filters=64),
}
TARGETS = {"mlp": 3.0, "dcgan": 1.5}


def cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---- memory ---------------------------------------------------------------------------------
def peak_rss_mb() -> dict:
    out = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        for line in open("/proc/self/status"):
            if line.startswith(("VmHWM", "VmRSS")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


# ---- the two ways to train ------------------------------------------------------------------
def config(name: str, **kw):
    from studio.train.config import RunConfig

    return RunConfig(**{**SETUPS[name], **kw}).validate()


class Ours:
    """Our compiled step on a ring of in-memory batches."""

    def __init__(self, cfg, sync: bool = True):
        import numpy as np
        import tensorflow as tf

        from studio.train.loop import GAN

        self.cfg, self.sync = cfg, sync
        self.gan = GAN(cfg)
        rng = np.random.default_rng(0)
        shape = (cfg.batch_size, cfg.image_size, cfg.image_size, cfg.channels)
        self.batches = [tf.constant(rng.uniform(-1, 1, shape).astype(np.float32)) for _ in range(8)]
        self.labels = tf.zeros([cfg.batch_size], tf.int32)
        self.i = 0
        self.last = None

    def step(self):
        out = self.gan.train_step(self.batches[self.i % 8], self.labels)
        self.i += 1
        if self.sync:  # what the loop does: read the losses every step (NaN check, metrics)
            self.last = {k: float(v) for k, v in out.items()}
        else:
            self.last = out

    def finish(self):
        if not self.sync and self.last is not None:
            float(self.last["d_loss"])

    def start_window(self):
        pass

    def end_window(self):
        pass

    def check(self):
        pass


class Reference:
    """The tutorial recipe: predict + train_on_batch, a compiled D and a stacked combined model."""

    def __init__(self, cfg, one_d_call: bool = False):
        import keras
        import numpy as np

        from studio.train.models import build_discriminator, build_generator

        keras.utils.set_random_seed(cfg.seed)
        self.cfg, self.one = cfg, one_d_call
        self.G, self.D = build_generator(cfg), build_discriminator(cfg)
        # Our D returns logits, so the tutorial's binary cross-entropy is taken from logits.
        bce = keras.losses.BinaryCrossentropy(from_logits=True)

        def adam():
            return keras.optimizers.Adam(cfg.lr_d, beta_1=cfg.beta1, beta_2=cfg.beta2)

        self.D.compile(optimizer=adam(), loss=bce)
        z = keras.Input((cfg.z_dim,))
        self.D.trainable = False
        self.combined = keras.Model(z, self.D(self.G(z)))
        self.combined.compile(optimizer=adam(), loss=bce)
        rng = np.random.default_rng(0)
        self.X = rng.uniform(-1, 1, (1024, cfg.image_size, cfg.image_size, cfg.channels)).astype(np.float32)
        self.rng = np.random.default_rng(1)
        b = cfg.batch_size
        self.ones, self.zeros = np.ones((b,), np.float32), np.zeros((b,), np.float32)
        self.both = np.concatenate([self.ones, self.zeros])
        self.d_moved = []  # per window: did the D updates change D?
        self.d_still = True  # did the combined updates leave D alone?
        self._d_before = None

    def _d_weights(self):
        return [v.numpy().copy() for v in self.D.weights]

    def step(self, watch_combined: bool = False):
        import numpy as np

        b = self.cfg.batch_size
        imgs = self.X[self.rng.integers(0, len(self.X), b)]
        noise = self.rng.standard_normal((b, self.cfg.z_dim)).astype(np.float32)
        fake = self.G.predict(noise, verbose=0)
        self.D.trainable = True
        if self.one:
            self.D.train_on_batch(np.concatenate([imgs, fake]), self.both)
        else:
            self.D.train_on_batch(imgs, self.ones)
            self.D.train_on_batch(fake, self.zeros)
        self.D.trainable = False
        noise = self.rng.standard_normal((b, self.cfg.z_dim)).astype(np.float32)
        before = self._d_weights() if watch_combined else None
        self.combined.train_on_batch(noise, self.ones)
        if before is not None:
            self.d_still &= all(np.array_equal(a, v.numpy()) for a, v in zip(before, self.D.weights))

    def finish(self):
        pass  # train_on_batch returns numpy: every step is already synchronous

    def start_window(self):
        self._d_before = self._d_weights()

    def end_window(self):
        """Untimed: did the window's D updates move D? Then one watched step: combined leaves D alone."""
        import numpy as np

        moved = any(not np.array_equal(a, v.numpy()) for a, v in zip(self._d_before, self.D.weights))
        self.d_moved.append(moved)
        self.step(watch_combined=True)

    def check(self):
        assert self.d_moved and all(self.d_moved), "the reference's D did not train in some window"
        assert self.d_still, "the reference's combined update changed D"


# ---- FLOPs and peak -------------------------------------------------------------------------
def step_flops(gan) -> float:
    """FLOPs of one train step: the profiler's FLOP registry summed over the live ops of the graph."""
    import tensorflow as tf
    from tensorflow.python.framework import ops as tf_ops

    cfg = gan.cfg
    x = tf.zeros([cfg.batch_size * cfg.n_critic, cfg.image_size, cfg.image_size, cfg.channels])
    graph = gan._step_fn.get_concrete_function(x, tf.zeros([cfg.batch_size * cfg.n_critic], tf.int32)).graph
    stack = [t.op for t in graph.outputs]
    stack += [op for op in graph.get_operations() if op.type.startswith(("Assign", "ResourceApply"))]
    live = set()
    while stack:  # walk back from outputs and variable updates: what grappler keeps
        op = stack.pop()
        if op.name in live:
            continue
        live.add(op.name)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    total = 0
    for op in graph.get_operations():
        if op.name not in live:
            continue
        try:
            stat = tf_ops.get_stats_for_node_def(graph, op.node_def, "flops")
        except (ValueError, LookupError):  # no FLOP function registered, or unknown shape
            continue
        total += stat.value or 0
    return float(total)


def analytic_flops(gan) -> float:
    """Per image: 4 G-forwards + 8 D-forwards (forward, weight gradient and input gradient each cost one
    forward; D sees real and fake in the D step), less the input gradients of first layers that nothing
    needs. Forward FLOPs = 2 x multiply-adds of the conv / dense layers, from their shapes."""
    import math

    def fwd(model):
        total = 0
        for layer in model.layers:
            kind = type(layer).__name__
            if kind == "Dense":
                total += 2 * math.prod(layer.kernel.shape)
            elif kind in ("Conv2D", "Conv2DTranspose"):
                k = math.prod(layer.kernel.shape)  # kh*kw*in*out (transpose: kh*kw*out*in)
                if kind == "Conv2D":
                    h, w = layer.output.shape[1:3]
                else:
                    h, w = layer.input.shape[1:3]  # each input pixel is scattered over the kernel
                total += 2 * h * w * k
        return total

    def first(model):  # FLOPs of the first weight layer: its input gradient is never needed
        for layer in model.layers:
            if type(layer).__name__ in ("Dense", "Conv2D", "Conv2DTranspose"):
                return fwd(type("M", (), {"layers": [layer]}))
        return 0

    b = gan.cfg.batch_size
    if gan.cfg.update == "simultaneous" and gan.cfg.n_critic == 1:
        # One G fwd, D fwd x2 (real, fake); D's tape: weight grads x2, input grads x2 but the first
        # layer; G's tape: D input grads on the fake half (down to the image), G weight + input grads.
        return float(b * (3 * fwd(gan.G) - first(gan.G) + 7 * fwd(gan.D) - 2 * first(gan.D)))
    # D step: G fwd, D fwd x2 (real, fake), D weight grads x2, D input grads x2 except the first layer.
    # G step: G fwd, D fwd, D input grads (down to the image), G weight grads, G input grads but the first.
    return float(b * (4 * fwd(gan.G) - first(gan.G) + 8 * fwd(gan.D) - 2 * first(gan.D)))


class Matmul:
    """The fp32 peak as a round-robin variant: a 2048x2048 matmul per step, timed in the same windows."""

    def __init__(self, n: int = 2048):
        import tensorflow as tf

        self.flops = 2 * n**3
        self.a = tf.random.normal([n, n], seed=1)
        self.b = tf.random.normal([n, n], seed=2)
        self.mm = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))

        self.best = float("inf")  # fastest single matmul seen: the peak this machine reached here

    def step(self):
        t = time.perf_counter()
        float(self.mm(self.a, self.b))
        self.best = min(self.best, time.perf_counter() - t)

    def finish(self):
        pass

    start_window = end_window = check = finish


def matmul_peak(n: int = 2048, reps: int = 10) -> tuple[float, float]:
    """Median and best float32 GFLOP/s of an n x n matmul in a tf.function."""
    import tensorflow as tf

    a = tf.random.normal([n, n], seed=1)
    b = tf.random.normal([n, n], seed=2)
    mm = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    for _ in range(3):
        float(mm(a, b))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        float(mm(a, b))
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9, 2 * n**3 / min(times) / 1e9


# ---- timing ---------------------------------------------------------------------------------
def run_windows(variants: dict, windows: int, window_secs: float, warmup: int) -> dict:
    """Warm up each variant, size its window, then time windows round-robin.

    Returns per variant the median steps per wall-clock second and per CPU-second of this process.
    On a machine shared with other jobs the wall clock says how much CPU we were given; CPU time
    says how much work each step took, which hardly moves with the load.
    """
    sizes = {}
    for name, v in variants.items():
        t = time.perf_counter()
        for _ in range(warmup):
            v.step()
        v.finish()
        compile_s = time.perf_counter() - t
        t = time.perf_counter()
        probe = 3
        for _ in range(probe):
            v.step()
        v.finish()
        per = (time.perf_counter() - t) / probe
        sizes[name] = max(3, round(window_secs / max(per, 1e-4)))
        print(
            f"  {name}: warm-up {compile_s:.1f} s, ~{per * 1e3:.1f} ms/step, {sizes[name]} steps/window",
            file=sys.stderr,
            flush=True,
        )
    rates = {name: [] for name in variants}
    per_cpu = {name: [] for name in variants}
    for w in range(windows):
        for name, v in variants.items():
            v.start_window()
            t, c = time.perf_counter(), cpu_seconds()
            for _ in range(sizes[name]):
                v.step()
            v.finish()
            t, c = time.perf_counter() - t, cpu_seconds() - c
            rates[name].append(sizes[name] / t)
            per_cpu[name].append(sizes[name] / max(c, 1e-9))
            v.end_window()
        print(
            f"  window {w + 1}/{windows} steps/s: " + ", ".join(f"{n} {r[-1]:.2f}" for n, r in rates.items()),
            file=sys.stderr,
            flush=True,
        )
    for v in variants.values():
        v.check()
    return {
        name: dict(
            median=statistics.median(rates[name]),
            all=rates[name],
            per_cpu_s=statistics.median(per_cpu[name]),
            per_cpu_all=per_cpu[name],
            steps_per_window=sizes[name],
        )
        for name in variants
    }


# ---- the real loop, in its own process -------------------------------------------------------
def loop_probe(name: str, steps: int) -> dict:
    """Run studio.training.train (digits, tf.data, metrics, TensorBoard) and report speed and memory."""
    import studio.train.loop as training
    from studio.train.config import from_preset

    marks = []  # (step, wall, cpu) at every log line
    hooks = training.Hooks(on_progress=lambda step, row: marks.append((step, time.perf_counter(), cpu_seconds())))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STUDIO_RUNS_DIR"] = tmp
        os.environ["STUDIO_DATA_DIR"] = tmp
        cfg = from_preset(
            None,
            dataset="digits",
            steps=steps,
            log_every=5,
            snapshot_every=10**6,
            checkpoint_every=10**6,
            **SETUPS[name],
        )
        res = training.train(cfg, run_dir=Path(tmp) / "run", hooks=hooks)
        rows = [r for r in res.metrics if r["step"] > 10]  # past compilation and pipeline warm-up
        sps = statistics.median(r["steps_per_s"] for r in rows)
    (s0, w0, c0), (s1, w1, c1) = next(m for m in marks if m[0] >= 10), marks[-1]
    return dict(
        steps_per_s=sps, steps_per_s_overall=(s1 - s0) / (w1 - w0), per_cpu_s=(s1 - s0) / (c1 - c0), **peak_rss_mb()
    )


def loop_probe_subprocess(name: str, steps: int) -> dict:
    p = subprocess.run(
        [sys.executable, __file__, "--loop-probe", name, "--loop-steps", str(steps)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1800,
    )
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---- main -----------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="mlp,dcgan")
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--window-secs", type=float, default=2.5)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 windows of 1 s, no XLA/bfloat16 variants")
    ap.add_argument("--no-variants", action="store_true", help="skip XLA and mixed_bfloat16")
    ap.add_argument("--no-sync", action="store_true", help="ours: do not read the losses every step")
    ap.add_argument("--loop-steps", type=int, default=60, help="steps of the real-loop probe per model (0: skip)")
    ap.add_argument("--json", help="also write the raw numbers here")
    ap.add_argument("--loop-probe", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.loop_probe:
        print(json.dumps(loop_probe(a.loop_probe, a.loop_steps)))
        return 0
    if a.quick:
        a.windows, a.window_secs, a.no_variants = 3, 1.0, True

    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    results = {"peak_before": matmul_peak(), "load_before": os.getloadavg()[0]}
    print("fp32 matmul GFLOP/s (median, best): {:.1f}, {:.1f}".format(*results["peak_before"]), file=sys.stderr)
    for name in a.models.split(","):
        print(f"{name}:", file=sys.stderr)
        cfg = config(name)
        variants = {
            "fp32 matmul peak": Matmul(),
            "reference": Reference(cfg),
            "reference (1 D call)": Reference(cfg, one_d_call=True),
            "ours": Ours(cfg, sync=not a.no_sync),
            "ours, alternating": Ours(config(name, update="alternating"), sync=not a.no_sync),
        }
        if not a.no_variants:
            variants["ours, no per-step read"] = Ours(cfg, sync=False)
            variants["ours + XLA"] = Ours(config(name, xla=True), sync=not a.no_sync)
            variants["ours bf16"] = Ours(config(name, precision="mixed_bfloat16"), sync=not a.no_sync)
            variants["ours bf16 + XLA"] = Ours(config(name, precision="mixed_bfloat16", xla=True), sync=not a.no_sync)
        rates = run_windows(variants, a.windows, a.window_secs, a.warmup)
        peak = rates.pop("fp32 matmul peak")
        mm = variants["fp32 matmul peak"]
        # FLOPs per step of each variant: our steps counted on their own graphs; the reference does
        # the alternating step's work (G(z) and D(G(z)) once for D's update and again for G's).
        alt = step_flops(variants["ours, alternating"].gan)
        flops = {
            v: (step_flops(obj.gan) if isinstance(obj, Ours) else alt) for v, obj in variants.items() if v in rates
        }
        results[name] = dict(
            rates=rates,
            batch=cfg.batch_size,
            flops=flops["ours"],
            variant_flops=flops,
            analytic_flops=analytic_flops(variants["ours"].gan),
            analytic_flops_alternating=analytic_flops(variants["ours, alternating"].gan),
            peak_gflops=peak["median"] * mm.flops / 1e9,
            peak_best=mm.flops / mm.best / 1e9,
            peak_all=[x * mm.flops / 1e9 for x in peak["all"]],
            peak_per_cpu_s=peak["per_cpu_s"] * mm.flops / 1e9,
        )
        del variants
    results["peak_after"] = matmul_peak()
    results["memory_benchmark_process"] = peak_rss_mb()
    if a.loop_steps:
        for name in a.models.split(","):
            print(f"real train() loop, {name}, {a.loop_steps} steps in a fresh process…", file=sys.stderr)
            results[f"loop_{name}"] = loop_probe_subprocess(name, a.loop_steps)
    results["load_after"] = os.getloadavg()[0]
    print_table(results, a)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


def print_table(r: dict, a) -> None:
    models = a.models.split(",")
    lines = [
        "",
        "| model | variant | steps/s | images/s | vs reference | steps per CPU-s | vs reference (CPU) "
        "| GFLOP/s | GFLOP per CPU-s | % of matmul (CPU) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in models:
        m = r[name]
        ref = m["rates"]["reference"]
        rows = [("fp32 matmul 2048²", None)] + list(m["rates"].items())
        for variant, d in rows:
            if d is None:  # the peak, timed in the same windows
                lines.append(
                    f"| {name} | {variant} | | | | | | {m['peak_gflops']:.1f} | {m['peak_per_cpu_s']:.1f} | 100% |"
                )
                continue
            f = m["variant_flops"][variant]
            gf, gfc = d["median"] * f / 1e9, d["per_cpu_s"] * f / 1e9
            lines.append(
                f"| {name} (batch {m['batch']}) | {variant} | {d['median']:.2f} | {d['median'] * m['batch']:.0f} "
                f"| {d['median'] / ref['median']:.2f}x | {d['per_cpu_s']:.2f} | "
                f"{d['per_cpu_s'] / ref['per_cpu_s']:.2f}x | {gf:.1f} | {gfc:.1f} | "
                f"{100 * gfc / m['peak_per_cpu_s']:.0f}% |"
            )
    lines.append("")
    (bm, bb), (am, ab) = r["peak_before"], r["peak_after"]
    in_windows = ", ".join(f"{n} {r[n]['peak_best']:.1f}" for n in models)
    lines.append(
        f"Medians of {a.windows} round-robin windows of ~{a.window_secs:.1f} s per variant. fp32 matmul "
        f"alone before / after (median; best call): {bm:.1f}; {bb:.1f} / {am:.1f}; {ab:.1f} GFLOP/s; "
        f"best single matmul in the windows: {in_windows}."
    )
    for name in models:
        m = r[name]
        ours, ref, ref1 = m["rates"]["ours"], m["rates"]["reference"], m["rates"]["reference (1 D call)"]
        ratio = ours["median"] / ref["median"]
        best = max((d["median"], v) for v, d in m["rates"].items() if v.startswith("ours"))
        lines.append(
            f"- {name}: ours / reference = {ratio:.2f}x wall, {ours['per_cpu_s'] / ref['per_cpu_s']:.2f}x "
            f"CPU time (target ≥{TARGETS[name]}x: {'met' if ratio >= TARGETS[name] else 'MISSED'}); "
            f"vs the 1-D-call reference {ours['median'] / ref1['median']:.2f}x; fastest of ours: "
            f"{best[1]} {best[0] / ref['median']:.2f}x. One step of ours = {m['flops'] / 1e9:.2f} GFLOP "
            f"(profiler FLOP registry over live ops; {m['analytic_flops'] / 1e9:.2f} analytic); alternating "
            f"and reference = {m['variant_flops']['ours, alternating'] / 1e9:.2f} GFLOP "
            f"({m['analytic_flops_alternating'] / 1e9:.2f} analytic)."
        )
    if "dcgan" in r:
        m = r["dcgan"]
        ours = m["rates"]["ours"]
        gf, gfc = ours["median"] * m["flops"] / 1e9, ours["per_cpu_s"] * m["flops"] / 1e9
        cpu_pct = 100 * gfc / m["peak_per_cpu_s"]
        lines.append(
            f"- dcgan ours: {gfc:.1f} GFLOP per CPU-second = {cpu_pct:.0f}% of the fp32 matmul's "
            f"{m['peak_per_cpu_s']:.1f} (target ≥60%: {'met' if cpu_pct >= 60 else 'MISSED'}); wall clock "
            f"{gf:.1f} GFLOP/s against the matmul's {m['peak_gflops']:.1f} median / {m['peak_best']:.1f} best "
            "in the same windows (wall-clock shares of a loaded machine; see the load below)."
        )
    mem = r["memory_benchmark_process"]
    lines.append(
        f"- benchmark process peak resident: {mem.get('VmHWM', mem['ru_maxrss_mb']):.0f} MB (every variant "
        "of both models alive at once, XLA compilations included)"
    )
    for name in models:
        lp = r.get(f"loop_{name}")
        if not lp:
            continue
        if "error" in lp:
            lines.append(f"- real train() loop, {name}: failed: {lp['error']}")
            continue
        hwm = lp.get("VmHWM", lp["ru_maxrss_mb"])
        step_cpu = r[name]["rates"]["ours"]["per_cpu_s"]
        lines.append(
            f"- real train() loop, {name} (digits through tf.data, metrics, TensorBoard; own process): "
            f"{lp['steps_per_s']:.2f} steps/s wall, {lp['per_cpu_s']:.2f} steps per CPU-s "
            f"({100 * lp['per_cpu_s'] / step_cpu:.0f}% of the bare step's), peak resident {hwm:.0f} MB "
            f"(target ≤2048 MB: {'met' if hwm <= 2048 else 'MISSED'})"
        )
    lines.append(
        f"- load average {r['load_before']:.1f} at the start, {r['load_after']:.1f} at the end, "
        f"on {os.cpu_count()} CPUs shared with other jobs; TF_ENABLE_ONEDNN_OPTS="
        f"{os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')} (reference and ours alike)"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
