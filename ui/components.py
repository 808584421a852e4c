"""The studio's own page parts, as Streamlit v2 components (in-page JavaScript, no iframe).

``filmstrip``: a slider over a run's snapshots with every frame already in the page, so a slider step
swaps pictures in the browser with no server round trip. Scrubbing through training time is the
Checkpoints page's core gesture; through Streamlit's own slider every step was a rerun (fragment
rerun + image encode + delta + render: ~3x the time a bare slider takes to echo its value, see
benchmarks/ui_latency.py). Frames are the snapshots' pictures at their own resolution (a 32 px latent
is ~1 KB of PNG) drawn larger by the browser with ``image-rendering: pixelated``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

WEB = Path(__file__).resolve().parent / "web"
FILMSTRIP = "gan_studio.filmstrip"


def data_uri(png: bytes | None) -> str | None:
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _register(name: str, stem: str):
    return st.components.v2.component(name, js=(WEB / f"{stem}.js").read_text(encoding="utf-8"),
                                      css=(WEB / f"{stem}.css").read_text(encoding="utf-8"),
                                      isolate_styles=False)


_filmstrip = _register(FILMSTRIP, "filmstrip")


def filmstrip(key: str, steps: Sequence[int], index: int, frames: Sequence[Sequence[bytes | None]],
              captions: Sequence[str], px: Sequence[int], label: str, help: str = "",
              on_change: Callable[[], None] | None = None) -> int | None:
    """A slider over ``steps`` showing ``frames[k][i]`` (PNG bytes) for picture k at step i.

    ``captions[k]`` may hold ``{step}``. Returns the step the person settled on (None until they move
    it); ``on_change`` runs when they do (use it to rerun only the fragments that depend on it).
    """
    uris = [[data_uri(f) for f in pic] for pic in frames]
    h = hashlib.sha1(repr(list(steps)).encode())
    for pic in uris:
        for u in pic:
            h.update((u or "-").encode())
    data = {"sig": h.hexdigest(), "steps": [int(s) for s in steps], "index": int(index), "frames": uris,
            "captions": list(captions), "px": [int(p) for p in px], "label": label, "help": help}
    result = _filmstrip(key=key, data=data, on_step_change=on_change or (lambda: None))
    step = getattr(result, "step", None)
    return None if step is None else int(step)


# ---- latent pad (Explore) ------------------------------------------------------------------------------
LATENTPAD = "gan_studio.latentpad"
_latentpad = _register(LATENTPAD, "latentpad")


def latent_state_key(values: dict[str, float]) -> str:
    """The slider state as the latent pad's JavaScript writes it: ``key=+0.1`` pairs, sorted, one decimal."""
    def one(v: float) -> str:
        v = round(float(v) * 10) / 10
        return "0.0" if abs(v) < 0.05 else f"{v:.1f}"

    return "|".join(f"{k}={one(values[k])}" for k in sorted(values))


def latentpad(key: str, *, sig: str, version: int, values: dict[str, float], groups: list[dict], picture: bytes,
              px: int, prefetch: dict[str, bytes], on_change: Callable[[], None] | None = None) -> None:
    """Explore's picture and its sliders in one page part (see ui/web/latentpad.js).

    ``values`` are the sliders' values as the session holds them; ``version`` changes whenever Python
    changed them itself (reset, a recipe opened), so the page takes them over. ``groups``:
    ``[{title, caption, sliders: [{key, label, help, unit, min, max, step, strip: PNG bytes | None}]}]``.
    ``prefetch``: pictures for nearby slider states, keyed by ``latent_state_key``. The person's moves
    come back as the state value ``values`` (a dict), with ``on_change`` run first.
    """
    groups = [{**g, "sliders": [{**s, "strip": data_uri(s.get("strip"))} for s in g["sliders"]]} for g in groups]
    data = {"sig": sig, "version": int(version), "values": {k: float(v) for k, v in values.items()},
            "groups": groups, "picture": data_uri(picture), "picture_key": latent_state_key(values), "px": int(px),
            "prefetch": {k: data_uri(v) for k, v in prefetch.items()}}
    _latentpad(key=key, data=data, on_values_change=on_change or (lambda: None))
