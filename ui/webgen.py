"""Explore's in-page generator: what the latent pad needs to draw in the viewer's browser.

The engine writes the web export beside the snapshot (``studio.generate.web``); this module puts a
copy of it, of the vendored TF.js (ui/web/vendor/tfjs) and of ui/web/gen.js in the app's static
folder (``server.enableStaticServing``; files named by their content hash, so browsers may cache
them for good) and hands the latent pad their URLs. MIME types: Streamlit 1.67's server sends
.js as ``application/javascript`` and .wasm as ``application/wasm`` (with ``nosniff``; checked
with curl on this machine), but older Streamlit servers sent everything but images and PDF as
``text/plain`` with ``nosniff``, so the pad does not rely on them: it fetches the files as bytes and
runs scripts and the .wasm from ``blob:`` URLs of the right type (ui/web/latentpad.js).

``None`` means the server draws, exactly as before: static serving off, a read-only install, a
model the browser cannot run (``ServerOnly``), or ``STUDIO_WEB_GENERATION=0`` in the environment
(benchmarks and tests compare both ways).
"""

from __future__ import annotations

import functools
import hashlib
import os

import streamlit as st

from studio.core.paths import atomic_write_bytes
from studio.generate.web import ServerOnly, web_export
from ui.components import APP_DIR, WEB

STATIC = APP_DIR / "static" / "gs-web"
RUNTIME = (  # gen.VENDOR_FILES: loaded in this order
    "tf-core.es2017.min.js",
    "tf-backend-cpu.es2017.min.js",
    "tf-backend-webgl.es2017.min.js",
    "tf-backend-wasm.es2017.min.js",
)
WASM = "tfjs-backend-wasm-simd.wasm"
KEEP_EXPORTS = 24  # snapshot exports kept in the static folder (the oldest go first)


def enabled() -> bool:
    return os.environ.get("STUDIO_WEB_GENERATION", "1") not in ("0", "false", "no", "off") and bool(
        st.get_option("server.enableStaticServing")
    )


def _url(name: str) -> str:
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base + '/' if base else ''}app/static/gs-web/{name}"


def _publish(data: bytes, suffix: str) -> str:
    """``data`` in the static folder under its hash (written once, atomically); its URL."""
    name = hashlib.sha256(data).hexdigest()[:20] + suffix
    dest = STATIC / name
    if dest.exists():
        os.utime(dest)  # in use: the last to be pruned
    else:
        atomic_write_bytes(dest, data)
    return _url(name)


@functools.cache
def runtime_urls() -> dict | None:
    """URLs of gen.js, the TF.js scripts and the .wasm (published once per process), or None."""
    try:
        vendor = WEB / "vendor" / "tfjs"
        return {
            "gen": _publish((WEB / "gen.js").read_bytes(), "-gen.js"),
            "runtime": [_publish((vendor / n).read_bytes(), f"-{n}") for n in RUNTIME],
            "wasm": _publish((vendor / WASM).read_bytes(), f"-{WASM}"),
        }
    except OSError:
        return None


def _prune() -> None:
    for pattern in ("*-model.json", "*-model.bin"):
        try:
            files = sorted(STATIC.glob(pattern), key=lambda p: p.stat().st_mtime)
            for old in files[:-KEEP_EXPORTS]:
                old.unlink(missing_ok=True)
        except OSError:  # another server process pruned first
            pass


def pad_web(smp, dirs, class_names: list[str]) -> dict | None:
    """The latent pad's ``web`` field for sampler ``smp`` with GANSpace ``dirs``, or None (server draws).

    Cached in the session per snapshot file and directions: a rerun costs a dict lookup.
    """
    if not enabled():
        return None
    ss = st.session_state
    snap = smp.run.snapshot_path(smp.step)
    try:
        mtime = snap.stat().st_mtime_ns
    except OSError:
        return None
    key = (str(smp.run.path), int(smp.step), mtime, getattr(dirs, "snapshot_hash", None), tuple(class_names))
    held = ss.get("_explore_web")
    if held and held[0] == key:
        return held[1]
    web = None
    rt = runtime_urls()
    try:
        export = web_export(smp, directions=dirs, class_names=class_names) if rt else None
        if export is not None and not isinstance(export, ServerOnly):
            spec_bytes = export.spec_path.read_bytes()
            weights = _publish(export.weights(), "-model.bin")
            spec = _publish(spec_bytes, "-model.json")
            _prune()
            web = {"sig": spec, "spec": spec, "weights": weights, **rt}
    except OSError:
        web = None  # a read-only install: the server draws
    ss["_explore_web"] = (key, web)
    return web


def browser_draws(pad_state, web: dict | None) -> bool:
    """True once the page said it draws this export itself (the latent pad's ``engine`` report)."""
    engine = (pad_state or {}).get("engine")
    return bool(web and isinstance(engine, dict) and engine.get("sig") == web["sig"] and engine.get("backend"))
