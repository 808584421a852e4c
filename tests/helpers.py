"""Shared test helpers (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


def train_tiny(root: Path, run_dir: Path, **overrides):
    """Train a real 'tiny' run into ``run_dir`` with STUDIO_*_DIR under ``root``; returns its Run.

    For module- and session-scoped fixtures, which cannot use the per-test ``monkeypatch``.
    """
    from studio.train.config import from_preset
    from studio.train.loop import train

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDIO_RUNS_DIR", str(root / "runs"))
        mp.setenv("STUDIO_DATA_DIR", str(root / "data"))
        res = train(from_preset("tiny", **overrides), run_dir=run_dir)
    assert res.state == "completed", res.message
    return res.run
