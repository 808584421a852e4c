"""Explore: play a trained generator like an instrument.

A seed names a point in the generator's input space (the same seed is the same picture on any
machine with the same snapshot); sliders move that point along single latent dimensions and along
the generator's own main directions of variation (GANSpace, Härkönen et al. 2020, in
``studio.directions``); journeys animate a path between two seeds or along a direction; every
export is a PNG whose recipe (``studio.recipe``) makes it again.

Thin page: widgets → studio → render. Images come from ``ui.common.sampler`` (a generator instance of
its own, called inside a ``tf.function``). The picture and its sliders are one page part
(``ui.components.latentpad``): every answer carries the pictures one slider step to either side of
each slider, so a slider step shows its picture at once, and the exact answer follows from a rerun
of the picture fragment alone.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import streamlit as st

from studio.core.errors import StudioError
from studio.core.images import encode_png, enlarge_by, make_grid
from studio.generate.directions import Directions, directions_for
from studio.generate.latent import (
    MAX_SEED,
    add_offsets,
    line_path,
    random_seed,
    seed_to_z,
    slerp_path,
    truncate,
    variation_latents,
)
from studio.generate.recipe import Recipe, png_with_recipe, read_png, regenerate
from studio.train.runs import Run
from ui.common import page_link, pick_run, runs, sampler, use_app_navigation
from ui.components import latent_state_key, latentpad

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS_PAGE = "pages/checkpoints.py"
PICTURE = "explore_picture"  # key of the picture fragment: slider callbacks rerun only it
IMAGE_PX = 256  # the main image is enlarged (whole factor, nearest neighbour) to about this
STRIP_TILE_PX = 48  # each thumbnail of a direction's preview strip
STRIP_STEPS = (-2.0, -1.0, 0.0, 1.0, 2.0)  # standard deviations previewed by a strip
SLIDER_RANGE = 3.0  # sliders go from -3 to +3 (standard deviations / latent units)
SHOWN_DIRECTIONS = 8
PREFETCH_ACTIVE = 3  # slider steps prefetched to either side of the slider last moved (others: 1)
VARIATIONS = 16  # tiles of the variations grid (4 x 4, the first is the image itself)
VARIATION_STRENGTH = 0.35
DEFAULT_SEED = 1
# Every picture here is pixel art: keep pixels square when the browser has to scale an image.
PIXEL_CSS = "<style>[data-testid='stMain'] [data-testid='stImage'] img { image-rendering: pixelated; }</style>"
# Widget values that should survive a visit to another page (Streamlit forgets unrendered widgets).
KEEP = ("explore_seed", "psi", "explore_class", "k_dims")


# ---- small helpers -------------------------------------------------------------------------------
def _scale(size: int, target: int = IMAGE_PX) -> int:
    return max(1, target // max(size, 1))


def _class_names(cfg) -> list[str]:
    """Names of a conditional run's classes: the built-in dataset's names when known, else numbers."""
    from studio import data

    names = data.class_names(cfg.dataset)
    if len(names) != cfg.num_classes:
        names = [f"class {i}" for i in range(cfg.num_classes)]
    return names


def _remember() -> None:
    ss = st.session_state
    ss["_explore_keep"] = {k: ss[k] for k in KEEP if k in ss} | {
        k: ss[k] for k in ss if isinstance(k, str) and k.startswith(("dir_", "zdim_"))
    }


def _restore() -> None:
    """Bring back slider values after a visit to another page."""
    ss = st.session_state
    for k, v in ss.get("_explore_keep", {}).items():
        if k not in ss:
            ss[k] = v
            _bump_version()


def _progress(text: str):
    bar = st.progress(0.0, text=text)
    return bar, (lambda f, t: bar.progress(min(max(float(f), 0.0), 1.0), text=t))


def _surprise() -> None:
    st.session_state["explore_seed"] = random_seed()


# Buttons act through callbacks that leave a note in the session: a note survives the extra rerun
# ui.common.use_app_navigation may make, where a button's own True would be lost.
def _request(flag: str) -> None:
    st.session_state[flag] = True


def _send_to_checkpoints() -> None:
    """The picture's point, as Checkpoints reads it: the seed if no slider moved, else the latent itself."""
    ss = st.session_state
    r: Recipe = ss["_explore_latest"]["recipe"]
    moved = ss["_explore_latest"]["moved"]
    ss["explore_latent"] = ({"z": r.z, "psi": 1.0} if moved else {"seed": r.seed, "psi": r.psi}) | {"label": r.label}
    ss["selected_run"] = r.run_id
    ss["_explore_go_ckpt"] = True


def _reset_sliders() -> None:
    ss = st.session_state
    for k in list(ss.keys()):
        if isinstance(k, str) and k.startswith(("dir_", "zdim_")):
            ss[k] = 0.0
    _bump_version()


def _directions(run_path: str, step: int, smp) -> Directions | None:
    """GANSpace directions of this snapshot: from the session, the file beside the snapshot, or computed once."""
    ss = st.session_state
    try:  # a resumed run rewrites its snapshots: a new file gets its own directions
        mtime = Run(Path(run_path)).snapshot_path(step).stat().st_mtime_ns
    except (OSError, StudioError):
        mtime = 0
    key = (run_path, step, mtime)
    held = ss.get("_explore_dirs")
    if held and held[0] == key:
        return held[1]
    bar, report = _progress("Finding this snapshot's main directions (only the first time)…")
    try:
        d = directions_for(smp, progress=report)
    except StudioError as e:
        st.warning(str(e))
        d = None
    finally:
        bar.empty()
    ss["_explore_dirs"] = (key, d)
    return d


@st.cache_data(max_entries=64, show_spinner=False)
def _strips(
    run_path: str, step: int, snapshot_hash: str, seed: int, psi: float, label: int | None, n: int, _dirs: Directions
) -> list[bytes]:
    """PNG strips: for each direction, the seed's image at -2..+2 standard deviations along it.

    Cached on the seed (not on the slider values) so moving a slider does not redraw them.
    """
    smp = sampler(run_path, step)
    base = truncate(seed_to_z(seed, smp.z_dim), psi)
    zs = np.stack([_dirs.apply(base, {i: s}) for i in range(n) for s in STRIP_STEPS])
    labels = None if label is None else np.full(len(zs), label, np.int32)
    tiles = smp.generate(zs, labels)
    k = _scale(smp.cfg.image_size, STRIP_TILE_PX)
    out = []
    for i in range(n):
        strip = make_grid(tiles[i * len(STRIP_STEPS) : (i + 1) * len(STRIP_STEPS)], ncols=len(STRIP_STEPS), pad=1)
        out.append(encode_png(enlarge_by(strip, k)))
    return out


# ---- no runs yet ------------------------------------------------------------------------------------
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


# ---- the instrument (one fragment: slider moves rerun only this) -----------------------------------
def _latent_controls(cfg, class_names: list[str]) -> tuple[int, float, int | None]:
    ss = st.session_state
    ss.setdefault("explore_seed", DEFAULT_SEED)
    ss.setdefault("psi", 1.0)
    c1, c2, c3, c4 = st.columns([1.1, 0.8, 1.6, 1.4], vertical_alignment="bottom")
    seed = c1.number_input(
        "Seed",
        min_value=0,
        max_value=MAX_SEED,
        step=1,
        key="explore_seed",
        help="Each seed names one picture; the same seed gives the same picture on any machine.",
    )
    c2.button(
        "Surprise me", key="surprise", on_click=_surprise, icon=":material/casino:", help="Jump to a random seed."
    )
    psi = c3.slider(
        "Truncation ψ",
        0.0,
        1.5,
        step=0.05,
        key="psi",
        help="Below 1 pulls the picture towards the generator's average: safer, less varied. Above 1: wilder.",
    )
    label = None
    if cfg.conditional and cfg.num_classes:
        if ss.get("explore_class") not in range(cfg.num_classes):
            ss["explore_class"] = 0
        label = c4.selectbox(
            "Class",
            list(range(cfg.num_classes)),
            key="explore_class",
            format_func=lambda i: class_names[i],
            help="Which kind of picture to draw.",
        )
    return int(seed), float(psi), label


def _slider_keys(dirs: Directions | None) -> list[str]:
    """The sliders on screen now: the shown GANSpace directions, then the first k latent dimensions."""
    n = min(SHOWN_DIRECTIONS, len(dirs)) if dirs is not None else 0
    k = int(st.session_state.get("k_dims", 0))
    return [f"dir_{i}" for i in range(n)] + [f"zdim_{i}" for i in range(k)]


def _bump_version() -> None:
    """Python changed slider values itself: the page takes them over on its next draw."""
    ss = st.session_state
    ss["_explore_pad_version"] = int(ss.get("_explore_pad_version", 0)) + 1


def _pad_moved() -> None:
    """The latent pad reports the person's slider values: they become the session's (recipes,
    journeys and downloads read them there). Only the picture fragment reruns."""
    ss = st.session_state
    values = (ss.get("explore_pad") or {}).get("values") or {}
    for k, v in values.items():
        if isinstance(k, str) and k.startswith(("dir_", "zdim_")) and isinstance(v, (int, float)):
            v = max(-SLIDER_RANGE, min(SLIDER_RANGE, round(float(v), 1)))
            if v != ss.get(k):
                ss["_explore_last_slider"] = k
            ss[k] = v


def _slider_groups(dirs: Directions | None, strips: list[bytes], z_dim: int) -> list[dict]:
    groups = []
    if dirs is not None:
        n = min(SHOWN_DIRECTIONS, len(dirs))
        groups.append(
            {
                "kind": "directions",
                "title": "Directions",
                "caption": "The generator's own main ways of varying, strongest "
                "first (GANSpace). In standard deviations; each strip shows this seed at −2, −1, 0, +1, +2.",
                "sliders": [
                    {
                        "key": f"dir_{i}",
                        "label": f"Direction {i + 1} · {100 * float(dirs.variance_ratio[i]):.1f}%",
                        "help": f"Explains {100 * float(dirs.variance_ratio[i]):.1f}% of how the generator's "
                        "first layer varies from picture to picture.",
                        "unit": "σ",
                        "min": -SLIDER_RANGE,
                        "max": SLIDER_RANGE,
                        "step": 0.1,
                        "strip": strips[i] if i < len(strips) else None,
                    }
                    for i in range(n)
                ],
            }
        )
    k = int(st.session_state.get("k_dims", 0))
    if k:
        groups.append(
            {
                "kind": "dimensions",
                "title": "Latent dimensions",
                "caption": f"The first {k} of the {z_dim} numbers this generator reads, one by one.",
                "sliders": [
                    {
                        "key": f"zdim_{i}",
                        "label": f"Dimension {i + 1}",
                        "help": "",
                        "unit": "",
                        "min": -SLIDER_RANGE,
                        "max": SLIDER_RANGE,
                        "step": 0.1,
                        "strip": None,
                    }
                    for i in range(k)
                ],
            }
        )
    return groups


def _offsets(values: dict[str, float]) -> tuple[dict[int, float], dict[int, float]]:
    """(dimension offsets, direction offsets in std) from slider values, zeros left out."""
    dims = {int(k[5:]): v for k, v in values.items() if k.startswith("zdim_") and v}
    directions = {int(k[4:]): v for k, v in values.items() if k.startswith("dir_") and v}
    return dims, directions


def _latent_for(base: np.ndarray, values: dict[str, float], dirs: Directions | None) -> np.ndarray:
    """The point for these slider values: latent dimensions added to ``base``, then the directions."""
    dims, directions = _offsets(values)
    z = add_offsets(base, dims)
    if dirs is not None and directions:
        z = dirs.apply(z, directions)
    return z


def _prefetch(
    smp,
    base: np.ndarray,
    values: dict[str, float],
    dirs: Directions | None,
    label: int | None,
    active: str | None = None,
) -> dict[str, bytes]:
    """Pictures one slider step to either side of every slider (three for ``active``, the slider
    last moved, so a held arrow key keeps ahead), in one batched call, as small PNGs keyed by the
    slider state they belong to: the page shows the next step at once."""
    states = []
    for key in values:
        reach = PREFETCH_ACTIVE if key == active else 1
        for d in [sign * 0.1 * n for n in range(1, reach + 1) for sign in (-1, 1)]:
            v = round(values[key] + d, 1)
            if -SLIDER_RANGE - 1e-9 <= v <= SLIDER_RANGE + 1e-9:
                states.append({**values, key: v})
    if not states:
        return {}
    zs = np.stack([_latent_for(base, s, dirs) for s in states]).astype(np.float32)
    labels = None if label is None else np.full(len(zs), label, np.int32)
    imgs = smp.generate(zs, labels)
    return {latent_state_key(s): encode_png(img) for s, img in zip(states, imgs)}


def _dimension_count(z_dim: int) -> None:
    ss = st.session_state
    top = min(z_dim, 64)
    if not 0 <= int(ss.get("k_dims", 8)) <= top:
        ss["k_dims"] = min(8, top)
    ss.setdefault("k_dims", min(8, top))
    st.number_input(
        "How many dimensions",
        min_value=0,
        max_value=top,
        step=1,
        key="k_dims",
        help=f"This generator reads {z_dim} numbers; here you can nudge the first few one by one.",
    )


@st.fragment
def instrument(run_path: str, step: int, dirs: Directions | None, class_names: list[str]) -> None:
    """Seed, ψ, class and the latent pad (picture + sliders). Seed/ψ/class changes rerun all of this
    (the strips follow the seed); a slider move reruns only ``picture``, and the page shows the
    prefetched picture for it before the server's answer arrives."""
    cfg = sampler(run_path, step).cfg
    seed, psi, label = _latent_controls(cfg, class_names)
    if dirs is None:
        st.caption("Directions are not available for this snapshot.")
    strips = []
    if dirs is not None:
        strips = _strips(run_path, step, dirs.snapshot_hash, seed, psi, label, min(SHOWN_DIRECTIONS, len(dirs)), dirs)
    left, right = st.columns([2.6, 1.0], gap="large")
    with right:
        _dimension_count(cfg.z_dim)
        st.button(
            "Reset all sliders",
            key="explore_reset",
            on_click=_reset_sliders,
            icon=":material/restart_alt:",
            width="stretch",
        )
        _exports(run_path, step, seed)
    with left:
        picture(run_path, step, dirs, class_names, seed, psi, label, strips)


@st.fragment(key=PICTURE)
def picture(
    run_path: str,
    step: int,
    dirs: Directions | None,
    class_names: list[str],
    seed: int,
    psi: float,
    label: int | None,
    strips: list[bytes],
) -> None:
    """The latent pad for the current seed and sliders, and its caption: all a slider move redraws.

    It also leaves the picture's PNG and recipe in the session (``_explore_latest``), where the
    export buttons read them when clicked, so they need not be redrawn on every move.
    """
    ss = st.session_state
    smp = sampler(run_path, step)
    cfg = smp.cfg
    keys = _slider_keys(dirs)
    for k in keys:
        ss.setdefault(k, 0.0)
    values = {k: float(ss[k]) for k in keys}
    dim_off, dir_off = _offsets(values)
    base = truncate(seed_to_z(seed, cfg.z_dim), psi)
    z = _latent_for(base, values, dirs)
    labels = None if label is None else np.array([label], np.int32)
    ss["_explore_z"] = (run_path, step, z, label)  # the journey starts from here
    try:
        t0 = time.perf_counter()
        img = smp.generate(z[None], labels)[0]
        ms = 1000 * (time.perf_counter() - t0)
        near = _prefetch(smp, base, values, dirs, label, ss.get("_explore_last_slider"))
    except StudioError as e:
        st.error(str(e))
        return
    k = _scale(cfg.image_size)
    recipe = Recipe(
        run_id=Path(run_path).name,
        step=step,
        z=z.tolist(),
        seed=seed,
        psi=psi,
        label=label,
        class_name=class_names[label] if label is not None else None,
        dim_offsets={str(i): v for i, v in dim_off.items()},
        direction_offsets={str(i): v for i, v in dir_off.items()},
        scale=k,
    )
    moved = len(dim_off) + len(dir_off)
    ss.setdefault("_explore_latest", {}).update(image=img, recipe=recipe, moved=moved)
    ss["_explore_latest"].pop("png", None)
    sig = f"{run_path}|{step}|{seed}|{psi}|{label}|{','.join(keys)}|{dirs.snapshot_hash if dirs is not None else ''}"
    latentpad(
        "explore_pad",
        sig=sig,
        version=int(ss.get("_explore_pad_version", 0)),
        values=values,
        groups=_slider_groups(dirs, strips, cfg.z_dim),
        picture=encode_png(img),
        px=cfg.image_size * k,
        prefetch=near,
        on_change=_pad_moved,
    )
    with st.container(key="explore_caption"):
        st.caption(
            f"Seed {seed}"
            + (f" · ψ {psi:.2f}" if psi != 1.0 else "")
            + (f" · {class_names[label]}" if label is not None else "")
            + (f" · {moved} slider{'s' if moved != 1 else ''} moved" if moved else "")
            + f" · step {step:,} · drawn in {ms:.1f} ms"
        )
    if ss.get("explore_show_variations"):
        st.image(
            _variations_png(smp, recipe), output_format="PNG", caption="This picture (top left) and close relatives"
        )
    _remember()


def _latest_png(latest: dict) -> bytes:
    """The picture on screen as a PNG with its recipe (made when a download asks for it)."""
    if "png" not in latest:
        recipe = latest["recipe"]
        latest["png"] = png_with_recipe(enlarge_by(latest["image"], recipe.scale), recipe)
    return latest["png"]


def _variations_png(smp, recipe: Recipe) -> bytes:
    """The 4×4 variations grid around the recipe's latent, as a PNG with the grid's recipe."""
    z = recipe.latent()
    zs = variation_latents(z, recipe.seed or 0, VARIATIONS, VARIATION_STRENGTH * max(recipe.psi, 0.1))
    tile_labels = None if recipe.label is None else np.full(VARIATIONS, int(recipe.label), np.int32)
    k = _scale(smp.cfg.image_size, 128)
    grid = make_grid(smp.generate(zs, tile_labels), ncols=4, pad=2)
    r = dataclasses.replace(
        recipe,
        kind="grid",
        grid_z=zs.tolist(),
        ncols=4,
        pad=2,
        scale=k,
        grid_labels=[] if tile_labels is None else tile_labels.tolist(),
    )
    return png_with_recipe(enlarge_by(grid, k), r)


def _exports(run_path: str, step: int, seed: int) -> None:
    """Downloads and the hand-over to Checkpoints. Drawn with the seed, not on every slider move:
    they read the latest picture from the session when clicked (downloads are generated on click)."""
    ss = st.session_state
    latest = ss.setdefault("_explore_latest", {})
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
        lambda: _variations_png(smp, latest["recipe"]),
        file_name=f"{stem}-variations.png",
        mime="image/png",
        key="dl_grid",
        on_click="ignore",
        icon=":material/grid_view:",
        width="stretch",
        help="This picture (top left) and 15 close relatives, with the recipe of each.",
    )
    st.toggle("Show variations", key="explore_show_variations")
    if (ROOT / CHECKPOINTS_PAGE).exists():
        st.button(
            "Follow it through training",
            key="explore_to_ckpt",
            icon=":material/history:",
            width="stretch",
            on_click=_send_to_checkpoints,
            help="Open Checkpoints with this exact point held fixed over training time.",
        )
        if ss.pop("_explore_go_ckpt", False):
            st.switch_page(CHECKPOINTS_PAGE)


# ---- journeys ---------------------------------------------------------------------------------------
@st.fragment
def journeys(run_path: str, step: int, dirs: Directions | None) -> None:
    ss = st.session_state
    smp = sampler(run_path, step)
    cfg = smp.cfg
    modes = ["seeds"] + (["direction"] if dirs is not None else [])
    if ss.get("journey_mode") not in modes:
        ss["journey_mode"] = "seeds"
    ss.setdefault("journey_a", int(ss.get("explore_seed", DEFAULT_SEED)))
    ss.setdefault("journey_b", int(ss.get("explore_seed", DEFAULT_SEED)) + 1)
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
        on_click=_request,
        args=("_journey_requested",),
    )
    if ss.pop("_journey_requested", False):
        if mode == "seeds":
            zs = slerp_path(
                truncate(seed_to_z(int(a), cfg.z_dim), psi), truncate(seed_to_z(int(b), cfg.z_dim), psi), int(n), loop
            )
            title = f"seed {int(a)} to seed {int(b)}"
        else:
            held = ss.get("_explore_z")
            start = (
                held[2] if held and held[:2] == (run_path, step) else truncate(seed_to_z(DEFAULT_SEED, cfg.z_dim), psi)
            )
            direction = dirs.directions[d] * dirs.stds[d]
            zs = line_path(start, direction, -float(reach), float(reach), int(n), loop)
            title = f"direction {d + 1}, ±{float(reach):g}σ"
        bar, report = _progress("Drawing the frames…")
        try:
            frames = []
            for i in range(0, len(zs), 64):
                chunk = zs[i : i + 64]
                frames.append(smp.generate(chunk, None if label is None else np.full(len(chunk), label, np.int32)))
                report(0.4 * min(i + 64, len(zs)) / len(zs), f"Drawing frame {min(i + 64, len(zs))} of {len(zs)}")
            frames = list(np.concatenate(frames))
            from studio.media.animation import gif_bytes, mp4_bytes

            gif = gif_bytes(
                frames, fps=float(fps), loop=True, scale_to=IMAGE_PX, progress=lambda f, t: report(0.4 + 0.3 * f, t)
            )
            mp4 = mp4_bytes(frames, fps=float(fps), scale_to=IMAGE_PX, progress=lambda f, t: report(0.7 + 0.3 * f, t))
        except StudioError as e:
            st.error(str(e))
            return
        finally:
            bar.empty()
        ss["journey"] = {
            "where": (run_path, step),
            "title": title,
            "frames": frames,
            "zs": zs,
            "gif": gif,
            "mp4": mp4,
            "label": label,
            "fps": int(fps),
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
        k = _scale(cfg.image_size)
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
def _continue_from(recipe: Recipe) -> None:
    """Put a recipe's settings into the widgets (a callback: runs before the page draws them)."""
    ss = st.session_state
    ss["explore_run"] = ss["selected_run"] = recipe.run_id
    ss["explore_step"] = recipe.step
    if recipe.seed is not None:
        ss["explore_seed"] = recipe.seed
    ss["psi"] = recipe.psi
    if recipe.label is not None:
        ss["explore_class"] = recipe.label
    _reset_sliders()
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
def open_png() -> None:
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
                args=(recipe,),
                icon=":material/open_in_new:",
                help="Set the seed, ψ, class and sliders above to this recipe.",
            )
            if st.session_state.pop("_explore_full_rerun", False):
                st.rerun()  # the run and snapshot pickers live outside this fragment


# ---- take the generator along -------------------------------------------------------------------------
def generator_download(run_path: str, step: int) -> None:
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


# ---- the page ----------------------------------------------------------------------------------------
def main() -> None:
    st.title("Explore")
    st.html(PIXEL_CSS)
    all_runs = runs()
    r = pick_run("explore_run", "Run") if all_runs else None
    if r is None:
        no_runs(bool(all_runs))
        return
    _restore()
    run = Run(Path(r["path"]))
    steps = run.snapshot_steps()
    if not steps:
        no_runs(True)
        return
    ss = st.session_state
    if ss.get("explore_step") not in steps:
        ss["explore_step"] = steps[-1]
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    step = c1.selectbox(
        "Snapshot",
        list(reversed(steps)),
        key="explore_step",
        format_func=lambda s: f"step {s:,}" + (" (latest)" if s == steps[-1] else ""),
        help="Which moment of training to play with. The latest is usually the best.",
    )
    cfg = run.config
    c2.caption(
        f"{cfg.dataset} · {cfg.model} · {cfg.image_size} px · a latent of {cfg.z_dim} numbers"
        + (f" · {cfg.num_classes} classes" if cfg.conditional else "")
    )
    run_path = str(run.path)
    try:
        smp = sampler(run_path, int(step))
    except StudioError as e:
        st.error(str(e))
        return
    dirs = _directions(run_path, int(step), smp)
    instrument(run_path, int(step), dirs, _class_names(cfg))

    st.subheader("Journeys")
    journeys(run_path, int(step), dirs)

    st.subheader("Open a PNG")
    open_png()

    with st.expander("Take the generator with you"):
        generator_download(run_path, int(step))


use_app_navigation()
main()
