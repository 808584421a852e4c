"""One RunConfig for every run, its named presets, and JSON in and out.

A run folder's ``config.json`` is ``RunConfig.to_json()``; ``RunConfig.from_json`` rebuilds it, so a
run (and its generator) can always be rebuilt from its folder alone.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields

from studio.core.errors import StudioError

MODELS = ("mlp", "dcgan", "sngan", "fastgan")
ADA_MODES = ("auto", "on", "off")
LOSSES = ("ns", "minimax", "wgan-gp", "hinge")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
UPDATES = ("simultaneous", "alternating")
IMAGE_SIZES = (28, 32, 64, 128)
# Fields added after runs were already on disk, with the value that makes such a run's saved config
# mean what it meant when it started: a run from before the held-out split trained on every picture.
ABSENT_IN_SAVED = {"holdout": 0.0}


@dataclass
class RunConfig:
    # --- data ---
    dataset: str = "digits"  # built-in name, saved dataset name, or a folder / .zip path (CLI)
    image_size: int = 32  # square side in pixels; dcgan/sngan take 32, 64 or 128
    channels: int = 1  # 1 = grayscale, 3 = RGB; set from the dataset when None is not allowed
    conditional: bool = False  # feed class labels to G and D (needs a labelled dataset)
    num_classes: int = 0  # filled in from the dataset at start; 0 = unlabelled
    diffaugment: str = ""  # "" = off, else comma list of color,translation,cutout (Zhao et al. 2020)
    ada: str = "auto"  # adaptive augmentation (Karras et al. 2020): on, off, or auto = on below
    # ADA_AUTO_BELOW images (resolved when the run is created; config.json records on/off).
    # On: the DiffAugment ops (the diffaugment policy, or all three if it is empty) + x-flip,
    # each applied per picture with a probability p that ADA tunes.
    ada_target: float = 0.6  # ADA's target for r_t = E[sign(D(real))]: above it, p rises
    ada_kimg: float = 500.0  # thousands of images for p to go from 0 to 1 at full speed
    # --- model ---
    model: str = "dcgan"  # mlp (classic Goodfellow MLP GAN), dcgan, sngan (dcgan G + spectral-norm D),
    # fastgan (Liu et al. 2021: skip-layer excitation, self-supervised D; for few pictures)
    base_filters: int = 64  # width of the conv nets: channels of the last G / first D conv layer
    z_dim: int = 100  # latent size
    # --- objective and optimisation ---
    loss: str = "ns"  # ns (non-saturating), minimax, wgan-gp, hinge
    batch_size: int = 64  # images per step (global batch across devices)
    lr_d: float = 2e-4  # alpha: Adam learning rate of the discriminator / critic
    lr_g: float = 2e-4  # beta: Adam learning rate of the generator
    beta1: float = 0.5  # Adam beta_1 (0.5 is the DCGAN choice; 0.0 for wgan-gp / hinge)
    beta2: float = 0.999  # Adam beta_2 (0.9 for wgan-gp / hinge)
    n_critic: int = 1  # D steps per G step; wgan-gp uses 5
    update: str = "simultaneous"  # with n_critic 1: "simultaneous" = D and G learn from one fake batch and
    # one pass through D (the TensorFlow DCGAN tutorial's step, ~15% fewer
    # FLOPs); "alternating" = G steps on fresh noise after D's update
    # (Goodfellow et al. 2014, Algorithm 1). n_critic > 1 always alternates.
    gp_weight: float = 10.0  # gradient penalty weight lambda for wgan-gp (Gulrajani et al. 2017)
    ema_decay: float = 0.999  # decay of the EMA copy of G that every sample uses; 0 = no averaging
    ema_kimg: float = 0.0  # >0: the EMA's half-life in thousands of images instead of ema_decay
    # (StyleGAN2-ADA's ema_kimg), so it means the same at every batch size
    ema_rampup: float = 0.0  # >0: the half-life is at most this fraction of the images seen so far
    # (StyleGAN2-ADA's ema_rampup, 0.05): short runs are not dragged back to their first steps
    # --- length and bookkeeping ---
    steps: int = 2000  # total G steps of the run (resume continues up to this number)
    time_budget: float = 0.0  # seconds of training per session; 0 = no limit
    log_every: int = 10  # steps between metrics.jsonl lines
    checkpoint_every: int = 200  # steps between full checkpoints (keep the last 3)
    snapshot_every: int = 100  # steps between G-EMA snapshots + sample grids
    max_snapshots: int = 50  # snapshots kept, spread over the run, plus always the latest
    grid_size: int = 8  # the fixed-noise grid is grid_size x grid_size
    seed: int = 0  # seeds weights, data order, fixed preview noise
    # --- speed ---
    precision: str = "auto"  # auto (resolved at start: train/devices.py), float32, mixed_bfloat16, mixed_float16
    xla: bool = False  # jit_compile the train step (measured: faster for mlp, not dcgan on CPU)
    # --- health (studio/quality) ---
    quality: bool = True  # score each snapshot in the background (KID, precision/recall, ...)
    holdout: float = 0.1  # share of the pictures never trained on (sets under 250 pictures keep all)
    # --- lineage ---
    parent: dict = field(default_factory=dict)  # {"run_id", "step"} when forked from another run
    init_from: dict = field(default_factory=dict)  # {"run_id", "path", "step", "source"} when the
    # starting weights came from another run (source: "checkpoint" = G, D and G-EMA; "snapshot" = G-EMA)
    freeze_d: int = 0  # FreezeD (Mo et al. 2020): D's first N blocks keep their starting weights
    preset: str = ""  # the preset this config started from, for display

    # ------------------------------------------------------------------
    def validate(self) -> "RunConfig":
        def bad(msg: str):
            raise StudioError(msg)

        if self.model not in MODELS:
            bad(f"Unknown model '{self.model}'. Choose one of: {', '.join(MODELS)}.")
        if self.loss not in LOSSES:
            bad(f"Unknown loss '{self.loss}'. Choose one of: {', '.join(LOSSES)}.")
        if self.update not in UPDATES:
            bad(f"Unknown update scheme '{self.update}'. Choose one of: {', '.join(UPDATES)}.")
        if self.precision not in PRECISIONS:
            bad(f"Unknown precision '{self.precision}'. Choose one of: {', '.join(PRECISIONS)}.")
        if self.model != "mlp" and self.image_size not in (32, 64, 128):
            bad(f"The {self.model} model makes 32, 64 or 128 pixel images, not {self.image_size}.")
        if self.model == "mlp" and not 8 <= self.image_size <= 128:
            bad("The MLP model takes image sizes from 8 to 128 pixels.")
        if self.model == "fastgan" and self.conditional:
            bad("The fastgan model is not conditional; turn 'conditional' off or pick dcgan or sngan.")
        if self.ada not in ADA_MODES:
            bad(f"Adaptive augmentation must be one of {', '.join(ADA_MODES)}, not {self.ada!r}.")
        if not 0 < self.ada_target < 1:
            bad("The ADA target must be between 0 and 1 (0.6 is the paper's).")
        if not self.ada_kimg > 0:
            bad("ADA's speed (ada_kimg) must be above 0.")
        if self.ema_kimg < 0 or self.ema_rampup < 0:
            bad("The EMA half-life and its ramp-up cannot be negative.")
        if not isinstance(self.freeze_d, int) or isinstance(self.freeze_d, bool) or self.freeze_d < 0:
            bad(f"The number of frozen judge blocks must be a whole number of 0 or more, not {self.freeze_d!r}.")
        if self.freeze_d and not self.init_from:
            bad("Freezing the judge's first blocks only makes sense when starting from another run's weights.")
        if self.channels not in (1, 3):
            bad("Images must be grayscale (1 channel) or colour (3 channels).")
        for name in (
            "batch_size",
            "z_dim",
            "steps",
            "n_critic",
            "log_every",
            "checkpoint_every",
            "snapshot_every",
            "max_snapshots",
            "grid_size",
            "base_filters",
        ):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(f"{name.replace('_', ' ').capitalize()} must be a whole number of at least 1, not {v!r}.")
        for name in ("lr_d", "lr_g"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 < v < 1):
                bad(f"Learning rate {name} must be between 0 and 1, not {v!r}.")
        if not 0 <= self.ema_decay < 1:
            bad("EMA decay must be at least 0 and below 1.")
        if not (isinstance(self.holdout, (int, float)) and 0 <= self.holdout <= 0.5):
            bad(f"The held-out share must be between 0 and 0.5, not {self.holdout!r}.")
        if self.time_budget < 0:
            bad("The time budget cannot be negative.")
        if self.diffaugment:
            unknown = set(self.diffaugment.split(",")) - {"color", "translation", "cutout"}
            if unknown:
                bad(f"Unknown DiffAugment policy {sorted(unknown)}; use color, translation, cutout.")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        return cls.from_dict({**ABSENT_IN_SAVED, **json.loads(text)})

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)


# One sentence of help per model and loss, for the Train page's pickers.
MODEL_HELP = {
    "mlp": "Classic MLP GAN (2014): small fully-connected networks. Fast, blurry, historic.",
    "dcgan": "DCGAN: convolutional networks that draw images. The sensible default.",
    "sngan": "DCGAN with a spectrally-normalised judge: steadier training, pairs with the hinge loss.",
    "fastgan": "FastGAN: made for a few hundred to a few thousand pictures of your own; learns shapes fast.",
}
LOSS_HELP = {
    "ns": "Non-saturating: the standard GAN game, with a generator that keeps learning early on.",
    "minimax": "The original minimax game: tends to stall early; here for comparison.",
    "wgan-gp": "Wasserstein with gradient penalty: smooth, stable, 5 judge steps per generator step.",
    "hinge": "Hinge loss: the choice for spectral-norm models.",
}


# Named starting points. Flags or widgets given beside a preset override its values.
PRESETS: dict[str, dict] = {
    # Chosen from the dataset, the picture size and the machine (train/auto.py); these are its
    # choices for 1,000 pictures at 64 px on a 2-core CPU, used when no dataset is known yet.
    "auto": dict(
        model="fastgan",
        loss="hinge",
        image_size=64,
        base_filters=16,
        z_dim=128,
        batch_size=16,
        beta1=0.5,
        beta2=0.999,
        ada="on",
        ada_kimg=100.0,
        ema_kimg=5.0,
        ema_rampup=0.05,
        steps=20000,
        snapshot_every=300,
        checkpoint_every=1000,
    ),
    # A handful of seconds: for tests, demos of the controls, and checking a dataset works.
    "tiny": dict(
        model="dcgan",
        base_filters=16,
        z_dim=32,
        batch_size=32,
        steps=60,
        log_every=5,
        snapshot_every=10,
        checkpoint_every=20,
        grid_size=4,
        ema_decay=0.9,
    ),
    # Recognisable digits within ~2 minutes on 2 CPU cores.
    "quick-sketch": dict(
        model="dcgan",
        base_filters=32,
        z_dim=64,
        batch_size=64,
        steps=2000,
        lr_d=2e-4,
        lr_g=2e-4,
        log_every=10,
        snapshot_every=100,
        checkpoint_every=250,
        ema_decay=0.99,
    ),
    # A sound default for an evening on a laptop.
    "balanced": dict(
        model="dcgan",
        base_filters=64,
        z_dim=100,
        batch_size=64,
        steps=5000,
        snapshot_every=100,
        checkpoint_every=250,
        ema_decay=0.999,
    ),
    # Spectral-norm + hinge at full width, meant for a GPU.
    "gpu-quality": dict(
        model="sngan",
        loss="hinge",
        base_filters=128,
        z_dim=128,
        batch_size=128,
        lr_d=4e-4,
        lr_g=1e-4,
        beta1=0.0,
        beta2=0.9,
        steps=50000,
        snapshot_every=500,
        checkpoint_every=1000,
        ema_decay=0.999,
        precision="auto",  # mixed_float16 on the GPU it wants; float32 if run on a CPU anyway
    ),
    # The classic: Goodfellow et al. 2014 style MLP GAN.
    "classic-mlp": dict(
        model="mlp",
        z_dim=100,
        batch_size=128,
        steps=3000,
        lr_d=2e-4,
        lr_g=2e-4,
        snapshot_every=100,
        checkpoint_every=500,
        ema_decay=0.99,
    ),
    # Wasserstein GAN with gradient penalty (Gulrajani et al. 2017).
    "wgan-gp": dict(
        model="dcgan",
        loss="wgan-gp",
        n_critic=5,
        gp_weight=10.0,
        beta1=0.0,
        beta2=0.9,
        lr_d=1e-4,
        lr_g=1e-4,
        base_filters=32,
        z_dim=64,
        steps=2000,
        snapshot_every=100,
        checkpoint_every=250,
        ema_decay=0.99,
    ),
}

PRESET_HELP = {
    "auto": "Chosen for your pictures and this computer: model, width, batch, augmentation and pace.",
    "tiny": "A few seconds of training: for trying the controls, not for pretty pictures.",
    "quick-sketch": "About two minutes on a laptop; digits become recognisable.",
    "balanced": "A sound default for a longer session on a laptop.",
    "gpu-quality": "Large spectral-norm model with hinge loss; wants a GPU.",
    "classic-mlp": "The original fully-connected GAN from 2014, for comparison.",
    "wgan-gp": "Wasserstein GAN with gradient penalty: stable, slower per step.",
}

DEFAULT_PRESET = "auto"  # what a new run starts from (the Train page's first choice, the CLI's default)

# Loss-specific defaults applied when a person picks the loss without a preset that sets them.
LOSS_DEFAULTS = {
    "wgan-gp": dict(n_critic=5, beta1=0.0, beta2=0.9),
    "hinge": dict(beta1=0.0, beta2=0.9),
}


def from_preset(name: str | None = None, **overrides) -> RunConfig:
    """A RunConfig from a preset name (or the defaults), with ``overrides`` (None values ignored).

    ``auto`` with a ``dataset`` among the overrides looks at that dataset and this machine
    (train/auto.py); without one it gives its choices for 1,000 pictures at 64 px on 2 CPU cores.
    """
    values: dict = {}
    given = {k: v for k, v in overrides.items() if v is not None}
    if name:
        if name not in PRESETS:
            raise StudioError(f"Unknown preset '{name}'. Choose one of: {', '.join(PRESETS)}.")
        values.update(PRESETS[name])
        if name == "auto" and "dataset" in given:
            # The dataset is known: let auto look at it (its size) and at the machine.
            from studio.train.auto import auto_choice

            values.update(auto_choice(given["dataset"], given.get("image_size")).values)
        values["preset"] = name
    values.update(given)
    # Optimiser settings a loss needs (n_critic 5 for wgan-gp, Adam betas), unless set explicitly.
    loss = values.get("loss", RunConfig.loss)
    for k, v in LOSS_DEFAULTS.get(loss, {}).items():
        if k not in given and not (name and k in PRESETS[name] and PRESETS[name].get("loss") == loss):
            values[k] = v
    return RunConfig.from_dict(values)


# What a resumed run may change; everything else is the run's identity (data, model, seed, ...).
RESUMABLE = ("steps", "time_budget", "lr_d", "lr_g")


def _flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def resume_settings(saved: RunConfig, *, flag=_flag, **requested) -> tuple[RunConfig, bool]:
    """The one rule for a resumed run's settings: ``saved`` with ``requested`` applied.

    ``requested`` holds what the person asked for (None = not asked). Settings in ``RESUMABLE``
    change; any other setting must agree with the run's own value (the same command again with
    ``--resume`` added is the common restart script), and each one that differs is named with its
    old and new value in one ``StudioError``. Returns the merged config and whether a learning rate
    changed (the resumed optimiser then takes the new rates instead of the checkpoint's).
    ``flag`` turns a field name into the word the person used (CLI flags by default).
    """
    differ = []
    changes = {}
    for name, value in requested.items():
        if value is None:
            continue
        if name == "preset":
            old = saved.preset
        elif name == "precision":
            from studio.train.devices import resolve_precision

            old, value = saved.precision, resolve_precision(value)
        elif not hasattr(saved, name):
            raise StudioError(f"'{name}' is not a setting of a run.")
        else:
            old = getattr(saved, name)
        if name in RESUMABLE:
            changes[name] = type(old)(value) if old is not None else value
        elif old != value:
            differ.append(f"{flag(name)} cannot change (the run has {old!r}, you gave {value!r})")
    if differ:
        raise StudioError(
            "A resumed run keeps the settings it was started with: "
            + "; ".join(differ)
            + ". Leave them out (or give the run's own values), or start a new run to change them."
        )
    merged = saved.replace(**changes) if changes else saved
    lr_changed = merged.lr_d != saved.lr_d or merged.lr_g != saved.lr_g
    return merged.validate() if changes else merged, lr_changed
