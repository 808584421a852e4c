"""Training health on the pages: quality curves, the best snapshot, alerts' actions, the copy check.

The numbers come from ``studio.quality`` (``quality.jsonl``, written while a run trains or by
``python -m studio metrics``); this module only draws them and turns an alert's actions into
buttons. Used by Train (``train_health``), Checkpoints (``quality_chart``, ``best_snapshot_panel``)
and Explore (``opening_step``, ``snapshot_label``, ``memorisation_check``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from studio.core.errors import StudioError
from studio.core.images import upscale
from studio.core.text import fmt_kid
from studio.quality import QualityRow, best_snapshot, best_why, quality_history, resume_point
from studio.train.runs import Run
from ui import state
from ui.charts import quality_spec
from ui.common import job_manager
from ui.widgets import passphrase_gate

EXPLORE_PAGE, DATA_PAGE = "pages/explore.py", "pages/data.py"
NEIGHBOUR_PX = 160  # each picture of the copy check, on screen (a whole-factor enlargement, then exact)
EMPTY = (
    "Quality curves appear once the first snapshot is scored (a few seconds after it is saved). "
    "Runs with quality checks off can be scored with `python -m studio metrics --run-dir …`."
)


def _fmt(v, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def row_summary(row: QualityRow) -> str:
    """One line of a snapshot's scores, in the order the chart shows them."""
    kid = f"KID {fmt_kid(row.kid, row.kid_se)}"
    return (
        f"{kid} · precision {_fmt(row.precision)} · recall {_fmt(row.recall)} · coverage {_fmt(row.coverage)}"
        + (f" · r_t {row.r_t:.2f}" if row.r_t is not None else "")
        + f" · features: {row.features}"
    )


def quality_chart(rows: list[QualityRow], best: QualityRow | None, key: str, marker_step: int | None = None) -> None:
    """KID and precision / recall / coverage per snapshot, the best one starred."""
    if not [r for r in rows if r.kid is not None]:
        st.caption(EMPTY)
        return
    fig = quality_spec(rows, best.step if best else None, marker_step)
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


# ---- alerts' actions -------------------------------------------------------------------------------
def _halved(cur: float | None, fallback: float) -> float:
    return float(cur or fallback) / 2.0


def _start_again(run: Run, **changes) -> str:
    """A new run with ``run``'s recipe and ``changes`` (it trains at once or waits its turn)."""
    cfg = run.config.replace(parent={}, **changes)
    return job_manager().start(cfg.validate())


def do_action(key: str, run: Run, best_step: int | None, lr: dict | None = None) -> str | None:
    """What an alert's button does; returns a sentence saying what happened (or raises StudioError)."""
    mgr, rid, cfg = job_manager(), run.id, run.config
    live = mgr.status(rid)
    active = live is not None and live.state.is_active
    if key == "open_best" and best_step is not None:
        state.select_run(rid)
        st.session_state[state.EXPLORE_RUN], st.session_state[state.EXPLORE_STEP] = rid, int(best_step)
        st.switch_page(EXPLORE_PAGE)
    if key == "more_data":
        st.switch_page(DATA_PAGE)
    if key == "stop":
        mgr.stop(rid)
        return "Stopping; the checkpoint is kept."
    if key in ("lower_lr_d", "lower_lrs"):
        lr = lr or {}
        a = _halved(lr.get("lr_d"), cfg.lr_d)
        b = _halved(lr.get("lr_g"), cfg.lr_g) if key == "lower_lrs" else None
        if active:
            mgr.set_learning_rates(rid, lr_d=a, lr_g=b)
            return f"Halved: α is now {a:.2e}" + (f" and β {b:.2e}" if b else "") + " from the next step."
        new = mgr.fork(rid, None, a, b or cfg.lr_g)
        state.select_run(new, watch=True)
        return f"New run {new} goes on from the latest checkpoint with α {a:.2e}."
    if key == "resume_best" and best_step is not None:
        at = resume_point(run, best_step)
        if at is None:
            raise StudioError(f"No full checkpoint is kept near step {best_step:,}, so it cannot be resumed from.")
        new = mgr.fork(rid, at)
        state.select_run(new, watch=True)
        return f"New run {new} goes on from the checkpoint at step {at:,}, next to the best snapshot."
    if key == "augment":
        new = _start_again(run, ada="on")
        state.select_run(new, watch=True)
        return f"New run {new} trains the same recipe with augmentation (ADA) on."
    if key == "wgan_gp":
        from studio.train.config import PRESETS

        wgan = {k: v for k, v in PRESETS["wgan-gp"].items() if k in ("loss", "n_critic", "gp_weight", "beta1", "beta2")}
        new = _start_again(run, **wgan, lr_d=1e-4, lr_g=1e-4)
        state.select_run(new, watch=True)
        return f"New run {new} trains the same pictures with the WGAN-GP loss."
    return None


def alert_actions(alerts: list, run: Run, lr: dict | None, where: str) -> None:
    """A row of buttons per alert (the alert's words are in the page's hints above)."""
    if not alerts:
        return
    note = st.session_state.pop(f"{where}_health_note", None)
    if note:
        (st.success if note[0] == "ok" else st.error)(note[1])
    for alert in alerts:
        actions = [a for a in alert.actions if a.key != "resume_best" or resume_point(run, alert.best_step or 0)]
        st.markdown(f"**{alert.title}** — what the studio can do:")
        cols = st.columns(max(len(actions), 1))
        for col, action in zip(cols, actions):
            if col.button(action.label, key=f"{where}_{alert.kind}_{action.key}", width="stretch"):
                if action.key not in ("open_best", "more_data") and not passphrase_gate(f"{where}_health"):
                    continue
                try:
                    said = do_action(action.key, run, alert.best_step or _best_step(run), lr)
                    st.session_state[f"{where}_health_note"] = ("ok", said or "Done.")
                except StudioError as e:
                    st.session_state[f"{where}_health_note"] = ("error", str(e))
                st.rerun(scope="app")


def _best_step(run: Run) -> int | None:
    best = best_snapshot(run)
    return best.step if best else None


def train_health(view) -> None:
    """Train: the quality curves beside the losses, the best snapshot so far and the alerts' actions."""
    rows = view.quality
    best = best_snapshot(view.run) if rows else None
    st.markdown("**Quality per snapshot**" + (f" · best so far: step {best.step:,}" if best else ""))
    quality_chart(rows, best, "train_quality_chart")
    if best is not None:
        st.caption(f"Best snapshot ({best_why(best)}): step {best.step:,} — {row_summary(best)}")
    alert_actions(view.alerts, view.run, view.lr, "train")


# ---- Checkpoints: the best snapshot, selectable ----------------------------------------------------------
def checkpoint_quality(run: Run, step: int) -> None:
    """The quality chart with the scrubbed step marked, and that step's scores."""
    rows = quality_history(run)
    best = best_snapshot(run) if rows else None
    quality_chart(rows, best, "ckpt_quality_chart", marker_step=step)
    here = next((r for r in rows if r.step == step), None)
    if here is not None:
        st.caption(
            f"Step {step:,}: {row_summary(here)}" + (" — the best snapshot" if best and best.step == step else "")
        )


def best_snapshot_panel(run: Run, unlocked: bool) -> None:
    """Where the best snapshot is, and buttons to look at it, scrub to it or go on from it."""
    best = best_snapshot(run)
    if best is None:
        st.caption(EMPTY)
        return
    at = resume_point(run, best.step)
    with st.container(border=True, key="ckpt_best"):
        st.markdown(f"★ **Best snapshot: step {best.step:,}** ({best_why(best)}) — {row_summary(best)}")
        c = st.columns(3)
        if c[0].button("Show it above", key="ckpt_show_best", icon=":material/star:", width="stretch"):
            st.session_state["ckpt_step"] = best.step
            st.rerun()
        if c[1].button(
            "Explore the best snapshot", key="ckpt_explore_best", icon=":material/palette:", width="stretch"
        ):
            do_action("open_best", run, best.step)
        if at is None:
            c[2].caption(
                "No full checkpoint is kept near it (only the newest few are), so it cannot be resumed from; "
                "Explore and export it instead."
            )
        elif unlocked and c[2].button(
            "Resume from the best snapshot",
            key="ckpt_resume_best",
            icon=":material/fork_right:",
            width="stretch",
            help=f"A new run that goes on from the full checkpoint at step {at:,}.",
        ):
            try:
                st.success(do_action("resume_best", run, best.step))
            except (StudioError, OSError) as e:
                st.error(str(e))


# ---- Explore: which snapshot it opens on, and is this picture a copy? ------------------------------------
def opening_step(run: Run, steps: list[int]) -> int:
    """The snapshot Explore opens on: the best one so far (``best_snapshot``), else the latest."""
    best = best_snapshot(run)
    return best.step if best is not None and best.step in steps else steps[-1]


def snapshot_label(run: Run, steps: list[int]):
    """The Snapshot picker's words: "step 1,200 (best)", "step 2,000 (latest)"."""
    best = best_snapshot(run)
    b = best.step if best else None

    def label(s: int) -> str:
        tags = [t for t, on in (("best", s == b), ("latest", s == steps[-1])) if on]
        return f"step {s:,}" + (f" ({', '.join(tags)})" if tags else "")

    return label


@st.cache_resource(max_entries=2, show_spinner="Reading the training pictures (once per run)…")
def _index(run_path: str, config_mtime: int):
    from studio.quality import training_index

    return training_index(run_path)


def _tile(image: np.ndarray) -> np.ndarray:
    return upscale(image if image.shape[-1] != 1 else image[..., 0], NEIGHBOUR_PX)


@st.fragment
def memorisation_check(run_path: str) -> None:
    """Is the picture on screen a copy? Its nearest training pictures in pixels and in features."""
    latest = st.session_state.get("_explore_latest") or {}
    image = latest.get("image")
    st.button("Check the picture on screen again", key="explore_copy_check", icon=":material/refresh:")
    if image is None:
        st.caption("Draw a picture above first.")
        return
    try:
        index = _index(run_path, (Path(run_path) / "config.json").stat().st_mtime_ns)
        report = index.nearest(np.asarray(image))
    except (StudioError, OSError) as e:
        st.error(str(e))
        return
    (st.warning if report.is_copy else st.info if report.verdict == "close" else st.success)(report.message)
    st.caption(
        "Distances are compared with the typical distance between two training images (ratio 1.0); "
        f"below 0.5 is likely a copy. Features: {report.features_name}."
    )
    for title, found in (("In pixels", report.pixels), ("In feature space", report.features)):
        st.markdown(f"**{title}** — the nearest training images")
        cols = st.columns(len(found) + 1)
        cols[0].image(_tile(np.asarray(image)), caption="On screen", output_format="PNG", width=NEIGHBOUR_PX)
        for col, n in zip(cols[1:], found):
            col.image(
                _tile(index.image(n.index)),
                caption=f"#{n.index} · distance {n.distance:.2f} · ratio {n.ratio:.2f}",
                output_format="PNG",
                width=NEIGHBOUR_PX,
            )
