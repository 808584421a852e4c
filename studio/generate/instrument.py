"""The Explore instrument: slider positions → a latent, the pictures around it, and their recipes.

A picture on the Explore page is named by a seed (→ z, ``latent.seed_to_z``), a truncation ψ, a
class, and slider values: ``zdim_<i>`` sliders add to single latent dimensions, ``dir_<i>`` sliders
move along GANSpace directions (Härkönen et al. 2020, ``directions.py``) in standard deviations.
:class:`Point` turns those into the latent the generator reads, and answers the questions the page
asks: the picture, the pictures one slider step away (prefetched so a step shows at once), the
direction preview strips, a grid of variations, and the recipe that makes each again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from studio.core.images import encode_png, enlarge_by, make_grid, whole_factor
from studio.generate.directions import Directions
from studio.generate.latent import add_offsets, seed_to_z, truncate, variation_latents
from studio.generate.recipe import Recipe, png_with_recipe

SLIDER_RANGE = 3.0  # sliders go from -3 to +3 (standard deviations / latent units)
SLIDER_STEP = 0.1
SHOWN_DIRECTIONS = 8  # GANSpace directions given a slider (the strongest first)
PREFETCH_ACTIVE = 3  # slider steps prefetched to either side of the slider last moved (others: 1)
STRIP_STEPS = (-2.0, -1.0, 0.0, 1.0, 2.0)  # standard deviations previewed by a direction's strip
VARIATIONS = 16  # tiles of the variations grid (4 x 4, the first is the picture itself)
VARIATION_STRENGTH = 0.35
DIRECTION, DIMENSION = "dir_", "zdim_"  # slider key prefixes, as the latent pad writes them


def state_key(values: dict[str, float]) -> str:
    """The slider state as the latent pad's JavaScript writes it: ``key=+0.1`` pairs, sorted, one decimal."""

    def one(v: float) -> str:
        v = round(float(v) * 10) / 10
        return "0.0" if abs(v) < 0.05 else f"{v:.1f}"

    return "|".join(f"{k}={one(values[k])}" for k in sorted(values))


def is_slider(key) -> bool:
    return isinstance(key, str) and key.startswith((DIRECTION, DIMENSION))


def clamp(value: float) -> float:
    """A slider value as the page keeps it: within the range, on the 0.1 grid."""
    return max(-SLIDER_RANGE, min(SLIDER_RANGE, round(float(value), 1)))


def slider_keys(n_directions: int, n_dimensions: int) -> list[str]:
    """The sliders on screen: the shown GANSpace directions, then the first latent dimensions."""
    return [f"{DIRECTION}{i}" for i in range(n_directions)] + [f"{DIMENSION}{i}" for i in range(n_dimensions)]


def offsets(values: dict[str, float]) -> tuple[dict[int, float], dict[int, float]]:
    """(dimension offsets, direction offsets in std) from slider values, zeros left out."""
    dims = {int(k[len(DIMENSION) :]): v for k, v in values.items() if k.startswith(DIMENSION) and v}
    directions = {int(k[len(DIRECTION) :]): v for k, v in values.items() if k.startswith(DIRECTION) and v}
    return dims, directions


def latent_for(base: np.ndarray, values: dict[str, float], dirs: Directions | None) -> np.ndarray:
    """The point for these slider values: latent dimensions added to ``base``, then the directions."""
    dims, directions = offsets(values)
    z = add_offsets(base, dims)
    if dirs is not None and directions:
        z = dirs.apply(z, directions)
    return z


def prefetch_states(values: dict[str, float], active: str | None = None) -> list[dict[str, float]]:
    """Slider states one step to either side of every slider (``PREFETCH_ACTIVE`` steps for
    ``active``, the slider last moved, so a held arrow key keeps ahead), inside the range."""
    states = []
    for key in values:
        reach = PREFETCH_ACTIVE if key == active else 1
        for d in [sign * SLIDER_STEP * n for n in range(1, reach + 1) for sign in (-1, 1)]:
            v = round(values[key] + d, 1)
            if -SLIDER_RANGE - 1e-9 <= v <= SLIDER_RANGE + 1e-9:
                states.append({**values, key: v})
    return states


@dataclass(frozen=True)
class Point:
    """One place on the instrument: seed, ψ, class and slider values, on one snapshot's generator."""

    sampler: object  # a generate.sampling.Sampler (or anything with .generate(z, labels) and .cfg)
    seed: int
    psi: float = 1.0
    label: int | None = None
    values: dict[str, float] = field(default_factory=dict)
    directions: Directions | None = None

    @property
    def base(self) -> np.ndarray:
        """The seed's latent after truncation, before any slider."""
        return truncate(seed_to_z(self.seed, self.sampler.cfg.z_dim), self.psi)

    @property
    def z(self) -> np.ndarray:
        return latent_for(self.base, self.values, self.directions)

    @property
    def moved(self) -> int:
        """How many sliders are off zero."""
        dims, dirs = offsets(self.values)
        return len(dims) + len(dirs)

    def _labels(self, n: int) -> np.ndarray | None:
        return None if self.label is None else np.full(n, self.label, np.int32)

    def draw(self) -> np.ndarray:
        """The picture, uint8 (H, W, C), drawn alone (as its recipe regenerates it)."""
        return self.sampler.generate(self.z[None], self._labels(1))[0]

    def prefetch(self, active: str | None = None) -> dict[str, bytes]:
        """PNGs of the pictures one slider step away, keyed by ``state_key`` of their slider state,
        in one batched call."""
        states = prefetch_states(self.values, active)
        if not states:
            return {}
        base = self.base
        zs = np.stack([latent_for(base, s, self.directions) for s in states]).astype(np.float32)
        imgs = self.sampler.generate(zs, self._labels(len(zs)))
        return {state_key(s): encode_png(img) for s, img in zip(states, imgs)}

    def strips(self, n: int, tile_px: int = 48) -> list[bytes]:
        """For each of the first ``n`` directions, a PNG strip of the seed at -2..+2 std along it
        (sliders left out: strips follow the seed, not every slider move)."""
        if self.directions is None or n <= 0:
            return []
        base = self.base
        zs = np.stack([self.directions.apply(base, {i: s}) for i in range(n) for s in STRIP_STEPS])
        tiles = self.sampler.generate(zs, self._labels(len(zs)))
        k = whole_factor(self.sampler.cfg.image_size, tile_px)
        per = len(STRIP_STEPS)
        return [
            encode_png(enlarge_by(make_grid(tiles[i * per : (i + 1) * per], ncols=per, pad=1), k)) for i in range(n)
        ]

    def recipe(self, run_id: str, step: int, scale: int, class_names: list[str] | None = None) -> Recipe:
        dims, dirs = offsets(self.values)
        return Recipe(
            run_id=run_id,
            step=step,
            z=self.z.tolist(),
            seed=self.seed,
            psi=self.psi,
            label=self.label,
            class_name=class_names[self.label] if self.label is not None and class_names else None,
            dim_offsets={str(i): v for i, v in dims.items()},
            direction_offsets={str(i): v for i, v in dirs.items()},
            scale=scale,
        )


def picture_png(image: np.ndarray, recipe: Recipe) -> bytes:
    """A picture enlarged by its recipe's scale, as a PNG carrying the recipe."""
    return png_with_recipe(enlarge_by(image, recipe.scale), recipe)


def variations_png(sampler, recipe: Recipe, tile_px: int = 128) -> bytes:
    """The 4×4 grid of the recipe's picture (top left) and close relatives, as a PNG with the grid's recipe."""
    z = recipe.latent()
    zs = variation_latents(z, recipe.seed or 0, VARIATIONS, VARIATION_STRENGTH * max(recipe.psi, 0.1))
    tile_labels = None if recipe.label is None else np.full(VARIATIONS, int(recipe.label), np.int32)
    k = whole_factor(sampler.cfg.image_size, tile_px)
    grid = make_grid(sampler.generate(zs, tile_labels), ncols=4, pad=2)
    r = dataclasses.replace(
        recipe,
        kind="grid",
        grid_z=zs.tolist(),
        ncols=4,
        pad=2,
        scale=k,
        grid_labels=[] if tile_labels is None else tile_labels.tolist(),
    )
    return png_with_recipe(enlarge_by(grid, k), r)


def class_names(cfg) -> list[str]:
    """Names of a conditional run's classes: the built-in dataset's names when known, else numbers."""
    from studio import data

    names = data.class_names(cfg.dataset)
    if len(names) != cfg.num_classes:
        names = [f"class {i}" for i in range(cfg.num_classes)]
    return names
