"""Progress reporting for slow engine work: one callback type and one way to call it.

Engine functions that take a while accept ``progress(fraction, text)``; the CLI draws a bar from it,
the pages a Streamlit progress bar. ``None`` means nobody is watching.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None] | None


def report(progress: Progress, fraction: float, text: str) -> None:
    """Call ``progress`` (if any) with the fraction clamped to [0, 1]."""
    if progress is not None:
        progress(float(min(max(fraction, 0.0), 1.0)), text)
