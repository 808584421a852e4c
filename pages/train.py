"""Train: set up a run, start it, and watch it learn live."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import streamlit as st

from studio import data
from studio.core.errors import StudioError
from studio.train.config import LOSSES, MODELS, PRESET_HELP, PRESETS, RunConfig, from_preset
from studio.train.runs import Run
from ui.charts import loss_spec
from ui.common import fmt_secs, job_manager, passphrase_ok, runs, state_badge, use_app_navigation
from ui.components import livepanel, plotly_js_url

MODEL_HELP = {
    "mlp": "Classic MLP GAN (2014): small fully-connected networks. Fast, blurry, historic.",
    "dcgan": "DCGAN: convolutional networks that draw images. The sensible default.",
    "sngan": "DCGAN with a spectrally-normalised judge: steadier training, pairs with the hinge loss.",
}
LOSS_HELP = {
    "ns": "Non-saturating: the standard GAN game, with a generator that keeps learning early on.",
    "minimax": "The original minimax game: tends to stall early; here for comparison.",
    "wgan-gp": "Wasserstein with gradient penalty: smooth, stable, 5 judge steps per generator step.",
    "hinge": "Hinge loss: the choice for spectral-norm models.",
}
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
)
UPDATE_LABELS = {"simultaneous": "Together (one fake batch, faster)", "alternating": "Judge first, then generator"}
LIVE_STATES = ("queued", "starting", "running", "paused", "stopping")
# The live panel follows the run every second, the loss chart too unless redrawing it would take more
# than 2.5% of a core of the viewer's computer: a Plotly redraw is ~50-75 ms on a 2-core test machine
# whose CPU the training shares (then new points come every 2-3 s; benchmarks/ui_overhead.py).
CHART_EVERY_S, CHART_SHARE = 1.0, 0.025


# ---- setup ----------------------------------------------------------------------------------
def _apply_preset():
    """Fill every setting widget from the chosen preset (widgets stay the truth afterwards)."""
    cfg = from_preset(st.session_state["train_preset"])
    st.session_state["train_model"] = cfg.model
    st.session_state["train_loss"] = cfg.loss
    for k in ADVANCED:
        st.session_state[f"train_{k}"] = getattr(cfg, k)


def _apply_loss_defaults():
    cfg = from_preset(None, loss=st.session_state["train_loss"])
    for k in ("n_critic",):
        st.session_state[f"train_{k}"] = getattr(cfg, k)


def _match_dataset_size():
    """A new dataset brings its own size: train at it when the model can (else the nearest larger)."""
    info = next((d for d in data.list_datasets() if d.name == st.session_state["train_dataset"]), None)
    if info is None:
        return
    sizes = [28, 32, 64, 128] if st.session_state.get("train_model") == "mlp" else [32, 64, 128]
    st.session_state["train_image_size"] = next((s for s in sizes if s >= info.image_size), sizes[-1])


def setup_form() -> RunConfig | None:
    if "train_preset" not in st.session_state:
        st.session_state["train_preset"] = "quick-sketch"
        _apply_preset()
    infos = {d.name: d for d in data.list_datasets()}
    names = list(infos)
    wanted = st.session_state.pop("dataset", None)
    if wanted in names:
        st.session_state["train_dataset"] = wanted
        _match_dataset_size()
    if st.session_state.get("train_dataset") not in names:
        st.session_state["train_dataset"] = "digits"

    c1, c2, c3, c4 = st.columns(4)
    with c1:
        ds_name = st.selectbox(
            "Dataset",
            names,
            key="train_dataset",
            format_func=data.display_name,
            on_change=_match_dataset_size,
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
        st.caption(PRESET_HELP.get(st.session_state["train_preset"], ""))
    with c3:
        model = st.selectbox("Model", MODELS, key="train_model", help="The shape of the two networks.")
        st.caption(MODEL_HELP[model])
    with c4:
        loss = st.selectbox(
            "Loss",
            LOSSES,
            key="train_loss",
            on_change=_apply_loss_defaults,
            help="The rules of the game between the generator and the judge.",
        )
        st.caption(LOSS_HELP[loss])

    o1, o2 = st.columns(2)
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
        if small and not diffaug:
            st.caption(f"This dataset has {info.count:,} images: turning DiffAugment on usually helps below 1,000.")

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
                max_value=2**31 - 1,
                step=1,
                help="The same seed and settings train the same way again.",
            )
            st.selectbox(
                "Precision",
                ["float32", "mixed_bfloat16", "mixed_float16"],
                key="train_precision",
                help="mixed_bfloat16 is faster on recent Intel CPUs; mixed_float16 is for GPUs.",
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
        return cfg.validate()
    except StudioError as e:
        st.error(str(e))
        return None


def start_button(cfg: RunConfig | None):
    mgr = job_manager()
    busy = mgr.active_id()
    if busy:
        st.caption("Another run is training: a new one will wait its turn and start when that one ends.")
    if not passphrase_ok("train_start"):
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
        st.session_state["selected_run"] = rid
        st.session_state["train_view"] = rid
        st.rerun()


# ---- live view ------------------------------------------------------------------------------
def _view_run_id(all_runs: list[dict]) -> str | None:
    ids = [r["id"] for r in all_runs]
    if not ids:
        return None
    mgr = job_manager()
    ss = st.session_state
    current = ss.get("train_view")
    if current not in ids:
        active = mgr.active_id()
        current = active if active in ids else (ss.get("selected_run") if ss.get("selected_run") in ids else ids[0])
        ss["train_view"] = current
    labels = {r["id"]: f"{r['id']}  ·  {r['dataset']}, {r['model']}" for r in all_runs}
    rid = st.selectbox("Watching", ids, key="train_view", format_func=labels.get)
    ss["selected_run"] = rid
    return rid


def _hints(state: dict, rows: list[dict], loss: str) -> list[str]:
    out = []
    recent = [r for r in rows[-20:] if "d_loss" in r]
    if state["state"] == "failed":
        out.append(("error", state["message"] or "Training failed."))
    elif state["state"] == "budget":
        out.append(("info", state["message"] + " Press Resume to train on."))
    elif state["state"] == "interrupted":
        out.append(("warning", state["message"]))
    if loss in ("ns", "minimax") and len(recent) >= 8:
        d = [r["d_loss"] for r in recent]
        g = [r["g_loss"] for r in recent]
        half = len(recent) // 2
        if sum(d[half:]) / (len(d) - half) < 0.1 and sum(g[half:]) / (len(g) - half) > sum(g[:half]) / half:
            out.append(
                (
                    "warning",
                    "The judge is winning: D loss is near 0 and G loss keeps climbing, so the "
                    "generator gets little to learn from. Try a lower α (judge learning rate), "
                    "DiffAugment, or more data.",
                )
            )
        if (
            recent
            and all(r.get("d_fake", 0) < 0.02 for r in recent[-5:])
            and all(r.get("d_real", 1) > 0.98 for r in recent[-5:])
        ):
            out.append(("warning", "The judge tells real from generated perfectly; training has likely collapsed."))
    return out


def controls(rid: str, state: dict):
    mgr = job_manager()
    s = state["state"]
    if not passphrase_ok("train_controls"):
        return
    cols = st.columns([1, 1, 1, 3])
    try:
        if s in ("running", "starting") and cols[0].button("Pause", key="pause", icon=":material/pause:"):
            mgr.pause(rid)
            st.rerun()
        if s == "paused" and cols[0].button("Resume", key="resume", icon=":material/play_arrow:"):
            mgr.resume(rid)
            st.rerun()
        if s in ("interrupted", "stopped", "budget", "failed", "completed") and state.get("can_resume"):
            if cols[0].button(
                "Resume", key="resume", icon=":material/play_arrow:", help="Continue from the last checkpoint."
            ):
                mgr.resume_run(rid)
                st.rerun()
        if s in ("queued", "starting", "running", "paused") and cols[1].button(
            "Stop", key="stop", icon=":material/stop:", help="Stop and keep a checkpoint."
        ):
            mgr.stop(rid)
            st.rerun()
    except StudioError as e:
        st.error(str(e))
    if s in ("running", "paused"):
        with cols[3].popover("Change learning rates", icon=":material/tune:"):
            lr = state.get("lr") or {}
            a = st.number_input(
                "α — judge (D)",
                value=float(lr.get("lr_d") or 2e-4),
                min_value=1e-6,
                max_value=0.1,
                format="%.6f",
                step=1e-5,
                key="live_lr_d",
            )
            b = st.number_input(
                "β — generator (G)",
                value=float(lr.get("lr_g") or 2e-4),
                min_value=1e-6,
                max_value=0.1,
                format="%.6f",
                step=1e-5,
                key="live_lr_g",
            )
            if st.button("Apply", key="apply_lr"):
                try:
                    mgr.set_learning_rates(rid, lr_d=a, lr_g=b)
                    st.toast("New learning rates apply from the next step.")
                except StudioError as e:
                    st.error(str(e))


def gather(rid: str) -> tuple[dict, list[dict], str | None, int | None, RunConfig]:
    """The run's state, metrics and latest grid: live from the job manager, or from disk."""
    mgr = job_manager()
    run = Run.open(rid) if not rid.startswith("/") else Run(rid)
    live = mgr.status(rid)
    disk = run.status(mgr.live_ids())
    if live and live["state"] in LIVE_STATES:
        state = live
        rows = live["metrics"] or run.read_metrics()
        grid, grid_step = live["grid_path"], live["grid_step"]
        if grid is None and (latest := run.latest_sample()):  # resumed or forked: show where it stands
            grid, grid_step = latest, int(latest.stem.split("_")[1])
    else:
        cfg = run.config
        state = {
            "state": disk.get("state", "unknown"),
            "step": disk.get("step", 0),
            "total": cfg.steps,
            "message": disk.get("message", ""),
            "images_per_s": None,
            "eta_s": None,
            "lr": {},
            "queue_position": 0,
            "external": disk.get("external", False),
        }
        rows = run.read_metrics()
        if rows:
            state["images_per_s"] = rows[-1].get("images_per_s")
        grid = run.latest_sample()
        grid_step = int(grid.stem.split("_")[1]) if grid else None
    state["can_resume"] = (run.latest_checkpoint_step() or 0) < run.config.steps or state["state"] == "interrupted"
    return state, rows, grid, grid_step, run.config


def run_header(rid: str, state: dict) -> None:
    head = st.columns([4, 2])
    head[0].markdown(f"**{rid}** &nbsp; {state_badge(state['state'])}")
    if state.get("external"):
        head[1].caption("Trained by another process (the command line).")


def _progress(state: dict, cfg: RunConfig) -> tuple[float, str]:
    s = state["state"]
    total = max(int(state.get("total") or cfg.steps), 1)
    step = int(state.get("step") or 0)
    ips = state.get("images_per_s")
    parts = [f"Step {step:,} of {total:,}"]
    if state.get("eta_s") is not None and s in LIVE_STATES:
        parts.append(f"ETA {fmt_secs(state['eta_s'])}")
    if ips:
        parts.append(f"{ips:,.0f} images/s")
    if s == "queued":
        parts.append(f"waiting in line (place {state.get('queue_position') or 1})")
    return min(step / total, 1.0), " · ".join(parts)


@functools.lru_cache(maxsize=4)
def _png(path: str, stamp: tuple) -> bytes:
    return Path(path).read_bytes()


def _grid_png(grid) -> bytes | None:
    try:
        stat = Path(grid).stat()
        return _png(str(grid), (stat.st_mtime_ns, stat.st_size))
    except (OSError, TypeError):
        return None


def _smoothing_moved() -> None:
    value = (st.session_state.get("live_panel") or {}).get("smoothing")
    if value is not None:
        st.session_state["smoothing"] = float(value)


def live_panel(rid: str, state: dict, rows: list[dict], grid, grid_step: int | None, cfg: RunConfig) -> None:
    """What changes every second: one page part updated in place (ui/web/livepanel.js)."""
    s = state["state"]
    smoothing = float(st.session_state.setdefault("smoothing", 0.6))
    hints = _hints(state, rows, cfg.loss)
    src = plotly_js_url()
    fig = sig = None
    if rows:
        # The browser smooths (so the smoothing slider answers at once); without plotly.js served
        # (static serving off) Streamlit's chart draws it, smoothed here.
        fig = loss_spec(rows, smoothing=0.0 if src else smoothing, probabilistic=cfg.loss in ("ns", "minimax"))
        fig["layout"]["uirevision"] = rid  # zoom survives updates, not a change of run
        sig = f"{rid}:{len(rows)}:{rows[-1].get('step')}"
    png = _grid_png(grid) if grid else None
    livepanel(
        "live_panel",
        progress=_progress(state, cfg),
        hints=hints,
        message=(state.get("message") or "") if s in ("queued", "starting", "stopping") else "",
        chart=fig if src else None,
        chart_sig=sig or "",
        src=src,
        chart_every_s=CHART_EVERY_S,
        chart_share=CHART_SHARE,
        chart_empty="The loss curves appear after the first step." if fig is None else "",
        smoothing=smoothing,
        smoothing_help="Averages out the noise of single steps so trends show.",
        grid=png,
        grid_empty="The sample grid appears once the models are built (a few seconds).",
        grid_caption=f"Fixed-noise samples at step {grid_step:,} — the same noise every time, so you can watch "
        "them sharpen."
        if png
        else "",
        on_smoothing=_smoothing_moved,
    )
    if fig is not None and not src:
        st.plotly_chart(fig, key="loss_chart", config={"displaylogo": False})


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


def _keep_settings() -> None:
    """Settings survive while their widgets are not drawn (the folded "New run" section)."""
    ss = st.session_state
    for k in [k for k in ss if isinstance(k, str) and k.startswith("train_")]:
        ss[k] = ss[k]


def main():
    _keep_settings()
    st.title("Train")
    mgr = job_manager()
    busy = mgr.active_id() is not None
    if not busy:
        setup_section(busy)
    all_runs = runs()
    rid = _view_run_id(all_runs)
    if rid is None:
        st.info("No runs yet. Choose a dataset and a preset above and press **Start training**.")
    else:
        gathered = [gather(rid)]
        state = gathered[0][0]
        # The parts that change only with the run's state (badge, buttons) are drawn here, once; the
        # live panel below reruns every second and hands over to a full rerun when the state changes.
        run_header(rid, state)
        controls(rid, state)
        shown = state["state"]

        @st.fragment(run_every=1.0 if shown in LIVE_STATES else None)
        def live():
            now = gathered.pop() if gathered else gather(rid)
            if now[0]["state"] != shown:
                st.rerun(scope="app")  # paused, resumed, stopped, finished (here or by another viewer)
            live_panel(rid, *now)

        live()
    if busy:
        setup_section(busy)


use_app_navigation()
main()
