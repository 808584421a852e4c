"""Shared fixtures for the engine tests.

Every test gets its own empty runs and data folders (STUDIO_RUNS_DIR / STUDIO_DATA_DIR), so no test
ever reads or writes the repository's runs/. ``tiny_run`` trains one small real run per session
(~10 s on 2 cores) for the tests that only need to read a finished run.
"""

from __future__ import annotations

import os

import pytest

from tests.helpers import train_tiny

# Quiet TensorFlow's C++ start-up chatter in test logs; must be set before the first import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def studio_dirs(tmp_path_factory, monkeypatch):
    """Fresh STUDIO_RUNS_DIR and STUDIO_DATA_DIR for every test."""
    root = tmp_path_factory.mktemp("studio")
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(root / "runs"))
    monkeypatch.setenv("STUDIO_DATA_DIR", str(root / "data"))
    return root


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished 'tiny' run of 30 steps: snapshots and checkpoints every 10 steps. Read it, don't write it."""
    root = tmp_path_factory.mktemp("tiny_run")
    return train_tiny(root, root / "runs" / "tiny", steps=30, snapshot_every=10, checkpoint_every=10)
