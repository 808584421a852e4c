"""Starting a run from another run's weights, optionally with the judge's first blocks frozen.

"Train on a large set overnight, then fine-tune on 100 drawings": a new run takes G, D and G-EMA
from another run's full checkpoint (or G-EMA alone from a snapshot, when that is all there is) of
the same model family and picture size, and trains on its own data from step 0 with fresh
optimizers. FreezeD (Mo, Cho and Shin, "Freeze the Discriminator: a Simple Baseline for
Fine-Tuning GANs", CVPR AI4CC 2020) keeps D's first blocks as they were: the low-level features
learnt on the large set stay, and only the upper judge adapts to the few new pictures.

The lineage is recorded in the new run's ``config.json`` as ``init_from`` = {"run_id", "path",
"step", "source"}, beside a fork's ``parent``; unlike a fork, the new run has its own timeline.
"""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import StudioError
from studio.train.config import RunConfig
from studio.train.runs import Run

# What must agree between the run the weights come from and the run they go to.
_ARCHITECTURE = ("model", "image_size", "channels", "base_filters", "z_dim", "conditional", "num_classes")


def parse_init_from(text: str) -> tuple[str, int | None]:
    """'runs/x' → ('runs/x', None); 'runs/x:1200' → ('runs/x', 1200) (the CLI's RUN_DIR[:STEP])."""
    path, sep, step = str(text).rpartition(":")
    if sep and step.isdigit() and path:
        return path, int(step)
    return str(text), None


def starting_points(run: Run | Path | str) -> list[tuple[int, str]]:
    """Every (step, source) a new run can start from, newest first: "checkpoint" (G, D and G-EMA)
    where a full checkpoint exists at that step, else "snapshot" (G-EMA only). For the Train page's
    "Start from" picker."""
    run = run if isinstance(run, Run) else Run.open(run)
    ckpts = set(run.checkpoint_steps())
    points = {s: "checkpoint" for s in ckpts}
    for s in run.snapshot_steps():
        points.setdefault(s, "snapshot")
    return sorted(points.items(), reverse=True)


def _describe(cfg: RunConfig) -> str:
    colour = "colour" if cfg.channels == 3 else "grayscale"
    return f"a {cfg.model} model of {cfg.image_size} px {colour} pictures, {cfg.base_filters} filters wide"


def check_compatible(source: RunConfig, cfg: RunConfig, source_id: str) -> None:
    """One sentence when ``source``'s weights cannot start ``cfg`` (different architecture)."""
    differ = [k for k in _ARCHITECTURE if getattr(source, k) != getattr(cfg, k)]
    if differ:
        names = ", ".join(k.replace("_", " ") for k in differ)
        raise StudioError(
            f"The run '{source_id}' is {_describe(source)} and this run is {_describe(cfg)}, so its weights "
            f"cannot start it (they differ in {names}); start from a run of the same model family and picture size."
        )


def start_from(cfg: RunConfig, source: Run | Path | str, step: int | None = None, freeze_d: int = 0) -> RunConfig:
    """``cfg`` set to take its starting weights from ``source`` at ``step`` (None: its newest
    checkpoint, else its newest snapshot), freezing D's first ``freeze_d`` blocks. Checks the
    architecture here, so a mismatch is refused before any run folder exists. The Train page's
    "Start from" and the CLI's ``--init-from RUN_DIR[:STEP]`` both come here.

    ``cfg.channels`` is taken from the source (the dataset's channels are checked when the run is
    created); every other architecture setting must already agree.
    """
    run = source if isinstance(source, Run) else Run.open(source)
    points = dict(starting_points(run))
    if not points:
        raise StudioError(f"The run '{run.id}' has no checkpoint or snapshot to start from yet.")
    if step is None:
        ckpts = [s for s, kind in points.items() if kind == "checkpoint"]
        step = max(ckpts) if ckpts else max(points)
    step = int(step)
    if step not in points:
        have = ", ".join(str(s) for s in sorted(points)[-10:])
        raise StudioError(f"The run '{run.id}' has nothing saved at step {step}; it has steps {have}.")
    kind = points[step]
    if freeze_d and kind != "checkpoint":
        raise StudioError(
            f"Step {step} of '{run.id}' is a snapshot, which holds only the generator; freezing the judge "
            "needs a full checkpoint (with the judge's weights). Pick a checkpoint step or freeze nothing."
        )
    src_cfg = run.config
    check_compatible(src_cfg, cfg.replace(channels=src_cfg.channels), run.id)
    from studio.train.models import judge_block_count

    most = judge_block_count(src_cfg)
    if freeze_d > most:
        raise StudioError(
            f"The judge of this {src_cfg.model} model has {most} blocks, so at most {most} can be frozen, not {freeze_d}."
        )
    lineage = {"run_id": run.id, "path": str(run.path.resolve()), "step": step, "source": kind}
    return cfg.replace(channels=src_cfg.channels, init_from=lineage, freeze_d=int(freeze_d)).validate()


def hold_still(layers: list) -> None:
    """Make frozen judge layers keep their weights exactly. Leaving them out of the optimizer is not
    enough: Keras 3's ``SpectralNormalization`` writes W/σ back into its kernel on every training call
    (with σ from its power iteration), so a frozen one would drift. Frozen, it runs as at inference,
    on its stored kernel, which the source run's last training call already normalised. (Batch norm
    still normalises with batch statistics; its scale and shift stay as they were.)"""
    for layer in layers:
        if type(layer).__name__ == "SpectralNormalization":
            original = layer.call

            def call(inputs, training=False, _original=original):
                return _original(inputs, training=False)

            layer.call = call


def load_starting_weights(gan, cfg: RunConfig) -> str:
    """Put ``cfg.init_from``'s weights into ``gan`` (a fresh GAN); returns a sentence saying what
    was loaded. Optimizers, step counter and RNG stay fresh: the new run starts at step 0."""
    import tensorflow as tf

    src = cfg.init_from
    path = Path(src["path"])
    if not (path / "config.json").is_file():
        raise StudioError(f"The run '{src['run_id']}' this run starts from is gone (no folder at {path}).")
    run = Run(path)
    check_compatible(run.config, cfg, run.id)
    step = int(src["step"])
    try:
        if src["source"] == "checkpoint":
            objects = {"G": gan.G, "D": gan.D, "G_ema": gan.G_ema}
            if gan.decoders is not None:
                objects["decoders"] = gan.decoders
            status = tf.train.Checkpoint(**objects).restore(str(path / "checkpoints" / f"ckpt-{step}"))
            status.expect_partial().assert_existing_objects_matched()
            what = "the generator, its average and the judge"
        else:
            gan.G_ema.load_weights(str(run.snapshot_path(step)))
            gan.G.set_weights(gan.G_ema.get_weights())
            what = "the generator (a snapshot has no judge, so the judge starts fresh)"
    except StudioError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged or mismatched file is a person-level problem
        raise StudioError(f"The weights at step {step} of '{run.id}' could not be loaded ({e}).") from None
    return f"Started from step {step:,} of '{run.id}': {what}."
