"""Training diagnostics: what a run's state and recent losses say, as plain-language hints.

The heuristics read the last logged rows (``metrics.jsonl``): a judge (discriminator) winning
outright — D loss near 0 while G loss climbs — or telling real from generated perfectly is the
classic sign of a stalled non-saturating GAN (Arjovsky & Bottou 2017). Each hint names something
the artist can do about it.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.train.state import RunState

LEVELS = ("error", "warning", "info")
RECENT = 20  # rows looked at
MIN_ROWS = 8  # fewer than this says nothing about a trend


@dataclass(frozen=True)
class Hint:
    level: str  # "error" | "warning" | "info": how the page shows it
    text: str  # one or two plain sentences, with what to do


def training_hints(state: RunState, message: str, rows: list[dict], loss: str) -> list[Hint]:
    """Hints for a run in ``state`` (with its status ``message``) whose logged rows are ``rows``."""
    out = []
    if state is RunState.FAILED:
        out.append(Hint("error", message or "Training failed."))
    elif state is RunState.BUDGET:
        out.append(Hint("info", message + " Press Resume to train on."))
    elif state is RunState.INTERRUPTED:
        out.append(Hint("warning", message))
    recent = [r for r in rows[-RECENT:] if "d_loss" in r]
    if loss in ("ns", "minimax") and len(recent) >= MIN_ROWS:
        d = [r["d_loss"] for r in recent]
        g = [r["g_loss"] for r in recent]
        half = len(recent) // 2
        if sum(d[half:]) / (len(d) - half) < 0.1 and sum(g[half:]) / (len(g) - half) > sum(g[:half]) / half:
            out.append(
                Hint(
                    "warning",
                    "The judge is winning: D loss is near 0 and G loss keeps climbing, so the "
                    "generator gets little to learn from. Try a lower α (judge learning rate), "
                    "DiffAugment, or more data.",
                )
            )
        if all(r.get("d_fake", 0) < 0.02 for r in recent[-5:]) and all(r.get("d_real", 1) > 0.98 for r in recent[-5:]):
            out.append(Hint("warning", "The judge tells real from generated perfectly; training has likely collapsed."))
    return out
