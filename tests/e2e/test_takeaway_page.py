"""The "Take it with you" page in a real Chromium, opened from file:// with the network off.

A conditional 32 px DCGAN (scrambled batch norm, real GANSpace directions) is written out as one
HTML file; the page must draw on its own, change the picture when a direction slider moves, and
download a PNG whose recipe the studio's "Open a PNG" path (``recipe.regenerate``) makes again,
within the issue's bar (2 grey levels, 99% of pixels within 1), from the very latent the server
would have used for that seed, ψ, class and slider.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from studio.generate.directions import directions_for
from studio.generate.latent import seed_to_z, truncate
from studio.generate.recipe import read_png, regenerate
from studio.media.standalone import write_standalone_html
from tests.web_helpers import grey_diff, make_sampler

CANVAS_PIXELS = """() => { const c = document.getElementById('gs-picture');
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"""


@pytest.fixture
def page_file(tmp_path):
    runs = Path(os.environ["STUDIO_RUNS_DIR"])  # regenerate() finds the run there, as the studio does
    s = make_sampler(
        runs, "digits-cond", seed=3, model="dcgan", image_size=32, z_dim=32, base_filters=16,
        conditional=True, num_classes=10,
    )  # fmt: skip
    d = directions_for(s, n_samples=256, n_components=4)
    out = write_standalone_html(s, tmp_path / "take-it-with-you.html", d, [f"digit {i}" for i in range(10)])
    return s, d, out


def _drawn(pg) -> int:
    return int(pg.locator("#gs-picture").get_attribute("data-drawn") or 0)


def test_the_exported_page_works_offline_from_disk(browser, page_file, tmp_path, shots):
    s, dirs, out = page_file
    ctx = browser.new_context(accept_downloads=True, offline=True, viewport={"width": 1100, "height": 800})
    ctx.set_default_timeout(60_000)
    pg = ctx.new_page()
    urls, errors = [], []
    pg.on("request", lambda r: urls.append(r.url))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(out.path.as_uri())
        picture = pg.get_by_role("img", name="The generated picture")
        expect(picture).to_have_attribute("data-drawn", "1")
        backend = picture.get_attribute("data-backend")
        print(f"\npage: {out.bytes / 1e6:.2f} MB ({out.weights_dtype}), drawn with {backend}")
        shots(pg, "first-picture", full_page=False)
        before = pg.evaluate(CANVAS_PIXELS)

        slider = pg.get_by_role("slider", name="Direction 1", exact=False).first
        n = _drawn(pg)
        slider.fill("1.5")
        pg.wait_for_function(f"() => Number(document.getElementById('gs-picture').dataset.drawn) > {n}")
        expect(pg.locator("#gs-status")).to_contain_text("Drawn in this page")
        moved = pg.evaluate(CANVAS_PIXELS)
        assert moved != before, "moving a direction slider left the picture as it was"

        pg.locator("#gs-class").select_option("7")
        pg.locator("#gs-seed").fill("42")
        pg.wait_for_function("() => document.getElementById('gs-status').textContent.includes('Drawn')")
        pg.wait_for_timeout(300)  # the last input's picture
        shots(pg, "moved-and-reclassed", full_page=False)
        with pg.expect_download() as dl:
            pg.get_by_role("button", name="Download PNG").click()
        png = tmp_path / "downloaded.png"
        dl.value.save_as(png)
    finally:
        ctx.close()
    assert not errors, errors
    assert all(u.startswith(("file:", "data:", "blob:")) for u in urls), [u for u in urls if not u.startswith("file")]

    pixels, recipe = read_png(png.read_bytes())
    assert (recipe.seed, recipe.label, recipe.psi, recipe.class_name) == (42, 7, 1.0, "digit 7")
    assert recipe.direction_offsets == {"0": 1.5} and recipe.scale == 8
    server_z = dirs.apply(truncate(seed_to_z(42, s.z_dim), 1.0), {0: 1.5})
    assert np.array_equal(recipe.latent(), server_z)  # the page's latent is the server's, bit for bit
    again = regenerate(recipe)
    assert again.shape == pixels.shape == (256, 256, 1)
    worst, within1 = grey_diff(pixels, again)
    print(f"downloaded PNG vs the studio's regenerate: max {worst} grey levels, {100 * within1:.2f}% within 1")
    assert worst <= 2 and within1 >= 0.99
