"""Helpers for the in-browser generator tests: small generators on disk and gen.js run under Node."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GEN_JS = ROOT / "ui" / "web" / "gen.js"
VENDOR = ROOT / "ui" / "web" / "vendor" / "tfjs"
NODE_RUNNER = ROOT / "tests" / "js" / "webgen_node.mjs"


def scramble(G, seed: int = 0) -> None:
    """Random values in every variable the initialisers leave trivial (batch-norm statistics, γ, β,
    biases, embeddings), so a wrong fold, axis or tap order cannot hide behind zeros and ones."""
    rng = np.random.default_rng(seed)
    for la in G.layers:
        kind = type(la).__name__
        if kind == "BatchNormalization":
            n = la.gamma.shape[0]
            la.gamma.assign(rng.uniform(0.5, 1.5, n).astype(np.float32))
            la.beta.assign(rng.normal(0, 0.2, n).astype(np.float32))
            la.moving_mean.assign(rng.normal(0, 0.3, n).astype(np.float32))
            la.moving_variance.assign(rng.uniform(0.2, 2.0, n).astype(np.float32))
        elif kind in ("Dense", "Conv2DTranspose") and la.use_bias:
            la.bias.assign(rng.normal(0, 0.1, la.bias.shape).astype(np.float32))
        elif kind == "Embedding":
            la.embeddings.assign(rng.normal(0, 1.0, la.embeddings.shape).astype(np.float32))


def make_sampler(root: Path, name: str, seed: int = 0, **cfg_kw):
    """A Sampler of a fresh run ``root/name`` whose only snapshot (step 0) holds scrambled weights."""
    from studio.generate.sampling import Sampler
    from studio.train.config import RunConfig
    from studio.train.models import build_generator
    from studio.train.runs import Run, step_name

    cfg = RunConfig(**cfg_kw).validate()
    run = Run.create(cfg, root / name)
    G = build_generator(cfg)
    scramble(G, seed)
    G.save_weights(str(run.path / "snapshots" / f"{step_name(0)}.weights.h5"))
    return Sampler(run)


def run_node(job: dict, tmp: Path, timeout: float = 300) -> dict:
    """Run tests/js/webgen_node.mjs on ``job`` (gen.js and the vendored TF.js filled in)."""
    job = {"gen": str(GEN_JS), "vendor": str(VENDOR), **job}
    path = tmp / "node-job.json"
    path.write_text(json.dumps(job))
    r = subprocess.run(["node", str(NODE_RUNNER), str(path)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def floats(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.float32)


def pixels(b64: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.uint8).reshape(shape)


def grey_diff(a: np.ndarray, b: np.ndarray) -> tuple[int, float]:
    """(largest difference in grey levels, share of values within 1 level)."""
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return int(d.max()), float((d <= 1).mean())
