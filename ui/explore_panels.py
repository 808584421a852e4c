"""Explore's panels below the instrument: journeys, "Open a PNG", and the generator to take along.

Widgets only: paths and encoding come from ``studio.media.journeys``, recipes from
``studio.generate.recipe``, the ``.keras`` file from ``studio.media.model``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import streamlit as st

from studio.core.errors import StudioError
from studio.core.images import encode_png, enlarge_by, whole_factor
from studio.generate.directions import Directions
from studio.generate.instrument import SHOWN_DIRECTIONS, picture_png, variations_png
from studio.generate.latent import MAX_SEED, seed_to_z, truncate
from studio.generate.recipe import Recipe, png_with_recipe, read_png, regenerate
from studio.media.journeys import along_direction, between_seeds, make_journey
from ui import state
from ui.common import sampler
from ui.widgets import page_link, progress_bar, request

IMAGE_PX = 256  # pictures are enlarged (whole factor, nearest neighbour) to about this


# ---- nothing to explore yet ---------------------------------------------------------------------------
def no_runs(any_runs: bool) -> None:
    if any_runs:
        st.info(
            "None of your runs has saved a snapshot yet. The first one appears a few moments after "
            "training starts; come back then to play with it."
        )
    else:
        st.info(
            "There is nothing to explore yet: train a generator first, then come back here to play with "
            "what it learned."
        )
    page_link("pages/train.py", label="Go to the Train page", icon=":material/model_training:")


# ---- downloads and the hand-over to Checkpoints ----------------------------------------------------
def _send_to_checkpoints() -> None:
    """The picture's point, as Checkpoints reads it: the seed if no slider moved, else the latent itself."""
    latest = st.session_state["_explore_latest"]
    r = latest["recipe"]
    moved = latest["moved"]
    state.send_latent(state.SentLatent(seed=r.seed, z=r.z if moved else None, psi=r.psi, label=r.label))
    state.select_run(r.run_id)
    st.session_state["_explore_go_ckpt"] = True


def _latest_png(latest: dict) -> bytes:
    """The picture on screen as a PNG with its recipe (made when a download asks for it)."""
    if "png" not in latest:
        latest["png"] = picture_png(latest["image"], latest["recipe"])
    return latest["png"]


def exports(run_path: str, step: int, seed: int, checkpoints_page: str) -> None:
    """Downloads and the hand-over to Checkpoints. Drawn with the seed, not on every slider move:
    they read the latest picture from the session when clicked (downloads are generated on click)."""
    latest = st.session_state.setdefault("_explore_latest", {})
    smp = sampler(run_path, step)
    stem = f"{Path(run_path).name}-step{step}-seed{seed}"
    st.download_button(
        "Download PNG",
        lambda: _latest_png(latest),
        file_name=f"{stem}.png",
        mime="image/png",
        key="dl_png",
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
        help="The picture as you see it, with its recipe inside: open it below to make it again.",
    )
    st.download_button(
        "Download variations",
        lambda: variations_png(smp, latest["recipe"]),
        file_name=f"{stem}-variations.png",
        mime="image/png",
        key="dl_grid",
        on_click="ignore",
        icon=":material/grid_view:",
        width="stretch",
        help="This picture (top left) and 15 close relatives, with the recipe of each.",
    )
    st.toggle("Show variations", key="explore_show_variations")
    if (Path(__file__).resolve().parents[1] / checkpoints_page).exists():
        st.button(
            "Follow it through training",
            key="explore_to_ckpt",
            icon=":material/history:",
            width="stretch",
            on_click=_send_to_checkpoints,
            help="Open Checkpoints with this exact point held fixed over training time.",
        )
        if st.session_state.pop("_explore_go_ckpt", False):
            st.switch_page(checkpoints_page)


# ---- journeys ---------------------------------------------------------------------------------------
@st.fragment
def journeys(run_path: str, step: int, dirs: Directions | None, default_seed: int) -> None:
    """Travel between two seeds or along a direction; play it here, download it as GIF or MP4."""
    ss = st.session_state
    smp = sampler(run_path, step)
    cfg = smp.cfg
    modes = ["seeds"] + (["direction"] if dirs is not None else [])
    if ss.get("journey_mode") not in modes:
        ss["journey_mode"] = "seeds"
    ss.setdefault("journey_a", int(ss.get("explore_seed", default_seed)))
    ss.setdefault("journey_b", int(ss.get("explore_seed", default_seed)) + 1)
    ss.setdefault("journey_frames", 24)
    ss.setdefault("journey_fps", 12)
    ss.setdefault("journey_loop", True)
    ss.setdefault("journey_reach", 2.5)
    mode = st.radio(
        "Travel",
        modes,
        key="journey_mode",
        horizontal=True,
        format_func={"seeds": "Between two seeds", "direction": "Along a direction"}.get,
    )
    c1, c2, c3, c4 = st.columns(4, vertical_alignment="bottom")
    if mode == "seeds":
        a = c1.number_input("From seed", min_value=0, max_value=MAX_SEED, step=1, key="journey_a")
        b = c2.number_input("To seed", min_value=0, max_value=MAX_SEED, step=1, key="journey_b")
    else:
        n_dirs = min(SHOWN_DIRECTIONS, len(dirs))
        if ss.get("journey_dir") not in range(n_dirs):
            ss["journey_dir"] = 0
        d = c1.selectbox(
            "Direction", list(range(n_dirs)), key="journey_dir", format_func=lambda i: f"Direction {i + 1}"
        )
        reach = c2.slider(
            "How far (σ)",
            0.5,
            4.0,
            step=0.5,
            key="journey_reach",
            help="From minus this many standard deviations to plus this many, around your picture.",
        )
    n = c3.number_input("Frames", min_value=4, max_value=240, step=1, key="journey_frames")
    fps = c4.number_input("Frames per second", min_value=1, max_value=30, step=1, key="journey_fps")
    loop = st.checkbox("Come back to the start (a seamless loop)", key="journey_loop")
    psi = float(ss.get("psi", 1.0))
    label = ss.get("explore_class") if cfg.conditional else None

    st.button(
        "Make the journey",
        key="journey_make",
        type="primary",
        icon=":material/movie:",
        on_click=request,
        args=("_journey_requested",),
    )
    if ss.pop("_journey_requested", False):
        if mode == "seeds":
            zs, title = between_seeds(cfg.z_dim, int(a), int(b), psi, int(n), loop)
        else:
            held = ss.get("_explore_z")
            start = (
                held[2] if held and held[:2] == (run_path, step) else truncate(seed_to_z(default_seed, cfg.z_dim), psi)
            )
            zs, title = along_direction(start, dirs, d, float(reach), int(n), loop)
        try:
            with progress_bar("Drawing the frames…") as report:
                j = make_journey(smp, zs, title, label, int(fps), IMAGE_PX, report)
        except StudioError as e:
            st.error(str(e))
            return
        ss["journey"] = {
            "where": (run_path, step),
            "title": j.title,
            "frames": j.frames,
            "zs": j.zs,
            "gif": j.gif,
            "mp4": j.mp4,
            "label": j.label,
            "fps": j.fps,
        }
        ss["journey_frame"] = 1

    j = ss.get("journey")
    if not j or j["where"] != (run_path, step):
        st.caption(
            "Pick two seeds (or a direction) and press **Make the journey**: it plays here as a looping "
            "animation and downloads as GIF or MP4."
        )
        return
    run_id = Path(run_path).name
    name = f"{run_id}-step{step}-journey"
    play, scrub = st.columns(2, gap="large")
    with play:
        with st.container(key="journey_player"):
            st.image(j["gif"])
        st.caption(f"Journey: {j['title']} · {len(j['frames'])} frames at {j['fps']} fps")
        d1, d2 = st.columns(2)
        d1.download_button(
            "Download GIF",
            j["gif"],
            file_name=f"{name}.gif",
            mime="image/gif",
            key="dl_gif",
            on_click="ignore",
            icon=":material/gif_box:",
            width="stretch",
        )
        d2.download_button(
            "Download MP4",
            j["mp4"],
            file_name=f"{name}.mp4",
            mime="video/mp4",
            key="dl_mp4",
            on_click="ignore",
            icon=":material/movie:",
            width="stretch",
        )
    with scrub:
        count = len(j["frames"])
        if not 1 <= int(ss.get("journey_frame", 1)) <= count:
            ss["journey_frame"] = 1
        f = st.slider("Frame", 1, count, key="journey_frame", help="Step through the journey frame by frame.")
        k = whole_factor(cfg.image_size, IMAGE_PX)
        lab = j["label"]
        z = np.asarray(j["zs"][f - 1], np.float32)
        # Drawn again alone (one call, as the recipe regenerates it): a frame from a batched call is
        # not guaranteed to match a single-image call bit for bit on every CPU.
        frame = smp.generate(z[None], None if lab is None else np.array([lab], np.int32))[0]
        recipe = Recipe(run_id=run_id, step=step, z=z.tolist(), seed=None, psi=1.0, label=lab, scale=k)
        png = png_with_recipe(enlarge_by(frame, k), recipe)
        with st.container(key="journey_frame_image"):
            st.image(png, output_format="PNG", caption=f"Frame {f} of {count}")
        st.download_button(
            "Download this frame (PNG)",
            png,
            file_name=f"{name}-frame{f}.png",
            mime="image/png",
            key="dl_frame",
            on_click="ignore",
            icon=":material/download:",
        )


# ---- open a PNG: recipes back in ----------------------------------------------------------------------
def _continue_from(recipe: Recipe, reset_sliders) -> None:
    """Put a recipe's settings into the widgets (a callback: runs before the page draws them)."""
    ss = st.session_state
    ss[state.EXPLORE_RUN] = recipe.run_id
    state.select_run(recipe.run_id)
    ss[state.EXPLORE_STEP] = recipe.step
    if recipe.seed is not None:
        ss["explore_seed"] = recipe.seed
    ss["psi"] = recipe.psi
    if recipe.label is not None:
        ss["explore_class"] = recipe.label
    reset_sliders()
    for i, v in recipe.direction_offsets.items():
        ss[f"dir_{i}"] = float(v)
    dims = {int(i): float(v) for i, v in recipe.dim_offsets.items()}
    if dims:
        ss["k_dims"] = max(int(ss.get("k_dims", 0)), max(dims) + 1)
    for i, v in dims.items():
        ss[f"zdim_{i}"] = v
    ss["_explore_keep"] = {}
    ss["_explore_full_rerun"] = True


@st.fragment
def open_png(reset_sliders) -> None:
    """Drop a downloaded PNG: its recipe is read and the picture made again beside it."""
    up = st.file_uploader(
        "Open a PNG",
        type=["png"],
        key="open_png",
        label_visibility="collapsed",
        help="A picture downloaded from this page carries its recipe; open it to make it again.",
    )
    if up is None:
        st.caption("Drop a PNG you downloaded here: the studio reads its recipe and draws it again.")
        return
    try:
        pixels, recipe = read_png(up.getvalue())
        again = regenerate(recipe, lambda path, step: sampler(str(path), int(step)))
    except StudioError as e:
        st.error(str(e))
        return
    same = pixels.shape == again.shape and np.array_equal(pixels, again)
    a, b, c = st.columns([1, 1, 1.3])
    a.image(encode_png(pixels), caption="Your file", output_format="PNG")
    with b, st.container(key="recipe_image"):
        st.image(encode_png(again), caption="Made again from its recipe", output_format="PNG")
    with c:
        if same:
            st.success("Made again from the recipe: identical to your file, pixel for pixel.")
        else:
            st.warning(
                "Made again from the recipe, but some pixels differ from your file: it was probably made "
                "on another computer or TensorFlow version, which round numbers slightly differently."
            )
        st.caption(f"Recipe: {recipe.describe()}.")
        if recipe.kind == "image" and recipe.seed is not None:
            st.button(
                "Continue exploring from here",
                key="recipe_continue",
                on_click=_continue_from,
                args=(recipe, reset_sliders),
                icon=":material/open_in_new:",
                help="Set the seed, ψ, class and sliders above to this recipe.",
            )
            if st.session_state.pop("_explore_full_rerun", False):
                st.rerun()  # the run and snapshot pickers live outside this fragment


# ---- take the generator along -------------------------------------------------------------------------
def generator_download(run_path: str, step: int, dirs: Directions | None, names: list[str], seed: int) -> None:
    """The snapshot's generator as a Keras file, and as the "Take it with you" page (one HTML file
    that draws offline, ``studio.media.standalone``). Both are made on click and write nothing on
    the server, so a passphrase does not guard them (``ui.widgets.may_write`` is for changes)."""

    def make() -> bytes:
        from studio.media.model import export_generator

        with tempfile.TemporaryDirectory(prefix="studio-export-") as tmp:
            out = export_generator(Path(run_path), Path(tmp) / "generator.keras", step)
            return out.read_bytes()

    st.download_button(
        "Download the generator (.keras)",
        make,
        file_name=f"{Path(run_path).name}-step{step}.keras",
        mime="application/octet-stream",
        key="dl_keras",
        on_click="ignore",
        icon=":material/download:",
        help="The snapshot's generator as a Keras 3 file: keras.saving.load_model(path) loads it "
        "anywhere, and calling it on latents draws pictures.",
    )
    from studio.generate.web import ServerOnly
    from studio.media.standalone import standalone_html

    smp = sampler(run_path, step)

    def page() -> bytes:
        made = standalone_html(smp, dirs, names if smp.cfg.conditional else None, seed=int(seed))
        if isinstance(made, ServerOnly):  # the button is not offered then; a race is one sentence
            return made.reason.encode("utf-8")
        return made[0].encode("utf-8")

    why = _web_unsupported(smp)
    if why:
        st.caption(why)
        return
    st.download_button(
        "Take it with you (.html)",
        page,
        file_name=f"{Path(run_path).name}-step{step}.html",
        mime="text/html",
        key="dl_takeaway",
        on_click="ignore",
        icon=":material/travel_explore:",
        help="One web page that draws this snapshot's pictures by itself, opened from disk with no "
        "server and no network: seed, ψ, direction sliders, class, PNG download with the recipe.",
    )


@st.cache_data(max_entries=32, show_spinner=False)
def _unsupported_reason(run_path: str, step: int, mtime: int) -> str | None:
    from studio.generate.web import unsupported_reason

    return unsupported_reason(sampler(run_path, step))


def _web_unsupported(smp) -> str | None:
    try:
        mtime = smp.run.snapshot_path(smp.step).stat().st_mtime_ns
    except OSError:
        mtime = 0
    return _unsupported_reason(str(smp.run.path), int(smp.step), mtime)


# ---- GANSpace directions of a snapshot ---------------------------------------------------------------
def snapshot_directions(run_path: str, step: int, smp) -> Directions | None:
    """GANSpace directions of this snapshot: from the session, the file beside the snapshot, or computed once."""
    from studio.generate.directions import directions_for
    from studio.train.runs import Run

    ss = st.session_state
    try:  # a resumed run rewrites its snapshots: a new file gets its own directions
        mtime = Run(Path(run_path)).snapshot_path(step).stat().st_mtime_ns
    except (OSError, StudioError):
        mtime = 0
    key = (run_path, step, mtime)
    held = ss.get("_explore_dirs")
    if held and held[0] == key:
        return held[1]
    d = None
    with progress_bar("Finding this snapshot's main directions (only the first time)…") as report:
        try:
            d = directions_for(smp, progress=report)
        except StudioError as e:
            st.warning(str(e))
    ss["_explore_dirs"] = (key, d)
    return d
