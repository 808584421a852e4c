"""Your own pictures: the ``auto`` preset against ``quick-sketch`` at 64 px, given the same CPU time.

    python benchmarks/own_pictures.py --out /tmp/own_pictures            # 2 arms × 1,200 CPU-s
    python benchmarks/own_pictures.py --out /tmp/op --cpu-budget 300     # shorter, for a quick look
    python benchmarks/own_pictures.py --out /tmp/op --arms auto dcgan-ada # any arms of ARMS below

The pictures: ~1,000 random 64 px crops of the ten colour photographs that ship inside
scikit-image (astronaut, Chelsea the cat, coffee, the Hubble deep field, a stained tissue slide,
a motorcycle, a retina, a rocket) and scikit-learn (a Chinese temple, a flower) — a real set that
no one on the team made, installed by ``pip install scikit-image`` (benchmark requirement only).
Crops take 30-70% of a photo's shorter side at a random place, so each one shows a recognisable
part of its photo. They are written as PNGs into a zip and go in through the studio's own zip path
(``load_dataset("pictures.zip", 64)``, the CLI's ``--dataset pictures.zip``).

Each arm trains in its own process, one after the other (``--parallel``: all at once, so the load
of a shared machine hits every arm alike), until that process has used
``--cpu-budget`` CPU-seconds (default 1,200: ten minutes on two cores). CPU time, not wall time,
because the machine is shared: another engineer's test suite takes cores from one arm and not the
other. ``--budget wall`` uses wall-clock seconds instead (the CLI's ``--time-budget``).

Score: KID (Bińkowski et al. 2018) as the studio's quality metrics compute it (studio/quality/kid.py)
in the studio's ``randconv`` features (studio/quality/features.py: a fixed-seed random conv net,
which ranks GANs sensibly, Lee et al. 2022, and needs no download): 2,000 samples from the final
EMA snapshot against the 1,000 training crops. Both arms train with the background quality scorer
off and every crop in training (no held-out share), so neither loses CPU time to scoring. A
held-out set of 1,000 fresh crops of the same photos gives the floor a perfect generator would reach.
Grids: each
arm's final fixed-noise grid and a grid of 64 samples by seed, saved as PNGs in ``--out``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SIDE = 64
# name: (preset, overrides). Every arm trains at 64 px on the same zip until its CPU budget ends.
ARMS = {
    "auto": ("auto", {}),
    "quick-sketch": ("quick-sketch", {}),
    # Ablations, for choosing what auto picks (benchmarks/README.md):
    "quick-sketch-no-ada": ("quick-sketch", {"ada": "off"}),
    "dcgan-ada": ("auto", {"model": "dcgan", "base_filters": 32, "loss": "hinge"}),
    "fastgan-w24": ("auto", {"base_filters": 24}),
    "fastgan-no-ada": ("auto", {"ada": "off"}),
    "fastgan-b32": ("auto", {"batch_size": 32, "ema_kimg": 10.0}),
    "fastgan-b8": ("auto", {"batch_size": 8, "ema_kimg": 2.5}),
    "fastgan-lr4": ("auto", {"lr_d": 4e-4, "lr_g": 4e-4}),
    "fastgan-w12": ("auto", {"base_filters": 12}),
    "auto-keras-bn": ("auto", {}),  # auto with Keras's own (unfused) batch norm: see ARM_ENV
    "auto-no-cutout": ("auto", {"diffaugment": "color,translation"}),  # ADA tunes colour and translation only
    "auto-translation": ("auto", {"diffaugment": "translation"}),  # ADA tunes translation (and x-flip) only
}
# Environment an arm trains with (its process only).
ARM_ENV = {"auto-keras-bn": {"STUDIO_FUSED_BN": "0"}}


# ---- the pictures ----------------------------------------------------------------------------
def photographs() -> list[tuple[str, np.ndarray]]:
    """The colour photographs bundled with scikit-image and scikit-learn (no download)."""
    try:
        import skimage.data as sk
    except ImportError:
        sys.exit("This benchmark needs scikit-image: pip install scikit-image")
    from sklearn.datasets import load_sample_images

    out = [
        (name, np.asarray(getattr(sk, name)()))
        for name in ("astronaut", "chelsea", "coffee", "hubble_deep_field", "immunohistochemistry", "rocket")
    ]
    out.append(("motorcycle", np.asarray(sk.stereo_motorcycle()[0])))
    out.append(("retina", np.asarray(sk.retina())))
    sample = load_sample_images()
    out += [(Path(f).stem, np.asarray(im)) for f, im in zip(sample.filenames, sample.images)]
    for name, im in out:
        assert im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3, (name, im.shape)
    return out


def crops(n: int, seed: int, side: int = SIDE) -> tuple[np.ndarray, list[str]]:
    """``n`` random square crops (uint8, N×side×side×3), spread evenly over the photographs."""
    from PIL import Image

    photos = photographs()
    rng = np.random.default_rng(seed)
    images, names = [], []
    for i in range(n):
        name, im = photos[i % len(photos)]
        h, w = im.shape[:2]
        s = int(rng.uniform(0.3, 0.7) * min(h, w))
        y, x = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        crop = Image.fromarray(im[y : y + s, x : x + s]).resize((side, side), Image.LANCZOS)
        images.append(np.asarray(crop))
        names.append(name)
    return np.stack(images), names


def write_zip(images: np.ndarray, names: list[str], path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i, (im, name) in enumerate(zip(images, names)):
            buf = io.BytesIO()
            Image.fromarray(im).save(buf, format="PNG")
            zf.writestr(f"pictures/{name}_{i:04d}.png", buf.getvalue())
    return path


# ---- KID in the studio's own features (studio/quality) ---------------------------------------
def features(images: np.ndarray) -> np.ndarray:
    from studio.quality.features import get_extractor

    return get_extractor("randconv")(images)


def kid(real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    """KID (mean, standard error) as the studio's quality metrics compute it."""
    from studio.quality.kid import kid as studio_kid

    k = studio_kid(real, fake)
    return k.kid, k.kid_se


# ---- one arm in its own process ------------------------------------------------------------
def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(a) -> int:
    """Train one arm to its budget; print one JSON line with what happened."""
    os.environ.update(ARM_ENV.get(a.arm, {}))
    import studio  # noqa: F401  (the studio's TensorFlow switches before TensorFlow loads)
    from studio.train.config import from_preset
    from studio.train.loop import Hooks, train

    preset, overrides = ARMS[a.arm]
    # Both arms train on every crop with no background scoring (it would take CPU from the arm);
    # the parent scores the final snapshot afterwards, the same way for both.
    overrides = dict(overrides, dataset=str(a.zip), image_size=SIDE, steps=1_000_000, seed=a.seed)
    overrides.update(quality=False, holdout=0.0)
    cfg = from_preset(preset, **overrides)
    if a.budget == "wall":
        cfg = cfg.replace(time_budget=float(a.cpu_budget))
    start_cpu, start_wall = cpu_seconds(), time.perf_counter()
    state = {"train_cpu0": None}

    def on_start(run, step):
        state["train_cpu0"] = cpu_seconds()
        state["train_wall0"] = time.perf_counter()

    def should_stop() -> bool:  # the budget counts training (tracing, steps, snapshots), not start-up
        t0 = state["train_cpu0"]
        return a.budget == "cpu" and t0 is not None and cpu_seconds() - t0 >= a.cpu_budget

    res = train(cfg, run_dir=a.run_dir, hooks=Hooks(on_start=on_start, should_stop=should_stop))
    rows = res.run.read_metrics()
    line = {
        "arm": a.arm,
        "state": str(res.state),
        "message": res.message,
        "step": res.step,
        "config": res.run.config.to_dict(),
        "cpu_s": cpu_seconds() - start_cpu,
        "wall_s": time.perf_counter() - start_wall,
        "train_cpu_s": cpu_seconds() - (state["train_cpu0"] or start_cpu),
        "train_wall_s": time.perf_counter() - state.get("train_wall0", start_wall),
        "last": rows[-1] if rows else {},
    }
    print("RESULT " + json.dumps(line), flush=True)
    return 0


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def others() -> list[str]:
    """The other busy processes on the machine right now (what else took the cores)."""
    try:
        out = subprocess.run(["ps", "-eo", "pcpu,args", "--sort=-pcpu"], capture_output=True, text=True).stdout
    except OSError:
        return []
    rows = []
    for line in out.splitlines()[1:]:
        pcpu, _, cmd = line.strip().partition(" ")
        if float(pcpu or 0) >= 20 and "own_pictures" not in cmd:
            rows.append(f"{pcpu}% {cmd[:80]}")
    return rows[:6]


def score(run_dir: Path, real_f: np.ndarray, out: Path, arm: str, n: int = 2000) -> dict:
    from studio.core.images import encode_png, make_grid
    from studio.generate.sampling import Sampler
    from studio.train.runs import Run

    s = Sampler(run_dir)
    images = s.from_seeds(range(n))
    fake_f = features(images)
    mean, std = kid(real_f, fake_f)
    (out / f"{arm}_samples.png").write_bytes(encode_png(make_grid(images[:64], ncols=8)))
    grid = Run(run_dir).latest_sample()
    if grid is not None:
        shutil.copy2(grid, out / f"{arm}_fixed_noise_grid.png")
    return {"kid": mean, "kid_std": std, "snapshot_step": s.step, "fast_path": s.fast_path}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/own_pictures"), help="zip, runs, grids (outside the repo)")
    p.add_argument("--arms", nargs="+", default=["auto", "quick-sketch"], choices=list(ARMS))
    p.add_argument("--cpu-budget", type=float, default=1200.0, help="CPU-seconds (or wall seconds) per arm")
    p.add_argument("--budget", choices=("cpu", "wall"), default="cpu")
    p.add_argument(
        "--parallel", action="store_true", help="train the arms at the same time (machine load hits them alike)"
    )
    p.add_argument("--n", type=int, default=1000, help="training crops")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--arm", help=argparse.SUPPRESS)
    p.add_argument("--zip", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return child(a)

    out = a.out.resolve()
    if str(out).startswith(str(REPO)):
        sys.exit("--out must be outside the repository (runs, zips and grids are never committed).")
    out.mkdir(parents=True, exist_ok=True)
    images, names = crops(a.n, seed=1)
    zip_path = write_zip(images, names, out / "pictures.zip")
    held_out, _ = crops(1000, seed=2)
    import studio  # noqa: F401
    from studio.core.images import encode_png, make_grid
    from studio.data import load_dataset

    ds = load_dataset(str(zip_path), SIDE)  # what training will see, through the studio's zip path
    print(f"{len(ds)} pictures in {zip_path} (the studio's zip path kept {len(ds)} of {a.n})", flush=True)
    (out / "training_pictures.png").write_bytes(encode_png(make_grid(ds.images[:64], ncols=8)))
    real_f = features(ds.images)
    floor = kid(real_f, features(held_out))
    print(f"KID floor (1,000 held-out crops vs the training crops): {floor[0] * 1e3:.2f} ± {floor[1] * 1e3:.2f} ×10⁻³")

    results = []
    started = {}
    for arm in a.arms:
        run_dir = out / "runs" / arm
        shutil.rmtree(run_dir, ignore_errors=True)
        load_before = load_average()
        cmd = [sys.executable, __file__, "--child", "--arm", arm, "--zip", str(zip_path), "--run-dir", str(run_dir)]
        cmd += ["--cpu-budget", str(a.cpu_budget), "--budget", a.budget, "--seed", str(a.seed)]
        print(f"[{arm}] training (load average {load_before}) ...", flush=True)
        busy = others()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started[arm] = (proc, run_dir, load_before, busy)
        if not a.parallel:
            started[arm] = (proc.communicate(), run_dir, load_before, busy, proc.returncode)
    for arm in a.arms:
        entry = started[arm]
        if a.parallel:
            proc = entry[0]
            entry = (proc.communicate(), *entry[1:], proc.returncode)
        (stdout, stderr), run_dir, load_before, busy, code = entry
        lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
        if code or not lines:
            print(stdout[-2000:], stderr[-4000:])
            sys.exit(f"arm {arm} failed")
        r = json.loads(lines[-1][len("RESULT ") :])
        r.update(load_before=load_before, load_after=load_average(), others=busy)
        r.update(score(run_dir, real_f, out, arm))
        results.append(r)
        print(f"[{arm}] {r['step']} steps, KID {r['kid'] * 1e3:.2f} ×10⁻³", flush=True)
    (out / "results.json").write_text(json.dumps({"floor": floor, "results": results}, indent=2))
    print_table(results, floor, a)
    return 0


def print_table(results: list[dict], floor, a) -> None:
    ref = next((r for r in results if r["arm"] == "quick-sketch"), None)
    print()
    budget = f"{a.cpu_budget:g} {'CPU-' if a.budget == 'cpu' else 'wall '}seconds each"
    print(f"64 px, {a.n} crops, {budget}; KID ×10⁻³ (mean ± standard error), lower is better")
    print(
        "| arm | model, width, batch | ADA p at end | steps | images seen | train CPU-s | train wall-s | "
        "img/s (wall) | img per CPU-s | KID ×10⁻³ | vs quick-sketch |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c = r["config"]
        seen = r["step"] * c["batch_size"]
        ratio = f"{r['kid'] / ref['kid']:.2f}×" if ref and ref["kid"] > 0 else "—"
        p = r["last"].get("ada_p")
        print(
            f"| {r['arm']} | {c['model']}, {c['base_filters']}, {c['batch_size']} | "
            f"{'—' if p is None else f'{p:.2f}'} | {r['step']:,} | {seen:,} | {r['train_cpu_s']:.0f} | "
            f"{r['train_wall_s']:.0f} | {seen / max(r['train_wall_s'], 1e-9):.1f} | "
            f"{seen / max(r['train_cpu_s'], 1e-9):.1f} | {r['kid'] * 1e3:.2f} ± {r['kid_std'] * 1e3:.2f} | {ratio} |"
        )
    print(f"| held-out crops (floor) | | | | | | | | | {floor[0] * 1e3:.2f} ± {floor[1] * 1e3:.2f} | |")
    for r in results:
        print(
            f"- {r['arm']}: load average {r['load_before']} before, {r['load_after']} after; "
            f"also busy at the start: {'; '.join(r['others']) or 'nothing'}"
        )


if __name__ == "__main__":
    sys.exit(main())
