"""Headless CLI: ``python -m studio train|sample|export|metrics|runs``.

Drives the same engine and the same run folders as the browser studio. A person's mistake (unknown
dataset, missing run, bad number) exits with code 2 and one line; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from studio.core.errors import StudioError
from studio.core.text import fmt_kid


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage too; people want the reason)
        self.exit(2, f"error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} must be at least 1")
    return v


def _nonneg_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"{text} must be zero or more")
    return v


def _lr(text: str) -> float:
    v = _nonneg_float(text)
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"learning rate {text} must be between 0 and 1")
    return v


def build_parser() -> argparse.ArgumentParser:
    from studio.train.config import ADA_MODES, LOSSES, MODELS, PRECISIONS, PRESETS, UPDATES

    p = _Parser(prog="python -m studio", description="GAN Studio, headless.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a GAN (or resume one) into a run folder")
    t.add_argument(
        "--dataset",
        help="built-in name (digits, mnist, fashion_mnist, cifar10), a saved dataset's name, or a folder / .zip of images",
    )
    t.add_argument("--model", choices=MODELS)
    t.add_argument("--loss", choices=LOSSES)
    t.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="settings to start from (a new run's default: auto, chosen for the data)",
    )
    t.add_argument("--steps", type=_positive_int, help="total steps of the run (resume continues up to it)")
    t.add_argument("--time-budget", type=_nonneg_float, help="seconds of training for this session")
    t.add_argument("--batch-size", type=_positive_int)
    t.add_argument("--seed", type=int)
    t.add_argument("--run-dir", help="the run folder (default: a new folder under runs/)")
    t.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    t.add_argument("--precision", choices=PRECISIONS)
    t.add_argument("--xla", action="store_true", default=None, help="compile the train step with XLA")
    t.add_argument("--image-size", type=_positive_int)
    t.add_argument("--z-dim", type=_positive_int)
    t.add_argument("--lr-d", type=_lr, help="alpha: the discriminator's learning rate")
    t.add_argument("--lr-g", type=_lr, help="beta: the generator's learning rate")
    t.add_argument("--n-critic", type=_positive_int)
    t.add_argument(
        "--update", choices=UPDATES, help="simultaneous (one fake batch for D and G, default) or alternating"
    )
    t.add_argument("--conditional", action="store_true", default=None)
    t.add_argument("--diffaugment", help="comma list of color,translation,cutout")
    t.add_argument("--ada", choices=ADA_MODES, help="adaptive augmentation: on, off, or auto (on below 5,000 pictures)")
    t.add_argument(
        "--init-from",
        metavar="RUN_DIR[:STEP]",
        help="start from another run's weights (its newest checkpoint, or the one at STEP) of the same model and size",
    )
    t.add_argument(
        "--freeze-d",
        type=int,
        metavar="N",
        help="with --init-from: keep the judge's first N blocks as they were (FreezeD)",
    )
    t.add_argument("--checkpoint-every", type=_positive_int)
    t.add_argument("--snapshot-every", type=_positive_int)
    t.add_argument("--log-every", type=_positive_int)
    t.add_argument(
        "--no-quality",
        dest="quality",
        action="store_false",
        default=None,
        help="no quality scoring of snapshots and no held-out pictures (train on every picture)",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--multi-worker",
        action="store_true",
        help="one of several machines training one run, from TF_CONFIG (README: 'Several machines')",
    )
    t.add_argument(
        "--devices", help="mirror training over N devices, or a list such as GPU:0,GPU:1 (default: every GPU)"
    )

    s = sub.add_parser("sample", help="generate images from a run's snapshot")
    s.add_argument("--run-dir", required=True)
    s.add_argument("--snapshot", default="latest", help="step number or 'latest'")
    s.add_argument("--n", type=_positive_int, default=16)
    s.add_argument("--seed", type=int, default=0, help="image i uses seed S+i")
    s.add_argument("--psi", type=_nonneg_float, default=1.0, help="truncation (1 = none)")
    s.add_argument("--label", type=int, help="class for conditional models")
    s.add_argument("--out", required=True, help=".npz (key 'images', uint8 NxHxWxC) or .png grid")

    e = sub.add_parser("export", help="save a run's generator as a standalone .keras model")
    e.add_argument("--run-dir", required=True)
    e.add_argument("--snapshot", default="latest")
    e.add_argument("--out", required=True)

    q = sub.add_parser("metrics", help="score every snapshot of a run into its quality.jsonl (skips scored ones)")
    q.add_argument("--run-dir", required=True)
    q.add_argument("--quiet", action="store_true", help="no progress bar")

    r = sub.add_parser("runs", help="list runs")
    r.add_argument("--runs-dir", help="folder of runs (default: runs/ or $STUDIO_RUNS_DIR)")
    for sp in (t, s, e):
        sp.add_argument("--verbose", action="store_true", help="also show TensorFlow's own start-up messages")
    return p


class _ProgressBar:
    """step, steps/s, ETA and losses on one line (a line per update when not a terminal)."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.quiet = total, quiet
        self.tty = sys.stderr.isatty()
        self.start_step = None

    def update(self, step: int, m: dict):
        if self.quiet:
            return
        sps = m.get("steps_per_s", 0.0)
        eta = (self.total - step) / sps if sps > 0 else float("nan")
        frac = step / max(self.total, 1)
        bar = "#" * int(frac * 24)
        line = (
            f"[{bar:<24}] {step}/{self.total}  {sps:5.1f} steps/s  ETA {_fmt_secs(eta)}  "
            f"D {m.get('d_loss', float('nan')):.3f}  G {m.get('g_loss', float('nan')):.3f}"
        )
        if self.tty:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self):
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


def _fmt_secs(s: float) -> str:
    if s != s or s == float("inf"):
        return "--:--"
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class _Requests:
    """Pause, resume and stop asked for this run from the studio's pages (its request.json).

    Read at most twice a second: a stat and a tiny read, nothing a training step notices.
    """

    def __init__(self, first_line: str = "", beside_chief: bool = False):
        self.run, self.next_look, self.last = None, 0.0, None
        self.first_line = first_line  # what it trains on: said once the run is ready (a mistake stays one line)
        self.beside_chief = beside_chief  # a --multi-worker worker that is not the chief: its folder is scratch

    def on_start(self, run, step):
        self.run = run
        if self.first_line:
            print(self.first_line, file=sys.stderr)
        run.clear_request()  # a request left from an earlier session is not for this one
        if self.beside_chief:
            print(
                f"Training beside the chief from step {step} (into a scratch copy, deleted at the end)", file=sys.stderr
            )
        else:
            print(f"Run {run.path}  starting at step {step}", file=sys.stderr)

    def _action(self):
        now = time.monotonic()
        if self.run is not None and now >= self.next_look:
            self.next_look, self.last = now + 0.5, self.run.pending_request()
        return self.last

    def should_stop(self) -> bool:
        return self._action() == "stop"

    def wait_if_paused(self) -> None:
        if self._action() != "pause":
            return
        from studio.train.state import RunState

        self.run.write_status(RunState.PAUSED, self.run.read_status().get("step", 0), "Paused from the studio.")
        print("Paused from the studio; press Resume there to go on.", file=sys.stderr)
        while (action := self.run.pending_request()) == "pause":
            time.sleep(0.5)
        self.last = action
        if action == "resume":
            self.run.clear_request()
            print("Resumed.", file=sys.stderr)


def _new_run_config(a, overrides: dict):
    """A new run's config: the preset (auto when none is given) with the flags on top, and the
    starting weights of --init-from. Says auto's choice in one sentence."""
    from studio.train.config import DEFAULT_PRESET, RunConfig, from_preset

    preset = a.preset or DEFAULT_PRESET
    if preset == "auto":
        from studio.train.auto import auto_choice

        overrides = dict(overrides, dataset=a.dataset or RunConfig.dataset)
        choice = auto_choice(overrides["dataset"], a.image_size)
        given = [k for k, v in overrides.items() if v is not None and k in choice.values and v != choice.values[k]]
        note = f" You set {', '.join('--' + k.replace('_', '-') for k in given)} yourself." if given else ""
        print(choice.sentence + note, file=sys.stderr)
    cfg = from_preset(preset, **overrides)
    if a.freeze_d and not a.init_from:
        raise StudioError("--freeze-d needs --init-from: only weights taken from another run can be kept frozen.")
    if a.init_from:
        from studio.train.transfer import parse_init_from, start_from

        if a.freeze_d is not None and a.freeze_d < 0:
            raise StudioError(f"--freeze-d must be 0 or more, not {a.freeze_d}.")
        source, step = parse_init_from(a.init_from)
        cfg = start_from(cfg, source, step, freeze_d=a.freeze_d or 0)
    return cfg


def cmd_train(a) -> int:
    from studio.train.config import resume_settings
    from studio.train.loop import Hooks, train
    from studio.train.runs import Run
    from studio.train.state import RunState

    overrides = dict(
        dataset=a.dataset,
        model=a.model,
        loss=a.loss,
        steps=a.steps,
        time_budget=a.time_budget,
        batch_size=a.batch_size,
        seed=a.seed,
        precision=a.precision,
        xla=a.xla,
        image_size=a.image_size,
        z_dim=a.z_dim,
        lr_d=a.lr_d,
        lr_g=a.lr_g,
        n_critic=a.n_critic,
        update=a.update,
        conditional=a.conditional,
        diffaugment=a.diffaugment,
        ada=a.ada,
        checkpoint_every=a.checkpoint_every,
        snapshot_every=a.snapshot_every,
        log_every=a.log_every,
        quality=a.quality,
    )
    if a.resume:
        if a.init_from or a.freeze_d:
            raise StudioError("--init-from and --freeze-d start a new run; a resumed run keeps the weights it has.")
        if not a.run_dir:
            raise StudioError("--resume needs --run-dir, the folder of the run to continue.")
        run = Run.open(a.run_dir)
        cfg, lr_changed = resume_settings(run.config, preset=a.preset, **overrides)
        start = run.latest_checkpoint_step() or 0
        if start >= cfg.steps:
            print(f"The run is already at step {start} of {cfg.steps}; pass a larger --steps to go on.")
            return 0
    else:
        lr_changed = False
        if a.run_dir and Path(a.run_dir, "config.json").exists():
            raise StudioError(
                f"There is already a run in {a.run_dir}. Add --resume to continue it, or choose another --run-dir."
            )
        cfg = _new_run_config(a, overrides)
    from studio.train.devices import detect, resolve_precision

    line = detect().line(resolve_precision(cfg.precision))
    if a.devices:
        line += f", mirrored over {a.devices} device{'s' if a.devices != '1' else ''}"
    role = None
    if a.multi_worker:
        from studio.train.cluster import role_from_tf_config, tf_config

        if a.devices:
            raise StudioError("--devices and --multi-worker do not combine: each worker trains on its own devices.")
        role = role_from_tf_config(tf_config())
        line = line.replace("training on ", f"training on {role.workers} workers, each ", 1) + f"; this is {role}"
    bar = _ProgressBar(cfg.steps, a.quiet)
    requests = _Requests(first_line=line, beside_chief=role is not None and not role.is_chief)
    hooks = Hooks(
        on_progress=bar.update,
        on_start=requests.on_start,
        should_stop=requests.should_stop,
        wait_if_paused=requests.wait_if_paused,
        on_notice=lambda text: print(text, file=sys.stderr),
    )
    t0 = time.time()
    try:
        from studio.train.loop import select_strategy

        strategy = select_strategy(a.devices, multi_worker=a.multi_worker)
        result = train(
            cfg, run_dir=a.run_dir, hooks=hooks, resume=a.resume, lr_from_config=lr_changed, strategy=strategy
        )
    except KeyboardInterrupt:
        bar.close()
        print("Interrupted; resume with --resume from the last checkpoint.", file=sys.stderr)
        return 130
    bar.close()
    if role is not None and not role.is_chief:
        print(f"{result.state} at step {result.step}; the chief wrote the run in {result.run.path}.")
        return 1 if result.state is RunState.FAILED else 0
    result.run.clear_request()
    print(f"{result.state}: {result.message}  ({time.time() - t0:.0f} s)  run: {result.run.path}")
    if result.run.config.quality:
        _print_health(result.run)
    return 1 if result.state is RunState.FAILED or result.disk_full else 0


def cmd_sample(a) -> int:
    import numpy as np

    from studio.core.images import encode_png, make_grid
    from studio.core.paths import atomic_write_bytes
    from studio.generate.sampling import Sampler

    out = Path(a.out)
    if out.suffix not in (".npz", ".png"):
        raise StudioError("--out must end in .npz or .png.")
    s = Sampler(a.run_dir, a.snapshot)
    images = s.from_seeds(range(a.seed, a.seed + a.n), psi=a.psi, labels=a.label)
    assert images.dtype == np.uint8 and images.ndim == 4
    if out.suffix == ".npz":
        import io

        buf = io.BytesIO()
        np.savez_compressed(buf, images=images)
        atomic_write_bytes(out, buf.getvalue())
    else:
        recipe = {
            "run_id": s.run.id,
            "snapshot_step": str(s.step),
            "seeds": f"{a.seed}..{a.seed + a.n - 1}",
            "psi": str(a.psi),
        }
        atomic_write_bytes(out, encode_png(make_grid(images), recipe))
    print(f"Wrote {a.n} images from step {s.step} to {out}")
    return 0


def cmd_export(a) -> int:
    from studio.media.model import export_generator

    out = export_generator(a.run_dir, a.out, a.snapshot)
    print(f"Wrote the generator to {out} (load it with keras.models.load_model)")
    return 0


def cmd_metrics(a) -> int:
    from studio.quality import score_run

    def bar(fraction: float, text: str):
        if not a.quiet:
            end = "\r" if sys.stderr.isatty() and fraction < 1 else "\n"
            sys.stderr.write(f"[{'#' * int(fraction * 24):<24}] {text}{end}")
            sys.stderr.flush()

    rows = score_run(a.run_dir, progress=bar)
    for r in rows:
        print(f"step {r.step:>7}  KID {fmt_kid(r.kid, r.kid_se)}  precision {r.precision:.2f}  recall {r.recall:.2f}")
    _print_health(a.run_dir)
    return 0


def _print_health(run) -> None:
    """The best snapshot and the health alerts, each with what to do (train and metrics end with it)."""
    from studio.quality import alerts_for, best_snapshot

    best = best_snapshot(run)
    if best is not None:
        print(f"Best snapshot: step {best.step} (KID {fmt_kid(best.kid)}, features: {best.features})")
    for alert in alerts_for(run):
        print(f"{alert.title}: {alert.message}")
        print("  What to do: " + "; ".join(x.label for x in alert.actions) + ".")


def cmd_runs(a) -> int:
    from studio.train.runs import list_runs

    runs = list_runs(a.runs_dir)
    if not runs:
        print("No runs yet. Start one with: python -m studio train --dataset digits --preset quick-sketch")
        return 0
    rows = [("RUN", "DATASET", "MODEL", "LOSS", "STEP", "STATE")]
    for r in runs:
        try:
            s = r.summary()
        except StudioError as e:
            rows.append((r.id, "?", "?", "?", "?", str(e)))
            continue
        rows.append((s.id, str(s.dataset), s.model, s.loss, f"{s.step}/{s.steps}", str(s.state)))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    a = build_parser().parse_args(argv)
    if not getattr(a, "verbose", False):
        from studio.core.quiet import quiet_native_stderr

        quiet_native_stderr()
    try:
        return {
            "train": cmd_train,
            "sample": cmd_sample,
            "export": cmd_export,
            "metrics": cmd_metrics,
            "runs": cmd_runs,
        }[a.command](a)
    except StudioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
