"""gen.js's numbers are the studio's: seed → z, ψ, recipe JSON, the PNG it writes; vendored files intact.

The page draws from the same latent the server uses only if JavaScript reproduces NumPy's
``default_rng(seed).standard_normal`` (SeedSequence → PCG64 → ziggurat) bit for bit, and a PNG
saved in the page opens in the studio only if its recipe is what ``Recipe.to_json`` writes.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import numpy as np

from studio.generate.latent import MAX_SEED, seed_to_z, truncate
from studio.generate.recipe import Recipe, png_with_recipe, read_png
from tests.web_helpers import ROOT, floats, run_node

Z_DIM = 100


def test_seed_to_z_is_numpys_for_thousands_of_seeds(tmp_path):
    """2,000 seeds × 100 numbers: every ziggurat path (the wedges, the tail) is taken many times."""
    rng = np.random.default_rng(7)
    seeds = list(range(1000)) + [int(s) for s in rng.integers(0, MAX_SEED + 1, 996)]
    seeds += [MAX_SEED, 2**32, 2**40 + 3, 12345678901234567890123]  # one to four 32-bit words
    psis = [1.0, 0.7, 0.5, 1.3]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"z_dim": Z_DIM, "latent": {"truncation_mean": None}}))
    cases = [{"seed": str(s) if s > 2**53 else s, "psi": psis[i % 4]} for i, s in enumerate(seeds)]
    (answer,) = run_node({"models": [{"spec": str(spec), "cases": cases}]}, tmp_path)["models"]
    bad = [s for i, (s, z) in enumerate(zip(seeds, answer["z"], strict=True))
           if not np.array_equal(floats(z), truncate(seed_to_z(s, Z_DIM), psis[i % 4]))]  # fmt: skip
    assert not bad, f"{len(bad)} seeds differ, e.g. {bad[:5]}"


def test_recipe_json_and_png_are_the_studios(tmp_path):
    z = seed_to_z(5, 16)
    z[3] = 1e-5  # Python writes 1e-05, JavaScript 0.00001: gen.js must write Python's
    z[4] = 2.0
    recipe = Recipe(
        run_id="20261203-digits-dcgan",
        step=1200,
        z=z.tolist(),
        seed=5,
        psi=0.7,
        label=3,
        class_name="trois é",
        dim_offsets={"1": 2.0},
        direction_offsets={"0": 1.5, "2": -0.3},
        scale=8,
    )
    fields = {k: getattr(recipe, k) for k in ("run_id", "step", "z", "seed", "psi", "label", "class_name")}
    fields |= {"dim_offsets": recipe.dim_offsets, "direction_offsets": recipe.direction_offsets}
    fields |= {"scale": 8, "studio_version": recipe.studio_version}
    grey = np.arange(16 * 16, dtype=np.uint8).reshape(16, 16, 1)
    spec = {"image_size": 16, "channels": 1}
    numbers = [0.1, 1e-05, 1.5e16, 1e16, 123456789012345.6, -2.5e-7, 3.0, 0.0001, 1 / 3]
    calls = [["recipeJSON", fields], ["describeRecipe", fields], ["pngWithRecipe", grey.ravel().tolist(), spec, fields]]
    calls += [["pyFloat", x] for x in numbers]
    out = run_node({"calls": calls}, tmp_path)["calls"]
    assert out[0] == recipe.to_json()
    assert out[1] == recipe.describe()
    assert out[3:] == [repr(x) for x in numbers]
    png = base64.b64decode(out[2])
    pixels, back = read_png(png)
    assert pixels.shape == (128, 128, 1)  # grey, enlarged 8x, as png_with_recipe writes it
    assert np.array_equal(pixels[::8, ::8], grey)
    assert back.to_json() == recipe.to_json()
    ours, _ = read_png(png_with_recipe(np.repeat(np.repeat(grey, 8, 0), 8, 1), recipe))
    assert np.array_equal(ours, pixels)


def test_vendored_tfjs_and_ziggurat_tables_match_their_sources():
    for script in ("fetch_tfjs.py", "ziggurat_tables.py"):
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--check"], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_browser_code_parses():
    for js in sorted((ROOT / "ui" / "web").glob("*.js")) + [ROOT / "tests" / "js" / "webgen_node.mjs"]:
        r = subprocess.run(["node", "--check", str(js)], capture_output=True, text=True)
        assert r.returncode == 0, f"{js.name}: {r.stderr}"
