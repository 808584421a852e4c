"""Devices and precision: what the machine trains on, said in one line; 'auto' resolved and recorded."""

from __future__ import annotations

import json

from studio.train.config import from_preset
from studio.train.devices import Devices, detect, precision_sentence, resolve_precision


def test_auto_picks_what_the_hardware_does_best():
    assert Devices(("NVIDIA A100",) * 2, 32, True).best_precision() == "mixed_float16"
    assert Devices((), 8, True).best_precision() == "mixed_bfloat16"
    assert Devices((), 2, False).best_precision() == "float32"
    # AVX512-BF16 without AMX: bf16 measured slower than float32 there (benchmarks/precision.py).
    avx512_bf16 = Devices((), 2, False, cpu_bf16_slow=True)
    assert avx512_bf16.best_precision() == "float32"
    assert "no AMX" in precision_sentence("auto", avx512_bf16)
    assert resolve_precision("mixed_float16", Devices((), 2, False)) == "mixed_float16", "an explicit choice stays"


def test_the_device_line_names_devices_and_precision():
    assert Devices((), 2, False).line("float32") == "training on 2 CPU cores (float32)"
    gpus = Devices(("NVIDIA RTX 4090", "NVIDIA RTX 4090"), 16, False)
    assert gpus.line("mixed_float16") == "training on 2 × NVIDIA RTX 4090 (mixed_float16)"
    assert "fastest here" in precision_sentence("auto", Devices((), 2, False))
    assert "no GPU" in precision_sentence("mixed_float16", Devices((), 2, False))
    d = detect()
    assert d.cpu_cores >= 1 and d.line(resolve_precision("auto", d)).startswith("training on ")


def test_a_new_run_records_the_precision_it_actually_uses(tmp_path):
    from studio.train.loop import new_run

    assert from_preset("tiny").precision == "auto"
    run = new_run(from_preset("tiny"), tmp_path / "r")
    saved = json.loads((run.path / "config.json").read_text())["precision"]
    assert saved == resolve_precision("auto") and saved != "auto"
