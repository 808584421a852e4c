"""Training diagnostics: what a run's state, recent losses and health say, as plain-language hints.

The one list of hints a page or the CLI shows. Three sources, most urgent first:

* the run's state (failed, out of time, interrupted);
* the health alerts of ``studio.quality.alerts`` (collapse, memorising, plateau, unstable losses),
  each carrying the actions the studio offers for it;
* two quick loss heuristics that need no quality scores — a judge (discriminator) winning outright
  (D loss near 0 while G loss climbs) or telling real from generated perfectly, the classic sign of
  a stalled non-saturating GAN (Arjovsky & Bottou 2017). They stay quiet when a health alert already
  says the same thing, so a person never reads one problem twice.
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
    alert: object = None  # the studio.quality.alerts.Alert behind it (its actions, its best step), if any


def alert_hint(alert) -> Hint:
    """A health alert as a hint: its title, its evidence sentence and what the studio can do."""
    todo = " or ".join(a.label[0].lower() + a.label[1:] for a in alert.actions[:2])
    return Hint("warning", f"{alert.title}. {alert.message}" + (f" You can {todo}." if todo else ""), alert)


def training_hints(state: RunState, message: str, rows: list[dict], loss: str, alerts=()) -> list[Hint]:
    """Hints for a run in ``state`` (with its status ``message``) whose logged rows are ``rows`` and
    whose health alerts (``studio.quality.alerts_for`` / ``health_alerts``) are ``alerts``."""
    out = []
    if state is RunState.FAILED:
        out.append(Hint("error", message or "Training failed."))
    elif state is RunState.BUDGET:
        out.append(Hint("info", message + " Press Resume to train on."))
    elif state is RunState.INTERRUPTED:
        out.append(Hint("warning", message))
    out.extend(alert_hint(a) for a in alerts)
    said = {str(a.kind) for a in alerts}
    recent = [r for r in rows[-RECENT:] if "d_loss" in r]
    if loss in ("ns", "minimax") and len(recent) >= MIN_ROWS and not said & {"unstable", "memorising"}:
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
        if "collapse" not in said and all(r.get("d_fake", 0) < 0.02 for r in recent[-5:]):
            if all(r.get("d_real", 1) > 0.98 for r in recent[-5:]):
                out.append(
                    Hint("warning", "The judge tells real from generated perfectly; training has likely collapsed.")
                )
    return out
