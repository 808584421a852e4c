"""Train: set up a run, start it, and watch it learn live."""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from studio.core.errors import StudioError
from studio.train.diagnostics import training_hints
from studio.train.state import RunState, RunSummary
from studio.train.view import RunView, run_view
from ui import state
from ui.charts import loss_spec
from ui.common import job_manager, runs, use_app_navigation
from ui.components import livepanel, plotly_js_url
from ui.quality_panels import train_health
from ui.train_setup import keep_settings, setup_section
from ui.widgets import passphrase_gate, state_badge

# The live panel follows the run every second, the loss chart too unless redrawing it would take more
# than 2.5% of a core of the viewer's computer: a Plotly redraw is ~50-75 ms on a 2-core test machine
# whose CPU the training shares (then new points come every 2-3 s; benchmarks/ui_overhead.py).
CHART_EVERY_S, CHART_SHARE = 1.0, 0.025
# While a run starts, its first grid is looked for 4 times a second (benchmarks/first_grid.py).
POLL_S, STARTING_POLL_S = 1.0, 0.25


# Quality rows arrive once per scored snapshot (every few hundred steps): a slower poll is live enough.
HEALTH_EVERY_S = 5.0


# ---- live view ------------------------------------------------------------------------------
def _view_run_id(all_runs: list[RunSummary]) -> str | None:
    ids = [r.id for r in all_runs]
    if not ids:
        return None
    mgr = job_manager()
    ss = st.session_state
    current = state.train_view()
    if current not in ids:
        active = mgr.active_id()
        current = active if active in ids else (state.selected_run() if state.selected_run() in ids else ids[0])
        ss[state.TRAIN_VIEW] = current
    labels = {r.id: f"{r.id}  ·  {r.dataset}, {r.model}" for r in all_runs}
    rid = st.selectbox("Watching", ids, key=state.TRAIN_VIEW, format_func=labels.get)
    state.select_run(rid)
    return rid


def controls(view: RunView):
    mgr = job_manager()
    rid, s = view.id, view.state
    if not passphrase_gate("train_controls"):
        return
    cols = st.columns([1, 1, 1, 3])
    try:
        if s.can_pause and cols[0].button("Pause", key="pause", icon=":material/pause:"):
            mgr.pause(rid)
            st.rerun()
        if s is RunState.PAUSED and cols[0].button("Resume", key="resume", icon=":material/play_arrow:"):
            mgr.resume(rid)
            st.rerun()
        if s.is_final and s is not RunState.UNKNOWN and view.can_resume:
            if cols[0].button(
                "Resume", key="resume", icon=":material/play_arrow:", help="Continue from the last checkpoint."
            ):
                mgr.resume_run(rid)
                st.rerun()
        if s.can_stop and cols[1].button(
            "Stop", key="stop", icon=":material/stop:", help="Stop and keep a checkpoint."
        ):
            mgr.stop(rid)
            st.rerun()
    except StudioError as e:
        st.error(str(e))
    if s.can_change_lr and not view.external:  # a CLI run keeps the rates it was started with
        with cols[3].popover("Change learning rates", icon=":material/tune:"):
            lr = view.lr
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


def run_header(view: RunView) -> None:
    head = st.columns([4, 2])
    head[0].markdown(f"**{view.id}** &nbsp; {state_badge(view.state)}")
    if view.external:
        head[1].caption(
            "Trained by another process (the command line): Pause and Stop reach it through its run folder."
        )


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


def live_panel(view: RunView) -> None:
    """What changes every second: one page part updated in place (ui/web/livepanel.js)."""
    rid, s, rows, cfg, grid, grid_step = view.id, view.state, view.rows, view.cfg, view.grid, view.grid_step
    smoothing = float(st.session_state.setdefault("smoothing", 0.6))
    hints = [(h.level, h.text) for h in training_hints(s, view.message, rows, cfg.loss, view.alerts)]
    if view.ada_sentence:
        hints.append(("info", view.ada_sentence))
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
        progress=view.progress(),
        hints=hints,
        message=view.message if s in (RunState.QUEUED, RunState.STARTING, RunState.RUNNING, RunState.STOPPING) else "",
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


def main():
    keep_settings()
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
        try:
            gathered = [run_view(mgr, rid)]
        except StudioError as e:  # a damaged run folder: say so, keep the page
            st.error(str(e))
            return
        view = gathered[0]
        # The parts that change only with the run's state (badge, buttons) are drawn here, once; the
        # live panel below reruns every second and hands over to a full rerun when the state changes.
        run_header(view)
        controls(view)
        shown = view.state

        poll = STARTING_POLL_S if shown is RunState.STARTING and view.grid is None else POLL_S

        @st.fragment(run_every=poll if shown.is_active else None)
        def live():
            now = gathered.pop() if gathered else run_view(mgr, rid)
            if now.state != shown:
                st.rerun(scope="app")  # paused, resumed, stopped, finished (here or by another viewer)
            live_panel(now)

        live()

        @st.fragment(run_every=HEALTH_EVERY_S if shown.is_active else None)
        def health():
            train_health(view if not shown.is_active else run_view(mgr, rid))

        health()
    if busy:
        setup_section(busy)


use_app_navigation()
main()
