"""One decoded picture → the square uint8 array training uses (upright, colour mode, crop, resize)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from studio.core.errors import StudioError
from studio.data.arrays import _resized

UPLOAD_SIZES = (32, 64, 128)
CROPS = ("center", "pad", "stretch")

# ------------------------------------------------------------------------------------------------
# Uploads: options, one-image preprocessing


@dataclass
class PreprocessOptions:
    image_size: int = 64  # side of the square result: 32, 64 or 128 for uploads
    mode: str = "RGB"  # "RGB" colour, "L" grayscale ("auto" for CLI folders: L if all gray)
    crop: str = "center"  # "center" square crop, "pad" to a square with black bars, "stretch"
    flip: bool = False  # random horizontal flip at train time (stored, not applied here)

    def validate(self) -> PreprocessOptions:
        if self.image_size not in UPLOAD_SIZES:
            raise StudioError(f"The image size must be one of {', '.join(map(str, UPLOAD_SIZES))} pixels.")
        if self.mode not in ("RGB", "L"):
            raise StudioError("Choose colour (RGB) or grayscale (L).")
        if self.crop not in CROPS:
            raise StudioError("Choose a crop of centre, pad or stretch.")
        return self


def _normalise(img: Image.Image) -> Image.Image:
    """Any decoded image → 'L' or 'RGB', upright, first frame, transparency composited on white."""
    try:
        img.seek(0)  # animations: the first frame
    except EOFError:
        pass
    img = ImageOps.exif_transpose(img) or img
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(img).astype(np.float64)
        # 16-bit samples: scale 0..65535 → 0..255 (convert('L') would clip, not scale)
        a = a / 257.0 if mode.startswith("I;16") or a.max(initial=0) > 255 else a
        return Image.fromarray(np.rint(a).clip(0, 255).astype(np.uint8), "L")
    if mode == "F":
        a = np.asarray(img).astype(np.float64)
        a = a * 255.0 if a.max(initial=0) <= 1.0 else a
        return Image.fromarray(np.rint(a).clip(0, 255).astype(np.uint8), "L")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        gray = mode in ("LA", "La", "L", "1") or (mode in ("P", "PA") and _palette_is_gray(img))
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        out = Image.alpha_composite(white, rgba).convert("RGB")
        return out.convert("L") if gray else out
    if mode in ("L", "RGB"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode == "P":
        return img.convert("L") if _palette_is_gray(img) else img.convert("RGB")
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...


def _palette_is_gray(img: Image.Image) -> bool:
    try:
        pal = np.asarray(img.convert("RGB"))
    except Exception:  # noqa: BLE001 - a palette Pillow cannot convert is simply not gray
        return False
    return bool((pal[..., 0] == pal[..., 1]).all() and (pal[..., 1] == pal[..., 2]).all())


def preprocess_image(img: Image.Image, opts: PreprocessOptions) -> np.ndarray:
    """One PIL image → uint8 (S, S, C): upright, first frame, colour mode, crop/pad/stretch, resize."""
    img = _normalise(img)
    return _finish(img, opts)


def _finish(img: Image.Image, opts: PreprocessOptions) -> np.ndarray:
    """Normalised ('L'/'RGB') image → the processed square array."""
    if opts.mode == "L" and img.mode != "L":
        img = img.convert("L")
    elif opts.mode == "RGB" and img.mode != "RGB":
        img = img.convert("RGB")
    s = int(opts.image_size)
    w, h = img.size
    if opts.crop == "center":
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side))
    elif opts.crop == "pad":
        side = max(w, h)
        canvas = Image.new(img.mode, (side, side), 0)  # black bars, like a letterbox
        canvas.paste(img, ((side - w) // 2, (side - h) // 2))
        img = canvas
    elif opts.crop != "stretch":
        raise StudioError("Choose a crop of centre, pad or stretch.")
    a = _resized(img, s, s)
    if a.ndim == 2:
        a = a[..., None]
    assert a.dtype == np.uint8 and a.shape[:2] == (s, s), a.shape
    return a
