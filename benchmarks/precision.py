"""bfloat16 against float32 on this CPU, measured in one run, and whether the CPU has bf16 hardware.

    python benchmarks/precision.py            # dcgan (batch 64, base_filters 64), fastgan 64 px and mlp, ~4 min
    python benchmarks/precision.py --quick    # 3 short windows, dcgan only

What is measured: ``GAN.train_step`` (the compiled step the loop runs, both Adam updates and the
EMA update, the losses read after every step as the loop does) built with ``precision="float32"``
and with ``precision="mixed_bfloat16"`` from the same config and seed, on in-memory batches, in
round-robin windows so machine load hits both alike; medians of the windows, the ratio of medians,
and steps per CPU-second of the process (which move less with other people's load than wall
clock). A bare 1024² matmul in float32 and in bfloat16 is timed the same way: it shows what the
hardware does without the rest of the step.

What ``auto`` picks on this machine is printed beside it (studio.train.devices): mixed_bfloat16 only
where the CPU flags say AMX; without bf16 hardware bfloat16 is emulated, and with AVX512-BF16 alone
this benchmark found it slower than float32 (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _window(fn, steps: int) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), _cpu_s()
    for _ in range(steps):
        fn()
    return steps / (time.perf_counter() - t0), steps / max(_cpu_s() - c0, 1e-9)


def _calibrate(fn, secs: float) -> int:
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-4)
    return max(2, int(secs / one))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="dcgan,fastgan,mlp")
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--window-secs", type=float, default=2.0)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.models, a.windows, a.window_secs = "dcgan", 3, 1.0

    import tensorflow as tf

    from studio.train.config import from_preset
    from studio.train.devices import detect, precision_sentence
    from studio.train.loop import GAN

    hw = detect()
    load0 = os.getloadavg()[0]
    variants = ("float32", "mixed_bfloat16")
    rows = []

    # -- the bare matmul ------------------------------------------------------------------------
    n = 1024
    mats = {}
    for dt in (tf.float32, tf.bfloat16):
        x = tf.random.stateless_normal([n, n], seed=[1, 2], dtype=tf.float32)
        x = tf.cast(x, dt)
        f = tf.function(lambda x=x: tf.reduce_sum(tf.cast(tf.matmul(x, x), tf.float32)))
        f()
        mats[dt.name] = f
    steps = {k: _calibrate(lambda f=f: float(f()), a.window_secs) for k, f in mats.items()}
    res = {k: [] for k in mats}
    for _ in range(a.windows):
        for k, f in mats.items():
            res[k].append(_window(lambda f=f: float(f()), steps[k]))
    flop = 2 * n**3
    for k in mats:
        wall = float(np.median([r[0] for r in res[k]]))
        cpu = float(np.median([r[1] for r in res[k]]))
        rows.append((f"matmul {n}²", k, wall * flop / 1e9, cpu * flop / 1e9, "GFLOP/s"))

    # -- the train step ---------------------------------------------------------------------------
    for model in a.models.split(","):
        if model == "mlp":
            base = dict(model="mlp", image_size=28, batch_size=128, z_dim=100)
        elif model == "fastgan":  # what the auto preset trains on a laptop: 64 px, 16 wide, batch 16
            base = dict(model="fastgan", loss="hinge", image_size=64, batch_size=16, base_filters=16, z_dim=128)
        else:
            base = dict(model="dcgan", image_size=32, batch_size=64, base_filters=64, z_dim=100)
        rng = np.random.default_rng(0)
        b = base["batch_size"]
        reals = tf.constant(rng.uniform(-1, 1, (b, base["image_size"], base["image_size"], 1)).astype(np.float32))
        labels = tf.zeros([b], tf.int32)
        gans = {}
        for p in variants:
            cfg = from_preset(None, channels=1, seed=0, precision=p, **base).validate()
            g = GAN(cfg)
            for _ in range(3):  # trace and warm up
                float(g.train_step(reals, labels)["d_loss"])
            gans[p] = g

        def stepper(g, reals=reals, labels=labels):
            return lambda: float(g.train_step(reals, labels)["d_loss"])

        steps = {p: _calibrate(stepper(g), a.window_secs) for p, g in gans.items()}
        res = {p: [] for p in gans}
        for _ in range(a.windows):
            for p, g in gans.items():
                res[p].append(_window(stepper(g), steps[p]))
        for p in variants:
            wall = float(np.median([r[0] for r in res[p]]))
            cpu = float(np.median([r[1] for r in res[p]]))
            rows.append((f"{model} {base['image_size']} px (batch {b})", p, wall, cpu, "steps/s"))

    # -- the table --------------------------------------------------------------------------------
    from studio.train.devices import _cpu_flags

    flags = ", ".join(sorted(_cpu_flags() & {"amx_bf16", "avx512_bf16", "amx_tile"})) or "none"
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "unknown",
    )
    print(f"CPU: {model}, {hw.cpu_cores} cores usable; bf16 hardware flags: {flags}")
    kind = "AMX (auto uses it)" if hw.cpu_bf16 else ("AVX512-BF16 only" if hw.cpu_bf16_slow else "NO")
    print(f"bf16 hardware: {kind} — {precision_sentence('auto')}")
    print()
    print("| what | precision | per wall-clock s | vs float32 | per CPU-s | vs float32 (CPU) | unit |")
    print("|---|---|---:|---:|---:|---:|---|")
    ref = {}
    for what, p, wall, cpu, unit in rows:
        if p == "float32":
            ref[what] = (wall, cpu)
        w0, c0 = ref[what]
        print(f"| {what} | {p} | {wall:.2f} | {wall / w0:.2f}x | {cpu:.2f} | {cpu / c0:.2f}x | {unit} |")
    print()
    print(
        f"Medians of {a.windows} round-robin windows of ~{a.window_secs:.1f} s per variant; load average "
        f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs shared with "
        "other jobs (wall-clock numbers are shares of a busy machine; per CPU-s numbers move less)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
