"""Checkpoints: scrub through a run's training time, compare moments, make timelapses, go on from one.

The same latent is held fixed while the slider walks through the run's snapshots, so what changes on
screen is only what the generator learned. Scrubbing lives in an ``st.fragment`` so moving the slider
reruns only that part of the page, and draws through a ``studio.generate.bank.SnapshotBank`` per run (a
bounded ``st.cache_resource``): one generator whose weights are swapped between snapshots (~3 ms once
read) instead of a model built and traced per snapshot (~0.3 s each). In the background it reads the
other snapshots and draws the followed latent at each, so the next slider step is a cache lookup. The
grid PNGs and the loss chart without its marker are cached too: a slider step redoes only what changed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from studio.core.errors import StudioError
from studio.core.images import upscale
from studio.generate.instrument import class_names
from studio.generate.latent import MAX_SEED, seed_to_z, truncate
from studio.train.runs import Run
from ui import state
from ui.checkpoint_panels import GRID_PX, LATENT_PX, TRAIN_PAGE, go_on, housekeeping, keep_valid, loss_chart, timelapse
from ui.common import runs, snapshot_bank, use_app_navigation
from ui.components import filmstrip
from ui.quality_panels import best_snapshot_panel, checkpoint_quality
from ui.widgets import class_picker, page_link, passphrase_gate, run_picker, state_badge

ROOT = Path(__file__).resolve().parents[1]


# ---- small helpers ---------------------------------------------------------------------------------
@st.cache_data(max_entries=256, show_spinner=False)
def _grid_png(path: str, mtime_ns: int) -> bytes | None:
    """The fixed-noise grid upscaled (nearest) for the screen, as PNG bytes, encoded once per file."""
    from PIL import Image

    from studio.core.images import encode_png

    try:
        with Image.open(path) as im:
            return encode_png(upscale(np.asarray(im.convert("RGB")), GRID_PX))
    except OSError:
        return None


def _grid_image(run: Run, step: int) -> bytes | None:
    path = run.sample_path(step)
    try:
        return _grid_png(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


def _latent_image(run: Run, step: int, z: np.ndarray, label: int | None) -> np.ndarray:
    return upscale(snapshot_bank(str(run.path)).image(int(step), z, label), LATENT_PX)


def chosen_latent(cfg) -> tuple[np.ndarray, int | None, str]:
    """The latent held fixed across time: a seed typed here, or the point sent from Explore.

    Returns (z (z_dim,), class label or None, a sentence saying which).
    """
    ss = st.session_state
    sent = state.sent_latent()
    if sent and ss.get("ckpt_latent_source") not in ("seed", "explore"):
        ss["ckpt_latent_source"] = "explore"
    if sent and sent != ss.get("ckpt_seen_explore"):
        # A fresh point from Explore: follow it (once; the person may switch back to a seed).
        ss["ckpt_seen_explore"] = sent
        ss["ckpt_latent_source"] = "explore"
        if sent.get("label") is not None:
            ss["ckpt_class"] = int(sent["label"])
    c1, c2, c3 = st.columns([2, 1, 1])
    if sent:
        source = c1.radio(
            "Follow",
            ["seed", "explore"],
            key="ckpt_latent_source",
            horizontal=True,
            format_func={"seed": "A seed number", "explore": "The point sent from Explore"}.get,
            help="One point in the generator's input space, held fixed while you move through time.",
        )
    else:
        source = "seed"
    seed = c2.number_input(
        "Seed",
        min_value=0,
        max_value=MAX_SEED,
        value=0,
        step=1,
        key="ckpt_seed",
        disabled=source != "seed",
        help="Each seed names one point; the same seed is the same point on any machine.",
    )
    label = None
    if cfg.conditional and cfg.num_classes:
        label = class_picker(c3, "ckpt_class", class_names(cfg), help="Which kind of picture to follow.")
    if source == "explore":
        psi = float(sent.get("psi", 1.0) or 1.0)
        if "z" in sent:
            z = np.asarray(sent["z"], np.float32).reshape(-1)
            what = "a point you sculpted in Explore"
        else:
            z = seed_to_z(int(sent.get("seed", 0)), cfg.z_dim)
            what = f"seed {int(sent.get('seed', 0))} from Explore"
        if z.size != cfg.z_dim:
            st.warning(
                f"The point from Explore has {z.size} numbers but this run's latents have {cfg.z_dim} "
                f"(it came from a different model), so seed {int(seed)} is shown instead."
            )
            return seed_to_z(int(seed), cfg.z_dim), label, f"Seed {int(seed)}"
        z = truncate(z, psi)
        c1.caption(f"Following {what}" + (f", truncation ψ {psi:.2f}" if psi != 1.0 else "") + ".")
        return z, label, "The point from Explore"
    c1.caption(
        f"Following seed {int(seed)} through every snapshot."
        + ("" if sent else " To follow a picture you found, press “Follow it through training” on the Explore page.")
    )
    return seed_to_z(int(seed), cfg.z_dim), label, f"Seed {int(seed)}"


# ---- scrubbing and comparing -----------------------------------------------------------------------
# The scrub slider and its two pictures are one filmstrip (ui/components.py): every snapshot's picture
# is in the page, so a slider step swaps pictures in the browser. Once the slider settles, its step is
# reported back and only the Compare and chart fragments rerun (the filmstrip is not sent again).
COMPARE, CHART = "ckpt_compare", "ckpt_chart"


@st.cache_data(max_entries=16, show_spinner="Drawing this point at every snapshot…")
def _latent_frames(run_path: str, stamp: tuple, z_bytes: bytes, label: int | None) -> list[bytes | None]:
    """The followed latent drawn by every snapshot, as small PNGs (the browser enlarges them).
    ~10 ms a snapshot once its weights are read; a missing snapshot is a missing frame."""
    from studio.core.images import encode_png

    bank = snapshot_bank(run_path)
    z = np.frombuffer(z_bytes, np.float32)
    out: list[bytes | None] = []
    for step, _ in stamp:
        try:
            out.append(encode_png(bank.image(step, z, label)))
        except (StudioError, OSError):
            out.append(None)
    return out


def _grid_file(run: Run, step: int) -> bytes | None:
    try:
        return run.sample_path(step).read_bytes()
    except OSError:
        return None


def _stamp(run: Run, steps: list[int]) -> tuple:
    """(step, snapshot file mtime) pairs: a snapshot rewritten under the same step is a new frame."""
    out = []
    for s in steps:
        try:
            out.append((s, run.snapshot_path(s).stat().st_mtime_ns))
        except OSError:
            out.append((s, 0))
    return tuple(out)


def _scrubbed() -> None:
    """The filmstrip settled on a step: remember it and redraw only what depends on it."""
    ss = st.session_state
    step = (ss.get("ckpt_scrub") or {}).get("step")
    if step is not None:
        ss["ckpt_step"] = int(step)
    st.rerun([COMPARE, CHART])


@st.fragment
def scrub(run_path: str, z: np.ndarray, label: int | None, what: str) -> None:
    run = Run(Path(run_path))
    steps = run.snapshot_steps()
    if not steps:
        st.info("This run has no snapshots any more.")
        return
    keep_valid("ckpt_step", steps, steps[-1])
    z = np.asarray(z, np.float32).reshape(-1)
    now, compare = st.tabs(["This moment", "Compare two moments"])
    with now:
        frames = _latent_frames(run_path, _stamp(run, steps), z.tobytes(), label)
        filmstrip(
            "ckpt_scrub",
            steps,
            steps.index(st.session_state["ckpt_step"]),
            [frames, [_grid_file(run, s) for s in steps]],
            [f"{what} at step {{step}}", "The fixed-noise grid at step {step}"],
            [LATENT_PX, GRID_PX],
            label="Training step",
            help="Each stop is a snapshot of the generator saved while it trained. "
            "Click the slider, then use the arrow keys to step through time.",
            on_change=_scrubbed,
        )
    with compare:
        compare_moments(run_path, z, label, what)
    # Read the other snapshots' weights in the background for Compare and the timelapse.
    snapshot_bank(run_path).prefetch(around=st.session_state["ckpt_step"], z=z, label=label)
    loss_chart_at_step(run_path)


@st.fragment(key=COMPARE)
def compare_moments(run_path: str, z: np.ndarray, label: int | None, what: str) -> None:
    run = Run(Path(run_path))
    steps = run.snapshot_steps()
    if not steps:
        return
    step = st.session_state.get("ckpt_step", steps[-1])
    keep_valid("ckpt_compare_step", steps, steps[0])
    other = st.select_slider(
        "Compare with step",
        options=steps,
        key="ckpt_compare_step",
        format_func=lambda s: f"{s:,}",
        help="The left side follows the Training step slider; this picks the right side.",
    )
    a, b = st.columns(2)
    for col, s in ((a, step), (b, other)):
        with col, st.container(border=True):
            st.markdown(f"**Step {s:,}**")
            try:
                st.image(_latent_image(run, s, z, label), caption=what, output_format="PNG")
            except StudioError as e:
                st.error(str(e))
            grid = _grid_image(run, s)
            if grid is not None:
                st.image(grid, caption="The fixed-noise grid", output_format="PNG")


@st.fragment(key=CHART)
def loss_chart_at_step(run_path: str) -> None:
    run = Run(Path(run_path))
    fig = loss_chart(run, int(st.session_state.get("ckpt_step", 0)))
    if fig is not None:
        st.plotly_chart(fig, key="ckpt_loss_chart", config={"displaylogo": False})
    else:
        st.caption("No losses logged yet.")
    checkpoint_quality(run, int(st.session_state.get("ckpt_step", 0)))


# ---- the page --------------------------------------------------------------------------------------------
def main() -> None:
    st.title("Checkpoints")
    all_runs = runs()
    if not all_runs:
        st.info(
            "No runs yet. Train one first: its snapshots appear here while it learns, and you can scrub "
            "back through its whole training time."
        )
        page_link(TRAIN_PAGE, label="Start a run on the Train page", icon=":material/model_training:")
        return
    st.caption(
        "Move through your model's training time, hold one point fixed and watch it grow, "
        "then keep the moment you like best and go on from there."
    )
    r = run_picker("ckpt_run", "Run", all_runs)
    if r is None:
        st.info(
            "None of your runs has saved a snapshot yet. The first one appears a few moments after training starts."
        )
        page_link(TRAIN_PAGE, label="Go to the Train page", icon=":material/model_training:")
    else:
        run = Run(Path(r.path))
        cfg = run.config
        st.markdown(
            f"{state_badge(r.state)} &nbsp; {cfg.dataset} · {cfg.model} · {cfg.loss} loss · "
            f"step **{r.step:,}** of {cfg.steps:,} · {r.snapshots} snapshots"
            + (f" · forked from {cfg.parent.get('run_id')} at step {cfg.parent.get('step'):,}" if cfg.parent else "")
        )
        z, label, what = chosen_latent(cfg)
        scrub(str(run.path), z, label, what)
        st.subheader("Timelapse")
        timelapse(str(run.path), z, label, what)
        st.subheader("Go on from here")
    unlocked = passphrase_gate("ckpt")
    if r is not None:
        go_on(r, unlocked)
        best_snapshot_panel(Run(Path(r.path)), unlocked)
    st.subheader("Housekeeping")
    housekeeping(all_runs, r.id if r else None, unlocked)


use_app_navigation()
main()
