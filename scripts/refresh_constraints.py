"""Write constraints.txt: the exact versions, installed here, of everything requirements-dev.txt pulls in.

Run it after the test suite passed with new package versions (``python scripts/refresh_constraints.py``)
and commit the result. ``scripts/test.sh`` installs with ``-c constraints.txt``, so the tests run on the
versions they last passed with; ``requirements.txt`` keeps compatible ranges for people installing.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _requirements(path: Path) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            out += _requirements(path.parent / line[3:].strip())
        else:
            out.append(line)
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots: list[str]) -> dict[str, str]:
    """name → installed version for the roots and everything they require (on this platform)."""
    seen: dict[str, str] = {}
    todo = [(Requirement(r), ()) for r in roots]
    while todo:
        req, extras = todo.pop()
        name = _norm(req.name)
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (extras or ("",))):
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement that is not installed here
        first = name not in seen
        seen[name] = dist.version
        if first or req.extras:
            for sub in dist.requires or []:
                todo.append((Requirement(sub), tuple(req.extras)))
    return seen


def main() -> int:
    pins = closure(_requirements(ROOT / "requirements-dev.txt"))
    lines = [
        "# Exact versions the test suite last passed with (scripts/test.sh installs with -c constraints.txt).",
        "# Refresh: python scripts/refresh_constraints.py (after the tests pass on new versions).",
        *(f"{name}=={version}" for name, version in sorted(pins.items())),
    ]
    (ROOT / "constraints.txt").write_text("\n".join(lines) + "\n")
    print(f"constraints.txt: {len(pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
