""" "Take it with you": one self-contained HTML file that draws a snapshot's pictures offline.

The file holds everything: TensorFlow.js (the vendored build in ui/web/vendor/tfjs), its
WebAssembly binary, ui/web/gen.js and the page's controls (ui/web/takeaway.js, in the markup of
ui/web/takeaway.html), the web export of the snapshot (``studio.generate.web``) with its GANSpace
directions and class names. Opened from disk it needs no server and no network: seed box, ψ,
direction sliders (or latent dimensions), class picker, and a PNG download whose recipe is what
``studio.generate.recipe`` writes, so the studio's "Open a PNG" makes the picture again.

Sizes: the runtime, the .wasm and the weights are stored as base64 of gzip (the weights byte
plane by byte plane: the exponent bytes of floats compress, the low mantissa bytes do not).
``dtype="auto"`` keeps float32 weights when the file stays within ``MAX_BYTES`` and otherwise
halves them to float16 (for the studio's default 64 px DCGAN: 3.6 M weights, 14 MB in float32).

The engine reads the browser files as files; it imports nothing from ui/.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.paths import atomic_write_text
from studio.generate.directions import Directions
from studio.generate.latent import MAX_SEED
from studio.generate.recipe import studio_version
from studio.generate.web import ServerOnly, build_web_export

WEB = Path(__file__).resolve().parents[2] / "ui" / "web"  # gen.js, takeaway.*, vendor/tfjs
RUNTIME = (
    "tf-core.es2017.min.js",
    "tf-backend-cpu.es2017.min.js",
    "tf-backend-webgl.es2017.min.js",
    "tf-backend-wasm.es2017.min.js",
)
WASM = "tfjs-backend-wasm-simd.wasm"
MAX_BYTES = 10_000_000  # issue 15: a 64 px DCGAN's page within 10 MB
MAX_SLIDERS = 8  # as many direction sliders as the Explore page shows
SLIDER_RANGE = 3.0


@dataclass(frozen=True)
class StandalonePage:
    path: Path
    bytes: int  # size of the file
    weights_dtype: str  # "float32" or "float16"


def _gz64(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data, compresslevel=6, mtime=0)).decode("ascii")


def _planes(blob: bytes, width: int) -> bytes:
    return np.frombuffer(blob, np.uint8).reshape(-1, width).T.tobytes()


def _script_safe(text: str, what: str) -> str:
    if "</script" in text.lower():
        raise StudioError(f"{what} holds '</script', which cannot sit inside a page's script.")
    return text


def standalone_html(
    sampler,
    directions: Directions | None = None,
    class_names=None,
    dtype: str = "auto",
    seed: int = 1,
    web_dir: Path = WEB,
) -> tuple[str, str] | ServerOnly:
    """(the page's HTML, the weights' dtype) for ``sampler``'s snapshot, or ``ServerOnly``."""
    if dtype not in ("auto", "float32", "float16"):
        raise ValueError(f"dtype must be auto, float32 or float16, not {dtype!r}")
    vendor = web_dir / "vendor" / "tfjs"
    runtime = "".join(
        f'<script type="text/plain" class="gs-runtime" data-name="{n}">{_gz64((vendor / n).read_bytes())}</script>\n'
        for n in RUNTIME
    )
    wasm = f'<script type="text/plain" id="gs-wasm">{_gz64((vendor / WASM).read_bytes())}</script>\n'
    template = (web_dir / "takeaway.html").read_text(encoding="utf-8")
    code = "\n".join(
        [
            _script_safe((web_dir / "gen.js").read_text(encoding="utf-8"), "gen.js"),
            _script_safe((web_dir / "takeaway.js").read_text(encoding="utf-8"), "takeaway.js"),
            "startTakeaway({ seedToZ, truncate, latentFor, drawPixels, createGenerator, pngWithRecipe });",
        ]
    )
    fixed = len(template) + len(runtime) + len(wasm) + len(code) + 20_000  # + spec and markup
    if dtype == "auto":
        # float32 stays when the weights fit even if gzip wins only 10% (it rarely wins more on floats);
        # G's weight count bounds the export's (folding batch norm only drops numbers).
        n = sum(int(np.prod(w.shape)) for w in sampler.G.weights)
        dtype = "float32" if fixed + 4 * n * 4 / 3 * 0.9 <= MAX_BYTES else "float16"
    made = build_web_export(sampler, dtype, directions, class_names)
    if isinstance(made, ServerOnly):
        return made
    spec, blob = made
    width = 2 if dtype == "float16" else 4
    data = {
        "spec": spec,
        "seed": int(seed),
        "max_seed": MAX_SEED,
        "max_sliders": MAX_SLIDERS,
        "slider_range": SLIDER_RANGE,
        "studio_version": studio_version(),
        "weights_planes": width,
    }
    data_json = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")  # "\/" is "/" in JSON
    payload = "".join(
        [
            runtime,
            wasm,
            f'<script type="text/plain" id="gs-weights">{_gz64(_planes(blob, width))}</script>\n',
            f'<script type="application/json" id="gs-data">{data_json}</script>\n',
            f'<script type="module">\n{code}\n</script>\n',
        ]
    )
    title = html.escape(f"{spec['run_id']} · step {spec['step']:,}")
    kind = f"{spec['family']} · {spec['image_size']} px"
    subtitle = html.escape(f"A GAN Studio generator ({kind}) that draws in this page, offline.")
    page = (
        template.replace("<!--GS:TITLE-->", title)
        .replace("<!--GS:SUBTITLE-->", subtitle)
        .replace("<!--GS:PAYLOAD-->", payload)
    )
    return page, dtype


def write_standalone_html(
    sampler,
    out: Path | str,
    directions: Directions | None = None,
    class_names=None,
    dtype: str = "auto",
    seed: int = 1,
) -> StandalonePage | ServerOnly:
    """Write the "Take it with you" page of ``sampler``'s snapshot to ``out`` (atomically)."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise StudioError("The page's file name must end in .html.")
    made = standalone_html(sampler, directions, class_names, dtype, seed)
    if isinstance(made, ServerOnly):
        return made
    page, used = made
    atomic_write_text(out, page)
    return StandalonePage(out, out.stat().st_size, used)
