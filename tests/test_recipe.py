"""Recipes (studio.generate.recipe): PNG → recipe → the same pixels again; plain errors for everything else."""

import io
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from studio.core.errors import StudioError
from studio.core.images import encode_png, enlarge_by, make_grid
from studio.generate.latent import add_offsets, seed_to_z, truncate, variation_latents
from studio.generate.recipe import RECIPE_KEY, Recipe, png_with_recipe, read_png, regenerate


@pytest.fixture
def run(tiny_run, studio_dirs):
    """The session's tiny run copied into this test's STUDIO_RUNS_DIR, where recipes look runs up."""
    import os
    from pathlib import Path

    from studio.train.runs import Run

    dest = Path(os.environ["STUDIO_RUNS_DIR"]) / "tiny-copy"
    shutil.copytree(tiny_run.path, dest)
    return Run(dest)


@pytest.fixture
def sampler(run):
    from studio.generate.sampling import Sampler

    return Sampler(run)


def _image_and_recipe(sampler, run, scale=1):
    z_dim = sampler.z_dim
    z = add_offsets(truncate(seed_to_z(5, z_dim), 0.8), {0: 0.7, 3: -1.2})
    img = enlarge_by(sampler.generate(z[None])[0], scale)
    r = Recipe(
        run_id=run.id, step=sampler.step, z=z.tolist(), seed=5, psi=0.8, dim_offsets={"0": 0.7, "3": -1.2}, scale=scale
    )
    return img, r


@pytest.mark.parametrize("scale", [1, 4])
def test_round_trip_same_pixels(sampler, run, scale):
    img, r = _image_and_recipe(sampler, run, scale)
    png = png_with_recipe(img, r)
    pixels, back = read_png(png)
    assert back == r  # every field, z exactly (float32 → JSON → float32)
    assert np.array_equal(back.latent(), np.asarray(r.z, np.float32))
    assert np.array_equal(pixels.reshape(img.shape), img)
    again = regenerate(back)
    assert again.shape == pixels.shape
    assert np.array_equal(again, pixels)  # bit-identical on the same machine


def test_grid_round_trip(sampler, run):
    z = seed_to_z(9, sampler.z_dim)
    zs = variation_latents(z, 9, 16, 0.35)
    grid = enlarge_by(make_grid(sampler.generate(zs), ncols=4, pad=2), 2)
    r = Recipe(
        run_id=run.id, step=sampler.step, z=z.tolist(), seed=9, kind="grid", grid_z=zs.tolist(), ncols=4, pad=2, scale=2
    )
    pixels, back = read_png(png_with_recipe(grid, r))
    assert back.kind == "grid" and len(back.grid_z) == 16
    assert np.array_equal(regenerate(back), pixels)


def test_float32_latent_survives_json_exactly():
    z = np.random.default_rng(3).standard_normal(256).astype(np.float32) * np.float32(1e-3)
    r = Recipe(run_id="r", step=1, z=z.tolist())
    assert np.array_equal(Recipe.from_json(r.to_json()).latent(), z)


def test_recipe_is_readable_json_in_a_text_chunk(sampler, run):
    img, r = _image_and_recipe(sampler, run)
    with Image.open(io.BytesIO(png_with_recipe(img, r))) as im:
        d = json.loads(im.info[RECIPE_KEY])
        assert "GAN Studio" in im.info["Software"]
    assert d["run_id"] == run.id and d["seed"] == 5 and d["psi"] == 0.8 and len(d["z"]) == sampler.z_dim
    assert d["studio_version"] and d["format"] == 1


def test_png_without_recipe():
    with pytest.raises(StudioError, match="no GAN Studio recipe"):
        read_png(encode_png(np.zeros((8, 8), np.uint8)))


def test_not_a_png():
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, format="JPEG")
    with pytest.raises(StudioError, match="recipes travel only inside PNG"):
        read_png(buf.getvalue())
    with pytest.raises(StudioError, match="not an image"):
        read_png(b"definitely not an image")


def test_damaged_recipe():
    bad = encode_png(np.zeros((8, 8), np.uint8), {RECIPE_KEY: "{not json"})
    with pytest.raises(StudioError, match="damaged"):
        read_png(bad)
    incomplete = encode_png(np.zeros((8, 8), np.uint8), {RECIPE_KEY: json.dumps({"run_id": "x"})})
    with pytest.raises(StudioError, match="damaged or incomplete"):
        read_png(incomplete)
    nan = encode_png(np.zeros((8, 8), np.uint8), {RECIPE_KEY: '{"run_id": "x", "step": 1, "z": [NaN]}'})
    with pytest.raises(StudioError, match="not finite"):
        read_png(nan)


def test_recipe_for_a_run_that_is_gone(sampler, run):
    img, r = _image_and_recipe(sampler, run)
    r.run_id = "deleted-long-ago"
    _, back = read_png(png_with_recipe(img, r))
    with pytest.raises(StudioError, match="not in this studio any more"):
        regenerate(back)
    back.run_id = "../../etc"
    with pytest.raises(StudioError, match="does not name a run"):
        regenerate(back)


def test_recipe_for_a_snapshot_that_is_gone(sampler, run):
    img, r = _image_and_recipe(sampler, run)
    r.step = 123456
    with pytest.raises(StudioError, match="no longer has its snapshot at step 123456"):
        regenerate(r)


def test_recipe_with_a_latent_of_the_wrong_size(sampler, run):
    _, r = _image_and_recipe(sampler, run)
    r.z = r.z[:-1]
    with pytest.raises(StudioError, match="takes"):
        regenerate(r)


def test_describe_is_one_plain_line(sampler, run):
    _, r = _image_and_recipe(sampler, run)
    text = r.describe()
    assert f"run {run.id}" in text and "seed 5" in text and "ψ 0.8" in text and "2 sliders moved" in text
