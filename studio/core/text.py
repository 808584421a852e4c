"""Numbers in the words people read: durations, sizes and scores."""

from __future__ import annotations


def fmt_secs(s: float | None) -> str:
    """12 → '12 s', 75 → '1 min 15 s', 3700 → '1 h 01 min'; None or NaN → '—'."""
    if s is None or s != s:
        return "—"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def fmt_kid(kid: float | None, se: float | None = None) -> str:
    """A KID in thousandths, as papers report it: 0.00002 → '0.02×10⁻³' (not '0.0000'); with its
    standard error, 0.00046 ± 0.00056 → '0.46 ± 0.56 ×10⁻³'; None → '–'."""
    if kid is None or kid != kid:
        return "–"
    if se is None or se != se:
        return f"{kid * 1e3:.2f}×10⁻³"
    return f"{kid * 1e3:.2f} ± {se * 1e3:.2f} ×10⁻³"
