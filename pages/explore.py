"""Explore: play a trained generator like an instrument.

Widgets here, the instrument in ``studio.generate.instrument`` (slider values → latent, prefetch,
strips, variations, recipes). The picture and its sliders are one page part
(``ui.components.latentpad``): every answer carries the pictures one slider step to either side of
each slider, so a step shows at once, and the exact answer follows from a rerun of the picture
fragment alone. Journeys, "Open a PNG" and the generator download are panels in ``ui/explore_panels``.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from studio.core.errors import StudioError
from studio.core.images import encode_png, whole_factor
from studio.generate.directions import Directions
from studio.generate.instrument import (
    SHOWN_DIRECTIONS,
    Point,
    clamp,
    class_names,
    is_slider,
    slider_keys,
    variations_png,
)
from studio.generate.latent import MAX_SEED, random_seed
from studio.train.runs import Run
from ui import state
from ui.common import runs, sampler, use_app_navigation
from ui.components import latentpad, slider_groups
from ui.explore_panels import (
    IMAGE_PX,
    exports,
    generator_download,
    journeys,
    no_runs,
    open_png,
    snapshot_directions,
)
from ui.quality_panels import memorisation_check, opening_step, snapshot_label
from ui.webgen import browser_draws, pad_web
from ui.widgets import class_picker, run_picker

CHECKPOINTS_PAGE = "pages/checkpoints.py"
PICTURE = "explore_picture"  # key of the picture fragment: slider callbacks rerun only it
STRIP_TILE_PX = 48  # each thumbnail of a direction's preview strip
DEFAULT_SEED = 1
# Every picture here is pixel art: keep pixels square when the browser has to scale an image.
PIXEL_CSS = "<style>[data-testid='stMain'] [data-testid='stImage'] img { image-rendering: pixelated; }</style>"
# Widget values that should survive a visit to another page (Streamlit forgets unrendered widgets).
KEEP = ("explore_seed", "psi", "explore_class", "k_dims")


# ---- session helpers -----------------------------------------------------------------------------
def _remember() -> None:
    ss = st.session_state
    ss["_explore_keep"] = {k: ss[k] for k in KEEP if k in ss} | {k: ss[k] for k in ss if is_slider(k)}


def _restore() -> None:
    """Bring back slider values after a visit to another page."""
    ss = st.session_state
    for k, v in ss.get("_explore_keep", {}).items():
        if k not in ss:
            ss[k] = v
            _bump_version()


def _bump_version() -> None:
    """Python changed slider values itself: the page takes them over on its next draw."""
    ss = st.session_state
    ss["_explore_pad_version"] = int(ss.get("_explore_pad_version", 0)) + 1


def _surprise() -> None:
    st.session_state["explore_seed"] = random_seed()


def _reset_sliders() -> None:
    ss = st.session_state
    for k in [k for k in ss if is_slider(k)]:
        ss[k] = 0.0
    _bump_version()


def _pad_moved() -> None:
    """The latent pad reports the person's slider values: they become the session's (recipes,
    journeys and downloads read them there). Only the picture fragment reruns."""
    ss = st.session_state
    values = (ss.get("explore_pad") or {}).get("values") or {}
    for k, v in values.items():
        if is_slider(k) and isinstance(v, int | float):
            v = clamp(v)
            if v != ss.get(k):
                ss["_explore_last_slider"] = k
            ss[k] = v


@st.cache_data(max_entries=64, show_spinner=False)
def _strips(run_path: str, step: int, snapshot_hash: str, seed: int, psi: float, label, n: int, _dirs) -> list[bytes]:
    """Direction strips, cached on the seed (not on the slider values): moving a slider does not redraw them."""
    return Point(sampler(run_path, step), seed, psi, label, {}, _dirs).strips(n, STRIP_TILE_PX)


# ---- the instrument (one fragment: slider moves rerun only the picture) ------------------------------
def _latent_controls(cfg, names: list[str]) -> tuple[int, float, int | None]:
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
    label = class_picker(c4, "explore_class", names) if cfg.conditional and cfg.num_classes else None
    return int(seed), float(psi), label


def _dimension_count(z_dim: int) -> int:
    ss = st.session_state
    top = min(z_dim, 64)
    if not 0 <= int(ss.get("k_dims", 8)) <= top:
        ss["k_dims"] = min(8, top)
    ss.setdefault("k_dims", min(8, top))
    return st.number_input(
        "How many dimensions",
        min_value=0,
        max_value=top,
        step=1,
        key="k_dims",
        help=f"This generator reads {z_dim} numbers; here you can nudge the first few one by one.",
    )


@st.fragment
def instrument(run_path: str, step: int, dirs: Directions | None, names: list[str]) -> None:
    """Seed, ψ, class and the latent pad. Seed/ψ/class changes rerun all of this (the strips follow
    the seed); a slider move reruns only ``picture``."""
    cfg = sampler(run_path, step).cfg
    seed, psi, label = _latent_controls(cfg, names)
    n_dirs = min(SHOWN_DIRECTIONS, len(dirs)) if dirs is not None else 0
    if dirs is None:
        st.caption("Directions are not available for this snapshot.")
    strips = _strips(run_path, step, dirs.snapshot_hash, seed, psi, label, n_dirs, dirs) if n_dirs else []
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
        exports(run_path, step, seed, CHECKPOINTS_PAGE)
    with left:
        picture(run_path, step, dirs, names, seed, psi, label, strips)


@st.fragment(key=PICTURE)
def picture(run_path, step, dirs, names, seed: int, psi: float, label, strips: list[bytes]) -> None:
    """The latent pad for the current seed and sliders, and its caption: all a slider move redraws.

    It also leaves the picture and its recipe in the session (``_explore_latest``), where the
    export buttons read them when clicked, so they need not be redrawn on every move.
    """
    ss = st.session_state
    smp = sampler(run_path, step)
    cfg = smp.cfg
    n_dirs = min(SHOWN_DIRECTIONS, len(dirs)) if dirs is not None else 0
    keys = slider_keys(n_dirs, int(ss.get("k_dims", 0)))
    for k in keys:
        ss.setdefault(k, 0.0)
    point = Point(smp, seed, psi, label, {k: float(ss[k]) for k in keys}, dirs)
    z = point.z
    ss["_explore_z"] = (run_path, step, z, label)  # the journey starts from here
    try:
        t0 = time.perf_counter()
        img = point.draw()
        ms = 1000 * (time.perf_counter() - t0)
        web = pad_web(smp, dirs, names)
        # A page that draws itself needs no pictures of nearby states: only settled values come here.
        near = {} if browser_draws(ss.get("explore_pad"), web) else point.prefetch(ss.get("_explore_last_slider"))
    except StudioError as e:
        st.error(str(e))
        return
    k = whole_factor(cfg.image_size, IMAGE_PX)
    recipe = point.recipe(Path(run_path).name, step, k, names)
    ss.setdefault("_explore_latest", {}).update(image=img, recipe=recipe, moved=point.moved)
    ss["_explore_latest"].pop("png", None)
    sig = f"{run_path}|{step}|{seed}|{psi}|{label}|{','.join(keys)}|{dirs.snapshot_hash if dirs is not None else ''}"
    point_data = {"seed": seed, "psi": psi, "label": label}
    latentpad(
        "explore_pad",
        sig=sig,
        version=int(ss.get("_explore_pad_version", 0)),
        values=point.values,
        groups=slider_groups(dirs, n_dirs, strips, int(ss.get("k_dims", 0)), cfg.z_dim),
        picture=encode_png(img),
        px=cfg.image_size * k,
        prefetch=near,
        web=web,
        point=point_data,
        on_change=_pad_moved,
    )
    moved = point.moved
    with st.container(key="explore_caption"):
        st.caption(
            f"Seed {seed}"
            + (f" · ψ {psi:.2f}" if psi != 1.0 else "")
            + (f" · {names[label]}" if label is not None else "")
            + (f" · {moved} slider{'s' if moved != 1 else ''} moved" if moved else "")
            + f" · step {step:,} · drawn in {ms:.1f} ms"
        )
    if ss.get("explore_show_variations"):
        st.image(
            variations_png(smp, recipe), output_format="PNG", caption="This picture (top left) and close relatives"
        )
    _remember()


# ---- the page ----------------------------------------------------------------------------------------
def main() -> None:
    st.title("Explore")
    st.html(PIXEL_CSS)
    all_runs = runs()
    r = run_picker(state.EXPLORE_RUN, "Run", all_runs) if all_runs else None
    if r is None:
        no_runs(bool(all_runs))
        return
    _restore()
    run = Run(Path(r.path))
    steps = run.snapshot_steps()
    if not steps:
        no_runs(True)
        return
    ss = st.session_state
    if ss.get(state.EXPLORE_STEP) not in steps:
        ss[state.EXPLORE_STEP] = opening_step(run, steps)
    c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
    step = c1.selectbox(
        "Snapshot",
        list(reversed(steps)),
        key=state.EXPLORE_STEP,
        format_func=snapshot_label(run, steps),
        help="Which moment of training to play with; the best scored closest to your pictures (the newest such, once the scores can no longer tell them apart).",
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
    dirs = snapshot_directions(run_path, int(step), smp)
    instrument(run_path, int(step), dirs, class_names(cfg))
    with st.expander("Is this picture a copy of a training image?", expanded=True):
        memorisation_check(run_path)

    st.subheader("Journeys")
    journeys(run_path, int(step), dirs, DEFAULT_SEED)

    st.subheader("Open a PNG")
    open_png(_reset_sliders)

    with st.expander("Take the generator with you"):
        generator_download(run_path, int(step), dirs, class_names(cfg), int(ss.get("explore_seed", DEFAULT_SEED)))


use_app_navigation()
main()
