"""Checkpoints' panels: the timelapse, going on from a checkpoint (resume, fork), housekeeping.

Widgets and the job manager's calls only; the work is ``JobManager.resume_run`` / ``fork`` / ``delete``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from studio.core.errors import StudioError
from studio.core.images import upscale
from studio.core.text import human_bytes
from studio.media.animation import gif_bytes, mp4_bytes
from studio.media.timelapse import timelapse_frames
from studio.train.runs import Run
from studio.train.state import RunSummary
from ui import state
from ui.charts import loss_spec
from ui.common import clear_samplers, job_manager, snapshot_bank
from ui.widgets import page_link, progress_bar, request

TRAIN_PAGE = "pages/train.py"
LATENT_PX = 256  # a 32 px latent is shown (and exported) at least this large, nearest-neighbour
GRID_PX = 256  # the fixed-noise grid likewise


def keep_valid(key: str, options: list, default) -> None:
    """A widget's remembered value must be one of today's options (runs change; old snapshots get pruned)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


# ---- the loss chart with a marker at the chosen step -------------------------------------------------
_MARK = -987654321  # a step no run has: where the cached chart keeps its marker until a step is chosen


@st.cache_resource(max_entries=8, show_spinner=False)
def _chart_base(run_path: str, stamp: tuple, probabilistic: bool) -> dict:
    """The loss chart as a plain dict, built once per version of metrics.jsonl (building is the slow part)."""
    rows = Run(Path(run_path)).read_metrics()
    return loss_spec(rows, marker_step=_MARK, height=360, probabilistic=probabilistic)


def loss_chart(run: Run, step: int) -> dict | None:
    """The cached chart with its marker moved to ``step`` (a new dict: the cached one is shared)."""
    try:
        stat = run.metrics_path.stat()
    except OSError:
        return None
    base = _chart_base(str(run.path), (stat.st_mtime_ns, stat.st_size), run.config.loss not in ("wgan-gp", "hinge"))
    if not base.get("data") or not any(len(t.get("x", ())) for t in base["data"]):
        return None
    shapes = [
        {**sh, "x0": step, "x1": step} if sh.get("x0") == _MARK else sh for sh in base["layout"].get("shapes", [])
    ]
    return {"data": base["data"], "layout": {**base["layout"], "shapes": shapes}}


# ---- which latent to follow -------------------------------------------------------------------------


# ---- timelapse ---------------------------------------------------------------------------------------
def _frames(run: Run, kind: str, z, label, sig, report):
    """The timelapse frames, kept in this session so a GIF and an MP4 of the same thing render once."""
    ss = st.session_state
    cached = ss.get("ckpt_tl_frames")
    if cached and cached[0] == sig:
        report(1.0, "Frames ready")
        return cached[1], cached[2]
    frames, steps = timelapse_frames(run, kind, z=z, label=label, progress=report, bank=snapshot_bank(str(run.path)))
    ss["ckpt_tl_frames"] = (sig, frames, steps)
    return frames, steps


def _export(run: Run, kind: str, z, label, sig, fps: int, fmt: str) -> None:
    """Render the frames and encode them, with a progress bar; the result is kept in the session."""
    scale = LATENT_PX if kind == "latent" else GRID_PX
    try:
        with progress_bar("Rendering the frames…") as report:
            frames, steps = _frames(run, kind, z, label, sig, lambda f, t: report(0.5 * f, t))
            encode = gif_bytes if fmt == "gif" else mp4_bytes
            labels = [f"step {s}" for s in steps]
            data = encode(
                frames, fps=fps, labels=labels, scale_to=scale, progress=lambda f, t: report(0.5 + 0.5 * f, t)
            )
    except StudioError as e:
        st.error(str(e))
        return
    width = upscale(frames[0], scale).shape[1]  # shown at its own size: a stretched video blurs
    st.session_state[f"ckpt_{fmt}"] = (sig, fps, data, width)


@st.fragment
def timelapse(run_path: str, z: np.ndarray, label: int | None, what: str) -> None:
    run = Run(Path(run_path))
    steps = run.snapshot_steps()
    c1, c2 = st.columns([1, 1])
    kind = c1.radio(
        "Play through time",
        ["grid", "latent"],
        key="ckpt_tl_kind",
        horizontal=True,
        format_func={"grid": "The fixed-noise grid", "latent": f"{what}"}.get,
    )
    fps = c2.select_slider("Speed (snapshots per second)", [1, 2, 4, 8, 12, 24], value=4, key="ckpt_tl_fps")
    st.caption(f"{len(steps)} snapshots → {len(steps) / fps:.1f} s per loop. Each frame is labelled with its step.")
    sig = (run_path, kind, tuple(steps), None if kind == "grid" else (z.tobytes(), label))
    with st.container(horizontal=True):
        # Callbacks leave a note in the session: it survives the extra rerun use_app_navigation may make.
        st.button(
            "Play",
            key="ckpt_play",
            icon=":material/play_arrow:",
            type="primary",
            help="Renders every snapshot into a looping GIF and plays it here.",
            on_click=request,
            args=("ckpt_want_gif",),
        )
        st.button(
            "Make MP4",
            key="ckpt_make_mp4",
            icon=":material/movie:",
            help="The same timelapse as a video file, for editors and phones.",
            on_click=request,
            args=("ckpt_want_mp4",),
        )
    ss = st.session_state
    name = f"{run.id}-{kind}-timelapse"
    for fmt in ("gif", "mp4"):
        if ss.pop(f"ckpt_want_{fmt}", False):
            _export(run, kind, z, label, sig, fps, fmt)
    gif = ss.get("ckpt_gif")
    if gif and gif[0] == sig:
        with st.container(key="ckpt_timelapse_player"):
            st.image(gif[2], caption=f"Timelapse at {gif[1]} frames per second (loops)")
        st.download_button(
            "Download GIF",
            gif[2],
            file_name=f"{name}.gif",
            mime="image/gif",
            key="ckpt_dl_gif",
            on_click="ignore",
            icon=":material/download:",
        )
    mp4 = ss.get("ckpt_mp4")
    if mp4 and mp4[0] == sig:
        with st.container(key="ckpt_timelapse_video"):
            st.video(mp4[2], format="video/mp4", loop=True, width=min(mp4[3], 640))
        st.download_button(
            "Download MP4",
            mp4[2],
            file_name=f"{name}.mp4",
            mime="video/mp4",
            key="ckpt_dl_mp4",
            on_click="ignore",
            icon=":material/download:",
        )
        st.caption(f"MP4: {human_bytes(len(mp4[2]))}, H.264, plays on phones and in video editors.")


# ---- go on from here: resume and fork -------------------------------------------------------------------
def _notice(kind: str, text: str, run_id: str, link: str | None = None) -> None:
    st.session_state["ckpt_notice"] = {"kind": kind, "text": text, "run": run_id, "link": link}


def _do_resume(run_id: str) -> None:
    total = st.session_state.get("ckpt_resume_total")
    try:
        job_manager().resume_run(run_id, steps=int(total) if total else None)
    except StudioError as e:
        _notice("error", str(e), run_id)
        return
    state.select_run(run_id, watch=True)
    _notice(
        "success", f"Training **{run_id}** again from its latest checkpoint, up to step {int(total):,}.", run_id, run_id
    )


def _do_fork(run_id: str) -> None:
    ss = st.session_state
    step = ss.get("ckpt_fork_step")
    lr_d = lr_g = None
    if ss.get("ckpt_fork_change_lr"):
        lr_d, lr_g = ss.get("ckpt_fork_lr_d"), ss.get("ckpt_fork_lr_g")
    try:
        new_id = job_manager().fork(run_id, step, lr_d, lr_g)
    except StudioError as e:
        _notice("error", str(e), run_id)
        return
    except OSError as e:  # the source run pruned that checkpoint while we copied it
        _notice("error", f"The checkpoint at step {step} could not be copied ({e}). Pick another one.", run_id)
        return
    state.select_run(new_id, watch=True)
    rates = f" with α (D) {lr_d:.2e} and β (G) {lr_g:.2e}" if lr_d is not None else ""
    _notice(
        "success",
        f"New run **{new_id}** continues from step {step:,} of {run_id}{rates}. "
        "It is training now (or waiting its turn).",
        run_id,
        new_id,
    )


def go_on(r: RunSummary, unlocked: bool) -> None:
    """Resume this run from its latest checkpoint, or fork a new run from one of its checkpoints."""
    run = Run(Path(r.path))
    cfg = run.config
    ckpts = run.checkpoint_steps()
    busy = r.state.is_active or r.external
    note = st.session_state.get("ckpt_notice")
    if note and note["run"] == r.id:
        (st.success if note["kind"] == "success" else st.error)(note["text"])
        if note.get("link"):
            state.select_run(note["link"])
            page_link(TRAIN_PAGE, label=f"Watch {note['link']} on the Train page", icon=":material/model_training:")
    if not unlocked:
        return
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("**Resume training**")
        latest = ckpts[-1] if ckpts else 0
        if busy:
            st.caption(f"This run is {r.state} right now: pause or stop it on the Train page.")
        else:
            finished = latest >= cfg.steps
            default = cfg.steps * 2 if finished else cfg.steps
            st.caption(
                f"Goes on from its latest full checkpoint (step {latest:,}); it was set to train "
                f"{cfg.steps:,} steps." + (" It finished: raise the total to train further." if finished else "")
            )
            st.number_input(
                "Train until step",
                min_value=latest + 1,
                value=max(default, latest + 1),
                step=100,
                key="ckpt_resume_total",
            )
            st.button(
                "Resume training",
                key="ckpt_resume",
                icon=":material/play_arrow:",
                type="primary",
                on_click=_do_resume,
                args=(r.id,),
            )
    with right, st.container(border=True):
        st.markdown("**Fork from this checkpoint**")
        if not ckpts:
            st.caption("This run has no full checkpoint yet, so it cannot be forked.")
        else:
            st.caption(
                "A fork is a new run that starts from a full checkpoint of this one, with the same recipe "
                "(you may change the learning rates). Full checkpoints hold the whole training state, so "
                "only the latest few are kept: you can fork from fewer moments than you can look at. "
                f"This run has them at step{'s' if len(ckpts) > 1 else ''} "
                f"{', '.join(f'{s:,}' for s in ckpts)}."
            )
            keep_valid("ckpt_fork_step", ckpts, ckpts[-1])
            st.selectbox("Checkpoint", ckpts, key="ckpt_fork_step", format_func=lambda s: f"step {s:,}")
            change = st.checkbox(
                "Change the learning rates",
                key="ckpt_fork_change_lr",
                help="Often the fix when training wobbles: lower α or β by 2 to 10 times.",
            )
            if change:
                a, b = st.columns(2)
                a.number_input(
                    "α (D)",
                    min_value=1e-6,
                    max_value=0.1,
                    value=float(cfg.lr_d),
                    step=1e-5,
                    format="%.2e",
                    key="ckpt_fork_lr_d",
                    help="Learning rate of the judge (discriminator).",
                )
                b.number_input(
                    "β (G)",
                    min_value=1e-6,
                    max_value=0.1,
                    value=float(cfg.lr_g),
                    step=1e-5,
                    format="%.2e",
                    key="ckpt_fork_lr_g",
                    help="Learning rate of the generator.",
                )
            st.button(
                "Fork from this checkpoint",
                key="ckpt_fork",
                icon=":material/fork_right:",
                on_click=_do_fork,
                args=(r.id,),
            )


# ---- housekeeping ---------------------------------------------------------------------------------------
def _do_delete() -> None:
    ss = st.session_state
    rid = ss.get("ckpt_delete_run")
    ss["ckpt_delete_confirm"] = False
    try:
        run = Run.open(rid)
        path = str(run.path)
        job_manager().delete(rid)
    except StudioError as e:
        ss["ckpt_delete_msg"] = ("error", str(e))
        return
    except OSError as e:
        ss["ckpt_delete_msg"] = ("error", f"Some files of {rid} could not be removed ({e}).")
        return
    # Free the generators loaded from the deleted run (only its entries: other sessions keep theirs).
    snapshot_bank.clear(path)
    clear_samplers()
    for k in ("ckpt_tl_frames", "ckpt_gif", "ckpt_mp4"):
        ss.pop(k, None)
    state.forget_run(rid)
    ss["ckpt_delete_msg"] = ("success", f"Deleted {rid}.")


def housekeeping(all_runs: list[RunSummary], current: str | None, unlocked: bool) -> None:
    """Every run with its size on disk, and deleting one (after a confirmation)."""
    sizes = {r.id: Run(Path(r.path)).disk_bytes() for r in all_runs}
    with st.container(key="ckpt_runs_table"):
        st.dataframe(
            [
                {
                    "Run": r.id,
                    "State": str(r.state),
                    "Step": f"{r.step:,} / {r.steps:,}",
                    "Snapshots": r.snapshots,
                    "Forked from": (r.parent or {}).get("run_id", ""),
                    "On disk": human_bytes(sizes[r.id]),
                }
                for r in all_runs
            ],
            hide_index=True,
        )
        st.caption(
            f"{len(all_runs)} run{'s' if len(all_runs) != 1 else ''}, "
            f"{human_bytes(sum(sizes.values()))} on disk in total."
        )
    msg = st.session_state.pop("ckpt_delete_msg", None)
    if msg:
        (st.success if msg[0] == "success" else st.error)(msg[1])
    if not unlocked:
        st.caption("Enter the passphrase above to delete runs.")
        return
    ids = [r.id for r in all_runs]
    keep_valid("ckpt_delete_run", ids, current if current in ids else ids[0])
    c1, c2 = st.columns([2, 1])
    rid = c1.selectbox(
        "Run to delete", ids, key="ckpt_delete_run", format_func=lambda i: f"{i}  ·  {human_bytes(sizes[i])}"
    )
    sure = c1.checkbox(f"Yes, delete {rid} and all its files. This cannot be undone.", key="ckpt_delete_confirm")
    c2.button("Delete run", key="ckpt_delete", icon=":material/delete:", disabled=not sure, on_click=_do_delete)
