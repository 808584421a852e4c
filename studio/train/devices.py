"""What this machine trains on, and the numeric precision that suits it.

``precision="auto"`` (the default) resolves, when a run is created, to what the hardware does best:
``mixed_float16`` with loss scaling on NVIDIA GPUs (Micikevicius et al. 2018), ``mixed_bfloat16`` on
CPUs whose bf16 hardware makes it faster than float32 (AMX, read from the CPU flags), ``float32``
otherwise. The resolved value is what ``config.json`` records, so a run says what it actually used.

AVX512-BF16 without AMX is native bf16 too, but measured on such a CPU (a 2-core Xeon with
avx512_bf16 and no amx_* flags, benchmarks/precision.py) bfloat16 ran *slower* than float32: a
1024² matmul at 0.60×, the DCGAN step at 0.73×, the MLP step at 0.66× (its dot-product instructions
do not make up for the conversions around every op). So auto keeps float32 there and says why.

GPUs are found without importing TensorFlow when possible (the NVIDIA driver's /proc entries), so a
page can say "training on …" before TensorFlow has loaded; once TensorFlow is imported, its own
device list is the truth.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

_AMX_FLAGS = ("amx_bf16",)  # bf16 matrix tiles: bfloat16 is the fast path
_BF16_FLAGS = ("avx512_bf16",)  # bf16 dot products only: measured slower than float32 (see above)


@dataclass(frozen=True)
class Devices:
    gpus: tuple[str, ...]  # GPU model names, one per device
    cpu_cores: int
    cpu_bf16: bool  # the CPU computes bfloat16 faster than float32 (AMX)
    cpu_bf16_slow: bool = False  # it has bf16 instructions (AVX512-BF16) that are not faster here

    def best_precision(self) -> str:
        if self.gpus:
            return "mixed_float16"
        return "mixed_bfloat16" if self.cpu_bf16 else "float32"

    def line(self, precision: str) -> str:
        """'training on 2 CPU cores (float32)' / 'training on 2 × NVIDIA A100 (mixed_float16)'."""
        if self.gpus:
            names = sorted(set(self.gpus))
            what = f"{len(self.gpus)} × {names[0]}" if len(names) == 1 else ", ".join(self.gpus)
        else:
            what = f"{self.cpu_cores} CPU core{'s' if self.cpu_cores != 1 else ''}"
        return f"training on {what} ({precision})"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _nvidia_gpus() -> tuple[str, ...]:
    root = Path("/proc/driver/nvidia/gpus")
    names = []
    try:
        for info in sorted(root.glob("*/information")):
            for line in info.read_text(errors="replace").splitlines():
                if line.startswith("Model:"):
                    names.append(line.split(":", 1)[1].strip())
    except OSError:
        pass
    return tuple(names)


def _tensorflow_gpus() -> tuple[str, ...] | None:
    """GPU names from TensorFlow if it is already imported (never imports it), else None."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    try:
        gpus = tf.config.list_physical_devices("GPU")
        return tuple(tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus)
    except Exception:  # noqa: BLE001 - a broken driver is "no GPU", not a crash
        return ()


@functools.cache
def _static() -> tuple[int, bool, bool, tuple[str, ...]]:
    flags = _cpu_flags()
    amx = any(f in flags for f in _AMX_FLAGS)
    return os.cpu_count() or 1, amx, not amx and any(f in flags for f in _BF16_FLAGS), _nvidia_gpus()


def detect() -> Devices:
    cores, bf16, bf16_slow, nvidia = _static()
    tf_gpus = _tensorflow_gpus()
    gpus = tf_gpus if tf_gpus is not None else nvidia
    return Devices(gpus=gpus, cpu_cores=cores, cpu_bf16=bf16, cpu_bf16_slow=bf16_slow)


def resolve_precision(precision: str, devices: Devices | None = None) -> str:
    """``auto`` → the best precision for this machine; any other value is kept."""
    return (devices or detect()).best_precision() if precision == "auto" else precision


def precision_sentence(precision: str, devices: Devices | None = None) -> str:
    """One sentence on why ``precision`` ("auto" or a concrete one) suits this machine or not."""
    d = devices or detect()
    chosen = resolve_precision(precision, d)
    why = {
        "mixed_float16": "16-bit floats with loss scaling, what GPUs compute fastest"
        + ("" if d.gpus else " (this machine has no GPU, so it will be slow here)"),
        "mixed_bfloat16": "bfloat16"
        + (
            ", which this CPU computes natively (AMX)"
            if d.cpu_bf16
            else (
                " (this CPU's AVX512-BF16 runs it slower than float32)"
                if d.cpu_bf16_slow
                else ", which this CPU only emulates (slow)"
            )
        ),
        "float32": "full 32-bit floats"
        + (
            (
                ", the fastest here: this CPU has AVX512-BF16 but no AMX, and bfloat16 measured slower "
                "than float32 on such CPUs"
                if d.cpu_bf16_slow
                else ", the fastest here: this machine has no GPU and no native bfloat16"
            )
            if d.best_precision() == "float32"
            else f" (the automatic choice here would be {d.best_precision()}, faster)"
        ),
    }[chosen]
    lead = "Automatic precision" if precision == "auto" else "Precision"
    return f"{lead}: {chosen} — {why}."


def enable_memory_growth() -> None:
    """Let TensorFlow take GPU memory as it needs it (two studios or a viewer can share a GPU)."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):
            pass  # already initialised: too late to change, and harmless
