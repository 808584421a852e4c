"""What this machine trains on, and the numeric precision that suits it.

``precision="auto"`` (the default) resolves, when a run is created, to what the hardware does best:
``mixed_float16`` with loss scaling on NVIDIA GPUs (Micikevicius et al. 2018), ``mixed_bfloat16`` on
CPUs with native bf16 arithmetic (AMX or AVX512-BF16, read from the CPU flags), ``float32``
otherwise. The resolved value is what ``config.json`` records, so a run says what it actually used.

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

_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@dataclass(frozen=True)
class Devices:
    gpus: tuple[str, ...]  # GPU model names, one per device
    cpu_cores: int
    cpu_bf16: bool  # the CPU computes bfloat16 natively

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
def _static() -> tuple[int, bool, tuple[str, ...]]:
    flags = _cpu_flags()
    return os.cpu_count() or 1, any(f in flags for f in _BF16_FLAGS), _nvidia_gpus()


def detect() -> Devices:
    cores, bf16, nvidia = _static()
    tf_gpus = _tensorflow_gpus()
    return Devices(gpus=tf_gpus if tf_gpus is not None else nvidia, cpu_cores=cores, cpu_bf16=bf16)


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
            ", which this CPU computes natively (AMX / AVX512-BF16)"
            if d.cpu_bf16
            else ", which this CPU only emulates (slow)"
        ),
        "float32": "full 32-bit floats"
        + (
            ", the fastest here: this machine has no GPU and no native bfloat16"
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
