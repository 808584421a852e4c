"""The studio's own page parts, as Streamlit v2 components (in-page JavaScript, no iframe).

``livepanel``: the Train page's live progress, hints, loss chart and sample grid, updated in place
every second (the chart through ``Plotly.react``) instead of Streamlit re-rendering each element.

``filmstrip``: a slider over a run's snapshots with every frame already in the page, so a slider step
swaps pictures in the browser with no server round trip. Scrubbing through training time is the
Checkpoints page's core gesture; through Streamlit's own slider every step was a rerun (fragment
rerun + image encode + delta + render: ~3x the time a bare slider takes to echo its value, see
benchmarks/ui_latency.py). Frames are the snapshots' pictures at their own resolution (a 32 px latent
is ~1 KB of PNG) drawn larger by the browser with ``image-rendering: pixelated``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

from studio.generate.instrument import SLIDER_RANGE, state_key

WEB = Path(__file__).resolve().parent / "web"
APP_DIR = WEB.parents[1]  # where app.py is: Streamlit serves APP_DIR/static at /app/static
FILMSTRIP = "gan_studio.filmstrip"


def data_uri(png: bytes | None) -> str | None:
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _register(name: str, stem: str):
    return st.components.v2.component(
        name,
        js=(WEB / f"{stem}.js").read_text(encoding="utf-8"),
        css=(WEB / f"{stem}.css").read_text(encoding="utf-8"),
        isolate_styles=False,
    )


_filmstrip = _register(FILMSTRIP, "filmstrip")


def filmstrip(
    key: str,
    steps: Sequence[int],
    index: int,
    frames: Sequence[Sequence[bytes | None]],
    captions: Sequence[str],
    px: Sequence[int],
    label: str,
    help: str = "",
    on_change: Callable[[], None] | None = None,
) -> int | None:
    """A slider over ``steps`` showing ``frames[k][i]`` (PNG bytes) for picture k at step i.

    ``captions[k]`` may hold ``{step}``. Returns the step the person settled on (None until they move
    it); ``on_change`` runs when they do (use it to rerun only the fragments that depend on it).
    """
    uris = [[data_uri(f) for f in pic] for pic in frames]
    h = hashlib.sha1(repr(list(steps)).encode())
    for pic in uris:
        for u in pic:
            h.update((u or "-").encode())
    data = {
        "sig": h.hexdigest(),
        "steps": [int(s) for s in steps],
        "index": int(index),
        "frames": uris,
        "captions": list(captions),
        "px": [int(p) for p in px],
        "label": label,
        "help": help,
    }
    result = _filmstrip(key=key, data=data, on_step_change=on_change or (lambda: None))
    step = getattr(result, "step", None)
    return None if step is None else int(step)


# ---- latent pad (Explore) ------------------------------------------------------------------------------
LATENTPAD = "gan_studio.latentpad"
_latentpad = _register(LATENTPAD, "latentpad")


def latentpad(
    key: str,
    *,
    sig: str,
    version: int,
    values: dict[str, float],
    groups: list[dict],
    picture: bytes,
    px: int,
    prefetch: dict[str, bytes],
    web: dict | None = None,
    point: dict | None = None,
    on_change: Callable[[], None] | None = None,
) -> None:
    """Explore's picture and its sliders in one page part (see ui/web/latentpad.js).

    ``values`` are the sliders' values as the session holds them; ``version`` changes whenever Python
    changed them itself (reset, a recipe opened), so the page takes them over. ``groups``:
    ``[{title, caption, sliders: [{key, label, help, unit, min, max, step, strip: PNG bytes | None}]}]``.
    ``prefetch``: pictures for nearby slider states, keyed by ``studio.generate.instrument.state_key``. The person's moves
    come back as the state value ``values`` (a dict), with ``on_change`` run first.
    ``web`` (``ui.webgen.pad_web``): where the page finds TF.js, gen.js and the snapshot's web export
    to draw every slider move itself, from ``point`` ({seed, psi, label}); it reports the backend it
    uses as the state value ``engine`` ({sig, backend}). None: the server draws every picture.
    """
    groups = [{**g, "sliders": [{**s, "strip": data_uri(s.get("strip"))} for s in g["sliders"]]} for g in groups]
    data = {
        "sig": sig,
        "version": int(version),
        "values": {k: float(v) for k, v in values.items()},
        "groups": groups,
        "picture": data_uri(picture),
        "picture_key": state_key(values),
        "px": int(px),
        "prefetch": {k: data_uri(v) for k, v in prefetch.items()},
        "web": web,
        "point": point,
    }
    _latentpad(key=key, data=data, on_values_change=on_change or (lambda: None), on_engine_change=lambda: None)


def slider_groups(dirs, n: int, strips: list[bytes], k: int, z_dim: int) -> list[dict]:
    """The latent pad's slider groups: ``n`` GANSpace directions (with their strips), then ``k`` dimensions."""
    groups = []
    if dirs is not None and n:
        groups.append(
            {
                "kind": "directions",
                "title": "Directions",
                "caption": "The generator's own main ways of varying, strongest "
                "first (GANSpace). In standard deviations; each strip shows this seed at −2, −1, 0, +1, +2.",
                "sliders": [
                    {
                        "key": f"dir_{i}",
                        "label": f"Direction {i + 1} · {100 * float(dirs.variance_ratio[i]):.1f}%",
                        "help": f"Explains {100 * float(dirs.variance_ratio[i]):.1f}% of how the generator's "
                        "first layer varies from picture to picture.",
                        "unit": "σ",
                        "min": -SLIDER_RANGE,
                        "max": SLIDER_RANGE,
                        "step": 0.1,
                        "strip": strips[i] if i < len(strips) else None,
                    }
                    for i in range(n)
                ],
            }
        )
    if k:
        groups.append(
            {
                "kind": "dimensions",
                "title": "Latent dimensions",
                "caption": f"The first {k} of the {z_dim} numbers this generator reads, one by one.",
                "sliders": [
                    {
                        "key": f"zdim_{i}",
                        "label": f"Dimension {i + 1}",
                        "help": "",
                        "unit": "",
                        "min": -SLIDER_RANGE,
                        "max": SLIDER_RANGE,
                        "step": 0.1,
                        "strip": None,
                    }
                    for i in range(k)
                ],
            }
        )
    return groups


# ---- live panel (Train) --------------------------------------------------------------------------------
LIVEPANEL = "gan_studio.livepanel"
_livepanel = _register(LIVEPANEL, "livepanel")


@functools.cache
def plotly_js_url() -> str | None:
    """URL of plotly.js for the browser: the plotly package's own copy, put once into the app's
    static folder (named by version, so browsers cache it safely). None when that cannot be done
    (static serving off, a read-only install): callers fall back to ``st.plotly_chart``. Worked out
    once per process (the Train page asks every second)."""
    if not st.get_option("server.enableStaticServing"):
        return None
    try:
        import plotly

        name = f"plotly-{plotly.__version__}.min.js"
        dest = APP_DIR / "static" / name
        if not dest.exists():
            dest.parent.mkdir(exist_ok=True)
            tmp = dest.with_name(f".{name}.{os.getpid()}.tmp")
            shutil.copyfile(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", tmp)
            tmp.replace(dest)
    except (ImportError, OSError):
        return None
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base + '/' if base else ''}app/static/{name}"


def livepanel(
    key: str,
    *,
    progress: tuple[float, str],
    hints: Sequence[tuple[str, str]],
    message: str,
    chart: dict | None,
    chart_sig: str,
    chart_empty: str,
    src: str | None,
    smoothing: float,
    smoothing_help: str,
    grid: bytes | None,
    grid_caption: str,
    grid_empty: str,
    chart_every_s: float = 0.0,
    chart_share: float = 1.0,
    on_smoothing: Callable[[], None] | None = None,
) -> None:
    """The Train page's live part (see ui/web/livepanel.js): progress, hints, the loss chart (a Plotly
    figure dict with unsmoothed values: the page smooths them) and the fixed-noise grid (PNG bytes).
    ``chart_sig`` changes exactly when the chart's points do; new points are drawn at most every
    ``chart_every_s`` seconds, and rarely enough that redrawing stays under ``chart_share`` of one
    core of the viewer's computer (moving the smoothing redraws at once). The person's smoothing comes back as
    the state value ``smoothing``, with ``on_smoothing`` run first."""
    data = {
        "src": src,
        "progress": {"fraction": float(progress[0]), "text": progress[1]},
        "hints": [{"kind": k, "text": t} for k, t in hints],
        "message": message,
        "chart": None if chart is None else {"sig": chart_sig, "figure": chart},
        "chart_empty": chart_empty,
        "chart_every_ms": int(chart_every_s * 1000),
        "chart_share": float(chart_share),
        "smoothing": float(smoothing),
        "smoothing_help": smoothing_help,
        "grid": data_uri(grid),
        "grid_caption": grid_caption,
        "grid_empty": grid_empty,
    }
    _livepanel(key=key, data=data, on_smoothing_change=on_smoothing or (lambda: None))
