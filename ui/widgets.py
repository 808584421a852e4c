"""Widgets every page shares: progress bar, run picker, class picker, passphrase gate, state badge.

One definition each, so the pages name classes, show states and ask for the passphrase the same way.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import time
from collections.abc import Iterator
from pathlib import Path

import streamlit as st

from studio.train.state import RunState, RunSummary
from ui import state

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def progress_bar(text: str) -> Iterator:
    """A Streamlit progress bar for engine work: yields a ``progress(fraction, text)`` callback
    (``studio.core.progress.Progress``) and removes the bar when the work ends, however it ends."""
    bar = st.progress(0.0, text=text)
    try:
        yield lambda f, t: bar.progress(min(max(float(f), 0.0), 1.0), text=t)
    finally:
        bar.empty()


def state_badge(s: RunState | str) -> str:
    s = RunState.parse(s)
    return f":{s.color}-badge[{s.label}]"


def _run_label(r: RunSummary) -> str:
    return f"{r.id}  ·  {r.state}, step {r.step}"


def run_picker(key: str, label: str, runs_list: list[RunSummary], need_snapshots: bool = True) -> RunSummary | None:
    """A run selector defaulting to the run chosen elsewhere in this session, else the newest."""
    rs = [r for r in runs_list if r.snapshots] if need_snapshots else list(runs_list)
    if not rs:
        return None
    by_id = {r.id: r for r in rs}
    wanted = state.selected_run()
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = wanted if wanted in by_id else rs[0].id
    rid = st.selectbox(label, list(by_id), key=key, format_func=lambda i: _run_label(by_id[i]))
    state.select_run(rid)
    return by_id[rid]


def class_picker(container, key: str, class_names: list[str], help: str = "Which kind of picture to draw.") -> int:
    """A class selector showing the classes by name (the built-in dataset's names, else 'class i')."""
    n = len(class_names)
    if st.session_state.get(key) not in range(n):
        st.session_state[key] = 0
    return container.selectbox("Class", list(range(n)), key=key, format_func=lambda i: class_names[i], help=help)


def passphrase_set() -> bool:
    return bool(os.environ.get("STUDIO_PASSPHRASE"))


def may_write() -> bool:
    """True when this session may change things (no passphrase set, or it was entered)."""
    return not passphrase_set() or state.unlocked()


# Wrong passphrases slow down, per browser session and per client address (a script opening new
# sessions is still one address): after the 3rd miss, each try waits 2, 4, 8, … s (at most 5 min).
FREE_TRIES, MAX_WAIT_S = 3, 300.0


@st.cache_resource
def _misses_by_address() -> dict:
    """{client address: (misses, time of the last)} shared by every session of this server."""
    return {}


def _client() -> str:
    try:
        return str(st.context.ip_address or "local")
    except Exception:  # noqa: BLE001 - older Streamlit or no request: one bucket for all
        return "local"


def _wait_left(misses: int, last: float) -> float:
    if misses < FREE_TRIES:
        return 0.0
    return max(0.0, last + min(2.0 ** (misses - FREE_TRIES + 1), MAX_WAIT_S) - time.time())


def passphrase_gate(where: str = "") -> bool:
    """True when no STUDIO_PASSPHRASE is set, or this session has entered it once; otherwise a small
    form asking for it. Viewers without it still see everything; only the controls that change things ask.
    """
    secret = os.environ.get("STUDIO_PASSPHRASE")
    if not secret or state.unlocked():
        return True
    with st.form(f"unlock_{where}", border=True):
        st.caption("This studio is shared: enter the passphrase to change things here.")
        given = st.text_input("Passphrase", type="password", key=f"passphrase_{where}")
        if st.form_submit_button("Unlock"):
            book, client, ss = _misses_by_address(), _client(), st.session_state
            mine = ss.get("_passphrase_misses", (0, 0.0))
            theirs = book.get(client, (0, 0.0))
            wait = max(_wait_left(*mine), _wait_left(*theirs))
            if wait > 0:
                st.error(f"Too many wrong passphrases: try again in {wait:.0f} s.")
            elif hmac.compare_digest(given.encode(), secret.encode()):
                state.unlock()
                book.pop(client, None)
                st.rerun()
            else:
                now = time.time()
                ss["_passphrase_misses"] = (mine[0] + 1, now)
                book[client] = (theirs[0] + 1, now)
                st.error("That passphrase is not right.")
    return False


def page_link(path: str, **kwargs) -> None:
    """st.page_link that quietly leaves out a page this install does not have."""
    if (ROOT / path).exists():
        st.page_link(path, **kwargs)


def request(flag: str) -> None:
    """A button callback that leaves a note in the session. A note survives the extra rerun
    ``ui.common.use_app_navigation`` may make, where a button's own True would be lost."""
    st.session_state[flag] = True
