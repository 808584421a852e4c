"""Data: look at the built-in datasets, turn your own images into a dataset, manage saved ones.

Thin page: widgets → studio.data → render. Files only ever arrive through the browser's uploader;
the page never names or browses a path on the server.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from studio import data
from studio.core.errors import StudioError
from studio.core.images import enlarge, make_grid
from ui import state
from ui.common import use_app_navigation
from ui.widgets import may_write, page_link, passphrase_gate

TRAIN_PAGE = Path(__file__).with_name("train.py")
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "zip"]
MODES = {"Colour": "RGB", "Grayscale": "L"}
CROPS = {"Centre": "center", "Pad": "pad", "Stretch": "stretch"}
CROP_HELP = {
    "Centre": "Cut the largest square out of the middle.",
    "Pad": "Keep the whole picture and fill the rest of the square with black bars.",
    "Stretch": "Squeeze the whole picture into the square (shapes get distorted).",
}


def show_picture(grid: np.ndarray, caption: str | None = None) -> None:
    """A uint8 (H, W, C) picture, enlarged by whole pixels so small images stay crisp."""
    grid = enlarge(grid, min_width=420)
    st.image(grid[..., 0] if grid.shape[-1] == 1 else grid, caption=caption)


def show_grid(images: np.ndarray, caption: str | None = None, ncols: int = 8) -> None:
    """uint8 images (N, H, W, C) as one grid."""
    show_picture(make_grid(images, ncols=ncols), caption)


@st.cache_data(max_entries=16, show_spinner=False)
def builtin_preview(name: str, cached: bool) -> np.ndarray:
    return data.load_preview(name, 64)


@st.cache_data(max_entries=32, show_spinner=False)
def saved_preview(name: str, created: str) -> np.ndarray:
    return data.load_preview(name, 32)


# ---- built-ins ---------------------------------------------------------------------------------
def builtin_section() -> None:
    st.subheader("Built-in datasets")
    name = (
        st.segmented_control(
            "Dataset",
            list(data.BUILTIN),
            key="builtin_pick",
            default="digits",
            format_func=data.display_name,
            label_visibility="collapsed",
        )
        or "digits"
    )
    info = next(i for i in data.list_datasets() if i.name == name)
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**{data.display_name(name)}** — {info.description}")
        kind = "grayscale" if info.channels == 1 else "colour"
        if info.count is not None:
            st.markdown(f"{info.count:,} images · {info.image_size}×{info.image_size} px · {kind} · 10 labelled kinds")
            if name != "digits":
                st.caption("Downloaded and kept on this machine: it works offline now.")
        else:
            st.markdown(f"{info.image_size}×{info.image_size} px · {kind} · not downloaded yet")
            if passphrase_gate("download") and st.button(
                f"Download {data.display_name(name)}", key=f"download_{name}", icon=":material/download:"
            ):
                download(name)
    with right:
        if data.is_cached(name):
            try:
                show_grid(builtin_preview(name, True), caption=f"The first 64 of {data.display_name(name)}")
            except StudioError as e:
                st.error(str(e))


def download(name: str) -> None:
    bar = st.progress(0.0, text=f"Starting the download of {data.display_name(name)}…")
    try:
        data.download_builtin(name, progress=lambda f, t: bar.progress(f, text=t))
    except StudioError as e:
        bar.empty()
        st.error(str(e))
        return
    bar.empty()
    st.rerun()


# ---- uploads -----------------------------------------------------------------------------------
def upload_options() -> data.PreprocessOptions:
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        size = st.selectbox(
            "Image size (pixels)",
            list(data.UPLOAD_SIZES),
            index=1,
            key="opt_size",
            help="Every picture becomes a square of this many pixels. Smaller trains faster.",
        )
    with c2:
        mode = st.radio("Colour or grayscale", list(MODES), key="opt_mode", horizontal=True)
    with c3:
        crop = st.radio(
            "Make it square by",
            list(CROPS),
            key="opt_crop",
            horizontal=True,
            help=" ".join(f"{k}: {v}" for k, v in CROP_HELP.items()),
        )
        st.caption(CROP_HELP[crop])
    with c4:
        flip = st.checkbox(
            "Also use mirror images",
            key="opt_flip",
            help="While training, each picture is flipped left-to-right half of the time. "
            "Good for landscapes, faces and objects; bad for text and digits.",
        )
    return data.PreprocessOptions(image_size=int(size), mode=MODES[mode], crop=CROPS[crop], flip=bool(flip))


def dry_run(uploads, opts: data.PreprocessOptions) -> dict:
    """The preview and report for the current files and options, computed once per change.

    Kept in this session's state rather than st.cache_data: the pictures are this person's alone,
    and the progress bar must show while they are read.
    """
    key = (tuple((f.file_id, f.name, f.size) for f in uploads), opts.image_size, opts.mode, opts.crop)
    cached = st.session_state.get("_dry_run")
    if cached and cached["key"] == key:
        return cached
    st.session_state.pop("just_saved", None)  # new files or options: the last save message is stale
    bar = st.progress(0.0, text="Reading your images…")
    result: dict = {"key": key, "error": None, "report": None}
    try:
        files = [(f.name, f.getvalue()) for f in uploads]
        rep = data.ingest_upload(files, "", opts, progress=lambda f, t: bar.progress(f, text=t), dry_run=True)
        result["report"] = rep
    except data.IngestError as e:
        result["error"], result["report"] = str(e), e.report
    except StudioError as e:
        result["error"] = str(e)
    bar.empty()
    if result["report"] is not None:
        result["report"].images = None  # the preview grid is enough; saving reads the files again
    st.session_state["_dry_run"] = result
    return result


def show_report(rep: data.IngestReport | None, error: str | None) -> None:
    if error:
        st.error(error)
    if rep is None:
        return
    m1, m2, m3 = st.columns(3)
    m1.metric("Images used", f"{rep.used:,}")
    m2.metric("Skipped", f"{len(rep.skipped):,}")
    m3.metric("Exact duplicates dropped", f"{len(rep.duplicates):,}")
    if rep.used:
        show_picture(rep.preview, caption=f"How the first {min(rep.used, 64)} of your images will look to the GAN")
    for w in rep.warnings:
        st.info(w, icon=":material/lightbulb:")
    if rep.skipped:
        with st.expander(f"Skipped files ({len(rep.skipped):,}) and why", expanded=len(rep.skipped) <= 20):
            st.dataframe([{"File": f, "Why": r} for f, r in rep.skipped], hide_index=True)
    if rep.duplicates:
        with st.expander(f"Exact duplicates ({len(rep.duplicates):,})"):
            st.dataframe([{"File": f, "Same picture as": d} for f, d in rep.duplicates], hide_index=True)


def save_form(uploads, opts: data.PreprocessOptions) -> None:
    name = st.text_input(
        "Dataset name",
        key="dataset_name",
        max_chars=64,
        placeholder="e.g. my_drawings",
        help="Letters, digits, '-' and '_'. You will pick it by this name on the Train page.",
    )
    safe = data.safe_dataset_name(name)
    exists = bool(safe) and data.saved_dataset_dir(safe) is not None
    if name.strip() and safe and safe != name.strip():
        st.caption(f"It will be saved as **{safe}**.")
    overwrite = False
    already = st.session_state.get("just_saved", ("",))[0] == safe  # these files, these options, this name
    if exists and not already:
        overwrite = st.checkbox(f"Replace the existing dataset '{safe}'", key="overwrite_dataset")
    if st.button(
        "Save dataset", key="save_dataset", type="primary", icon=":material/save:", disabled=not name.strip() or already
    ):
        bar = st.progress(0.0, text="Saving…")
        try:
            files = [(f.name, f.getvalue()) for f in uploads]
            rep = data.ingest_upload(
                files, name, opts, progress=lambda f, t: bar.progress(f, text=t), overwrite=overwrite
            )
        except StudioError as e:
            bar.empty()
            st.error(str(e))
            return
        bar.empty()
        state.offer_dataset(rep.name)  # the Train page preselects it
        st.session_state["just_saved"] = (rep.name, rep.used)
        st.rerun()  # redraw with the Save button done and the new dataset listed below


def upload_section() -> None:
    st.subheader("Your own images")
    st.markdown(
        f"Upload pictures or a zip of pictures (PNG, JPEG, GIF, BMP, WebP; up to {data.MAX_UPLOAD_MB} MB "
        f"in total). You need at least {data.MIN_IMAGES}; a few hundred or more works better."
    )
    if not passphrase_gate("upload"):
        return
    uploads = st.file_uploader(
        "Images or a zip of images",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="upload_files",
        label_visibility="collapsed",
    )
    opts = upload_options()
    if uploads:
        result = dry_run(uploads, opts)
        show_report(result["report"], result["error"])
        if result["error"] is None:
            save_form(uploads, opts)
    else:
        st.caption("The preview of your processed images appears here once you add files.")
    saved = st.session_state.get("just_saved")
    if saved:  # right under the Save button, where the eye is after clicking it
        name, count = saved
        st.success(f"Saved {count:,} images as the dataset **{name}**.", icon=":material/check_circle:")
        if TRAIN_PAGE.exists():
            page_link("pages/train.py", label="Train on it", icon=":material/model_training:")


# ---- saved datasets ----------------------------------------------------------------------------
def saved_section() -> None:
    st.subheader("Your saved datasets")
    yours = [i for i in data.list_datasets() if i.kind == "yours"]
    if not yours:
        st.caption("None yet. Datasets you save above appear here and on the Train page.")
        return
    confirm = st.session_state.get("confirm_delete")
    for info in yours:
        kind = "grayscale" if info.channels == 1 else "colour"
        with st.container(border=True, key=f"saved_{info.name}"):
            c1, c2, c3 = st.columns([3, 4, 2])
            with c1:
                st.markdown(
                    f"**{info.name}**  \n{info.count:,} images · {info.image_size}×{info.image_size} px · {kind}"
                )
                if info.count < data.SMALL_DATASET:
                    st.caption("A small set: turn on DiffAugment when you train on it.")
            with c2:
                try:
                    meta = data.read_meta(info.name)
                    show_grid(saved_preview(info.name, str(meta.get("created"))), ncols=16)
                except StudioError as e:
                    st.caption(str(e))
            with c3:
                if confirm == info.name:
                    st.warning(f"Delete '{info.name}' for good?")
                    if st.button("Yes, delete it", key=f"confirm_delete_{info.name}", type="primary"):
                        try:
                            data.delete_dataset(info.name)
                        except StudioError as e:
                            st.error(str(e))
                        st.session_state.pop("confirm_delete", None)
                        if st.session_state.get("just_saved", ("",))[0] == info.name:
                            st.session_state.pop("just_saved", None)
                        st.rerun()
                    if st.button("Keep it", key=f"cancel_delete_{info.name}"):
                        st.session_state.pop("confirm_delete", None)
                        st.rerun()
                elif may_write() and st.button("Delete", key=f"delete_{info.name}", icon=":material/delete:"):
                    st.session_state["confirm_delete"] = info.name
                    st.rerun()


use_app_navigation()
st.title("Data")
st.caption("The pictures a GAN learns from. Start with a built-in set, or bring your own.")
builtin_section()
st.divider()
upload_section()
st.divider()
saved_section()
