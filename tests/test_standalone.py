"""The "Take it with you" file (studio.media.standalone): self-contained, and small enough to send.

The browser half (opened from file:// with the network off) is tests/e2e/test_takeaway_page.py.
"""

from __future__ import annotations

import re

from studio.generate.web import ServerOnly
from studio.media.standalone import MAX_BYTES, write_standalone_html
from studio.train.config import from_preset
from tests.web_helpers import make_sampler


def test_the_default_64px_dcgan_fits_in_10_mb(tmp_path):
    cfg = from_preset("balanced", image_size=64)  # the studio's default DCGAN: 3.6 M weights
    s = make_sampler(
        tmp_path, "balanced64", model=cfg.model, base_filters=cfg.base_filters, z_dim=cfg.z_dim, image_size=64
    )
    page = write_standalone_html(s, tmp_path / "balanced64.html")
    print(f"\n64 px DCGAN (balanced preset): {page.bytes / 1e6:.2f} MB with {page.weights_dtype} weights")
    assert page.bytes <= MAX_BYTES and page.weights_dtype == "float16"
    text = page.path.read_text(encoding="utf-8")
    # Nothing to fetch: no external scripts, styles, images or frames.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text)
    assert text.count("</script>") == 8  # 4 runtime files, the .wasm, weights, data, code


def test_a_small_model_keeps_float32_weights(tmp_path):
    s = make_sampler(tmp_path, "small", model="dcgan", image_size=32, z_dim=32, base_filters=16)
    page = write_standalone_html(s, tmp_path / "small.html")
    assert page.weights_dtype == "float32" and page.bytes < 2_000_000


def test_a_model_the_browser_cannot_run_gets_no_page(tmp_path):
    s = make_sampler(tmp_path, "bf16", model="mlp", image_size=32, z_dim=8, precision="mixed_bfloat16")
    assert isinstance(write_standalone_html(s, tmp_path / "x.html"), ServerOnly)
    assert not (tmp_path / "x.html").exists()
