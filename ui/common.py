"""Streamlit glue shared by the pages: the one job manager, cached samplers, Streamlit switches.

Shared widgets are in ``ui/widgets.py``, shared session keys in ``ui/state.py``.

studio/ never imports streamlit; this package is the only place besides pages/ that does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st


def _warm_up() -> None:
    """Import TensorFlow and Keras (5.7-8.4 s on 2 cores; the engine imports them lazily)."""
    try:
        import studio  # noqa: F401, I001 - first: it sets TensorFlow's oneDNN switch, read once at import
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    except Exception:  # a warm-up must never take the server down; the real import reports errors
        pass


@st.cache_resource
def job_manager():
    """One JobManager per server process, shared by every browser session.

    Its creation (the first page anyone opens) also starts importing TensorFlow in the background:
    the pages themselves need no TensorFlow to draw, so without this the first click on Start
    training paid for the import (first live grid 11.3 s after the click instead of ~3 s).
    """
    import threading

    from studio.train.jobs import JobManager

    threading.Thread(target=_warm_up, name="tensorflow-warm-up", daemon=True).start()
    return JobManager()


@st.cache_resource(max_entries=12, show_spinner=False)
def _sampler(run_path: str, step: int, mtime_ns: int):
    from studio.generate.sampling import Sampler

    return Sampler(Path(run_path), step)


def sampler(run_path: str, step: int):
    """A generator of its own per (run, snapshot): never the instance being trained.

    Keyed by the snapshot file's modification time too: a resumed run rewrites the snapshots
    after its checkpoint, and a cached generator must not keep serving the old weights.
    """
    from studio.train.runs import Run

    path = Run(Path(run_path)).snapshot_path(step)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return _sampler(str(run_path), int(step), mtime)


@st.cache_resource(max_entries=3, show_spinner=False)
def snapshot_bank(run_path: str):
    """One generator per run, moved through its snapshots (shared by every session; thread-safe)."""
    from studio.generate.bank import SnapshotBank

    return SnapshotBank(Path(run_path))


def clear_samplers() -> None:
    """Drop every cached snapshot generator (after a run is deleted; they reload on demand)."""
    _sampler.clear()


def runs() -> list:
    """Every run on disk (newest first) with its live state folded in."""
    return job_manager().runs()


def use_app_navigation() -> None:
    """Hand a page over to app.py's navigation when Streamlit ran it in its legacy pages/ mode.

    Streamlit decides per process, on the first request, whether the app uses the legacy pages/
    folder: if the very first request after a (re)start is a page URL such as /train (a bookmark,
    or a tab reconnecting after the server restarted), it runs that file alone, without app.py's
    page config and navigation, and the sidebar lists raw file names. Every page calls this first:
    it switches the process to st.navigation mode and reruns, so app.py takes over and shows the
    same page. (Touches PagesManager, a Streamlit internal; if that moves, pages still work.)
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a future Streamlit without it
        return
    if getattr(PagesManager, "uses_pages_directory", False) and not _under_apptest():
        PagesManager.uses_pages_directory = False
        st.rerun()


def _under_apptest() -> bool:
    """AppTest resets the legacy-pages flag before every run and runs pages directly by design;
    a hand-over rerun there would swallow the widget event being tested."""
    from unittest.mock import Mock

    from streamlit.runtime import Runtime

    return isinstance(getattr(Runtime, "_instance", None), Mock)


def keep_keras_between_runs() -> None:
    """Stop Streamlit from resetting Keras at the end of every script run (process-wide, idempotent).

    When ``keras`` is imported, Streamlit's script runner calls ``keras.backend.clear_session()``
    after every run, full or fragment. That clears TensorFlow's eager kernel cache for the whole
    process (the training threads' too) and runs ``gc.collect()``: ~200 ms each on 2 busy cores,
    holding the GIL while a fragment's new picture waits to be sent, after which the next TF call
    pays again to rebuild its kernels. The studio keeps its models on purpose (cached samplers,
    jobs), so there is nothing for that reset to clean; matplotlib figures are still closed.
    Pairs with ``runner.postScriptGC = false`` in .streamlit/config.toml (Streamlit's own forced
    ``gc.collect(2)`` per run). Touches a Streamlit internal; if it moves, this does nothing.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:  # pragma: no cover - a future Streamlit without it
        return
    current = getattr(script_runner, "_clean_problem_modules", None)
    if current is None or getattr(current, "keeps_keras", False):
        return

    def close_matplotlib_only() -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            try:
                plt.close("all")
            except Exception:  # noqa: BLE001 - never break a run over figure cleanup
                pass

    close_matplotlib_only.keeps_keras = True
    script_runner._clean_problem_modules = close_matplotlib_only
