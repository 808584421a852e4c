"""Your own pictures on the Train page: the auto preset says what it chose and why, and a run with
adaptive augmentation says in plain words how much of the pictures it augments and why."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import choose, goto_page
from tests.test_fewshot import fast_cfg, shapes

pytestmark = pytest.mark.e2e


def test_auto_preset_and_ada_sentence(server, page, shots, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(server.data_dir))
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(server.runs_dir))
    from studio.data.store import save_dataset
    from studio.train.ada import ada_sentence
    from studio.train.loop import train

    save_dataset("my-shapes", shapes(300, 32, seed=3))
    save_dataset("eight", shapes(8, 32, seed=4))
    # A short fastgan run on 8 pictures (its judge soon memorises them) whose ADA moves fast (p changes
    # by 0.16 every 4 steps), trained beforehand; the page watches it from its folder.
    cfg = fast_cfg("eight", steps=60, ada_kimg=0.2, lr_d=1e-3, log_every=5, snapshot_every=30, checkpoint_every=30)
    res = train(cfg)
    assert res.state == "completed", res.message
    sentence = ada_sentence(res.run.read_metrics())
    assert sentence.startswith("The judge is")

    goto_page(page, server, "Train")
    choose(page, "train_dataset", "my-shapes")
    expect(page.locator(".st-key-train_preset [role='combobox']").first).to_have_value("auto")
    expect(page.get_by_text("Auto chose FastGAN at 32 px").first).to_be_visible()
    expect(page.get_by_text("300 pictures are few enough for the judge to memorise").first).to_be_visible()
    expect(page.get_by_text(sentence).first).to_be_visible()
    shots(page, "auto-preset-and-ada")
