"""How fast one picture comes out of a generator: our tf.function path against the alternatives.

For the DCGAN generator at 32 px and at 64 px (RunConfig's default widths: base_filters 64,
z_dim 100; untrained weights, which time the same as trained ones), in one process:

  - ours:    ``studio.sampling.Sampler.generate(z)``, plus the uint8 conversion the page uses: the
             snapshot's generator recomputed from its variables with cheaper ops (each 4x4 stride-2
             transposed convolution as one matmul + col2im, batch norm as a scale and offset), one
             image at a time through XLA; see studio/generate/sampling.py
  - ours via Keras G: the Sampler's own generator called as a Keras model inside a ``tf.function``
             with a None-batch input signature, plus the same uint8 conversion (what the Sampler did
             before the fast path, and still does for the mlp generator)
  - eager:   ``G(z, training=False)`` called directly (no graph)
  - predict: ``G.predict(z, verbose=0)``, the tutorials' way

one image per call (a slider move), median of many calls, interleaved in rounds so that drift in the
machine's load hits every method alike. Targets (issue 5): ours <= 5 ms at 32 px, <= 10 ms at 64 px.

    python benchmarks/generation_speed.py [--rounds 5] [--calls 40] [--sizes 32 64] [--channels 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TARGET_MS = {32: 5.0, 64: 10.0, 128: 20.0}


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - t0))
    return out


def measure(size: int, channels: int, rounds: int, calls: int, tmp: Path) -> dict:
    import numpy as np

    from studio.generate.latent import seed_to_z
    from studio.generate.sampling import Sampler
    from studio.train.config import RunConfig
    from studio.train.models import build_generator
    from studio.train.runs import Run, step_name

    cfg = RunConfig(model="dcgan", image_size=size, channels=channels).validate()
    run = Run.create(cfg, tmp / f"gen{size}")
    G0 = build_generator(cfg)
    G0.save_weights(str(run.path / "snapshots" / f"{step_name(0)}.weights.h5"))

    import tensorflow as tf

    from studio.core.images import to_uint8

    sampler = Sampler(run)  # ours: its own instance, fast path, tf.function
    assert sampler.fast_path
    G = build_generator(cfg)  # a separate instance for eager / predict
    G.set_weights(G0.get_weights())
    z = seed_to_z(1, cfg.z_dim)[None]
    z64 = np.stack([seed_to_z(s, cfg.z_dim) for s in range(64)])
    keras_fn = tf.function(
        lambda z: sampler.G(z, training=False),
        input_signature=[tf.TensorSpec([None, cfg.z_dim], tf.float32)],
        reduce_retracing=True,
    )

    def ours(z=z):
        sampler.generate(z)

    def ours_keras(z=z):
        to_uint8(keras_fn(tf.constant(np.asarray(z, np.float32))).numpy())

    first = {"ours": _timed(ours, 1)[0], "ours_keras": _timed(ours_keras, 1)[0]}  # trace (+ XLA compile)
    for zz in (z, z64):
        np.testing.assert_allclose(sampler.generate_float(zz), keras_fn(tf.constant(zz)).numpy(), atol=1e-4)

    def eager():
        np.asarray(G(z, training=False))

    def predict():
        G.predict(z, verbose=0)

    for fn in (ours, ours_keras, eager, predict):  # trace, compile, build, warm caches
        _timed(fn, 5)
    samples = {"ours": [], "ours_keras": [], "eager": [], "predict": [], "ours64": [], "ours_keras64": []}
    for _ in range(rounds):
        # Each block starts with untimed calls: switching from one way of calling to another (predict
        # leaves tf.data and thread-pool work behind) slowed the first calls of the next block.
        for name, fn, n in (
            ("ours", ours, calls),
            ("ours_keras", ours_keras, calls),
            ("eager", eager, calls),
            ("predict", predict, max(5, calls // 4)),
        ):
            _timed(fn, 5)
            samples[name] += _timed(fn, n)  # predict: ~40-100 ms a call, so fewer calls
        for name, fn in (("ours64", ours), ("ours_keras64", ours_keras)):  # a batch of 64 (grids, strips)
            fn(z64)
            samples[name] += _timed(lambda fn=fn: fn(z64), 3)
    again = Sampler(run)  # another snapshot of the same architecture: nothing to compile
    first["ours_again"] = _timed(lambda: again.generate(z), 1)[0]
    params = sum(int(np.prod(v.shape)) for v in G.trainable_variables)
    med = {k: statistics.median(v) for k, v in samples.items()}
    return {"size": size, "params": params, "n": {k: len(v) for k, v in samples.items()}, "first": first, **med}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=40)
    args = ap.parse_args()

    import tensorflow as tf

    rows = []
    with tempfile.TemporaryDirectory(prefix="genspeed-") as tmp:
        os.environ["STUDIO_RUNS_DIR"] = str(Path(tmp) / "runs")
        for size in args.sizes:
            rows.append(measure(size, args.channels, args.rounds, args.calls, Path(tmp)))

    load = os.getloadavg()
    print(
        f"\nOne image per call, median ms. TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; dcgan, base_filters 64, z_dim 100, "
        f"{args.channels} channel(s), untrained weights.\n"
    )
    print(
        "| size | G params | ours: Sampler.generate | ours via Keras G (tf.function) | eager G(z) | G.predict "
        "| Keras G / ours | predict / ours | eager / ours | target | met |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        target = TARGET_MS.get(r["size"])
        met = "yes" if target and r["ours"] <= target else ("no" if target else "—")
        print(
            f"| {r['size']} px | {r['params']:,} | {r['ours']:.2f} ms (n={r['n']['ours']}) "
            f"| {r['ours_keras']:.2f} ms (n={r['n']['ours_keras']}) "
            f"| {r['eager']:.2f} ms (n={r['n']['eager']}) | {r['predict']:.2f} ms (n={r['n']['predict']}) "
            f"| {r['ours_keras'] / r['ours']:.1f}x | {r['predict'] / r['ours']:.1f}x | {r['eager'] / r['ours']:.1f}x "
            f"| ≤ {target:g} ms | {met} |"
        )
    print(
        "\nA batch of 64 per call (grids, strips), median ms per call; and the first single-image call of a fresh "
        "Sampler: the process's first of this architecture (tf.function traces, plus the XLA compile for ours), "
        "then a second Sampler of it (ours shares the traced and compiled functions).\n"
    )
    print(
        "| size | ours: batch of 64 | ours via Keras G: batch of 64 | Keras G / ours | ours: first call "
        "| ours: first call, second Sampler | ours via Keras G: first call |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['size']} px | {r['ours64']:.1f} ms (n={r['n']['ours64']}) "
            f"| {r['ours_keras64']:.1f} ms (n={r['n']['ours_keras64']}) | {r['ours_keras64'] / r['ours64']:.1f}x "
            f"| {r['first']['ours']:.0f} ms | {r['first']['ours_again']:.1f} ms | {r['first']['ours_keras']:.0f} ms |"
        )


if __name__ == "__main__":
    main()
