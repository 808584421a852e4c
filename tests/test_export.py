"""studio.media (animation, timelapse) and studio.generate.bank: labelled frames, animated GIF and MP4 timelapses of a real (tiny) run."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from studio.core.errors import StudioError
from studio.core.images import upscale
from studio.generate.bank import SnapshotBank
from studio.media import animation as export
from studio.media.timelapse import timelapse_frames


def _gif_frames(data: bytes) -> list[np.ndarray]:
    im = Image.open(io.BytesIO(data))
    assert im.format == "GIF"
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(np.asarray(im.convert("RGB")))
    return out


def _mp4_frames(data: bytes, tmp_path) -> tuple[int, tuple[int, int]]:
    import imageio

    p = tmp_path / "t.mp4"
    p.write_bytes(data)
    reader = imageio.get_reader(str(p), format="FFMPEG")
    try:
        frames = [f for f in reader]
    finally:
        reader.close()
    return len(frames), frames[0].shape[:2]


def _ramp(n: int, size: int = 32, channels: int = 1) -> list[np.ndarray]:
    """n clearly different uint8 frames (a brightening ramp)."""
    return [np.full((size, size, channels), 30 + 40 * i, np.uint8) for i in range(n)]


# ---- label_frame ------------------------------------------------------------------------------
def test_label_frame_adds_a_band_below_and_keeps_the_image():
    img = np.full((32, 32, 1), 200, np.uint8)
    out = export.label_frame(img, "step 1200", scale_to=256)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert out.shape[1] == 256 and out.shape[0] > 256  # 8x nearest upscale plus the band
    assert (out[:256] == 200).all()  # the picture itself is untouched
    band = out[256:]
    assert band.mean() < 80  # a dark band...
    assert band.max() > 200  # ...with light text on it


def test_label_text_changes_pixels():
    img = np.zeros((32, 32, 3), np.uint8)
    a = export.label_frame(img, "step 10", 256)
    b = export.label_frame(img, "step 20", 256)
    blank = export.label_frame(img, "", 256)
    assert a.shape == b.shape == blank.shape
    assert (a != blank).any(), "the label should draw something"
    assert (a != b).any(), "different steps should look different"


def test_upscale_is_nearest_by_a_whole_factor_and_never_shrinks():
    img = np.arange(4, dtype=np.uint8).reshape(2, 2, 1)
    up = upscale(img, 5)  # ceil(5/2) = 3x
    assert up.shape == (6, 6, 1)
    assert set(np.unique(up)) == {0, 1, 2, 3}  # no blended values
    big = np.zeros((300, 300, 3), np.uint8)
    assert upscale(big, 256).shape == big.shape
    assert upscale(img, None) is img


def test_pad_even():
    odd = np.full((33, 35, 3), 255, np.uint8)
    out = export.pad_even(odd)
    assert out.shape == (34, 36, 3)
    assert (out[:33, :35] == 255).all()
    even = np.zeros((34, 36, 3), np.uint8)
    assert export.pad_even(even) is even


# ---- GIF and MP4 --------------------------------------------------------------------------------
def test_gif_one_frame_each_and_progress_reaches_one():
    seen = []
    frames = _ramp(5)
    data = export.gif_bytes(
        frames,
        fps=5,
        labels=[f"step {i * 10}" for i in range(5)],
        scale_to=64,
        progress=lambda f, t: seen.append((f, t)),
    )
    decoded = _gif_frames(data)
    assert len(decoded) == 5
    assert decoded[0].shape[1] == 64
    assert seen and seen[-1][0] == 1.0
    assert all(0 <= f <= 1 for f, _ in seen)
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    im = Image.open(io.BytesIO(data))
    assert im.info.get("loop") == 0 and im.info.get("duration") == 200


def test_gif_without_labels_keeps_size():
    data = export.gif_bytes(_ramp(3, 16, 3), fps=2)
    decoded = _gif_frames(data)
    assert len(decoded) == 3 and decoded[0].shape == (16, 16, 3)


def test_gif_refuses_nothing_and_mixed_sizes():
    with pytest.raises(StudioError):
        export.gif_bytes([])
    with pytest.raises(StudioError):
        export.gif_bytes([np.zeros((8, 8, 1), np.uint8), np.zeros((9, 9, 1), np.uint8)])


def test_mp4_decodes_with_one_frame_each_and_even_size(tmp_path):
    frames = _ramp(4, 33, 3)  # odd side: must be padded, not refused
    seen = []
    data = export.mp4_bytes(frames, fps=4, labels=[f"step {i}" for i in range(4)], progress=lambda f, t: seen.append(f))
    assert len(data) > 0 and data[4:8] == b"ftyp"
    n, (h, w) = _mp4_frames(data, tmp_path)
    assert n == 4
    assert h % 2 == 0 and w % 2 == 0 and w == 34
    assert seen[-1] == 1.0


# ---- timelapses of a real run --------------------------------------------------------------------
def test_grid_timelapse_of_a_run(tiny_run):
    steps = tiny_run.snapshot_steps()
    frames, got = timelapse_frames(tiny_run, "grid")
    assert got == steps == [0, 10, 20, 30]
    assert len(frames) == len(steps) and all(f.dtype == np.uint8 for f in frames)
    data = export.gif_bytes(frames, labels=[f"step {s}" for s in got], scale_to=256)
    assert len(_gif_frames(data)) == len(steps)


def test_latent_timelapse_holds_the_latent_fixed(tiny_run, tmp_path):
    from studio.generate.latent import seed_to_z
    from studio.generate.sampling import Sampler

    z = seed_to_z(7, tiny_run.config.z_dim)
    frames, steps = timelapse_frames(tiny_run, "latent", z=z)
    assert len(frames) == len(steps) == 4
    assert frames[0].shape == (32, 32, 1)
    # Reloading weights into one generator gives exactly what a fresh sampler of that step gives.
    for i in (0, len(steps) - 1):
        fresh = Sampler(tiny_run, steps[i]).generate(z[None])[0]
        np.testing.assert_array_equal(frames[i], fresh)
    assert any((frames[0] != f).any() for f in frames[1:]), "training should change the image"
    data = export.mp4_bytes(frames, labels=[f"step {s}" for s in steps], scale_to=256)
    n, (h, w) = _mp4_frames(data, tmp_path)
    assert n == 4 and w == 256


def test_timelapse_refuses_unknown_kind_and_wrong_latent(tiny_run):
    with pytest.raises(StudioError):
        timelapse_frames(tiny_run, "poster")
    with pytest.raises(StudioError):
        timelapse_frames(tiny_run, "latent", z=np.zeros(3, np.float32))


# ---- SnapshotBank: one generator moved through time -------------------------------------------
def test_bank_draws_exactly_what_a_fresh_sampler_draws(tiny_run):
    from studio.generate.latent import seed_to_z
    from studio.generate.sampling import Sampler

    bank = SnapshotBank(tiny_run)
    z = np.stack([seed_to_z(s, tiny_run.config.z_dim) for s in (1, 2)])
    steps = tiny_run.snapshot_steps()
    for s in [*steps, *reversed(steps)]:  # forwards, then back over cached weights
        np.testing.assert_array_equal(bank.generate(s, z), Sampler(tiny_run, s).generate(z))
    assert bank.cached_steps() == steps


def test_bank_prefetch_fills_the_cache_and_the_budget_bounds_it(tiny_run):
    from studio.generate.latent import seed_to_z

    bank = SnapshotBank(tiny_run)
    z = seed_to_z(3, tiny_run.config.z_dim)
    bank.prefetch(around=20, z=z)
    bank.wait_prefetch(timeout=120)
    assert bank.cached_steps() == tiny_run.snapshot_steps()
    # The followed latent was drawn at every snapshot: the slider's next step is a lookup.
    assert len(bank._images) == len(tiny_run.snapshot_steps())
    for s in tiny_run.snapshot_steps():
        img = bank.image(s, z)
        assert not img.flags.writeable
        np.testing.assert_array_equal(img, bank.generate(s, z[None])[0])
    assert len(bank._images) == len(tiny_run.snapshot_steps())  # no new draws: all were cached
    one = bank._bytes // len(bank.cached_steps())
    small = SnapshotBank(tiny_run, max_bytes=2 * one)
    for s in tiny_run.snapshot_steps():
        small.generate(s, np.zeros((1, tiny_run.config.z_dim), np.float32))
    assert small.cached_steps() == tiny_run.snapshot_steps()[-2:]  # least recently used went first
    small.prefetch()
    small.wait_prefetch(timeout=120)
    assert len(small.cached_steps()) == 2


def test_bank_rereads_a_rewritten_snapshot_and_names_a_missing_one(tiny_run, tmp_path):
    import os
    import shutil

    from studio.train.runs import Run

    run = Run(tmp_path / "copy")
    shutil.copytree(tiny_run.path, run.path)
    bank = SnapshotBank(run)
    z = np.ones((1, run.config.z_dim), np.float32)
    before = bank.generate(30, z)
    # A resume rewrites snapshot 30 with other weights: the bank must notice (mtime), not serve stale ones.
    p30, p0 = run.snapshot_path(30), run.snapshot_path(0)
    old = p30.stat().st_mtime_ns
    shutil.copy2(p0, p30)
    os.utime(p30, ns=(old + 10**10, old + 10**10))
    after = bank.generate(30, z)
    np.testing.assert_array_equal(after, bank.generate(0, z))
    assert (after != before).any()
    p30.unlink()
    with pytest.raises(StudioError, match="no snapshot at step 30"):
        bank.generate(30, z)
