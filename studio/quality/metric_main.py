"""The quality metrics, registered by name (as stylegan2-ada-pytorch's ``metrics/metric_main.py``).

Each metric is a function of one :class:`MetricInputs` — the features of the training pictures, of
the generated pictures and (when the run holds some out) of the held-out pictures — returning the
fields it adds to a ``quality.jsonl`` row. The maths lives in one module per metric (kid, frechet,
prdc, copying); here it is only named and wired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from studio.core.errors import StudioError
from studio.quality import copying as copying_mod
from studio.quality import frechet
from studio.quality import kid as kid_mod
from studio.quality import prdc as prdc_mod


@dataclass(frozen=True)
class MetricInputs:
    train: np.ndarray  # (n, d) features of training pictures: the reference every metric compares to
    fake: np.ndarray  # (m, d) features of generated pictures (the first ``grid`` are the preview grid's)
    heldout: np.ndarray | None = None  # (h, d) features of pictures the run never trains on; None: no split
    train_nn: np.ndarray | None = None  # (n,) each training picture's distance to its nearest other one
    grid: int = 64  # how many of ``fake`` the duplicate check looks at
    seed: int = 0  # subsets and k-means draw from it: the same inputs give the same numbers


_METRICS: dict[str, Callable[[MetricInputs], dict]] = {}


def register_metric(fn: Callable[[MetricInputs], dict]) -> Callable[[MetricInputs], dict]:
    _METRICS[fn.__name__] = fn
    return fn


def metric_names() -> list[str]:
    return list(_METRICS)


def compute_metrics(inputs: MetricInputs, names: list[str] | None = None) -> dict:
    """Every named metric's fields in one dict (all registered metrics when ``names`` is None)."""
    out: dict = {}
    for name in names or metric_names():
        if name not in _METRICS:
            raise StudioError(f"Unknown quality metric '{name}'. Known: {', '.join(_METRICS)}.")
        out.update(_METRICS[name](inputs))
    return out


def _train_nn(inputs: MetricInputs) -> np.ndarray:
    if inputs.train_nn is not None:
        return inputs.train_nn
    return copying_mod.nearest(inputs.train, inputs.train, exclude_self=True)[1]


@register_metric
def kid(inputs: MetricInputs) -> dict:
    r = kid_mod.kid(inputs.train, inputs.fake, seed=inputs.seed)
    return {"kid": r.kid, "kid_se": r.kid_se}


@register_metric
def fd(inputs: MetricInputs) -> dict:
    r = frechet.frechet_distance(inputs.train, inputs.fake)
    return {"fd": r.fd, "fd_reason": r.reason}


@register_metric
def prdc(inputs: MetricInputs) -> dict:
    r = prdc_mod.prdc(inputs.train, inputs.fake)
    return {"precision": r.precision, "recall": r.recall, "density": r.density, "coverage": r.coverage}


@register_metric
def copying(inputs: MetricInputs) -> dict:
    train_nn = _train_nn(inputs)
    auth = copying_mod.authenticity(inputs.train, inputs.fake, train_nn)
    held = inputs.heldout if inputs.heldout is not None else np.zeros((0, inputs.train.shape[1]))
    ct, reason = copying_mod.data_copying_ct(inputs.train, held, inputs.fake, inputs.seed)
    auth_h = copying_mod.authenticity(inputs.train, held, train_nn) if len(held) else None
    return {"authenticity": auth, "authenticity_heldout": auth_h, "ct": ct, "ct_reason": reason}


DUPLICATE_RATIO = 0.5  # "near-duplicate": closer than half the typical gap between two training pictures


@register_metric
def duplicates(inputs: MetricInputs) -> dict:
    """The share of the preview grid's pictures that have a near-twin in the grid: collapse shows
    here first, as repeated faces in the fixed-noise grid."""
    g = inputs.fake[: inputs.grid]
    if len(g) < 2:
        return {"duplicates": None}
    limit = DUPLICATE_RATIO * float(np.median(_train_nn(inputs)))
    twin = copying_mod.nearest(g, g, exclude_self=True)[1]
    return {"duplicates": float((twin < limit).mean())}
