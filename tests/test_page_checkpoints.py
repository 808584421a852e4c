"""AppTest of the Checkpoints page against a small real run made once for the module.

Each test gets its own runs folder holding a copy of that run (tests fork, resume and delete), and
the Streamlit caches (the one JobManager, the cached samplers) are cleared between tests.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import train_tiny

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
RUN_ID = "20250101-000000-digits-dcgan"


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    """A finished 30-step tiny run: snapshots and full checkpoints at 0/10, 20, 30."""
    root = tmp_path_factory.mktemp("ckpt_src")
    return train_tiny(root, root / RUN_ID, steps=30, snapshot_every=10, checkpoint_every=10).path


def _clear_caches():
    import streamlit as st

    from ui.common import job_manager

    mgr = job_manager()
    for rid in list(mgr.live_ids()):  # never leave a training thread behind for the next test
        mgr.wait(rid, timeout=120)
    job_manager.clear()
    st.cache_resource.clear()


@pytest.fixture
def runs_dir(tmp_path, monkeypatch, source_run):
    d = tmp_path / "runs"
    d.mkdir()
    shutil.copytree(source_run, d / RUN_ID)
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(d))
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STUDIO_PASSPHRASE", raising=False)
    _clear_caches()
    yield d
    _clear_caches()


@pytest.fixture
def empty_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    _clear_caches()
    yield tmp_path / "runs"
    _clear_caches()


def open_page(session: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (session or {}).items():
        at.session_state[k] = v
    at.switch_page("pages/checkpoints.py")
    at.run()
    assert not at.exception, at.exception
    return at


def run_choices(at) -> list[str]:
    """The run ids offered by the page's run picker (AppTest gives the formatted labels)."""
    return [o.split()[0] for o in at.selectbox(key="ckpt_run").options]


def texts(at, kind: str) -> str:
    return " ".join(str(e.value) for e in getattr(at, kind))


# ---- empty studio ----------------------------------------------------------------------------------
def test_no_runs_gives_a_friendly_sentence(empty_runs):
    at = open_page()
    assert at.title[0].value == "Checkpoints"
    assert "No runs yet" in texts(at, "info")
    assert not at.error


def test_runs_without_snapshots_explain_and_still_list_sizes(empty_runs):
    from studio.train.config import from_preset
    from studio.train.runs import Run

    Run.create(from_preset("tiny"), empty_runs / "fresh")  # started, no snapshot yet
    at = open_page()
    assert "None of your runs has saved a snapshot yet" in texts(at, "info")
    assert not at.select_slider and not at.error
    assert list(at.dataframe[0].value["Run"]) == ["fresh"]


# ---- scrubbing -------------------------------------------------------------------------------------
def strip(at) -> dict:
    """The data the filmstrip component was given: steps, the step it opens on, frames, captions."""
    els = [e for e in at.get("bidi_component") if e.proto.component_name == "gan_studio.filmstrip"]
    assert len(els) == 1, "one filmstrip on the page"
    return json.loads(els[0].proto.json)


def frame_sizes(uris: list) -> list[tuple[int, int]]:
    out = []
    for u in uris:
        assert u and u.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))) as im:
            out.append(im.size)
    return out


def captions_at(data: dict, step: int) -> list[str]:
    return [c.replace("{step}", f"{step:,}") for c in data["captions"]]


def test_scrub_has_every_step_in_the_page_with_latent_grid_and_chart(runs_dir):
    at = open_page()
    data = strip(at)
    assert data["steps"] == [0, 10, 20, 30]
    assert data["index"] == 3  # opens on the latest snapshot
    assert data["label"] == "Training step"
    latent, grid = data["frames"]
    assert frame_sizes(latent) == [(32, 32)] * 4  # the latent at its own size, per snapshot
    assert len(set(latent)) == 4, "each snapshot draws the latent differently"
    run_dir = runs_dir / RUN_ID
    for step, uri in zip(data["steps"], grid):  # the grid is the run's own sample PNG
        raw = (run_dir / "samples" / f"step_{step:08d}.png").read_bytes()
        assert base64.b64decode(uri.split(",", 1)[1]) == raw
    assert captions_at(data, 20) == ["Seed 0 at step 20", "The fixed-noise grid at step 20"]
    assert at.get("plotly_chart"), "the loss chart is shown"
    # Where the person settles (reported by the browser into ckpt_step): the strip opens there and
    # the marker on the loss chart follows it.
    at.session_state["ckpt_step"] = 10
    at.run()
    assert not at.exception, at.exception
    assert strip(at)["index"] == 1
    fig = at.get("plotly_chart")[0].proto.spec.replace(" ", "")
    assert '"x0":10' in fig


def test_a_pruned_snapshot_is_a_missing_frame_not_an_error(runs_dir):
    at = open_page()
    (runs_dir / RUN_ID / "samples" / "step_00000010.png").unlink()
    at.session_state["ckpt_seed"] = 3  # a new latent: frames are redrawn
    at.run()
    assert not at.exception and not at.error
    data = strip(at)
    assert data["frames"][1][1] is None and all(data["frames"][0])


def test_seed_changes_the_followed_latent(runs_dir):
    at = open_page()
    before = strip(at)["frames"][0]
    at.number_input(key="ckpt_seed").set_value(42).run()
    assert not at.exception
    data = strip(at)
    assert captions_at(data, 30)[0] == "Seed 42 at step 30"
    assert data["frames"][0] != before
    assert "Following seed 42" in texts(at, "caption")


def test_latent_sent_from_explore_is_followed_and_named(runs_dir):
    from studio.train.config import RunConfig

    z_dim = RunConfig.from_json((runs_dir / RUN_ID / "config.json").read_text()).z_dim
    at = open_page({"explore_latent": {"seed": 5, "psi": 0.7}})
    assert at.radio(key="ckpt_latent_source").value == "explore"
    assert "Following seed 5 from Explore, truncation ψ 0.70." in texts(at, "caption")
    assert captions_at(strip(at), 30)[0] == "The point from Explore at step 30"
    # A sculpted z of the right size works; one from another model falls back to the seed, with a warning.
    at = open_page({"explore_latent": {"z": [0.1] * z_dim, "psi": 1.0}})
    assert "Following a point you sculpted in Explore." in texts(at, "caption")
    at = open_page({"explore_latent": {"z": [0.1] * (z_dim + 3)}})
    assert "different model" in texts(at, "warning")
    assert captions_at(strip(at), 30)[0] == "Seed 0 at step 30"


def test_compare_two_steps_side_by_side(runs_dir):
    at = open_page()
    at.session_state["ckpt_step"] = 20  # the filmstrip's step, as the browser reports it
    at.select_slider(key="ckpt_compare_step").set_value(10).run()
    assert not at.exception
    compare = at.tabs[1]
    assert compare.label == "Compare two moments"
    md = " ".join(m.value for m in compare.markdown)
    assert "Step 20" in md and "Step 10" in md
    assert len(compare.image) == 4  # latent + grid on each side


# ---- timelapse ---------------------------------------------------------------------------------------
def test_timelapse_gif_and_mp4_have_a_frame_per_snapshot(runs_dir, tmp_path):
    import imageio

    at = open_page()
    at.radio(key="ckpt_tl_kind").set_value("latent")
    at.button(key="ckpt_play").click().run()
    assert not at.exception, at.exception
    assert [b.label for b in at.download_button] == ["Download GIF"]
    gif = at.session_state["ckpt_gif"][2]
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF" and im.n_frames == 4 and im.size[0] >= 256
    at.button(key="ckpt_make_mp4").click().run()
    assert not at.exception, at.exception
    assert [b.label for b in at.download_button] == ["Download GIF", "Download MP4"]
    mp4 = tmp_path / "t.mp4"
    mp4.write_bytes(at.session_state["ckpt_mp4"][2])
    reader = imageio.get_reader(str(mp4), format="FFMPEG")
    try:
        assert sum(1 for _ in reader) == 4
    finally:
        reader.close()


# ---- go on from here -------------------------------------------------------------------------------
def test_fork_via_the_engine_is_listed(runs_dir):
    from ui.common import job_manager

    new_id = job_manager().fork(RUN_ID, 20, lr_d=1e-4, start=False)
    at = open_page()
    assert new_id in run_choices(at)
    table = at.dataframe[0].value
    assert set(table["Run"]) == {RUN_ID, new_id}
    assert table.set_index("Run").loc[new_id, "Forked from"] == RUN_ID


def test_fork_from_the_page_with_new_learning_rates(runs_dir):
    from studio.train.runs import Run, list_runs
    from ui.common import job_manager

    at = open_page()
    assert at.selectbox(key="ckpt_fork_step").options == ["step 10", "step 20", "step 30"]
    at.selectbox(key="ckpt_fork_step").set_value(20)
    at.checkbox(key="ckpt_fork_change_lr").check().run()
    at.number_input(key="ckpt_fork_lr_d").set_value(5e-5)
    at.button(key="ckpt_fork").click().run()
    assert not at.exception, at.exception
    ids = [r.id for r in list_runs(runs_dir)]
    new_id = next(i for i in ids if i != RUN_ID)
    assert new_id in texts(at, "success")
    assert at.session_state["selected_run"] == new_id
    assert any(new_id in str(p.proto.label) for p in at.get("page_link")) or not (ROOT / "pages/train.py").exists()
    job_manager().wait(new_id, timeout=120)
    cfg = Run.open(runs_dir / new_id).config
    assert cfg.parent == {"run_id": RUN_ID, "step": 20}
    assert cfg.lr_d == pytest.approx(5e-5) and cfg.lr_g == pytest.approx(2e-4)
    at.run()
    assert new_id in run_choices(at)


def test_resume_with_a_new_total(runs_dir):
    from studio.train.runs import Run
    from ui.common import job_manager

    at = open_page()
    assert at.number_input(key="ckpt_resume_total").value == 60  # finished: offers to train as long again
    at.number_input(key="ckpt_resume_total").set_value(40)
    at.button(key="ckpt_resume").click().run()
    assert not at.exception, at.exception
    assert "Training" in texts(at, "success")
    st = job_manager().wait(RUN_ID, timeout=120)
    assert st.state == "completed", st
    assert Run.open(runs_dir / RUN_ID).snapshot_steps()[-1] == 40


# ---- housekeeping ------------------------------------------------------------------------------------
def test_sizes_shown_and_delete_needs_confirmation(runs_dir):
    from ui.common import job_manager

    other = job_manager().fork(RUN_ID, 10, start=False)
    at = open_page()
    table = at.dataframe[0].value
    assert all(s.endswith(("KB", "MB")) for s in table["On disk"])
    assert "on disk in total" in texts(at, "caption")
    at.selectbox(key="ckpt_delete_run").set_value(other).run()
    assert at.button(key="ckpt_delete").disabled  # no confirmation yet
    at.checkbox(key="ckpt_delete_confirm").check().run()
    at.button(key="ckpt_delete").click().run()
    assert not at.exception, at.exception
    assert f"Deleted {other}." in texts(at, "success")
    assert not (runs_dir / other).exists() and (runs_dir / RUN_ID).exists()
    assert not at.checkbox(key="ckpt_delete_confirm").value  # the next delete asks again


def test_delete_refuses_a_training_run(runs_dir):
    from ui.common import job_manager

    mgr = job_manager()
    mgr.resume_run(RUN_ID, steps=100000)
    mgr.pause(RUN_ID)
    try:
        at = open_page()
        at.selectbox(key="ckpt_delete_run").set_value(RUN_ID)
        at.checkbox(key="ckpt_delete_confirm").check().run()
        at.button(key="ckpt_delete").click().run()
        assert not at.exception, at.exception
        assert "Stop this run before deleting it." in texts(at, "error")
        assert (runs_dir / RUN_ID).exists()
        assert "right now" in texts(at, "caption")  # resume is not offered while it trains
    finally:
        mgr.stop(RUN_ID)
        mgr.wait(RUN_ID, timeout=120)


def test_passphrase_hides_the_controls(runs_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_PASSPHRASE", "open sesame")
    at = open_page()
    keys = {b.key for b in at.button}
    assert not keys & {"ckpt_resume", "ckpt_fork", "ckpt_delete"}
    assert at.text_input(key="passphrase_ckpt") is not None
    assert strip(at)["steps"] and at.select_slider(key="ckpt_compare_step")  # looking is for everyone
    at.text_input(key="passphrase_ckpt").input("open sesame")
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert not at.exception, at.exception
    assert {"ckpt_resume", "ckpt_fork", "ckpt_delete"} <= {b.key for b in at.button}
