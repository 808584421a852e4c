"""What the discriminator thinks of training and held-out pictures, measured at each snapshot.

r_t = E[sign(D(x_real))] over training pictures is StyleGAN2-ADA's overfitting heuristic (Karras et
al., "Training Generative Adversarial Networks with Limited Data", NeurIPS 2020): near 0 while D
cannot tell, rising towards 1 as D grows sure of every training picture; ADA aims at 0.6. The same
paper watches D's outputs on a held-out validation set drift away from those on the training set.
The gap is reported as an AUC — the chance that D scores a random training picture above a random
held-out one (0.5: no gap) — because D's raw scale differs between losses.

Measured on fixed pictures (up to ``N_IMAGES`` of each split, not augmented) with D in inference
mode, in the training thread between steps (D is being trained; Keras models are not thread-safe),
through one compiled function: milliseconds per snapshot. r_t needs a D whose sign means "real":
the ns, minimax and hinge losses; a WGAN critic's scores have no zero point, so r_t is None there.
"""

from __future__ import annotations

import numpy as np

from studio.data.dataset import Dataset

N_IMAGES = 256
SIGNED_LOSSES = ("ns", "minimax", "hinge")


def _pick(ds: Dataset, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.sort(np.random.default_rng([seed % 2**32, 0xD5C0]).permutation(len(ds))[:n])
    labels = ds.labels[idx] if ds.labels is not None else np.zeros(len(idx), np.int32)
    return (ds.images[idx].astype(np.float32) / 127.5 - 1.0), labels.astype(np.int32)


def auc(a: np.ndarray, b: np.ndarray) -> float:
    """P(a random value of ``a`` > a random value of ``b``), ties half (the Mann-Whitney AUC)."""
    from scipy.stats import rankdata

    r = rankdata(np.concatenate([a, b]))
    return float((r[: len(a)].sum() - len(a) * (len(a) + 1) / 2) / (len(a) * len(b)))


class DScorer:
    def __init__(self, cfg, train: Dataset, heldout: Dataset | None):
        import tensorflow as tf

        self.cfg = cfg
        self.train = [tf.constant(v) for v in _pick(train, N_IMAGES, cfg.seed)]
        self.heldout = [tf.constant(v) for v in _pick(heldout, N_IMAGES, cfg.seed)] if heldout is not None else None
        self._fn = None

    def __call__(self, D) -> dict:
        import tensorflow as tf

        if self._fn is None:
            cond = self.cfg.conditional

            @tf.function(reduce_retracing=True)
            def scores(x, y):
                return tf.reshape(tf.cast(D([x, y] if cond else x, training=False), tf.float32), [-1])

            self._fn = scores
        s_train = self._fn(*self.train).numpy()
        readable = (lambda s: 1.0 / (1.0 + np.exp(-s))) if self.cfg.loss in ("ns", "minimax") else (lambda s: s)
        out = {
            "r_t": float(np.sign(s_train).mean()) if self.cfg.loss in SIGNED_LOSSES else None,
            "d_train": float(readable(s_train).mean()),
        }
        if self.heldout is not None:
            s_held = self._fn(*self.heldout).numpy()
            out.update(d_heldout=float(readable(s_held).mean()), d_gap_auc=auc(s_train, s_held))
        return out
