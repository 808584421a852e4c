"""Where a 64 px fastgan step's time goes, and how close it is to the fp32 matmul peak.

    flock /tmp/studio-bench.lock python benchmarks/fastgan_profile.py            # ~3 min
    python benchmarks/fastgan_profile.py --width 24 --batch 32                     # another shape

The step is the real one (``studio.train.loop.GAN.train_step``: simultaneous D and G update, hinge,
the decoders' reconstruction loss, ADA's augmentation and controller, the EMA). Its parts are timed
as separate compiled functions on the same batch: G forward; D forward on one batch; D's forward
with the features the decoders read plus both decoders (the reconstruction); ADA's augmentation of
one batch. The step less its forward parts is what the backward passes, the optimizers and the EMA
cost. DCGAN at 64 px (quick-sketch: 32 filters, batch 64) is measured in the same windows as the
reference, and a 2048² float32 matmul gives the peak. Everything is timed in CPU-seconds of this
process (``time.process_time``), round-robin, median of ``--windows`` windows, so other sessions'
load costs wall time but not the ratios. FLOPs come from the TensorFlow profiler's FLOP registry
over the live ops of each compiled graph (benchmarks/train_throughput.py ``step_flops``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from train_throughput import Matmul, step_flops  # noqa: E402

import studio  # noqa: E402,F401


def graph_flops(fn, *args) -> float:
    """FLOPs of a tf.function's graph (every op with a registered FLOP count; forward graphs have no dead ops)."""
    from tensorflow.python.framework import ops as tf_ops

    graph = fn.get_concrete_function(*args).graph
    total = 0
    for op in graph.get_operations():
        try:
            total += tf_ops.get_stats_for_node_def(graph, op.node_def, "flops").value or 0
        except (ValueError, LookupError):
            continue
    return float(total)


def make(model: str, width: int, batch: int):
    import tensorflow as tf

    from studio.train.config import from_preset
    from studio.train.loop import GAN

    if model == "fastgan":
        cfg = from_preset("auto", image_size=64, base_filters=width, batch_size=batch, channels=3, ada="on")
    else:
        cfg = from_preset("quick-sketch", image_size=64, channels=3, ada="off")
    gan = GAN(cfg.validate())
    x = tf.random.uniform([cfg.batch_size, 64, 64, 3], -1, 1, seed=1)
    y = tf.zeros([cfg.batch_size], tf.int32)
    z = tf.random.normal([cfg.batch_size, cfg.z_dim], seed=2)
    parts = {"step": (lambda: gan.train_step(x, y), step_flops(gan))}
    g = tf.function(lambda z: gan.G(z, training=True))
    d = tf.function(lambda x: gan.D(x, training=True))
    parts["G forward"] = (lambda: g(z), graph_flops(g, z))
    parts["D forward (one batch)"] = (lambda: d(x), graph_flops(d, x))
    if gan.decoders is not None:
        rec = tf.function(lambda x: gan._reconstruction_error(x, *gan.D_features(x, training=True)[1:]))
        parts["D features + decoders (real batch)"] = (lambda: rec(x), graph_flops(rec, x))
    if gan._augment is not None:
        gan.ada.p.assign(0.5)
        aug = tf.function(lambda x: gan._augment(x))
        parts["ADA augmentation (p=0.5, one batch)"] = (lambda: aug(x), graph_flops(aug, x))
    return cfg, parts


def call(fn) -> None:
    """One call, waited for: the step's losses read as the loop does, else the result fetched."""
    out = fn()
    if isinstance(out, dict):
        {k: float(v) for k, v in out.items()}
    elif hasattr(out, "numpy"):
        out.numpy()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--windows", type=int, default=7)
    p.add_argument("--window-cpu-s", type=float, default=1.5)
    a = p.parse_args()

    mm = Matmul()
    variants = {"fp32 matmul 2048²": {"peak": (lambda: float(mm.mm(mm.a, mm.b)), float(mm.flops))}}
    cfgs = {}
    for model in ("fastgan", "dcgan"):
        cfg, parts = make(model, a.width, a.batch)
        cfgs[model] = cfg
        variants[f"{model} 64 px, {cfg.base_filters} filters, batch {cfg.batch_size}"] = parts
    calls = {(v, k): fn for v, parts in variants.items() for k, (fn, _) in parts.items()}
    for fn in calls.values():  # trace and warm up
        for _ in range(3):
            call(fn)
    # calls per window, calibrated so each window is about --window-cpu-s CPU-seconds
    reps = {}
    for key, fn in calls.items():
        t = time.process_time()
        n = 0
        while time.process_time() - t < 0.3:
            call(fn)
            n += 1
        reps[key] = max(1, int(n * a.window_cpu_s / 0.3))
    times: dict = {key: [] for key in calls}
    for _ in range(a.windows):
        for key, fn in calls.items():
            t = time.process_time()
            for _ in range(reps[key]):
                call(fn)
            times[key].append((time.process_time() - t) / reps[key])
    med = {key: statistics.median(v) for key, v in times.items()}
    peak = variants["fp32 matmul 2048²"]["peak"][1] / med[("fp32 matmul 2048²", "peak")] / 1e9
    print(f"fp32 matmul: {peak:.1f} GFLOP per CPU-second (median of {a.windows} windows)\n")
    print(
        "| model | part | CPU-ms per call | share of the step | GFLOP per call | GFLOP per CPU-s | % of matmul peak |"
    )
    print("|---|---|---|---|---|---|---|")
    for v, parts in variants.items():
        if "peak" in parts:
            continue
        step_t = med[(v, "step")]
        for k, (_, flops) in parts.items():
            t = med[(v, k)]
            rate = flops / t / 1e9
            print(
                f"| {v} | {k} | {t * 1e3:.1f} | {100 * t / step_t:.0f}% | {flops / 1e9:.3f} | {rate:.1f} | "
                f"{100 * rate / peak:.0f}% |"
            )
        cfg = cfgs[v.split()[0]]
        print(f"| {v} | images per CPU-second | {cfg.batch_size / step_t:.1f} | | | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
