"""The session keys pages share, in one place: who writes each, who reads it.

A page's own widget keys (``train_lr_d``, ``explore_seed``, ``ckpt_step``, …) stay in that page.
The keys below cross pages; use these accessors rather than the literal key, so a reader can find
every writer and reader of a shared value from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

# Written by: Home (Watch/Explore buttons), Train (Start, the Watching picker), Explore (its run
# picker, "Follow it through training", an opened recipe), Checkpoints (resume, fork, run picker).
# Read by: every page's run picker, to open on the run the person was last looking at.
SELECTED_RUN = "selected_run"
# Written by: Train (Start, the Watching picker), Home (Watch), Checkpoints (resume, fork).
# Read by: Train, the run it watches.
TRAIN_VIEW = "train_view"
# Written by: Explore ("Follow it through training"). Read by: Checkpoints (the latent it follows).
EXPLORE_LATENT = "explore_latent"
# Written by: Data ("Train on this dataset"). Read (and cleared) by: Train, which preselects it.
DATASET = "dataset"
# Written by: the passphrase gate (ui/widgets.py). Read by: every control that writes.
UNLOCKED = "unlocked"
# Written by: Explore (an opened recipe's "Continue exploring"), Explore's pickers. Read by: Explore.
EXPLORE_RUN, EXPLORE_STEP = "explore_run", "explore_step"


def selected_run() -> str | None:
    return st.session_state.get(SELECTED_RUN)


def select_run(run_id: str | None, *, watch: bool = False) -> None:
    """Make ``run_id`` the run every page opens on (and, with ``watch``, the one Train shows)."""
    ss = st.session_state
    if run_id is None:
        ss.pop(SELECTED_RUN, None)
        return
    ss[SELECTED_RUN] = run_id
    if watch:
        ss[TRAIN_VIEW] = run_id


def forget_run(run_id: str) -> None:
    """A deleted run is nobody's selection any more."""
    if st.session_state.get(SELECTED_RUN) == run_id:
        st.session_state.pop(SELECTED_RUN)


def train_view() -> str | None:
    return st.session_state.get(TRAIN_VIEW)


@dataclass(frozen=True)
class SentLatent:
    """A point Explore hands to Checkpoints: a seed (with ψ) or, once sliders moved, the latent itself."""

    seed: int | None
    z: list[float] | None
    psi: float
    label: int | None

    def as_dict(self) -> dict:
        out = {"z": self.z, "psi": 1.0} if self.z is not None else {"seed": self.seed, "psi": self.psi}
        return out | {"label": self.label}


def send_latent(latent: SentLatent) -> None:
    st.session_state[EXPLORE_LATENT] = latent.as_dict()


def sent_latent() -> dict | None:
    """The point sent from Explore as stored (a plain dict: tests and older sessions set it so)."""
    return st.session_state.get(EXPLORE_LATENT)


def offer_dataset(name: str) -> None:
    st.session_state[DATASET] = name


def take_offered_dataset() -> str | None:
    return st.session_state.pop(DATASET, None)


def unlocked() -> bool:
    return bool(st.session_state.get(UNLOCKED))


def unlock() -> None:
    st.session_state[UNLOCKED] = True
