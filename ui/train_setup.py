"""The Train page's setup form: dataset, preset, model, loss, options and the Start button.

Widgets only; what a preset means lives in ``studio.train.config``. Widget keys are ``train_<field>``
and stay the truth once a preset filled them.
"""

from __future__ import annotations

import time

import streamlit as st

from studio import data
from studio.core.errors import StudioError
from studio.generate.latent import MAX_SEED
from studio.train.config import (
    ADA_MODES,
    DEFAULT_PRESET,
    LOSS_HELP,
    LOSSES,
    MODEL_HELP,
    MODELS,
    PRECISIONS,
    PRESET_HELP,
    PRESETS,
    RunConfig,
    from_preset,
)
from studio.train.devices import detect, precision_sentence, resolve_precision
from ui import state
from ui.common import job_manager
from ui.train_start_from import start_from_section
from ui.widgets import passphrase_gate

ADVANCED = (
    "lr_d",
    "lr_g",
    "batch_size",
    "z_dim",
    "n_critic",
    "update",
    "image_size",
    "seed",
    "precision",
    "checkpoint_every",
    "steps",
    "time_budget",
    "ada",
)
ADA_LABELS = {"auto": "Auto (on below 5,000 pictures)", "on": "On", "off": "Off"}
UPDATE_LABELS = {"simultaneous": "Together (one fake batch, faster)", "alternating": "Judge first, then generator"}


# ---- setup ----------------------------------------------------------------------------------
def _apply_preset():
    """Fill every setting widget from the chosen preset (widgets stay the truth afterwards)."""
    ss = st.session_state
    # auto looks at the chosen dataset (its size and picture size) and at this machine.
    dataset = {"dataset": ss["train_dataset"]} if ss.get("train_dataset") else {}
    cfg = from_preset(ss["train_preset"], **dataset)
    st.session_state["train_model"] = cfg.model
    st.session_state["train_loss"] = cfg.loss
    for k in ADVANCED:
        st.session_state[f"train_{k}"] = getattr(cfg, k)


def _apply_loss_defaults():
    cfg = from_preset(None, loss=st.session_state["train_loss"])
    for k in ("n_critic",):
        st.session_state[f"train_{k}"] = getattr(cfg, k)


@st.cache_data(max_entries=64, show_spinner=False)
def _auto_sentence(dataset: str, image_size: int, count: int | None) -> str:
    from studio.train.auto import auto_choice

    try:
        return auto_choice(dataset, image_size).sentence
    except StudioError as e:
        return str(e)


def _dataset_changed():
    """auto chooses again for the new dataset; any other preset keeps its settings but the size."""
    if st.session_state.get("train_preset") == "auto":
        _apply_preset()
    else:
        _match_dataset_size()


def _match_dataset_size():
    """A new dataset brings its own size: train at it when the model can (else the nearest larger)."""
    info = next((d for d in data.list_datasets() if d.name == st.session_state["train_dataset"]), None)
    if info is None:
        return
    sizes = [28, 32, 64, 128] if st.session_state.get("train_model") == "mlp" else [32, 64, 128]
    st.session_state["train_image_size"] = next((s for s in sizes if s >= info.image_size), sizes[-1])


def setup_form() -> RunConfig | None:
    infos = {d.name: d for d in data.list_datasets()}
    names = list(infos)
    wanted = state.take_offered_dataset()
    if wanted in names:
        st.session_state["train_dataset"] = wanted
        if "train_preset" in st.session_state:
            _dataset_changed()
    if st.session_state.get("train_dataset") not in names:
        st.session_state["train_dataset"] = "digits"
    if "train_preset" not in st.session_state:
        st.session_state["train_preset"] = DEFAULT_PRESET
        _apply_preset()

    c1, c2, c3, c4 = st.columns(4)
    with c1:
        ds_name = st.selectbox(
            "Dataset",
            names,
            key="train_dataset",
            format_func=data.display_name,
            on_change=_dataset_changed,
            help="The pictures the GAN learns to imitate.",
        )
        info = infos[ds_name]
        st.caption(info.description)
    with c2:
        st.selectbox(
            "Preset",
            list(PRESETS),
            key="train_preset",
            on_change=_apply_preset,
            help="A starting point for every setting; you can still change them below.",
        )
        if st.session_state["train_preset"] == "auto":
            size = int(st.session_state.get("train_image_size") or 64)
            st.caption(_auto_sentence(ds_name, size, info.count), help=PRESET_HELP["auto"])
        else:
            st.caption(PRESET_HELP.get(st.session_state["train_preset"], ""))
    with c3:
        model = st.selectbox("Model", MODELS, key="train_model", help="The shape of the two networks.")
        st.caption(MODEL_HELP.get(model, ""))
    with c4:
        loss = st.selectbox(
            "Loss",
            LOSSES,
            key="train_loss",
            on_change=_apply_loss_defaults,
            help="The rules of the game between the generator and the judge.",
        )
        st.caption(LOSS_HELP.get(loss, ""))

    o1, o2, o3 = st.columns(3)
    with o1:
        conditional = st.checkbox(
            "Conditional (learn each class separately)",
            key="train_conditional",
            disabled=not info.labelled,
            help="Lets you ask for a particular digit or kind later. Needs labelled data.",
        )
    with o2:
        small = info.count is not None and info.count < data.SMALL_DATASET
        st.session_state.setdefault("train_diffaugment", small)
        diffaug = st.checkbox(
            "DiffAugment (for small datasets)",
            key="train_diffaugment",
            help="Randomly shifts colours, moves and cuts out parts of every image the judge "
            "sees, so it cannot simply memorise a small dataset (Zhao et al. 2020).",
        )
        if small and not diffaug and st.session_state.get("train_ada") == "off":
            st.caption(f"This dataset has {info.count:,} images: turning DiffAugment on usually helps below 1,000.")
    with o3:
        st.selectbox(
            "Adaptive augmentation (ADA)",
            list(ADA_MODES),
            key="train_ada",
            format_func=ADA_LABELS.get,
            help="Augments each picture the judge sees with a probability that rises when the judge starts "
            "memorising your pictures and falls when it stops (Karras et al. 2020); uses the DiffAugment "
            "operations and mirror images.",
        )

    with st.expander("Advanced"):
        a1, a2, a3, a4 = st.columns(4)
        with a1:
            st.number_input(
                "α — judge (D) learning rate", key="train_lr_d", min_value=1e-6, max_value=0.1, format="%.6f", step=1e-5
            )
            st.number_input(
                "β — generator (G) learning rate",
                key="train_lr_g",
                min_value=1e-6,
                max_value=0.1,
                format="%.6f",
                step=1e-5,
            )
            st.number_input("Batch size", key="train_batch_size", min_value=1, max_value=1024, step=8)
        with a2:
            st.number_input(
                "Latent size",
                key="train_z_dim",
                min_value=2,
                max_value=512,
                step=1,
                help="How many numbers describe one picture.",
            )
            st.number_input(
                "Judge steps per generator step (n_critic)", key="train_n_critic", min_value=1, max_value=10, step=1
            )
            st.selectbox(
                "How the two learn",
                list(UPDATE_LABELS),
                key="train_update",
                format_func=UPDATE_LABELS.get,
                help="Together: judge and generator learn from the same generated batch in one pass "
                "(about 15-25% faster a step). Judge first: the generator learns from fresh "
                "pictures after the judge has updated (the 2014 paper's order). With more than "
                "one judge step per generator step they always take turns.",
            )
            sizes = [28, 32, 64, 128] if model == "mlp" else [32, 64, 128]
            if st.session_state.get("train_image_size") not in sizes:
                st.session_state["train_image_size"] = 32
            st.selectbox("Image size (pixels)", sizes, key="train_image_size")
        with a3:
            st.number_input(
                "Seed",
                key="train_seed",
                min_value=0,
                max_value=MAX_SEED,
                step=1,
                help="The same seed and settings train the same way again.",
            )
            st.selectbox(
                "Precision",
                list(PRECISIONS),
                key="train_precision",
                help="auto picks what this machine computes fastest: mixed_float16 on GPUs, mixed_bfloat16 "
                "on CPUs with native bfloat16, float32 otherwise.",
            )
            st.number_input("Checkpoint every (steps)", key="train_checkpoint_every", min_value=1, step=50)
        with a4:
            st.number_input("Steps", key="train_steps", min_value=1, max_value=10_000_000, step=100)
            st.number_input("Time budget (seconds, 0 = none)", key="train_time_budget", min_value=0.0, step=30.0)

    ss = st.session_state
    try:
        cfg = from_preset(
            ss["train_preset"],
            dataset=ds_name,
            model=model,
            loss=loss,
            conditional=bool(conditional),
            diffaugment="color,translation,cutout" if diffaug else "",
            **{k: ss[f"train_{k}"] for k in ADVANCED},
        )
        # Widgets are the truth: undo loss defaults that from_preset might have layered on.
        cfg = cfg.replace(
            n_critic=int(ss["train_n_critic"]),
            lr_d=float(ss["train_lr_d"]),
            lr_g=float(ss["train_lr_g"]),
            time_budget=float(ss["train_time_budget"]),
        )
        return start_from_section(cfg.validate())
    except StudioError as e:
        st.error(str(e))
        return None


def start_button(cfg: RunConfig | None):
    mgr = job_manager()
    if cfg is not None:
        devices = detect()
        st.caption(
            f"{devices.line(resolve_precision(cfg.precision, devices)).capitalize()}. "
            f"{precision_sentence(cfg.precision, devices)}"
        )
    busy = mgr.active_id()
    if busy:
        st.caption("Another run is training: a new one will wait its turn and start when that one ends.")
    if not passphrase_gate("train_start"):
        return
    if st.button("Start training", key="start", type="primary", disabled=cfg is None, icon=":material/play_arrow:"):
        # A double click must not start two runs.
        if time.time() - st.session_state.get("last_start", 0) < 3:
            return
        st.session_state["last_start"] = time.time()
        try:
            with st.spinner("Preparing the dataset and the run folder…"):
                rid = mgr.start(cfg)
        except StudioError as e:
            st.error(str(e))
            return
        state.select_run(rid, watch=True)
        st.rerun()


def setup_section(busy: bool):
    if busy:
        # While something trains the setup folds away below the live view, and is not drawn at all
        # until asked for: every element on the page costs the browser work on each live update.
        if st.toggle("New run", key="train_new_run", help="Set up the next run: it starts when this one ends."):
            with st.container(border=True):
                start_button(setup_form())
    else:
        st.caption("Pick what to learn from and how, press Start training, and watch the generator learn.")
        with st.container(border=True):
            start_button(setup_form())


def keep_settings() -> None:
    """Settings survive while their widgets are not drawn (the folded "New run" section)."""
    ss = st.session_state
    for k in [k for k in ss if isinstance(k, str) and k.startswith("train_")]:
        ss[k] = ss[k]
