"""Training health on the pages (issue 13), under AppTest against the session's tiny run (which
scores its snapshots as it trains): quality curves on Train and Checkpoints with the best snapshot
marked, "Resume from the best snapshot", Explore opening on the best snapshot with the copy check;
and the engine side the pages rely on (hints unified with alerts, the resume point)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from studio.quality import Alert, AlertKind, best_snapshot, quality_history, resume_point, store
from studio.quality.alerts import LOWER_LRS, WGAN_GP
from studio.train.diagnostics import training_hints
from studio.train.runs import Run
from studio.train.state import RunState

APP = str(Path(__file__).resolve().parents[1] / "app.py")
RUN_ID = "tiny-quality"


@pytest.fixture
def run(tiny_run, studio_dirs):
    st.cache_resource.clear()
    st.cache_data.clear()
    dest = Path(os.environ["STUDIO_RUNS_DIR"]) / RUN_ID
    shutil.copytree(tiny_run.path, dest)
    # A 30-step run's KID is noise around its start: plant a history whose best is step 20, next to
    # a kept checkpoint, keeping every other measured field. Its standard errors are planted too:
    # KIDs within noise of 0 would be at the features' floor, where the newest snapshot is the best.
    kids = {0: 0.30, 10: 0.20, 20: 0.05, 30: 0.10}
    rows = [replace(r, kid=kids[r.step], kid_se=0.01) for r in store.read_rows(dest)]
    store.quality_path(dest).write_text("".join(r.to_json() + "\n" for r in rows))
    yield Run(dest)
    st.cache_resource.clear()
    st.cache_data.clear()


def open_page(page: str, session: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in (session or {}).items():
        at.session_state[k] = v
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at) -> dict[str, dict]:
    """Every Plotly chart on the page by its trace names."""
    out = {}
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        out[" / ".join(t.get("name", "") for t in spec["data"])] = spec
    return out


def quality_chart(at) -> dict:
    found = [s for names, s in charts(at).items() if names.startswith("KID")]
    assert len(found) == 1, list(charts(at))
    return found[0]


def all_text(at) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "success", "info", "warning") for e in getattr(at, kind)]
    return " ".join(parts)


def test_the_run_has_scores_and_a_best_snapshot(run):
    rows = quality_history(run)
    assert [r.step for r in rows] == run.snapshot_steps() == [0, 10, 20, 30]
    best = best_snapshot(run)
    assert best.step == 20 and best.kid == min(r.kid for r in rows)
    at = resume_point(run, best.step)
    assert at is not None and at <= best.step and at in run.checkpoint_steps()


def test_train_page_shows_quality_curves_beside_the_losses(run):
    at = open_page("pages/train.py", {"train_view": RUN_ID})
    spec = quality_chart(at)
    names = [t["name"] for t in spec["data"]]
    assert names[:4] == ["KID (lower is better)", "precision", "recall", "coverage"]
    best = best_snapshot(run)
    star = spec["data"][-1]
    assert star["name"] == "best snapshot" and star["x"] == [best.step]
    assert f"best so far: step {best.step:,}" in all_text(at)
    assert spec["data"][0]["x"] == [0, 10, 20, 30]


def test_checkpoints_marks_the_best_snapshot_and_resumes_from_it(run):
    best = best_snapshot(run)
    at = open_page("pages/checkpoints.py")
    spec = quality_chart(at)
    assert spec["data"][-1]["x"] == [best.step]
    assert f"Best snapshot: step {best.step:,}" in all_text(at)
    at.button(key="ckpt_show_best").click().run()
    assert not at.exception, at.exception
    assert at.session_state["ckpt_step"] == best.step
    assert quality_chart(at)["layout"]["shapes"][0]["x0"] == best.step
    at.button(key="ckpt_resume_best").click().run()
    assert not at.exception, at.exception
    assert "goes on from the checkpoint at step" in all_text(at)
    forks = [r for r in Path(os.environ["STUDIO_RUNS_DIR"]).iterdir() if r.name != RUN_ID]
    assert len(forks) == 1
    cfg = Run(forks[0]).config
    assert cfg.parent == {"run_id": RUN_ID, "step": resume_point(run, best.step)}
    from ui.common import job_manager

    job_manager().wait(forks[0].name, 120)


def test_explore_opens_on_the_best_snapshot_and_checks_for_copies(run):
    best = best_snapshot(run)
    at = open_page("pages/explore.py")
    assert at.session_state["explore_step"] == best.step
    picker = at.selectbox(key="explore_step")
    assert any("(best" in o for o in picker.options)
    verdicts = [str(e.value) for kind in ("success", "info", "warning") for e in getattr(at, kind)]
    assert any(
        ("No training image is close" in v) or ("likely a copy" in v) or ("is similar" in v) for v in verdicts
    ), verdicts
    shown = all_text(at)
    assert "In pixels" in shown and "In feature space" in shown
    captions = [i.caption for img in at.get("image") for i in img.proto.imgs]
    near = [c for c in captions if c.startswith("#") and "ratio" in c]
    assert len(near) == 6, captions  # 3 nearest in pixels, 3 in features


def test_the_index_hands_back_training_image_numbers_people_see(run):
    from studio.quality import training_index

    index = training_index(run)
    n = int(index.index[7])
    report = index.nearest(index.image(n))
    assert report.message == f"Close to training image #{n} — likely a copy."
    assert report.pixels[0].index == n and report.pixels[0].ratio < 0.5


# ---- the engine side -------------------------------------------------------------------------------
def _alert(kind: AlertKind) -> Alert:
    return Alert(kind, 100, "The losses are diverging", "G climbs while D wins.", (LOWER_LRS, WGAN_GP))


def test_alerts_are_hints_with_their_actions_and_not_said_twice():
    winning = [{"step": i, "d_loss": 0.01, "g_loss": 1.0 + i, "d_real": 0.99, "d_fake": 0.01} for i in range(20)]
    alone = training_hints(RunState.RUNNING, "", winning, "ns")
    assert any("judge is winning" in h.text for h in alone)
    both = training_hints(RunState.RUNNING, "", winning, "ns", [_alert(AlertKind.UNSTABLE)])
    assert [h.alert.kind for h in both if h.alert] == [AlertKind.UNSTABLE]
    assert not any("judge is winning" in h.text for h in both), "one problem, one hint"
    (hint,) = [h for h in both if h.alert]
    assert hint.text.startswith("The losses are diverging.") and "lower both learning rates" in hint.text


def test_resume_point_is_none_far_from_any_checkpoint(run):
    assert resume_point(run, 30) == 30
    store.append_row(run.path, store.QualityRow(step=5000, kid=0.0, features="digitnet"))
    assert resume_point(run, 5000) is None
