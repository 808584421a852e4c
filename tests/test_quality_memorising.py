"""A real run that memorises: 32 pictures, no augmentation, a judge learning 10× faster than usual.

Issue 13's check "a run on 32 images without augmentation raises the memorisation alert", made
fast enough for the suite: the tiny model reaches it in ~160 steps when α is high (at the default α
it takes the quick-sketch model longer; benchmarks/README.md has that run). Too few pictures for a
held-out split, so the alert rests on D's confidence in its training pictures (r_t) alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from studio.quality import AlertKind, alerts_for, quality_history


@pytest.fixture(scope="module")
def memorising_run(tmp_path_factory):
    from PIL import Image
    from sklearn.datasets import load_digits

    from studio.train.config import from_preset
    from studio.train.loop import train

    root = tmp_path_factory.mktemp("memorising")
    pictures = root / "32-digits"
    pictures.mkdir()
    for i, d in enumerate(load_digits().images[:32]):
        Image.fromarray((d / 16 * 255).astype(np.uint8)).resize((32, 32), Image.BILINEAR).save(pictures / f"{i}.png")
    cfg = from_preset(
        "tiny",
        dataset=str(pictures),
        ada="off",
        steps=160,
        snapshot_every=40,
        checkpoint_every=160,
        batch_size=16,
        lr_d=2e-3,
        lr_g=2e-4,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDIO_RUNS_DIR", str(root / "runs"))
        mp.setenv("STUDIO_DATA_DIR", str(root / "data"))
        mp.setattr("studio.quality.monitor.MAX_PENDING", 100)  # score every snapshot with D (none skipped)
        res = train(cfg, run_dir=root / "runs" / "small")
    assert res.state == "completed", res.message
    return res.run


def test_32_pictures_without_augmentation_raise_the_memorisation_alert(memorising_run):
    rows = quality_history(memorising_run)
    assert rows[-1].n_heldout == 0 and rows[-1].r_t is not None
    (alert,) = [a for a in alerts_for(memorising_run) if a.kind is AlertKind.MEMORISING]
    assert "memorising" in alert.title and "r_t" in alert.message
    assert {a.key for a in alert.actions} == {"augment", "more_data", "lower_lr_d"}
