"""The Train page's "Start from" choice: fresh weights, or another run's checkpoint or snapshot.

Only runs of the same model family, picture size, width and latent size are offered (their weights
fit); ``studio.train.transfer.start_from`` checks again and says in one sentence when they do not.
FreezeD (keep the judge's first blocks) needs a full checkpoint, so it is offered only for one.
"""

from __future__ import annotations

import streamlit as st

from studio.core.errors import StudioError
from studio.train.config import RunConfig
from studio.train.models import judge_block_count
from studio.train.runs import Run
from studio.train.transfer import start_from, starting_points
from ui.common import runs

FRESH = ""


def _fits(cfg: RunConfig, other: RunConfig) -> bool:
    keys = ("model", "image_size", "base_filters", "z_dim", "conditional")
    return all(getattr(cfg, k) == getattr(other, k) for k in keys)


def _candidates(cfg: RunConfig) -> dict[str, str]:
    """{run path: label} of the runs whose weights fit ``cfg``, newest first."""
    out = {}
    for r in runs():
        try:
            other = Run(r.path).config
        except (StudioError, OSError):
            continue
        if r.snapshots and _fits(cfg, other):
            out[str(r.path)] = f"{r.id} · {r.dataset}, step {r.step:,}"
    return out


def start_from_section(cfg: RunConfig) -> RunConfig:
    """Draw the choice under the setup form; ``cfg`` with its starting weights (or unchanged)."""
    options = {FRESH: "Nothing: fresh random weights", **_candidates(cfg)}
    ss = st.session_state
    if ss.get("train_start_from") not in options:
        ss["train_start_from"] = FRESH
    c1, c2, c3 = st.columns([3, 2, 2])
    source = c1.selectbox(
        "Start from",
        list(options),
        key="train_start_from",
        format_func=options.get,
        help="Take the starting weights from a run you already have (same model and picture size), "
        "e.g. one trained overnight on a large set, then learn your few pictures from there.",
    )
    if source == FRESH:
        return cfg
    points = starting_points(source)
    labels = {
        s: f"step {s:,} ({'checkpoint' if kind == 'checkpoint' else 'snapshot: generator only'})" for s, kind in points
    }
    step = c2.selectbox("Its step", list(labels), key="train_start_step", format_func=labels.get)
    full = dict(points).get(step) == "checkpoint"
    freeze = c3.number_input(
        "Freeze the judge's first blocks (FreezeD)",
        key="train_freeze_d",
        min_value=0,
        max_value=judge_block_count(cfg),
        step=1,
        disabled=not full,
        help="Keep the judge's first blocks as the other run learnt them, so only its upper blocks adapt to "
        "your pictures (Mo et al. 2020). Needs a checkpoint, which holds the judge.",
    )
    return start_from(cfg, source, int(step), freeze_d=int(freeze) if full else 0)
