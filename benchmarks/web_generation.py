"""Pictures per second drawn in the viewer's browser: ui/web/gen.js in headless Chromium, per backend.

For each model (DCGAN at the studio's default width, base_filters 64 and z_dim 100, at 32 and 64 px,
the quick-sketch width, base_filters 32 and z_dim 64, at 32 px, and fastgan as the auto preset
makes it, base_filters 16 and z_dim 128, at 32 and 64 px; untrained weights, which time
the same as trained ones) the script exports the snapshot (``studio.generate.web``), serves it with
gen.js and the vendored TF.js from a local HTTP server, and in a fresh Chromium page per backend
(WebGL, WebAssembly, plain JavaScript) draws frame after frame as a dragged direction slider does:
latent (``latentFor`` with the slider's value) → ``generate`` → ``drawPixels`` on a canvas, one
picture at a time, each awaited. Pictures per second is frames over wall time in windows of
``--seconds``, median of ``--rounds`` windows; ms/picture is its inverse. The first picture (shader
compile / WebAssembly start) is reported apart. Targets (issue 15): ≥ 60/s at 32 px, ≥ 30/s at 64 px.

    python benchmarks/web_generation.py [--rounds 3] [--seconds 2] [--backends webgl wasm cpu] [--json out.json]

Chromium runs headless with the test suite's flags plus ``--enable-unsafe-swiftshader``: WebGL is
then SwiftShader, a CPU rasteriser, so the WebGL numbers here are a floor for a viewer with a GPU.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-unsafe-swiftshader",
]
TARGETS = {32: 60.0, 64: 30.0, 128: 15.0}
MODELS = [  # (name, RunConfig fields)
    ("dcgan 32 px (default width)", dict(model="dcgan", image_size=32, base_filters=64, z_dim=100)),
    ("dcgan 32 px (quick-sketch)", dict(model="dcgan", image_size=32, base_filters=32, z_dim=64)),
    ("dcgan 64 px (default width)", dict(model="dcgan", image_size=64, base_filters=64, z_dim=100)),
    ("fastgan 32 px (auto preset width)", dict(model="fastgan", image_size=32, base_filters=16, z_dim=128)),
    ("fastgan 64 px (auto preset)", dict(model="fastgan", image_size=64, base_filters=16, z_dim=128)),
]

PAGE = """<!doctype html><meta charset="utf-8"><canvas id="c" role="img" aria-label="The generated picture"></canvas>
<script type="module">
import * as gen from "./gen.js";
window.bench = async (backend, seconds, rounds) => {
  const tf = await gen.loadRuntime("./tfjs/");
  const [spec, weights] = await Promise.all([
    fetch("./model.json").then((r) => r.json()), fetch("./model.bin").then((r) => r.arrayBuffer())]);
  const t0 = performance.now();
  const g = await gen.createGenerator(tf, spec, weights, { backends: [backend], wasmPaths: "./tfjs/" });
  if (!g.ok) return { error: JSON.stringify(g.tried) };
  const canvas = document.getElementById("c");
  const base = gen.truncate(gen.seedToZ(1, spec.z_dim), 1);
  let i = 0;
  const frame = async () => {
    const z = gen.latentFor(spec, { z: base, values: { dir_0: -3 + (i++ % 61) * 0.1 } });
    gen.drawPixels(canvas, await g.generate(z, 0), spec);
  };
  await frame();
  const first = performance.now() - t0;
  for (let k = 0; k < 10; k++) await frame(); // warm: shapes compiled, memory pools filled
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < 1000 * seconds) { await frame(); n++; }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  let renderer = null;
  if (backend === "webgl") {
    const gl = document.createElement("canvas").getContext("webgl2");
    const ext = gl && gl.getExtension("WEBGL_debug_renderer_info");
    renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : null;
  }
  return { rates, first, check: g.check, renderer };
};
window.benchReady = true;
</script>"""


def _export(cfg_kw: dict, root: Path):
    """A snapshot of an untrained generator with GANSpace directions, exported for the web."""
    from studio.generate.directions import directions_for
    from studio.generate.sampling import Sampler
    from studio.generate.web import web_export
    from studio.train.config import RunConfig
    from studio.train.models import build_generator
    from studio.train.runs import Run, step_name

    cfg = RunConfig(**cfg_kw).validate()
    run = Run.create(cfg, root / f"run-{cfg.image_size}-{cfg.base_filters}")
    build_generator(cfg).save_weights(str(run.path / "snapshots" / f"{step_name(0)}.weights.h5"))
    s = Sampler(run)
    return web_export(s, directions=directions_for(s, n_samples=256, n_components=4))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per request would bury the table
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--backends", nargs="+", default=["webgl", "wasm", "cpu"])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--gen", type=Path, default=ROOT / "ui" / "web" / "gen.js", help="the gen.js to time")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        os.environ["STUDIO_RUNS_DIR"] = str(tmp / "runs")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name, cfg_kw in MODELS:
            export = _export(cfg_kw, tmp)
            site = tmp / f"site-{len(rows)}"
            shutil.copytree(ROOT / "ui" / "web" / "vendor" / "tfjs", site / "tfjs")
            shutil.copy(args.gen, site / "gen.js")
            shutil.copy(export.spec_path, site / "model.json")
            shutil.copy(export.weights_path, site / "model.bin")
            (site / "bench.html").write_text(PAGE, encoding="utf-8")
            srv, url = _serve(site)
            try:
                for backend in args.backends:
                    page = browser.new_page()
                    page.goto(url + "bench.html")
                    page.wait_for_function("() => window.benchReady === true")
                    res = page.evaluate(f"() => window.bench({backend!r}, {args.seconds}, {args.rounds})")
                    page.close()
                    size = cfg_kw["image_size"]
                    row = {"model": name, "size": size, "backend": backend, "weights_mb": export.nbytes / 1e6}
                    if "error" in res:
                        row["error"] = res["error"]
                    else:
                        rate = statistics.median(res["rates"])
                        row |= {
                            "images_per_s": rate,
                            "ms_per_image": 1000 / rate,
                            "first_ms": res["first"],
                            "rates": res["rates"],
                            "check_max": res["check"]["max"],
                            "renderer": res["renderer"],
                            "target": TARGETS[size],
                        }
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr)
            finally:
                srv.shutdown()
        browser.close()
    print(f"\nPictures drawn per second in headless Chromium (median of {args.rounds} windows of {args.seconds:g} s)\n")
    print(
        "| model | backend | images/s | ms/image | first picture (ms) | target | met | check picture (max grey diff) |"
    )
    print("|---|---|---:|---:|---:|---:|:-:|---:|")
    for r in rows:
        if "error" in r:
            print(f"| {r['model']} | {r['backend']} | – | – | – | {TARGETS[r['size']]:.0f}/s | – | not available |")
            continue
        met = "yes" if r["images_per_s"] >= r["target"] else "no"
        print(
            f"| {r['model']} | {r['backend']} | {r['images_per_s']:.1f} | {r['ms_per_image']:.1f} | "
            f"{r['first_ms']:.0f} | {r['target']:.0f}/s | {met} | {r['check_max']} |"
        )
    renderers = {r.get("renderer") for r in rows if r.get("renderer")}
    if renderers:
        print(f"\nWebGL renderer: {', '.join(sorted(renderers))}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
