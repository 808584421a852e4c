"""Engine modules that used to live in pages: run state, resume rule, hints, run view, instrument, journeys."""

from __future__ import annotations

import numpy as np
import pytest

from studio.core.errors import StudioError
from studio.core.images import enlarge, enlarge_by, upscale, whole_factor
from studio.core.text import fmt_secs, human_bytes
from studio.generate import instrument as I
from studio.train.config import from_preset, resume_settings
from studio.train.diagnostics import Hint, training_hints
from studio.train.state import RunState


# ---- state -------------------------------------------------------------------------------------
def test_run_state_answers_its_questions_in_one_place():
    active = {s for s in RunState if s.is_active}
    training = {s for s in RunState if s.is_training}
    final = {s for s in RunState if s.is_final}
    assert training == {RunState.STARTING, RunState.RUNNING, RunState.PAUSED, RunState.STOPPING}
    assert active == training | {RunState.QUEUED}
    assert final == set(RunState) - active, "every state is either active or final"
    assert RunState.RUNNING == "running" and str(RunState.BUDGET) == "budget"  # the word status.json holds
    assert RunState.parse("nonsense") is RunState.UNKNOWN and RunState.parse(None) is RunState.UNKNOWN
    assert RunState.RUNNING.label == "Training" and RunState.FAILED.color == "red"


# ---- the resume rule ---------------------------------------------------------------------------------
def test_resume_accepts_agreeing_settings_and_applies_the_resumable_ones():
    saved = from_preset("tiny", dataset="digits", seed=3)
    cfg, lr_changed = resume_settings(saved, dataset="digits", seed=3, model=saved.model, steps=500, preset="tiny")
    assert cfg.steps == 500 and cfg.seed == 3 and not lr_changed
    same, lr_changed = resume_settings(saved, lr_d=saved.lr_d)
    assert same == saved and not lr_changed, "an agreeing learning rate is no change"
    faster, lr_changed = resume_settings(saved, lr_d=1e-5)
    assert faster.lr_d == 1e-5 and lr_changed


def test_resume_names_each_differing_setting_with_old_and_new():
    saved = from_preset("tiny", dataset="digits", seed=3)
    with pytest.raises(StudioError) as e:
        resume_settings(saved, dataset="mnist", seed=3, batch_size=8)
    msg = str(e.value)
    assert "--dataset cannot change (the run has 'digits', you gave 'mnist')" in msg
    assert f"--batch-size cannot change (the run has {saved.batch_size}, you gave 8)" in msg
    assert "--seed" not in msg
    with pytest.raises(StudioError, match="model cannot change"):
        resume_settings(saved, flag=lambda n: n, model="mlp")


# ---- hints -------------------------------------------------------------------------------------------
def _rows(d, g, n=20, d_real=0.7, d_fake=0.3):
    return [{"step": i, "d_loss": d(i), "g_loss": g(i), "d_real": d_real, "d_fake": d_fake} for i in range(n)]


def test_hints_are_typed_and_silent_on_a_healthy_run():
    healthy = _rows(lambda i: 1.2, lambda i: 0.9)
    assert training_hints(RunState.RUNNING, "", healthy, "ns") == []
    winning = _rows(lambda i: 0.01, lambda i: 1.0 + i)
    hints = training_hints(RunState.RUNNING, "", winning, "ns")
    assert hints and all(isinstance(h, Hint) for h in hints)
    assert hints[0].level == "warning" and "judge is winning" in hints[0].text
    assert training_hints(RunState.RUNNING, "", winning, "wgan-gp") == [], "the NS heuristics do not apply"
    collapsed = _rows(lambda i: 0.5, lambda i: 0.5, d_real=0.99, d_fake=0.01)
    assert any("collapsed" in h.text for h in training_hints(RunState.RUNNING, "", collapsed, "ns"))


def test_hints_carry_the_runs_own_message_for_final_states():
    assert training_hints(RunState.FAILED, "NaN at step 3.", [], "ns") == [Hint("error", "NaN at step 3.")]
    (h,) = training_hints(RunState.BUDGET, "Reached the time budget.", [], "ns")
    assert h.level == "info" and "Press Resume" in h.text


# ---- helpers defined once ------------------------------------------------------------------------------
def test_one_enlarge_primitive_behind_every_size_helper():
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert enlarge_by(img, 1) is img
    assert enlarge_by(img, 3).shape == (6, 6, 3)
    assert whole_factor(32, 256) == 8 and whole_factor(300, 256) == 1
    assert upscale(img, 5).shape == (6, 6, 3) and upscale(img, None) is img
    assert enlarge(img, min_width=8).shape == (8, 8, 3)
    assert fmt_secs(75) == "1 min 15 s" and fmt_secs(None) == "—" and human_bytes(2048) == "2.0 KB"


# ---- the instrument -------------------------------------------------------------------------------------
class _Dirs:
    """Two orthonormal directions with std 2 (Directions.apply's contract)."""

    def __init__(self, z_dim):
        self.directions = np.eye(z_dim, dtype=np.float32)[:2]
        self.stds = np.array([2.0, 2.0], np.float32)

    def apply(self, z, offsets):
        z = np.array(z, np.float32)
        for i, v in offsets.items():
            z = z + float(v) * self.stds[i] * self.directions[i]
        return z


class _Sampler:
    """Deterministic stand-in with the Sampler interface: the picture is the latent's first pixels."""

    def __init__(self, z_dim=8, size=4):
        self.cfg = type("Cfg", (), {"z_dim": z_dim, "image_size": size})()
        self.calls = 0

    def generate(self, z, labels=None):
        self.calls += 1
        z = np.asarray(z, np.float32)
        v = np.clip((z[:, :1] + 3) * 40, 0, 255).astype(np.uint8)
        return np.broadcast_to(v[:, :, None, None], (len(z), 4, 4, 1)).copy()


def test_state_key_matches_what_the_latent_pad_writes():
    assert I.state_key({"dir_1": 0.04, "zdim_0": -1.26, "dir_0": 2}) == "dir_0=2.0|dir_1=0.0|zdim_0=-1.3"


def test_offsets_and_latent_for_apply_dimensions_then_directions():
    base = np.zeros(8, np.float32)
    values = {"zdim_3": 0.5, "dir_1": 1.0, "dir_0": 0.0}
    dims, dirs = I.offsets(values)
    assert dims == {3: 0.5} and dirs == {1: 1.0}, "zeros are left out"
    z = I.latent_for(base, values, _Dirs(8))
    assert z[3] == pytest.approx(0.5) and z[1] == pytest.approx(2.0) and z[0] == 0
    assert np.array_equal(I.latent_for(base, values, None)[:3], [0, 0, 0])


def test_prefetch_states_reach_further_for_the_active_slider_and_stay_in_range():
    states = I.prefetch_states({"dir_0": 3.0, "zdim_0": 0.0}, active="zdim_0")
    dir_values = sorted(s["dir_0"] for s in states if s["zdim_0"] == 0.0 and s["dir_0"] != 3.0)
    assert dir_values == [2.9], "3.1 is outside the range"
    zdim_values = sorted(s["zdim_0"] for s in states if s["dir_0"] == 3.0 and s["zdim_0"] != 0.0)
    assert zdim_values == [-0.3, -0.2, -0.1, 0.1, 0.2, 0.3]


def test_point_draws_prefetches_in_one_call_and_writes_its_recipe():
    smp = _Sampler()
    p = I.Point(smp, seed=5, psi=0.7, label=None, values={"dir_0": 0.5, "zdim_1": 0.0}, directions=_Dirs(8))
    assert p.moved == 1
    img = p.draw()
    assert img.dtype == np.uint8 and img.shape == (4, 4, 1)
    smp.calls = 0
    near = p.prefetch()
    assert smp.calls == 1, "every neighbouring picture in one batched call"
    assert I.state_key({"dir_0": 0.6, "zdim_1": 0.0}) in near
    r = p.recipe("run-1", 40, scale=8)
    assert r.seed == 5 and r.psi == 0.7 and r.direction_offsets == {"0": 0.5} and r.dim_offsets == {}
    assert np.allclose(r.latent(), p.z)
    assert len(p.strips(2)) == 2 and p.strips(0) == []


def test_journeys_draw_in_chunks_and_encode(monkeypatch):
    from studio.media import journeys as J

    monkeypatch.setattr(J, "CHUNK", 5)
    smp = _Sampler()
    zs, title = J.between_seeds(8, 1, 2, 1.0, 12, loop=True)
    assert zs.shape == (12, 8) and title == "seed 1 to seed 2"
    seen = []
    j = J.make_journey(smp, zs, title, None, fps=6, scale_to=16, progress=lambda f, t: seen.append(f))
    assert smp.calls == 3 and len(j.frames) == 12
    assert j.gif[:6] == b"GIF89a" and j.mp4[4:8] == b"ftyp"
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    zs2, title2 = J.along_direction(np.zeros(8, np.float32), _Dirs(8), 1, 2.0, 4, loop=False)
    assert title2 == "direction 2, ±2σ" and zs2[0][1] == pytest.approx(-4.0) and zs2[-1][1] == pytest.approx(4.0)


# ---- the run view -------------------------------------------------------------------------------------
class _NoJobs:
    def status(self, run_id, history=True):
        return None

    def live_ids(self):
        return set()


def test_run_view_reads_a_folder_when_no_job_has_it(tmp_path):
    from studio.train.runs import Run
    from studio.train.view import run_view

    run = Run.create(from_preset("tiny", steps=60), tmp_path / "r")
    run.write_status(RunState.BUDGET, 20, "Reached the time budget of 5 s at step 20.")
    (run.path / "metrics.jsonl").write_text(
        '{"step": 10, "images_per_s": 300.0}\n{"step": 20, "images_per_s": 310.0}\n'
    )
    v = run_view(_NoJobs(), str(run.path))
    assert v.state is RunState.BUDGET and v.step == 20 and v.total == 60 and v.images_per_s == 310.0
    assert v.can_resume and v.grid is None and len(v.rows) == 2
    fraction, text = v.progress()
    assert fraction == pytest.approx(20 / 60) and text == "Step 20 of 60 · 310 images/s"
    run.write_status(RunState.RUNNING, 20)  # this process wrote it, and no job has it: the writer is gone
    assert run_view(_NoJobs(), str(run.path)).state is RunState.INTERRUPTED
