"""Checkpoints: scrub through a run's training time, compare moments, make timelapses, go on from one.

The same latent is held fixed while the slider walks through the run's snapshots, so what changes on
screen is only what the generator learned. Scrubbing lives in an ``st.fragment`` so moving the slider
reruns only that part of the page, and draws through a ``studio.export.SnapshotBank`` per run (a
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
from studio.generate.latent import seed_to_z, truncate
from studio.media.animation import SnapshotBank, gif_bytes, mp4_bytes, timelapse_frames
from studio.train.runs import Run, human_bytes
from ui.charts import loss_spec
from ui.common import (
    clear_samplers,
    job_manager,
    passphrase_ok,
    pick_run,
    runs,
    state_badge,
    use_app_navigation,
)
from ui.components import filmstrip

ROOT = Path(__file__).resolve().parents[1]
TRAIN_PAGE = "pages/train.py"
LATENT_PX = 256  # a 32 px latent is shown (and exported) at least this large, nearest-neighbour
GRID_PX = 256  # the fixed-noise grid likewise
ACTIVE = ("queued", "starting", "running", "paused", "stopping")
MAX_SEED = 2**31 - 1


# ---- small helpers ---------------------------------------------------------------------------------
def _train_link(label: str = "Go to the Train page") -> None:
    if (ROOT / TRAIN_PAGE).exists():
        st.page_link(TRAIN_PAGE, label=label, icon=":material/model_training:")


@st.cache_resource(max_entries=3, show_spinner=False)
def snapshot_bank(run_path: str) -> SnapshotBank:
    """One generator per run, moved through its snapshots (shared by every session; thread-safe)."""
    return SnapshotBank(Path(run_path))


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


def _keep_valid(key: str, options: list[int], default: int) -> None:
    """A slider's remembered value must be one of today's options (runs change; old snapshots get pruned)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


# ---- which latent to follow -------------------------------------------------------------------------
def chosen_latent(cfg) -> tuple[np.ndarray, int | None, str]:
    """The latent held fixed across time: a seed typed here, or the point sent from Explore.

    Returns (z (z_dim,), class label or None, a sentence saying which).
    """
    ss = st.session_state
    sent = ss.get("explore_latent")
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
        if ss.get("ckpt_class") not in range(cfg.num_classes):
            ss["ckpt_class"] = 0
        label = c3.selectbox(
            "Class", list(range(cfg.num_classes)), key="ckpt_class", format_func=lambda i: f"class {i}"
        )
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
    _keep_valid("ckpt_step", steps, steps[-1])
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
    _keep_valid("ckpt_compare_step", steps, steps[0])
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


def _progress_bar(text: str):
    bar = st.progress(0.0, text=text)
    return bar, (lambda f, t: bar.progress(min(max(f, 0.0), 1.0), text=t))


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
    bar, report = _progress_bar("Rendering the frames…")
    scale = LATENT_PX if kind == "latent" else GRID_PX
    try:
        frames, steps = _frames(run, kind, z, label, sig, lambda f, t: report(0.5 * f, t))
        encode = gif_bytes if fmt == "gif" else mp4_bytes
        data = encode(
            frames,
            fps=fps,
            labels=[f"step {s}" for s in steps],
            scale_to=scale,
            progress=lambda f, t: report(0.5 + 0.5 * f, t),
        )
    except StudioError as e:
        st.error(str(e))
        return
    finally:
        bar.empty()
    width = upscale(frames[0], scale).shape[1]  # shown at its own size: a stretched video blurs
    st.session_state[f"ckpt_{fmt}"] = (sig, fps, data, width)


def _request(fmt: str) -> None:
    st.session_state[f"ckpt_want_{fmt}"] = True


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
            on_click=_request,
            args=("gif",),
        )
        st.button(
            "Make MP4",
            key="ckpt_make_mp4",
            icon=":material/movie:",
            help="The same timelapse as a video file, for editors and phones.",
            on_click=_request,
            args=("mp4",),
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
    st.session_state["selected_run"] = st.session_state["train_view"] = run_id
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
    ss["selected_run"] = ss["train_view"] = new_id
    rates = f" with α (D) {lr_d:.2e} and β (G) {lr_g:.2e}" if lr_d is not None else ""
    _notice(
        "success",
        f"New run **{new_id}** continues from step {step:,} of {run_id}{rates}. "
        "It is training now (or waiting its turn).",
        run_id,
        new_id,
    )


def go_on(r: dict, unlocked: bool) -> None:
    run = Run(Path(r["path"]))
    cfg = run.config
    ckpts = run.checkpoint_steps()
    busy = r["state"] in ACTIVE or r.get("external")
    note = st.session_state.get("ckpt_notice")
    if note and note["run"] == r["id"]:
        (st.success if note["kind"] == "success" else st.error)(note["text"])
        if note.get("link"):
            st.session_state["selected_run"] = note["link"]
            _train_link(f"Watch {note['link']} on the Train page")
    if not unlocked:
        return
    left, right = st.columns(2)
    with left, st.container(border=True):
        st.markdown("**Resume training**")
        latest = ckpts[-1] if ckpts else 0
        if busy:
            st.caption(f"This run is {r['state']} right now: pause or stop it on the Train page.")
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
                args=(r["id"],),
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
            _keep_valid("ckpt_fork_step", ckpts, ckpts[-1])
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
                args=(r["id"],),
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
    if ss.get("selected_run") == rid:
        ss.pop("selected_run")
    ss["ckpt_delete_msg"] = ("success", f"Deleted {rid}.")


def housekeeping(all_runs: list[dict], current: str | None, unlocked: bool) -> None:
    sizes = {r["id"]: Run(Path(r["path"])).disk_bytes() for r in all_runs}
    with st.container(key="ckpt_runs_table"):
        st.dataframe(
            [
                {
                    "Run": r["id"],
                    "State": r["state"],
                    "Step": f"{r['step']:,} / {r['steps']:,}",
                    "Snapshots": r["snapshots"],
                    "Forked from": (r["parent"] or {}).get("run_id", ""),
                    "On disk": human_bytes(sizes[r["id"]]),
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
    ids = [r["id"] for r in all_runs]
    _keep_valid("ckpt_delete_run", ids, current if current in ids else ids[0])
    c1, c2 = st.columns([2, 1])
    rid = c1.selectbox(
        "Run to delete", ids, key="ckpt_delete_run", format_func=lambda i: f"{i}  ·  {human_bytes(sizes[i])}"
    )
    sure = c1.checkbox(f"Yes, delete {rid} and all its files. This cannot be undone.", key="ckpt_delete_confirm")
    c2.button("Delete run", key="ckpt_delete", icon=":material/delete:", disabled=not sure, on_click=_do_delete)


# ---- the page --------------------------------------------------------------------------------------------
def main() -> None:
    st.title("Checkpoints")
    all_runs = runs()
    if not all_runs:
        st.info(
            "No runs yet. Train one first: its snapshots appear here while it learns, and you can scrub "
            "back through its whole training time."
        )
        _train_link("Start a run on the Train page")
        return
    st.caption(
        "Move through your model's training time, hold one point fixed and watch it grow, "
        "then keep the moment you like best and go on from there."
    )
    r = pick_run("ckpt_run", "Run")
    if r is None:
        st.info(
            "None of your runs has saved a snapshot yet. The first one appears a few moments after training starts."
        )
        _train_link()
    else:
        run = Run(Path(r["path"]))
        cfg = run.config
        st.markdown(
            f"{state_badge(r['state'])} &nbsp; {cfg.dataset} · {cfg.model} · {cfg.loss} loss · "
            f"step **{r['step']:,}** of {cfg.steps:,} · {r['snapshots']} snapshots"
            + (f" · forked from {cfg.parent.get('run_id')} at step {cfg.parent.get('step'):,}" if cfg.parent else "")
        )
        z, label, what = chosen_latent(cfg)
        scrub(str(run.path), z, label, what)
        st.subheader("Timelapse")
        timelapse(str(run.path), z, label, what)
        st.subheader("Go on from here")
    unlocked = passphrase_ok("ckpt")
    if r is not None:
        go_on(r, unlocked)
    st.subheader("Housekeeping")
    housekeeping(all_runs, r["id"] if r else None, unlocked)


use_app_navigation()
main()
