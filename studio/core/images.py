"""The one float-image → uint8 conversion and the one grid maker the whole studio uses.

Generators emit float images in [-1, 1] (tanh); datasets, PNGs and ``st.image`` want uint8. Keeping a
single conversion means a grid on the Train page, in a run's ``samples/`` and in an export all agree
pixel for pixel.
"""

from __future__ import annotations

import math

import numpy as np


def to_uint8(x) -> np.ndarray:
    """Float images in [-1, 1] (any shape; tensors accepted) → uint8 in [0, 255], rounded, clipped."""
    x = np.asarray(x, dtype=np.float32)
    # Round rather than truncate so -1 → 0, 0 → 128, 1 → 255 and a round trip through
    # (u / 127.5 - 1) gives back the same uint8.
    return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images: np.ndarray, ncols: int | None = None, pad: int = 2, pad_value: int = 0) -> np.ndarray:
    """Tile uint8 images (N,H,W,C) or (N,H,W) into one uint8 picture (rows*H + pads, cols*W + pads, C).

    ``ncols`` None makes the grid as square as possible. ``pad`` pixels of ``pad_value`` separate the
    tiles and frame the grid. A single-channel input gives a single-channel grid (C = 1).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"make_grid wants uint8 images, got {images.dtype}; use to_uint8 first")
    if images.ndim == 3:
        images = images[..., None]
    assert images.ndim == 4, f"expected (N,H,W,C), got shape {images.shape}"
    n, h, w, c = images.shape
    if n == 0:
        return np.full((max(h, 1), max(w, 1), c), pad_value, np.uint8)
    if ncols is None:
        ncols = math.ceil(math.sqrt(n))
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), pad_value, np.uint8)
    for i in range(n):
        r, col = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = images[i]
    return grid


def encode_png(image: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """uint8 (H,W), (H,W,1) or (H,W,3) → PNG bytes, with optional tEXt chunks (recipes, provenance)."""
    import io

    from PIL import Image, PngImagePlugin

    image = np.asarray(image)
    assert image.dtype == np.uint8, image.dtype
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        for k, v in text.items():
            info.add_text(str(k), str(v))
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def enlarge_by(image: np.ndarray, k: int) -> np.ndarray:
    """Nearest-neighbour enlargement by the whole factor ``k`` (pixels stay square; k=1 is a no-op).

    The one enlarging primitive: every other size helper below picks a factor and calls this.
    """
    k = int(k)
    return image if k <= 1 else np.repeat(np.repeat(image, k, axis=0), k, axis=1)


def whole_factor(size: int, target: int) -> int:
    """The largest whole factor that keeps a ``size`` px picture within ``target`` px (at least 1)."""
    return max(1, int(target) // max(int(size), 1))


def upscale(image: np.ndarray, scale_to: int | None) -> np.ndarray:
    """Enlarge by the smallest whole factor that makes the longer side ≥ ``scale_to``.

    None (or an image already that large) leaves the image as it is; images are never shrunk.
    """
    if not scale_to:
        return image
    h, w = image.shape[:2]
    return enlarge_by(image, math.ceil(int(scale_to) / max(h, w, 1)))


def enlarge(image: np.ndarray, min_width: int = 384, max_factor: int = 8) -> np.ndarray:
    """Blow a small picture up so it is at least ``min_width`` px wide (at most ``max_factor`` times).

    Browsers smooth small images when they scale them; a 32 px digit grid should look like pixels.
    """
    image = np.asarray(image)
    return enlarge_by(image, min(max_factor, whole_factor(image.shape[1], min_width)))
