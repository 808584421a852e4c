"""Home: the runs on disk, what each is doing, and what to do next."""

from __future__ import annotations

import streamlit as st

from studio.core.errors import StudioError
from studio.core.text import human_bytes
from studio.data import display_name
from studio.train.runs import Run
from studio.train.state import RunState, RunSummary
from ui import state
from ui.common import job_manager, runs, use_app_navigation
from ui.widgets import may_write, page_link, passphrase_gate, state_badge

NEXT_STEPS = [
    (
        "pages/data.py",
        "1 · Data",
        ":material/photo_library:",
        "Use the built-in digits, download a classic, or upload your own pictures.",
    ),
    (
        "pages/train.py",
        "2 · Train",
        ":material/model_training:",
        "Pick a model and a preset, press Start training, watch it learn.",
    ),
    (
        "pages/checkpoints.py",
        "3 · Checkpoints",
        ":material/history:",
        "Scrub through training time; keep the moment you like.",
    ),
    (
        "pages/explore.py",
        "4 · Explore",
        ":material/explore:",
        "Play the trained generator like an instrument; export what you find.",
    ),
]


CARDS = 12  # runs shown as cards (the newest); older ones are listed in a table


def intro():
    st.title("GAN Studio")
    st.markdown(
        "Train your own **generative adversarial network** on your own pictures, then explore what it learned. "
        "A *generator* learns to draw; a *judge* learns to tell its drawings from the real thing; each makes "
        "the other better."
    )
    cols = st.columns(len(NEXT_STEPS))
    for col, (path, label, icon, text) in zip(cols, NEXT_STEPS):
        with col.container(border=True, height="stretch"):
            page_link(path, label=label, icon=icon)
            st.caption(text)


def run_card(r: RunSummary):
    with st.container(border=True, key=f"run_card_{r.id}"):
        img, body = st.columns([1, 2])
        with img:
            if r.latest_sample:
                st.image(str(r.latest_sample), width="stretch")
            else:
                st.caption("No samples yet.")
        with body:
            st.markdown(f"**{r.id}**")
            st.markdown(f"{state_badge(r.state)} &nbsp; step **{r.step:,}** of {r.steps:,}")
            st.caption(
                f"{display_name(str(r.dataset))} · {r.model} · {r.loss} loss · "
                f"{human_bytes(Run(r.path).disk_bytes())} on disk"
                + (f" · forked from {r.parent.get('run_id')} at step {r.parent.get('step')}" if r.parent else "")
            )
            if r.state in (RunState.INTERRUPTED, RunState.FAILED) and r.message:
                st.caption(r.message)
            with st.container(horizontal=True, gap="small"):
                live = r.state.is_active
                if st.button("Watch" if live else "Open", key=f"open_{r.id}", icon=":material/visibility:"):
                    state.select_run(r.id, watch=True)
                    st.switch_page("pages/train.py")
                if r.snapshots and st.button("Explore", key=f"explore_{r.id}", icon=":material/explore:"):
                    state.select_run(r.id)
                    st.switch_page("pages/explore.py")
                if (
                    r.state is RunState.INTERRUPTED
                    and may_write()
                    and st.button(
                        "Resume",
                        key=f"resume_{r.id}",
                        type="primary",
                        icon=":material/play_arrow:",
                        help="Continue from its last checkpoint.",
                    )
                ):
                    _resume(r.id)


def _resume(rid: str):
    try:
        job_manager().resume_run(rid)
    except StudioError as e:
        st.error(str(e))
        return
    state.select_run(rid, watch=True)
    st.switch_page("pages/train.py")


def main():
    intro()
    rs = runs()
    st.subheader("Your runs")
    if not rs:
        st.info(
            "No runs yet. The quickest start: **Train** → dataset *digits*, preset *quick-sketch* → "
            "**Start training**. Recognisable digits appear within about two minutes on a laptop."
        )
        page_link("pages/train.py", label="Go to Train", icon=":material/arrow_forward:")
        return
    interrupted = [r for r in rs if r.state is RunState.INTERRUPTED]
    if interrupted:
        st.warning(
            f"{len(interrupted)} run(s) were interrupted when the studio last stopped. "
            "Each can resume from its last checkpoint."
        )
        passphrase_gate("home")
    shown = int(st.session_state.get("home_cards", CARDS))
    cols = st.columns(2)
    for i, r in enumerate(rs[:shown]):
        with cols[i % 2]:
            run_card(r)
    rest = rs[shown:]
    if rest:
        # Cards draw a picture each: a studio with hundreds of runs lists the older ones as a table.
        st.caption(f"{len(rest):,} older run{'s' if len(rest) != 1 else ''}:")
        st.dataframe(
            [
                {
                    "Run": r.id,
                    "Dataset": display_name(str(r.dataset)),
                    "Model": r.model,
                    "State": r.state.label,
                    "Step": f"{r.step:,} / {r.steps:,}",
                }
                for r in rest
            ],
            hide_index=True,
            key="home_older_runs",
        )
        st.button("Show more cards", key="home_more", on_click=_more_cards, icon=":material/expand_more:")


def _more_cards() -> None:
    st.session_state["home_cards"] = int(st.session_state.get("home_cards", CARDS)) + CARDS


use_app_navigation()
main()
