"""The ``auto`` preset: settings picked from the dataset's size, the picture size and the machine.

An artist should not have to know that 800 pictures make a judge memorise its training set or that
a 2-core laptop wants a narrow network. ``choose`` turns (number of pictures, picture size,
devices) into RunConfig values and one sentence saying what it chose and why; ``auto_choice`` does
the same for a dataset by name (the Train page's line under the preset picker); ``from_preset("auto",
...)`` applies it, with any setting the person gave on top.

The rules, and where they come from:
- **Model**: fastgan (Liu et al. 2021), made for few pictures and short sessions; see
  benchmarks/README.md ("Your own pictures") for the measurement against DCGAN at equal CPU time.
- **Width**: what the machine trains at a useful pace. A step's cost grows with (width × side)²,
  so the width halves when the side doubles; a GPU or many cores allow wider networks.
- **Batch**: small (FastGAN trains with 8): more updates per CPU-second, and with few pictures a
  big batch is most of the set. 8 below 100 pictures, 16 on CPUs, 32 on a GPU.
- **Augmentation**: ADA (Karras et al. 2020) below ``ada.AUTO_BELOW`` pictures. Its p moves at
  most 1 per ``ada_kimg`` thousand images; the paper's 500 suits runs of millions of images, a
  CPU session sees about a hundred thousand, so auto uses 100 there.
- **EMA**: a half-life of batch × 10 / 32 thousand images with a 5% ramp-up (StyleGAN2-ADA's
  defaults), so a ten-minute run's average is not dragged back to its start.
- **Pace**: snapshots about once a minute and checkpoints about every three, from an estimate of
  the machine's speed; steps for about an hour of training (stop any time; resume goes on).
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.train import ada as ada_mod
from studio.train.devices import Devices, detect

SIZES = (32, 64, 128)
DEFAULT_SIDE_FOR_FILES = 64  # a folder or zip of photos has no one size: 64 px trains well on a laptop
# Measured (benchmarks/README.md): fastgan, 16 filters, batch 16, 64 px: ~48 pictures per CPU-second
# on an AVX2 EPYC core. The estimate scales it by (16·64 / (width·side))²; rough by design.
_CPU_IMAGES_PER_CORE_S = 48.0
_GPU_IMAGES_PER_S = 2000.0


@dataclass(frozen=True)
class AutoChoice:
    values: dict  # RunConfig fields the preset sets
    sentence: str  # what it chose and why, for the person
    n_images: int
    image_size: int


def _round_nice(x: float, lo: int) -> int:
    """A round number of steps near ``x`` (10, 20, 50, 100, 200, ... multiples), at least ``lo``."""
    x = max(float(x), lo)
    for step in (10, 50, 100, 500, 1000, 5000, 10000):
        if x < step * 20:
            return int(max(lo, round(x / step) * step))
    return int(round(x, -4))


def choose(n_images: int, image_size: int = 64, devices: Devices | None = None) -> AutoChoice:
    """Settings for ``n_images`` pictures at ``image_size`` px on ``devices`` (default: this machine)."""
    d = devices or detect()
    n = int(n_images)
    side = int(image_size) if int(image_size) in SIZES else min((s for s in SIZES if s >= image_size), default=128)
    gpu = bool(d.gpus)
    cores = max(int(d.cpu_cores), 1)

    # Width: 16 filters at 64 px on a small CPU; half per doubling of the side, more with more compute.
    if gpu:
        width = {32: 64, 64: 48, 128: 32}[side]
    else:
        width = {32: 24, 64: 16, 128: 8}[side] * (2 if cores >= 16 else 1)
    batch = 8 if n < 100 else (32 if gpu else 16)
    use_ada = n < ada_mod.AUTO_BELOW
    ada_kimg = 500.0 if gpu else 100.0
    ema_kimg = batch * 10 / 32

    if gpu:
        images_per_s = _GPU_IMAGES_PER_S * (48 * 64 / (width * side)) ** 2
    else:
        images_per_s = _CPU_IMAGES_PER_CORE_S * cores * (16 * 64 / (width * side)) ** 2
    steps_per_s = images_per_s / batch
    snapshot_every = _round_nice(60 * steps_per_s, 20)
    checkpoint_every = _round_nice(180 * steps_per_s, snapshot_every)
    steps = _round_nice(3600 * steps_per_s, 1000)
    values = dict(
        model="fastgan",
        loss="hinge",
        image_size=side,
        base_filters=width,
        z_dim=128,
        batch_size=batch,
        lr_d=2e-4,
        lr_g=2e-4,
        beta1=0.5,
        beta2=0.999,
        n_critic=1,
        update="simultaneous",
        diffaugment="",
        ada="on" if use_ada else "off",
        ada_target=0.6,
        ada_kimg=ada_kimg,
        ema_kimg=ema_kimg,
        ema_rampup=0.05,
        steps=steps,
        snapshot_every=snapshot_every,
        checkpoint_every=checkpoint_every,
        log_every=10,
        precision="auto",
    )
    return AutoChoice(values, _sentence(n, side, width, batch, use_ada, ema_kimg, snapshot_every, d), n, side)


def _sentence(n, side, width, batch, use_ada, ema_kimg, snapshot_every, d: Devices) -> str:
    machine = d.line("")[len("training on ") :].replace(" ()", "")
    if use_ada:
        why_aug = "adaptive augmentation, because "
        why_aug += (
            f"{n:,} pictures are very few and the judge would soon memorise them"
            if n < 200
            else f"{n:,} pictures are few enough for the judge to memorise"
        )
    else:
        why_aug = f"no augmentation, because {n:,} pictures are plenty to keep the judge honest"
    return (
        f"Auto chose FastGAN at {side} px, {width} filters wide, learning from {batch} pictures at a time, "
        f"with {why_aug}; it fits a network that size to {machine}, averages the generator over "
        f"{ema_kimg * 1000:,.0f} pictures and saves a snapshot every {snapshot_every:,} steps (about a minute)."
    )


def dataset_facts(dataset: str) -> tuple[int, int | None]:
    """(number of pictures, stored side or None) of a dataset by name, cheaply where it can be:
    built-ins and saved datasets from what the studio knows of them, a folder or zip by loading it."""
    from studio.data import BUILTINS, list_datasets, load_dataset

    name = str(dataset)
    if name in BUILTINS:
        b = BUILTINS[name]
        return b.count, b.native_size
    for info in list_datasets():
        if info.name == name and info.count:
            return int(info.count), int(info.image_size)
    ds = load_dataset(name, DEFAULT_SIDE_FOR_FILES)  # a path: count what the gate lets in
    return len(ds), None


def auto_choice(dataset: str, image_size: int | None = None, devices: Devices | None = None) -> AutoChoice:
    """What ``auto`` picks for ``dataset`` (a name or, on the CLI, a path) at ``image_size`` (None:
    the dataset's own size, or 64 px for a folder or zip). The Train page shows ``.sentence``."""
    n, native = dataset_facts(dataset)
    if image_size is None:
        image_size = next((s for s in SIZES if native and s >= native), SIZES[-1]) if native else DEFAULT_SIDE_FOR_FILES
    return choose(n, image_size, devices)
