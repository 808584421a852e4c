"""Adaptive discriminator augmentation (ADA): how much to augment, tuned while training.

Karras, Aittala, Hellsten, Laine, Lehtinen and Aila, "Training Generative Adversarial Networks with
Limited Data", NeurIPS 2020 (arXiv:2006.06676), as stylegan2-ada-pytorch's ``training_loop.py``
does it: the overfitting heuristic r_t = E[sign(D(x_real))] — how sure the judge is that the real
pictures are real — is averaged over ``INTERVAL`` minibatches; then

    p ← clamp(p + sign(r_t − target) · batch · INTERVAL / (ada_kimg · 1000), 0, 1)

so p can go from 0 to 1 in ``ada_kimg`` thousand images. A judge that starts memorising the
training pictures says "real" to all of them (r_t → 1) and p rises; p is the probability with
which each augmentation is applied to each picture D sees (augment.diff_augment's ``p``), real and
generated alike. p and the running sums are tf.Variables updated inside the compiled step and saved
with every checkpoint, so a resumed run continues with the p it had.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO_BELOW = 5000  # ada="auto" turns ADA on for datasets with fewer pictures than this
INTERVAL = 4  # minibatches between adjustments (stylegan2-ada's ada_interval)
DEFAULT_POLICY = "color,translation,cutout"  # the operations ADA tunes when diffaugment is empty


def resolve(mode: str, n_images: int) -> str:
    """ "auto" → "on" below ``AUTO_BELOW`` pictures, else "off"; "on" / "off" are kept."""
    if mode == "auto":
        return "on" if n_images < AUTO_BELOW else "off"
    return mode


class AdaState:
    """p and the running sums of sign(D(real)), as tf.Variables (create inside the strategy scope)."""

    def __init__(self, target: float, ada_kimg: float, batch_size: int):
        import tensorflow as tf

        self.target = float(target)
        self.rate = float(batch_size) * INTERVAL / (float(ada_kimg) * 1000.0)
        self.p = tf.Variable(0.0, dtype=tf.float32, trainable=False, name="ada_p")
        self.signs = tf.Variable(0.0, dtype=tf.float32, trainable=False, name="ada_signs")  # Σ sign(D(real))
        self.count = tf.Variable(0.0, dtype=tf.float32, trainable=False, name="ada_count")  # pictures summed
        self.r_t = tf.Variable(0.0, dtype=tf.float32, trainable=False, name="ada_r_t")  # the last r_t

    def trackables(self) -> dict:
        return {"ada_p": self.p, "ada_signs": self.signs, "ada_count": self.count, "ada_r_t": self.r_t}

    def update(self, signs_sum, n, step):
        """Add one minibatch's Σ sign(D(real)) over ``n`` pictures; every INTERVAL steps adjust p.
        In-graph, in cross-replica context (after the replicas' sums are reduced)."""
        import tensorflow as tf

        signs = self.signs.assign_add(tf.cast(signs_sum, tf.float32))
        count = self.count.assign_add(tf.cast(n, tf.float32))
        due = tf.equal(step % INTERVAL, 0)
        r_t = signs / tf.maximum(count, 1.0)
        new_p = tf.clip_by_value(self.p + tf.sign(r_t - self.target) * self.rate, 0.0, 1.0)
        self.p.assign(tf.where(due, new_p, self.p))
        self.r_t.assign(tf.where(due, r_t, self.r_t))
        self.signs.assign(tf.where(due, 0.0, signs))
        self.count.assign(tf.where(due, 0.0, count))


@dataclass(frozen=True)
class AdaReading:
    p: float  # the share of pictures each augmentation touches, 0..1
    r_t: float  # the overfitting heuristic, -1..1
    target: float

    @property
    def sentence(self) -> str:
        """One plain line for the Train page."""
        share = round(100 * self.p)
        if self.r_t > self.target and share >= 1:
            return f"The judge is memorising your pictures; augmenting {share}% of them to stop it."
        if share >= 1:
            return (
                f"The judge is no longer memorising your pictures; augmenting {share}% of them "
                "(less as it stops being needed)."
            )
        if self.r_t > self.target:
            return "The judge is starting to memorise your pictures; augmentation is about to begin."
        return "The judge is not memorising your pictures, so none of them need augmenting yet."


def ada_reading(row: dict, target: float = 0.6) -> AdaReading | None:
    """ADA's state from a ``metrics.jsonl`` row (``ada_p``, ``r_t``); None if the run has no ADA."""
    if "ada_p" not in row:
        return None
    return AdaReading(float(row["ada_p"]), float(row.get("r_t", 0.0)), float(target))


def ada_sentence(rows: list[dict], target: float = 0.6) -> str:
    """The Train page's ADA line from a run's logged rows ("" when the run does not use ADA)."""
    for row in reversed(rows):
        reading = ada_reading(row, target)
        if reading is not None:
            return reading.sentence
    return ""
