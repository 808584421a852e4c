"""Train the studio's offline digit feature network and write studio/quality/weights/digitnet.npz.

A small CNN (three 3×3 stride-2 convolutions, 32/64/128 channels, ReLU, global average pool, a
linear classifier) learns the ten classes of scikit-learn's 1,797 handwritten digits, shown at
32×32 as the studio serves them, with small random shifts and zooms so that it also reads generated
digits that are a little off-centre. The classifier is dropped: the 128 pooled numbers are the
features (studio/quality/features.py runs them with plain TensorFlow ops from the .npz).

Deterministic from --seed; about a minute on 2 CPU cores. The weights file is committed, so the
studio never needs this script at run time:

    python scripts/train_feature_net.py            # writes the .npz and prints held-out accuracy
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTHS = (32, 64, 128)
SIDE = 32


def build(keras):
    L = keras.layers
    x = keras.Input((SIDE, SIDE, 1))
    h = x
    for i, w in enumerate(WIDTHS):
        h = L.Conv2D(w, 3, strides=2, padding="same", activation="relu", name=f"conv{i}")(h)
    feats = L.GlobalAveragePooling2D(name="pool")(h)
    logits = L.Dense(10, name="classes")(L.Dropout(0.3)(feats))
    return keras.Model(x, logits), keras.Model(x, feats)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--out", default=str(ROOT / "studio" / "quality" / "weights" / "digitnet.npz"))
    a = p.parse_args(argv)

    import keras
    import tensorflow as tf

    from studio.data import load_dataset

    keras.utils.set_random_seed(a.seed)
    ds = load_dataset("digits", SIDE, 1)
    x = ds.images.astype(np.float32) / 127.5 - 1.0
    y = ds.labels
    order = np.random.default_rng(a.seed).permutation(len(x))
    test, train = order[:300], order[300:]

    model, features = build(keras)
    aug = keras.Sequential(
        [
            keras.layers.RandomTranslation(0.12, 0.12, fill_mode="constant", fill_value=-1.0, seed=a.seed),
            keras.layers.RandomZoom(0.15, fill_mode="constant", fill_value=-1.0, seed=a.seed + 1),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    data = (
        tf.data.Dataset.from_tensor_slices((x[train], y[train]))
        .shuffle(len(train), seed=a.seed)
        .batch(64)
        .map(lambda im, lab: (aug(im, training=True), lab))
    )
    model.fit(data, epochs=a.epochs, verbose=0)
    _, acc = model.evaluate(x[test], y[test], verbose=0)

    arrays = {"layers": np.array(len(WIDTHS)), "side": np.array(SIDE), "test_accuracy": np.array(acc)}
    for i in range(len(WIDTHS)):
        k, b = model.get_layer(f"conv{i}").get_weights()
        arrays[f"kernel_{i}"], arrays[f"bias_{i}"] = k.astype(np.float32), b.astype(np.float32)

    # The studio's extractor must compute what the Keras model computes.
    from studio.quality.features import ConvFeatures

    ours = ConvFeatures(
        "check", [arrays[f"kernel_{i}"] for i in range(3)], [arrays[f"bias_{i}"] for i in range(3)], (2,)
    )
    probe = ds.images[:64]
    ref = features(probe.astype(np.float32) / 127.5 - 1.0, training=False).numpy()
    err = float(np.abs(ours(probe) - ref).max())
    assert err < 1e-4, f"the extractor disagrees with Keras by {err}"

    # One fixed scale for the features, so that on the digits xᵀy/d is about 1 and KID's cubic
    # kernel (xᵀy/d + 1)³ works at its usual size: KID values then read like published ones.
    arrays["scale"] = np.array(float(np.sqrt((ours(ds.images) ** 2).mean())), np.float32)

    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    out.write_bytes(buf.getvalue())
    print(f"held-out accuracy {acc:.3f}; wrote {out} ({out.stat().st_size / 1024:.0f} KB); max diff vs Keras {err:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
