"""Recipes: PNGs that remember how they were made, so any exported image can be made again.

The recipe is JSON in a PNG text chunk under ``gan_studio_recipe`` (PNG tEXt, ISO/IEC 15948 §11.3.4;
the same place Stable Diffusion front-ends keep their "parameters"). It names the run and snapshot,
the seed, ψ, the class and the slider offsets a person set, and always the final latent ``z`` itself
as a list of floats: float32 → JSON → float32 is exact, so the image regenerates bit for bit on the
same machine even if the run's directions file were recomputed or lost. A grid of variations also
keeps every tile's latent.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError
from studio.core.images import encode_png, enlarge_by, make_grid

RECIPE_KEY = "gan_studio_recipe"
RECIPE_FORMAT = 1
MAX_PIXELS = 8192 * 8192  # an uploaded PNG larger than this is refused before decoding (bombs)


def studio_version() -> str:
    import studio

    return str(getattr(studio, "__version__", "0.1"))


@dataclass
class Recipe:
    run_id: str  # the run folder's name
    step: int  # the snapshot's training step
    z: list[float]  # the final latent (after ψ and every offset): the truth
    seed: int | None = None  # the seed the latent started from (None: typed in / edited)
    psi: float = 1.0  # truncation ψ applied to the seed's latent
    label: int | None = None  # class for conditional models, else None
    class_name: str | None = None  # the class's name, for people reading the file
    dim_offsets: dict[str, float] = field(default_factory=dict)  # {"dimension": offset} added to z
    direction_offsets: dict[str, float] = field(default_factory=dict)  # {"direction": std} (GANSpace)
    kind: str = "image"  # "image" or "grid" (of variations)
    grid_z: list[list[float]] = field(default_factory=list)  # grid: every tile's latent, row-major
    grid_labels: list[int] = field(default_factory=list)  # grid: every tile's class (conditional)
    ncols: int = 0  # grid: tiles per row
    pad: int = 2  # grid: pixels between tiles
    scale: int = 1  # whole-number nearest-neighbour enlargement of the PNG
    studio_version: str = field(default_factory=studio_version)
    format: int = RECIPE_FORMAT

    # ---- JSON ------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        try:
            d = json.loads(text)
        except ValueError:
            raise StudioError("The recipe in this PNG is damaged (it is not valid JSON).") from None
        if not isinstance(d, dict):
            raise StudioError("The recipe in this PNG is damaged (it is not a set of named values).")
        if int(d.get("format", 1)) > RECIPE_FORMAT:
            raise StudioError("This recipe was written by a newer GAN Studio; update the studio to open it.")
        try:
            r = cls(
                run_id=str(d["run_id"]),
                step=int(d["step"]),
                z=[float(v) for v in d["z"]],
                seed=None if d.get("seed") is None else int(d["seed"]),
                psi=float(d.get("psi", 1.0)),
                label=None if d.get("label") is None else int(d["label"]),
                class_name=d.get("class_name"),
                dim_offsets={str(k): float(v) for k, v in (d.get("dim_offsets") or {}).items()},
                direction_offsets={str(k): float(v) for k, v in (d.get("direction_offsets") or {}).items()},
                kind=str(d.get("kind", "image")),
                grid_z=[[float(v) for v in row] for row in (d.get("grid_z") or [])],
                grid_labels=[int(v) for v in (d.get("grid_labels") or [])],
                ncols=int(d.get("ncols", 0)),
                pad=int(d.get("pad", 2)),
                scale=int(d.get("scale", 1)),
                studio_version=str(d.get("studio_version", "")),
                format=int(d.get("format", 1)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise StudioError(
                f"The recipe in this PNG is damaged or incomplete ({e.__class__.__name__}: {e})."
            ) from None
        r.check()
        return r

    def check(self) -> "Recipe":
        if self.kind not in ("image", "grid"):
            raise StudioError(f"This recipe describes a '{self.kind}', which this studio cannot make.")
        if not self.z or not all(math.isfinite(v) for v in self.z):
            raise StudioError("The recipe's latent is empty or holds numbers that are not finite.")
        if self.kind == "grid":
            if not self.grid_z or any(len(row) != len(self.z) for row in self.grid_z):
                raise StudioError("The recipe's grid latents are missing or of the wrong length.")
            if not all(math.isfinite(v) for row in self.grid_z for v in row):
                raise StudioError("The recipe's grid latents hold numbers that are not finite.")
        if not 1 <= self.scale <= 32:
            raise StudioError(f"The recipe asks for an enlargement of {self.scale}x; the studio makes 1x to 32x.")
        return self

    # ---- latents -----------------------------------------------------------------------------
    def latent(self) -> np.ndarray:
        """The final latent, float32 (z_dim,), exactly as it was generated."""
        return np.asarray(self.z, np.float32)

    def describe(self) -> str:
        """One line for people: where the image came from."""
        parts = [f"run {self.run_id}", f"step {self.step}"]
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        if self.psi != 1.0:
            parts.append(f"ψ {self.psi:g}")
        if self.label is not None:
            parts.append(f"class {self.class_name or self.label}")
        moved = len([v for v in self.dim_offsets.values() if v]) + len(
            [v for v in self.direction_offsets.values() if v]
        )
        if moved:
            parts.append(f"{moved} slider{'s' if moved > 1 else ''} moved")
        if self.kind == "grid":
            parts.append(f"grid of {len(self.grid_z)}")
        return ", ".join(parts)


# ---- PNG in and out ---------------------------------------------------------------------------


def png_with_recipe(image: np.ndarray, recipe: Recipe) -> bytes:
    """PNG bytes of uint8 ``image`` with ``recipe`` in its text metadata."""
    recipe.check()
    return encode_png(
        image,
        {
            RECIPE_KEY: recipe.to_json(),
            "Software": f"GAN Studio {recipe.studio_version}",
            "Description": recipe.describe(),
        },
    )


def read_png(data: bytes) -> tuple[np.ndarray, Recipe]:
    """(pixels as uint8 (H,W,C), recipe) from PNG bytes; plain-language StudioError if there is no recipe."""
    from PIL import Image, UnidentifiedImageError

    try:
        im = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError):
        raise StudioError(
            "This file is not an image that can be opened. Choose a PNG saved from the Explore page."
        ) from None
    with im:
        if im.format != "PNG":
            raise StudioError(
                f"This is a {im.format or 'non-PNG'} image; recipes travel only inside PNG files "
                "saved from the Explore page."
            )
        if im.width * im.height > MAX_PIXELS:
            raise StudioError("This PNG is far too large to be one of the studio's images.")
        text = im.info.get(RECIPE_KEY)
        try:
            if text is None:
                text = getattr(im, "text", {}).get(RECIPE_KEY)  # chunks after the pixels need a full read
            pixels = np.asarray(im)
        except (OSError, ValueError, SyntaxError):
            raise StudioError("This PNG is damaged and cannot be read.") from None
    if not text:
        raise StudioError(
            "This PNG has no GAN Studio recipe in it. Only images downloaded from the Explore "
            "page carry one (some apps strip it when they re-save a picture)."
        )
    recipe = Recipe.from_json(text)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    return pixels.astype(np.uint8, copy=False), recipe


# ---- making it again -------------------------------------------------------------------------


def _default_sampler(run_path: Path, step: int):
    from studio.generate.sampling import Sampler

    return Sampler(run_path, step)


def find_run(run_id: str):
    """The run named in a recipe, from the studio's runs folder; a plain error if it is gone."""
    from studio.core.paths import runs_dir
    from studio.train.runs import Run

    if not run_id or "/" in run_id or "\\" in run_id or run_id in (".", ".."):
        raise StudioError("The recipe does not name a run this studio could have made.")
    path = runs_dir() / run_id
    if not (path / "config.json").is_file():
        raise StudioError(
            f"The run '{run_id}' that made this image is not in this studio any more "
            "(it was deleted, or the image was made on another computer)."
        )
    return Run(path)


def regenerate(recipe: Recipe, get_sampler: Callable[[Path, int], object] | None = None) -> np.ndarray:
    """The recipe's image (uint8 (H,W,C)) made again by its run's snapshot.

    ``get_sampler(run_path, step)`` lets the UI pass its cached samplers; the default builds one.
    The latent goes through the same single-image ``Sampler.generate`` call the Explore page uses,
    so on the same machine the pixels are identical to the exported ones.
    """
    recipe.check()
    run = find_run(recipe.run_id)
    if recipe.step not in run.snapshot_steps():
        raise StudioError(
            f"The run '{recipe.run_id}' no longer has its snapshot at step {recipe.step}, "
            "so this image cannot be made again."
        )
    sampler = (get_sampler or _default_sampler)(run.path, recipe.step)
    cfg = sampler.cfg
    if len(recipe.z) != cfg.z_dim:
        raise StudioError(
            f"The recipe's latent has {len(recipe.z)} numbers but this run's generator takes {cfg.z_dim}."
        )
    if cfg.conditional and recipe.label is None:
        raise StudioError("This run makes images of a chosen class, but the recipe names none.")
    if recipe.kind == "grid":
        zs = np.asarray(recipe.grid_z, np.float32)
        labels = (
            (
                np.asarray(recipe.grid_labels, np.int32)
                if cfg.conditional and recipe.grid_labels
                else np.full(len(zs), recipe.label or 0, np.int32)
            )
            if cfg.conditional
            else None
        )
        tiles = sampler.generate(zs, labels)
        return enlarge_by(make_grid(tiles, ncols=recipe.ncols or None, pad=recipe.pad), recipe.scale)
    labels = np.array([recipe.label], np.int32) if cfg.conditional else None
    return enlarge_by(sampler.generate(recipe.latent()[None], labels)[0], recipe.scale)
