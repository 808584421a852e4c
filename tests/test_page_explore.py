"""AppTest of the Explore page: start at app.py, switch to Explore, drive widgets by key.

Each test copies the session's tiny run into its own STUDIO_RUNS_DIR and clears Streamlit's caches
(AppTest keeps st.cache_resource / st.cache_data between tests).
"""

import base64
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from studio.core.images import enlarge_by
from studio.generate.latent import seed_to_z, truncate
from studio.generate.recipe import Recipe, png_with_recipe
from tests.helpers import train_tiny

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(autouse=True)
def clear_caches():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(scope="module")
def prepared(tiny_run, tmp_path_factory):
    """A copy of the session's tiny run with its latest snapshot's directions already on disk."""
    from studio.generate.directions import directions_for
    from studio.generate.sampling import Sampler
    from studio.train.runs import Run

    dest = tmp_path_factory.mktemp("explore") / "run"
    shutil.copytree(tiny_run.path, dest)
    directions_for(Sampler(Run(dest)))
    return dest


@pytest.fixture
def run(prepared, studio_dirs):
    from studio.train.runs import Run

    dest = Path(os.environ["STUDIO_RUNS_DIR"]) / "tiny-explore"
    shutil.copytree(prepared, dest)
    # Explore opens on the best-scored snapshot (tests/test_page_quality.py); unscored, on the
    # latest, whose directions are prepared above.
    (dest / "quality.jsonl").unlink(missing_ok=True)
    return Run(dest)


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """A few steps of a conditional tiny run on the labelled digits."""
    root = tmp_path_factory.mktemp("cond")
    return train_tiny(root, root / "runs" / "cond", steps=10, snapshot_every=10, checkpoint_every=10, conditional=True)


def explore() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception, at.exception
    return at


def pad(at) -> dict:
    """The data the latent pad (picture + sliders, ui/components.py) was given in the last run."""
    els = [e for e in at.get("bidi_component") if e.proto.component_name == "gan_studio.latentpad"]
    assert len(els) == 1, "one latent pad on the page"
    return json.loads(els[0].proto.json)


def main_image_url(at) -> str:
    return pad(at)["picture"]


def pad_keys(at) -> list[str]:
    return [s["key"] for g in pad(at)["groups"] for s in g["sliders"]]


def strips(at) -> list[str]:
    return [s["strip"] for g in pad(at)["groups"] for s in g["sliders"] if s["strip"]]


def pixels(uri: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as im:
        return np.asarray(im).astype(int)


def move(at, key: str, value: float) -> None:
    """What the pad's callback does with a person's move: the value lands in the session under the
    slider's key, and the picture fragment reruns."""
    at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_no_runs_is_a_friendly_sentence(studio_dirs):
    at = explore()
    assert at.title[0].value == "Explore"
    assert not at.error
    assert any("nothing to explore yet" in i.value for i in at.info)
    if (Path(APP).parent / "pages" / "train.py").exists():
        assert at.get("page_link"), "a link to the Train page"


def test_page_draws_the_instrument(run):
    at = explore()
    assert at.title[0].value == "Explore" and not at.error
    assert pad_keys(at) == [f"dir_{i}" for i in range(8)] + [f"zdim_{i}" for i in range(8)]
    assert "psi" in {s.key for s in at.slider}
    data = pad(at)
    assert [g["title"] for g in data["groups"]] == ["Directions", "Latent dimensions"]
    assert data["groups"][0]["sliders"][0]["label"].startswith("Direction 1 · ")
    assert data["px"] >= 256 and pixels(data["picture"]).shape[:2] == (32, 32)
    assert at.number_input(key="explore_seed").value == 1
    # Explore opens on the best snapshot the quality scores name (the latest when none is scored yet).
    from studio.quality import best_snapshot

    best = best_snapshot(run.path)
    assert at.selectbox(key="explore_step").value == (best.step if best else run.snapshot_steps()[-1])
    assert "Seed 1" in captions(at)
    snap = run.snapshot_path(at.selectbox(key="explore_step").value)  # the snapshot Explore opened on
    assert snap.with_name(snap.name.split(".")[0] + ".directions.npz").is_file(), "directions cached beside it"


def test_directions_are_computed_once_with_a_progress_bar(run):
    for p in (run.path / "snapshots").glob("*.directions.npz"):
        p.unlink()
    at = explore()
    assert not at.exception
    snap = run.snapshot_path(at.selectbox(key="explore_step").value)  # the snapshot Explore opened on
    assert snap.with_name(snap.name.split(".")[0] + ".directions.npz").is_file()
    assert [k for k in pad_keys(at) if k.startswith("dir_")] == [f"dir_{i}" for i in range(8)]
    labels = [b.label for b in at.download_button]
    assert "Download PNG" in labels and "Download variations" in labels and "Download the generator (.keras)" in labels


def test_sliders_and_seed_change_the_image_but_not_the_strips(run):
    at = explore()
    first = main_image_url(at)
    before = strips(at)
    assert len(before) == 8
    move(at, "zdim_0", 1.5)
    moved = main_image_url(at)
    assert moved != first
    assert "1 slider moved" in captions(at)
    assert strips(at) == before, "strips follow the seed, not the sliders"
    assert pad(at)["values"]["zdim_0"] == 1.5
    move(at, "dir_0", -2.0)
    assert main_image_url(at) not in (first, moved) and "2 sliders moved" in captions(at)
    version = pad(at)["version"]
    at.button(key="explore_reset").click().run()
    data = pad(at)
    assert data["version"] > version, "the page takes over values Python changed"
    assert data["values"]["dir_0"] == 0.0 and data["values"]["zdim_0"] == 0.0
    assert main_image_url(at) == first
    at.number_input(key="explore_seed").set_value(2).run()
    assert main_image_url(at) != first and "Seed 2" in captions(at)
    assert strips(at) != before, "a new seed gets new strips"
    at.slider(key="psi").set_value(0.5).run()
    assert "ψ 0.50" in captions(at)


def test_the_pad_holds_the_next_step_of_every_slider(run):
    """Each answer carries the pictures one step to either side of each slider, keyed by the whole
    slider state; the prefetched picture is the one the server draws when that state arrives."""
    from studio.generate.instrument import state_key as latent_state_key

    at = explore()
    data = pad(at)
    values = data["values"]
    assert data["picture_key"] == latent_state_key(values)
    assert len(data["prefetch"]) == 2 * len(values)
    nxt = {**values, "dir_3": 0.1}
    assert latent_state_key(nxt) in data["prefetch"]
    move(at, "dir_3", 0.1)
    after = pad(at)
    assert after["picture_key"] == latent_state_key(nxt)
    # One batched call drew the prefetched picture, one call of one latent the answer: the same
    # picture (bit-identical on this CPU; within rounding on any).
    assert np.abs(pixels(data["prefetch"][after["picture_key"]]) - pixels(after["picture"])).max() <= 1
    # At the end of a slider there is no step beyond it.
    move(at, "zdim_1", 3.0)
    keys = pad(at)["prefetch"]
    assert latent_state_key({**pad(at)["values"], "zdim_1": 2.9}) in keys
    assert not any("zdim_1=3.1" in k for k in keys)


def test_slider_values_survive_a_visit_to_another_page(run):
    at = explore()
    at.number_input(key="explore_seed").set_value(5).run()
    move(at, "dir_2", 1.0)
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception
    assert at.number_input(key="explore_seed").value == 5 and pad(at)["values"]["dir_2"] == 1.0
    assert "Seed 5 · 1 slider moved" in captions(at)


def test_surprise_me_and_how_many_dimensions(run):
    at = explore()
    at.button(key="surprise").click().run()
    assert not at.exception
    assert at.number_input(key="explore_seed").value != 1
    at.number_input(key="k_dims").set_value(3).run()
    keys = pad_keys(at)
    assert {"zdim_0", "zdim_1", "zdim_2"} <= set(keys) and "zdim_3" not in keys


@pytest.mark.parametrize("mode", ["seeds", "direction"])
def test_journey_plays_and_exports(run, mode):
    at = explore()
    at.radio(key="journey_mode").set_value(mode).run()
    at.number_input(key="journey_frames").set_value(8).run()
    at.button(key="journey_make").click().run()
    assert not at.exception and not at.error
    j = at.session_state["journey"]
    assert len(j["frames"]) == 8
    assert j["gif"][:6] == b"GIF89a" and b"ftyp" in j["mp4"][:64]
    import io

    from PIL import Image

    with Image.open(io.BytesIO(j["gif"])) as im:
        assert im.n_frames == 8 and im.info.get("loop") == 0  # a looping GIF
    labels = [b.label for b in at.download_button]
    assert "Download GIF" in labels and "Download MP4" in labels
    at.slider(key="journey_frame").set_value(5).run()
    assert not at.exception
    assert any("Frame 5 of 8" in c for img in at.image for c in img.captions)
    # A frame's PNG carries the frame's own latent: made again, it is the same picture.
    from studio.generate.recipe import regenerate

    z5 = np.asarray(j["zs"][4], np.float32)
    shown = at.selectbox(key="explore_step").value  # the snapshot on screen (Explore opens on the best)
    frame_recipe = Recipe(run_id=run.id, step=shown, z=z5.tolist(), seed=None, scale=8)
    from studio.generate.sampling import Sampler

    alone = Sampler(run, shown).generate(z5[None])[0]  # how the page draws the frame's PNG
    assert np.array_equal(regenerate(frame_recipe), enlarge_by(alone, 8))
    # the batched GIF frame is the same picture (bit-identical here; within rounding on any CPU)
    assert np.abs(j["frames"][4].astype(int) - alone.astype(int)).max() <= 1


def _recipe_png(run, seed=1, dir_offsets=None):
    from studio.generate.directions import directions_for
    from studio.generate.sampling import Sampler

    s = Sampler(run)
    z = truncate(seed_to_z(seed, s.z_dim), 1.0)
    if dir_offsets:
        z = directions_for(s).apply(z, {int(k): v for k, v in dir_offsets.items()})
    img = enlarge_by(s.generate(z[None])[0], 8)
    r = Recipe(
        run_id=run.id,
        step=s.step,
        z=z.tolist(),
        seed=seed,
        psi=1.0,
        direction_offsets={str(k): float(v) for k, v in (dir_offsets or {}).items()},
        scale=8,
    )
    return png_with_recipe(img, r)


def test_open_a_png_regenerates_it(run):
    at = explore()
    at.file_uploader(key="open_png").set_value(("mine.png", _recipe_png(run, 77, {1: 1.5}), "image/png")).run()
    assert not at.exception and not at.error
    assert any("identical to your file, pixel for pixel" in s.value for s in at.success)
    at.button(key="recipe_continue").click().run()
    assert not at.exception
    assert at.number_input(key="explore_seed").value == 77
    assert pad(at)["values"]["dir_1"] == 1.5


def test_open_a_png_without_a_recipe(run):
    from studio.core.images import encode_png

    at = explore()
    at.file_uploader(key="open_png").set_value(("plain.png", encode_png(np.zeros((8, 8), np.uint8)), "image/png")).run()
    assert not at.exception
    assert any("no GAN Studio recipe" in e.value for e in at.error)


def test_open_a_png_of_a_deleted_run(run):
    from studio.train.runs import Run

    gone = Run(run.path.parent / "gone")
    shutil.copytree(run.path, gone.path)
    png = _recipe_png(gone, 3)
    at = explore()
    shutil.rmtree(gone.path)
    at.file_uploader(key="open_png").set_value(("old.png", png, "image/png")).run()
    assert not at.exception
    assert any("not in this studio any more" in e.value for e in at.error)


def test_follow_it_through_training_sends_the_latent(run):
    if not (Path(APP).parent / "pages" / "checkpoints.py").exists():
        pytest.skip("no Checkpoints page in this tree")
    at = explore()
    at.button(key="explore_to_ckpt").click().run()
    assert not at.exception
    assert at.session_state["explore_latent"] == {"seed": 1, "psi": 1.0, "label": None}
    assert at.session_state["selected_run"] == run.id


def test_conditional_run_has_a_class_picker(conditional_run, studio_dirs):
    shutil.copytree(conditional_run.path, Path(os.environ["STUDIO_RUNS_DIR"]) / "cond")
    at = explore()
    box = at.selectbox(key="explore_class")
    assert len(box.options) == 10 and box.options[3] == "3"
    first = main_image_url(at)
    box.set_value(3).run()
    assert not at.exception and main_image_url(at) != first
