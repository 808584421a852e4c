"""House habits the test command keeps: browser code that parses, and pinned test versions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB = sorted((ROOT / "ui" / "web").glob("*.js"))


@pytest.mark.parametrize("script", WEB, ids=lambda p: p.name)
def test_browser_code_parses(script):
    node = shutil.which("node")
    assert node, "node is needed to check ui/web/*.js (it is on every machine here)"
    r = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_the_constraints_pin_every_requirement():
    pinned = {
        line.split("==")[0].lower() for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line
    }
    wanted = set()
    for req in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / req).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-"):
                wanted.add(line.split(">")[0].split("=")[0].split("<")[0].strip().lower())
    assert wanted <= pinned, f"constraints.txt misses {sorted(wanted - pinned)}: run scripts/refresh_constraints.py"
