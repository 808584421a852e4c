"""``quality.jsonl``: one JSON object per scored snapshot, the contract the CLI and the pages read.

Every line has at least ``step, kid, kid_se, precision, recall, density, coverage, features`` (the
extractor's name); :class:`QualityRow` names the rest. Lines are appended with fsync
(``paths.append_line``); a kill -9 can at worst tear the last line, which readers skip and the next
append closes off first, so no good line is ever glued to a torn one. A resumed run drops the rows
after the checkpoint it resumes from (``truncate_quality``), and a step is never written twice.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from studio.core.paths import append_line, atomic_write_text

QUALITY_FILE = "quality.jsonl"


@dataclass(frozen=True)
class QualityRow:
    step: int
    kid: float | None = None  # unbiased KID (cubic kernel) against the training pictures; lower is better
    kid_se: float | None = None  # its standard error
    precision: float | None = None  # share of generated pictures that look like training pictures
    recall: float | None = None  # share of training pictures the generator can make
    density: float | None = None  # Naeem et al.'s fidelity (≈1 for a faithful generator)
    coverage: float | None = None  # share of training pictures with a generated picture nearby
    features: str = ""  # the feature extractor's name: rows with different names are not comparable
    fd: float | None = None  # Fréchet distance; None when the sets are too small for it (fd_reason)
    fd_reason: str = ""
    authenticity: float | None = None  # share of generated pictures that are not near-copies (Alaa et al.)
    authenticity_heldout: float | None = None  # the same for held-out pictures: what no copying looks like
    ct: float | None = None  # Meehan et al.'s data-copying z-score; below about -3: copying
    ct_reason: str = ""
    duplicates: float | None = None  # share of the preview grid with a near-twin in the grid
    r_t: float | None = None  # E[sign D(training picture)] (Karras et al. 2020); None: not known
    d_train: float | None = None  # mean D score on training pictures (probability for ns/minimax)
    d_heldout: float | None = None  # mean D score on held-out pictures
    d_gap_auc: float | None = None  # P(D scores a training picture above a held-out one); 0.5 = no gap
    n_train: int = 0  # pictures in each compared set
    n_fake: int = 0
    n_heldout: int = 0
    seconds: float | None = None  # how long scoring took

    def to_json(self) -> str:
        return json.dumps({k: _finite(v) for k, v in asdict(self).items()}, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict) -> QualityRow:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _finite(v):
    # JSON has no NaN; a metric that could not be computed is null.
    return None if isinstance(v, float) and not math.isfinite(v) else v


def quality_path(run_path: Path | str) -> Path:
    return Path(run_path) / QUALITY_FILE


def read_rows(run_path: Path | str) -> list[QualityRow]:
    """Every complete row, sorted by step, one per step (the last written wins); torn lines skipped."""
    by_step: dict[int, QualityRow] = {}
    try:
        with open(quality_path(run_path), encoding="utf-8") as f:
            for line in f:
                try:
                    d = json.loads(line)
                    row = QualityRow.from_dict(d)
                    by_step[int(row.step)] = row
                except (ValueError, TypeError):
                    continue
    except FileNotFoundError:
        pass
    return [by_step[s] for s in sorted(by_step)]


def scored_steps(run_path: Path | str) -> set[int]:
    return {r.step for r in read_rows(run_path)}


def _ends_torn(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() == 0:
                return False
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except FileNotFoundError:
        return False


def append_row(run_path: Path | str, row: QualityRow) -> bool:
    """Append ``row`` unless its step is already there; True if written."""
    path = quality_path(run_path)
    if row.step in scored_steps(run_path):
        return False
    if _ends_torn(path):
        append_line(path, "")  # end the torn line, so it stays one skipped line of its own
    append_line(path, row.to_json())
    return True


def truncate_quality(run_path: Path | str, max_step: int) -> None:
    """Keep rows up to ``max_step`` (a resume from that checkpoint), rewritten atomically."""
    path = quality_path(run_path)
    if not path.exists():
        return
    rows = [r for r in read_rows(run_path) if r.step <= max_step]
    atomic_write_text(path, "".join(r.to_json() + "\n" for r in rows))


def copy_rows(src_run_path: Path | str, dst_run_path: Path | str, max_step: int) -> None:
    """A fork's quality history: its parent's rows up to the step it forks at."""
    rows = [r for r in read_rows(src_run_path) if r.step <= max_step]
    if rows:
        atomic_write_text(quality_path(dst_run_path), "".join(r.to_json() + "\n" for r in rows))
