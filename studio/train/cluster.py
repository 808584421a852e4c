"""Several machines training one run: ``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``.

``python -m studio train --multi-worker ...`` on every machine, each with the same flags and its own
``TF_CONFIG`` (the README's "Several machines" shows the commands). TensorFlow's convention names the
chief: the ``chief`` task if the cluster has one, else worker 0. Only the chief writes the run folder;
every other worker trains the very same run into a scratch folder of its own, deleted when it ends
(TensorFlow's saving under this strategy expects every worker to save, so each one runs the same loop
and writes the same checkpoints, only elsewhere).

What must be the same on every worker, or a collective waits forever:

- the settings (checked once at the start: ``check_same_run``);
- the step to start from and every variable's value (``broadcast_from_chief`` after the chief restored
  its checkpoint, so workers resume from the chief's checkpoints whether or not they see its disk);
- each decision to stop (a stop request, the time budget) and each learning-rate change, which reach
  the chief alone (``Agreement``: one small all-reduce per step, then the chief's rates broadcast).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from studio.core.errors import StudioError


@dataclass(frozen=True)
class Role:
    """This process's part in a cluster (one machine alone: worker 0 of 1, the chief)."""

    workers: int = 1
    task: int = 0  # 0 is the chief
    is_chief: bool = True

    @property
    def multi(self) -> bool:
        return self.workers > 1

    def __str__(self) -> str:
        return f"worker {self.task} of {self.workers}" + (" (chief)" if self.is_chief else "")


def tf_config() -> dict:
    """TF_CONFIG parsed, with the mistakes a person makes said in words."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        raise StudioError(
            "--multi-worker needs TF_CONFIG, the JSON that names every worker and this one's place "
            "(see the README's 'Several machines')."
        )
    try:
        cfg = json.loads(raw)
        cluster = cfg["cluster"]
        kind, index = cfg["task"]["type"], int(cfg["task"]["index"])
        workers = list(cluster.get("chief", [])) + list(cluster.get("worker", []))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StudioError(
            'TF_CONFIG is not valid JSON of the form {"cluster": {"worker": ["host1:port", "host2:port"]}, '
            '"task": {"type": "worker", "index": 0}}.'
        ) from None
    if kind not in ("worker", "chief") or not 0 <= index < len(cluster.get(kind, [])):
        raise StudioError(f"TF_CONFIG's task {cfg['task']} is not one of the workers its cluster lists.")
    if len(workers) < 2:
        raise StudioError("TF_CONFIG lists one worker; --multi-worker needs at least two (or leave it out).")
    return cfg


def role_from_tf_config(cfg: dict) -> Role:
    cluster = cfg["cluster"]
    kind, index = cfg["task"]["type"], int(cfg["task"]["index"])
    has_chief = bool(cluster.get("chief"))
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    task = 0 if kind == "chief" else index + (1 if has_chief else 0)
    return Role(workers=workers, task=task, is_chief=task == 0)


def multi_worker_strategy():
    """(MultiWorkerMirroredStrategy, Role). Must come before anything runs a TensorFlow op."""
    import tensorflow as tf

    role = role_from_tf_config(tf_config())
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as e:
        raise StudioError(f"Could not join the cluster TF_CONFIG names: {e}") from None
    strategy._studio_role = role  # noqa: SLF001 - the loop asks role_of(strategy)
    return strategy, role


def role_of(strategy) -> Role:
    return getattr(strategy, "_studio_role", None) or Role()


def scratch_dir() -> Path:
    """Where a worker that is not the chief writes its copy of the run (deleted when it ends)."""
    return Path(tempfile.mkdtemp(prefix="studio-worker-"))


def remove_scratch(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# ---- collectives: every worker calls these at the same points, in the same order ---------------
def _sum_over_workers(strategy, values: list):
    """Each worker's ``values`` (tensors of one dtype) summed over the workers, seen by every worker."""
    import tensorflow as tf

    fn = getattr(strategy, "_studio_sum", None)
    if fn is None:
        local = len(strategy.extended.worker_devices)

        @tf.function  # compiled: an eager strategy.run under this strategy is slow
        def fn(values):
            def replica_fn(values):
                ctx = tf.distribute.get_replica_context()
                # Several local replicas would each add the worker's value: only the first counts.
                first = tf.equal(ctx.replica_id_in_sync_group % local, 0)
                return ctx.all_reduce(
                    tf.distribute.ReduceOp.SUM, [tf.where(first, v, tf.zeros_like(v)) for v in values]
                )

            out = strategy.run(replica_fn, args=(values,))
            return [strategy.experimental_local_results(o)[0] for o in out]

        strategy._studio_sum = fn  # noqa: SLF001
    return fn(values)


def check_same_run(strategy, identity: str) -> None:
    """Every worker must train the same run: refuse in words otherwise.

    The sums of a hash and of its square agree with n copies of one hash only when all hashes are
    equal (Cauchy-Schwarz), so every worker reaches the same verdict from one collective.
    """
    import tensorflow as tf

    role = role_of(strategy)
    if not role.multi:
        return
    h = float(zlib.crc32(identity.encode()) % 1_000_003)
    s, s2 = _sum_over_workers(strategy, [tf.constant(h, tf.float64), tf.constant(h * h, tf.float64)])
    if abs(role.workers * float(s2) - float(s) ** 2) > 1e-6 * max(1.0, float(s) ** 2):
        raise StudioError(
            "The workers were started with different settings (model, data, batch, steps, seed...); start "
            "every worker with the same command, only TF_CONFIG's task index differing."
        )


def broadcast_from_chief(strategy, variables) -> None:
    """Give every worker the chief's values of ``variables``."""
    import tensorflow as tf

    role = role_of(strategy)
    if not role.multi:
        return
    variables = list(variables)
    mine = 1.0 if role.is_chief else 0.0
    by_dtype: dict = {}
    for v in variables:
        by_dtype.setdefault(v.dtype, []).append(v)
    for dtype, group in by_dtype.items():
        values = [tf.convert_to_tensor(v) * tf.cast(mine, dtype) for v in group]
        for v, total in zip(group, _sum_over_workers(strategy, values)):
            v.assign(total)


class Agreement:
    """Once per step: do the workers stop, and did the chief get new learning rates?

    Only the chief hears the person (stop and pause requests, new rates); the time budget runs on each
    worker's clock. One all-reduce of three counts a step makes every worker decide alike.
    """

    STOP, BUDGET, LR = range(3)

    def __init__(self, strategy):
        self.strategy = strategy
        self.multi = role_of(strategy).multi

    def decide(self, stop: bool, budget: bool, new_lr: bool) -> tuple[bool, bool, bool]:
        if not self.multi:
            return stop, budget, new_lr
        import tensorflow as tf

        (counts,) = _sum_over_workers(self.strategy, [tf.constant([int(stop), int(budget), int(new_lr)], tf.int32)])
        counts = counts.numpy()
        return bool(counts[self.STOP]), bool(counts[self.BUDGET]) and not counts[self.STOP], bool(counts[self.LR])

    def share_learning_rates(self, gan) -> None:
        broadcast_from_chief(self.strategy, [gan.opt_d.learning_rate, gan.opt_g.learning_rate])


def identity(cfg) -> str:
    """What every worker must agree on: the settings that shape the computation (a dataset path may be
    spelled differently on each machine: its name counts)."""
    d = cfg.to_dict()
    for k in ("preset", "parent", "time_budget"):
        d.pop(k, None)
    d["dataset"] = Path(str(d.get("dataset", ""))).name
    return json.dumps(d, sort_keys=True, default=str)
