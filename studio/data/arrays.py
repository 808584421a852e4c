"""Whole-array image helpers for datasets: resize a stack, convert between grayscale and colour."""

from __future__ import annotations

import numpy as np
from PIL import Image

# ------------------------------------------------------------------------------------------------
# Array helpers


def resize_images(x: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N,H,W,C) → (N,size,size,C). LANCZOS when shrinking (area-quality), BICUBIC when enlarging."""
    assert x.dtype == np.uint8 and x.ndim == 4, (x.dtype, x.shape)
    n, h, w, c = x.shape
    if h == size and w == size:
        return x.copy()
    out = np.empty((n, size, size, c), np.uint8)
    mode = "L" if c == 1 else "RGB"
    for i in range(n):
        img = Image.fromarray(x[i, :, :, 0] if c == 1 else x[i], mode)
        out[i] = _resized(img, size, size).reshape(size, size, c)
    return out


def _resized(img: Image.Image, w: int, h: int) -> np.ndarray:
    method = Image.Resampling.LANCZOS if (w < img.width or h < img.height) else Image.Resampling.BICUBIC
    # reducing_gap first shrinks by whole factors (box filter) so huge photos stay quick
    return np.asarray(img.resize((w, h), method, reducing_gap=3.0))


def convert_channels(x: np.ndarray, channels: int | None) -> np.ndarray:
    """uint8 NHWC to 1 or 3 channels (None: unchanged). RGB→gray uses the ITU-R 601 luma weights."""
    if channels is None or x.shape[-1] == channels:
        return x
    if channels == 3:
        return np.repeat(x, 3, axis=-1)
    luma = x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114
    return np.rint(luma).clip(0, 255).astype(np.uint8)[..., None]
