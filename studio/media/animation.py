"""Animations: frames (labelled with their training step, or not) saved as animated GIF or MP4.

Holding the inputs fixed while the weights change is what makes a training timelapse readable:
the grid frames are the run's fixed-noise samples (the same latents at every snapshot, as in
StyleGAN's ``fakes*.png`` series, Karras et al. 2019), and a latent timelapse renders one chosen z
through every snapshot of the generator.

- GIF: Pillow, one adaptive palette per frame. Pillow merges *identical* consecutive frames into
  one longer frame; labelled frames always differ (their step text does), so a labelled timelapse
  has exactly one frame per snapshot.
- MP4: H.264 through imageio-ffmpeg, which ships its own ffmpeg binary inside the wheel (no system
  ffmpeg needed). H.264 with yuv420p wants even sides, so frames are padded (never resized: a
  resample would smear the pixel art).

Small images are upscaled by a whole factor with nearest-neighbour sampling so a 32 px latent is
not a postage stamp and its pixels stay square and crisp.

``progress`` arguments are callables ``progress(fraction in [0, 1], text)``; the Checkpoints page
passes one that drives ``st.progress``. This module never imports streamlit.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.images import upscale
from studio.core.progress import Progress
from studio.core.progress import report as _report

BAND_COLOR = (18, 18, 22)  # the dark strip the step label sits on, below the image
TEXT_COLOR = (240, 240, 240)


def _rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H,W), (H,W,1), (H,W,3) or (H,W,4) → uint8 (H,W,3)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"expected uint8 images, got {image.dtype}; use imageutils.to_uint8 first")
    if image.ndim == 2:
        image = image[..., None]
    assert image.ndim == 3, f"expected (H,W,C), got shape {image.shape}"
    c = image.shape[-1]
    if c == 1:
        return np.repeat(image, 3, axis=-1)
    if c == 3:
        return image
    if c == 4:
        return image[..., :3]
    raise ValueError(f"expected 1, 3 or 4 channels, got {c}")


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow ≥ 10.1 with FreeType: a scalable font
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()


def label_frame(image: np.ndarray, text: str, scale_to: int | None = None) -> np.ndarray:
    """``image`` (uint8, any of 1/3/4 channels), upscaled to ``scale_to``, with ``text`` on a dark band below.

    The band is added under the picture rather than drawn over it, so the label never hides part
    of the image. Returns uint8 (H + band, W, 3).
    """
    from PIL import Image, ImageDraw

    img = upscale(_rgb(image), scale_to)
    h, w = img.shape[:2]
    size = max(8, min(32, w // 12))
    font = _font(size)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    while size > 8 and probe.textlength(text, font=font) > w - 8:
        size -= 1
        font = _font(size)
    pad = max(3, size // 3)
    band = size + 2 * pad
    canvas = Image.new("RGB", (w, h + band), BAND_COLOR)
    canvas.paste(Image.fromarray(img), (0, 0))
    draw = ImageDraw.Draw(canvas)
    tw = probe.textlength(text, font=font)
    draw.text((max(2, (w - tw) / 2), h + band / 2), text, fill=TEXT_COLOR, font=font, anchor="lm")
    return np.asarray(canvas, dtype=np.uint8)


def _prepare(
    frames: Sequence[np.ndarray], labels: Sequence[str] | None, scale_to: int | None, progress: Progress, share: float
) -> list[np.ndarray]:
    """Label / upscale / RGB every frame (the first ``share`` of the progress bar)."""
    if len(frames) == 0:
        raise StudioError("There are no frames to export: this run has no snapshots yet.")
    if labels is not None and len(labels) != len(frames):
        raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
    out = []
    for i, f in enumerate(frames):
        out.append(label_frame(f, labels[i], scale_to) if labels is not None else upscale(_rgb(f), scale_to))
        _report(progress, share * (i + 1) / len(frames), f"Preparing frame {i + 1} of {len(frames)}")
    shape = out[0].shape
    if any(f.shape != shape for f in out):
        raise StudioError("All frames of a timelapse must have the same size.")
    return out


def gif_bytes(
    frames: list[np.ndarray],
    fps: float = 4,
    loop: bool = True,
    labels: list[str] | None = None,
    scale_to: int | None = None,
    progress: Progress = None,
) -> bytes:
    """An animated GIF of ``frames`` (uint8 images of one size), ``fps`` frames per second."""
    import io

    from PIL import Image

    if fps <= 0:
        raise StudioError("Frames per second must be above 0.")
    prepared = _prepare(frames, labels, scale_to, progress, 0.8)
    images = [Image.fromarray(f) for f in prepared]
    _report(progress, 0.85, "Encoding the GIF")
    buf = io.BytesIO()
    extra = {"loop": 0} if loop else {}  # loop=0 means forever; no loop key means play once
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(20, round(1000 / fps)),
        disposal=1,
        **extra,
    )
    _report(progress, 1.0, "GIF ready")
    return buf.getvalue()


def pad_even(image: np.ndarray) -> np.ndarray:
    """Pad the bottom / right edge with the band colour so both sides are even (H.264 yuv420p)."""
    h, w = image.shape[:2]
    ph, pw = h % 2, w % 2
    if not (ph or pw):
        return image
    out = np.empty((h + ph, w + pw, image.shape[2]), np.uint8)
    out[...] = np.array(BAND_COLOR, np.uint8)[: image.shape[2]]
    out[:h, :w] = image
    return out


def mp4_bytes(
    frames: list[np.ndarray],
    fps: float = 4,
    labels: list[str] | None = None,
    scale_to: int | None = None,
    progress: Progress = None,
) -> bytes:
    """An H.264 MP4 (yuv420p, plays in browsers and phones) of ``frames`` at ``fps``."""
    import imageio.v2 as iio

    if fps <= 0:
        raise StudioError("Frames per second must be above 0.")
    prepared = [pad_even(f) for f in _prepare(frames, labels, scale_to, progress, 0.3)]
    with tempfile.TemporaryDirectory(prefix="studio-mp4-") as tmp:
        path = os.path.join(tmp, "timelapse.mp4")
        # macro_block_size=2: we padded to even sides ourselves; imageio's default (16) would
        # resize every frame and smear the pixels. quality 8 ≈ crf 10: pixel art stays crisp.
        writer = iio.get_writer(
            path,
            format="FFMPEG",
            mode="I",
            fps=fps,
            codec="libx264",
            pixelformat="yuv420p",
            quality=8,
            macro_block_size=2,
            ffmpeg_log_level="error",
        )
        try:
            for i, f in enumerate(prepared):
                writer.append_data(f)
                _report(progress, 0.3 + 0.65 * (i + 1) / len(prepared), f"Encoding frame {i + 1} of {len(prepared)}")
        finally:
            writer.close()
        data = Path(path).read_bytes()
    _report(progress, 1.0, "MP4 ready")
    return data
