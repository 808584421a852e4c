"""Health alerts: pure functions from a run's histories to plain-language alerts with actions.

Each rule reads the quality rows (``quality.jsonl``) and/or the loss rows (``metrics.jsonl``) and
returns at most one frozen :class:`Alert`: what is happening in a person's words, the numbers behind
it, and the actions the studio offers for it. A rule needs its signal on the last two snapshots in a
row (one noisy snapshot never alarms), and every threshold sits well away from what a healthy
default digits run shows (benchmarks/README.md has the numbers seen).

* collapse — recall or coverage fallen to half of their best, or near-twins filling the preview
  grid after it had been varied: "the generator is collapsing" (Arjovsky & Bottou 2017; recall/coverage as the diversity
  signal per Kynkäänniemi et al. 2019 and Naeem et al. 2020).
* memorising — D sure of its training pictures: r_t = E[sign D(x)] above 0.6 with D scoring them
  above pictures it never saw (held-out AUC), or, with no held-out split, r_t ≥ 0.8 over three snapshots (Karras et al.
  2020); or the generator's pictures closer to the training set than new pictures are (C_T, Meehan
  et al. 2020) — "turn on augmentation / more data / lower α".
* plateau — KID not improving for several snapshots: "it has probably learned what it can; the
  best snapshot is step N". A KID within noise of 0 is at the features' floor: it cannot improve,
  so a run whose latest snapshots sit there is not on a plateau (``best_row``).
* unstable — losses oscillating or diverging: "lower the learning rates / try WGAN-GP".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from studio.core.text import fmt_kid
from studio.quality.store import QualityRow


class AlertKind(StrEnum):
    COLLAPSE = "collapse"
    MEMORISING = "memorising"
    PLATEAU = "plateau"
    UNSTABLE = "unstable"


@dataclass(frozen=True)
class Action:
    key: str  # what the studio does: the UI maps it to a control
    label: str  # the button's words


AUGMENT = Action("augment", "Turn on augmentation (DiffAugment) and resume")
MORE_DATA = Action("more_data", "Add more pictures to the dataset")
LOWER_LR_D = Action("lower_lr_d", "Lower α (the discriminator's learning rate)")
LOWER_LRS = Action("lower_lrs", "Lower both learning rates")
WGAN_GP = Action("wgan_gp", "Try WGAN-GP (a steadier loss)")
OPEN_BEST = Action("open_best", "Open the best snapshot")
RESUME_BEST = Action("resume_best", "Resume from the best snapshot")
EARLIER = Action("open_best", "Go back to an earlier snapshot")
STOP = Action("stop", "Stop training and keep the checkpoint")


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    step: int  # the step it was seen at
    title: str  # a few words ("The generator is collapsing")
    message: str  # one or two plain sentences, with the evidence
    actions: tuple[Action, ...]
    evidence: tuple[tuple[str, float], ...] = ()  # the numbers behind it, for the curious
    best_step: int | None = None  # the snapshot an action refers to, where one does


# Thresholds (see the module docstring for where they come from).
DROP = 0.5  # recall / coverage at or below half their best
MIN_BEST = 0.2  # ... once they had been at least this high
DUPLICATES = 0.25  # a quarter of the preview grid with a near-twin
RT_LIMIT = 0.6  # StyleGAN2-ADA's target: above it D is growing sure of its training pictures
RT_ALONE = 0.8  # without a held-out split, r_t alone decides: its mean over the last snapshots ...
RT_ALONE_SNAPSHOTS = 3  # ... this many, each of them above RT_LIMIT too
AUC_LIMIT = 0.6  # D scores training pictures above held-out ones this often
CT_LIMIT = -3.0  # data-copying z-score
PLATEAU_SNAPSHOTS = 6  # snapshots without a new best KID ...
PLATEAU_SHARE = 0.4  # ... and at least this share of the run's snapshots
MIN_ROWS = 4  # no judgement before this many snapshots
FLOOR_SE = 2.0  # a KID at most this many standard errors above 0 is at the features' floor


def _last2(rows: list[QualityRow], test) -> bool:
    return len(rows) >= 2 and all(test(r) for r in rows[-2:])


def _comparable(rows: list[QualityRow]) -> list[QualityRow]:
    """Rows measured in the latest row's features (a rescored run may mix extractors)."""
    rows = sorted(rows, key=lambda r: r.step)
    return [r for r in rows if r.features == rows[-1].features] if rows else []


def collapse_alert(rows: list[QualityRow]) -> Alert | None:
    rows = _comparable(rows)
    if len(rows) < MIN_ROWS:
        return None
    for name in ("recall", "coverage"):
        vals = [getattr(r, name) for r in rows]
        if any(v is None for v in vals):
            continue
        best = max(vals[:-2])
        if best >= MIN_BEST and all(v <= DROP * best for v in vals[-2:]):
            return Alert(
                AlertKind.COLLAPSE,
                rows[-1].step,
                "The generator is collapsing",
                f"Its pictures cover less and less of your dataset: {name} fell from {best:.2f} to "
                f"{vals[-1]:.2f}. It is settling on a few pictures.",
                (EARLIER, LOWER_LRS, WGAN_GP),
                ((name, vals[-1]), (f"best {name}", best)),
            )
    # Twins only count as collapse once the grid had been varied: at the start of a run every picture
    # is the same grey blur (duplicates near 1 at step 0 in every run), which is not a collapse.
    varied = any(r.duplicates is not None and r.duplicates <= DUPLICATES / 2 for r in rows[:-2])
    if varied and _last2(rows, lambda r: r.duplicates is not None and r.duplicates >= DUPLICATES):
        d = rows[-1].duplicates
        return Alert(
            AlertKind.COLLAPSE,
            rows[-1].step,
            "The generator is collapsing",
            f"{d:.0%} of the preview grid's pictures have a near-twin in the grid: it is making the same "
            "few pictures from different noise.",
            (EARLIER, LOWER_LRS, WGAN_GP),
            (("duplicates", d),),
        )
    return None


def memorising_alert(rows: list[QualityRow]) -> Alert | None:
    rows = sorted(rows, key=lambda r: r.step)
    if len(rows) < 2:
        return None
    last = rows[-1]
    actions = (AUGMENT, MORE_DATA, LOWER_LR_D)
    held = [r for r in rows[-2:] if r.d_gap_auc is not None]
    if len(held) == 2 and _last2(rows, lambda r: r.r_t is not None and r.r_t > RT_LIMIT and r.d_gap_auc > AUC_LIMIT):
        return Alert(
            AlertKind.MEMORISING,
            last.step,
            "The discriminator is memorising your pictures",
            f"It is sure of the pictures it trains on (r_t {last.r_t:.2f}, above {RT_LIMIT}) and scores them "
            f"above pictures it has never seen {last.d_gap_auc:.0%} of the time: it learns your pictures by "
            "heart instead of what they have in common.",
            actions,
            (("r_t", last.r_t), ("d_gap_auc", last.d_gap_auc)),
        )
    # One D at one moment swings r_t by ±0.3 from snapshot to snapshot (32 pictures, no augmentation:
    # 0.99, 0.67, 0.99, 0.92, 0.61 …), so without a held-out split it is judged over a window.
    window = [r.r_t for r in rows[-RT_ALONE_SNAPSHOTS:]]
    if (
        not held
        and len(window) == RT_ALONE_SNAPSHOTS
        and all(v is not None and v > RT_LIMIT for v in window)
        and float(np.mean(window)) >= RT_ALONE
    ):
        mean = float(np.mean(window))
        return Alert(
            AlertKind.MEMORISING,
            last.step,
            "The discriminator is memorising your pictures",
            f"It is sure of the pictures it trains on (r_t {mean:.2f} over the last {len(window)} snapshots; "
            f"about {RT_LIMIT} is healthy). "
            "With this few pictures it learns them by heart, and the generator learns to copy them.",
            actions,
            (("r_t", mean),),
        )
    if _last2(rows, lambda r: r.ct is not None and r.ct <= CT_LIMIT):
        return Alert(
            AlertKind.MEMORISING,
            last.step,
            "The generator is copying your pictures",
            f"Its pictures sit closer to your training pictures than new pictures of the same kind do "
            f"(data-copying score {last.ct:.1f}; below {CT_LIMIT:g} means copying).",
            (EARLIER, *actions),
            (("ct", last.ct),),
        )
    return None


def at_floor(row: QualityRow) -> bool:
    """KID within two standard errors of 0: in these features the snapshot's pictures cannot be told
    from the training pictures, so a lower KID among such snapshots is noise, not quality."""
    return row.kid is not None and row.kid_se is not None and row.kid <= FLOOR_SE * row.kid_se


def best_row(rows: list[QualityRow]) -> QualityRow | None:
    """The best of ``rows`` (one feature space, by step): the lowest KID, except once KID has reached
    its floor: then the latest snapshot at the floor. On a varied set of photographs the random
    conv features reach their floor within minutes while the pictures keep gaining forms for
    thousands of steps more (benchmarks/README.md), and the lowest of those noise-level KIDs is a
    snapshot picked at random, often far back."""
    rows = [r for r in rows if r.kid is not None]
    if not rows:
        return None
    floor = [r for r in rows if at_floor(r)]
    if floor:
        return max(floor, key=lambda r: r.step)
    return min(rows, key=lambda r: (r.kid, r.step))


def best_why(row: QualityRow) -> str:
    """Why ``best_row`` chose ``row``, in a few words for a caption."""
    if at_floor(row):
        return "the newest whose KID is within noise of 0: the scores can no longer tell its pictures from yours"
    return "lowest KID"


def plateau_alert(rows: list[QualityRow]) -> Alert | None:
    rows = [r for r in _comparable(rows) if r.kid is not None]
    if len(rows) < MIN_ROWS + PLATEAU_SNAPSHOTS - 2:
        return None
    best = rows.index(best_row(rows))
    since = len(rows) - 1 - best
    if since < max(PLATEAU_SNAPSHOTS, int(np.ceil(PLATEAU_SHARE * len(rows)))):
        return None
    b = rows[best]
    return Alert(
        AlertKind.PLATEAU,
        rows[-1].step,
        "It has probably learned what it can",
        f"Quality has not improved for {since} snapshots; the best snapshot is step {b.step} "
        f"(KID {fmt_kid(b.kid)}). Training longer is unlikely to help with these settings.",
        (OPEN_BEST, STOP, RESUME_BEST),
        (("kid", rows[-1].kid), ("best kid", b.kid)),
        best_step=b.step,
    )


WINDOW = 20  # logged loss rows per window


def unstable_alert(losses: list[dict], loss: str = "ns") -> Alert | None:
    """From metrics.jsonl rows: G's loss climbing for good while D's sinks (diverging), or swinging
    wildly from one logged step to the next (oscillating)."""
    rows = [r for r in losses if r.get("g_loss") is not None and r.get("d_loss") is not None]
    if len(rows) < 3 * WINDOW:
        return None
    g = np.array([r["g_loss"] for r in rows], np.float64)
    d = np.array([r["d_loss"] for r in rows], np.float64)
    step = int(rows[-1].get("step", 0))
    actions = (LOWER_LRS, WGAN_GP) if loss != "wgan-gp" else (LOWER_LRS,)
    recent, settled = g[-WINDOW:], g[len(g) // 4 : len(g) // 2]
    scale = np.median(np.abs(settled)) + 1e-6
    if loss in ("ns", "minimax", "hinge"):
        diverging = np.median(recent) > 3.0 * scale and np.median(recent) > 4.0 and np.median(d[-WINDOW:]) < 0.1
    else:  # a critic's scale is its own: only the trend counts
        diverging = np.median(np.abs(recent)) > 10.0 * scale
    if diverging:
        return Alert(
            AlertKind.UNSTABLE,
            step,
            "The losses are diverging",
            f"The generator's loss has climbed to {np.median(recent):.2f} (it was about {scale:.2f}) while the "
            "discriminator wins every round: the two have stopped learning from each other.",
            actions,
            (("g_loss", float(np.median(recent))), ("g_loss before", float(scale))),
        )
    swing = np.median(np.abs(np.diff(recent)))
    if swing > 1.5 * scale and swing > 1.0:
        return Alert(
            AlertKind.UNSTABLE,
            step,
            "The losses are oscillating",
            f"The generator's loss swings by about {swing:.2f} between logged steps (its typical size is "
            f"{scale:.2f}): the learning rates are too high for these two to settle.",
            actions,
            (("swing", float(swing)), ("g_loss", float(scale))),
        )
    return None


def health_alerts(rows: list[QualityRow], losses: list[dict] | None = None, loss: str = "ns") -> list[Alert]:
    """Every alert the histories raise, most urgent first; [] for a healthy run."""
    found = [
        unstable_alert(losses or [], loss),
        collapse_alert(rows),
        memorising_alert(rows),
        plateau_alert(rows),
    ]
    return [a for a in found if a is not None]
