"""Metric rows for watching a run: a bounded, evenly thinned history and an incremental file reader.

A run of 200,000 steps logs tens of thousands of rows. A page that polls every second must not read
the whole ``metrics.jsonl`` each time, nor draw every row: :class:`MetricsTail` reads only the bytes
appended since its last look, and :class:`History` keeps at most ``max_rows`` rows spread evenly over
the whole run (when full, every second row is dropped and the spacing doubles), plus the newest.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

MAX_ROWS = 4000  # rows a chart gets: plenty for a plot a few hundred pixels wide


class History:
    """Rows in step order, at most ``max_rows`` (evenly thinned) — appending is O(1) amortised."""

    def __init__(self, max_rows: int = MAX_ROWS):
        self.max_rows = max(int(max_rows), 4)
        self.rows: list[dict] = []
        self.stride = 1  # keep the rows whose number is a multiple of this
        self._seen = 0
        self._newest: dict | None = None

    def append(self, row: dict) -> None:
        self._newest = row
        if self._seen % self.stride == 0:
            self.rows.append(row)
            if len(self.rows) > self.max_rows:  # rows[0] is row 0, so halving keeps the spacing even
                self.rows = self.rows[::2]
                self.stride *= 2
        self._seen += 1

    def extend(self, rows) -> None:
        for r in rows:
            self.append(r)

    def snapshot(self) -> list[dict]:
        """A copy, with the newest row last even when thinning skipped it."""
        out = list(self.rows)
        if self._newest is not None and (not out or out[-1] is not self._newest):
            out.append(self._newest)
        return out

    def __len__(self) -> int:
        return len(self.rows)


class MetricsTail:
    """Follows one ``metrics.jsonl``: each ``read()`` parses only what was appended since the last.

    A torn last line (a writer killed mid-line) is left for the next read; a file that shrank or was
    replaced (a resume truncates it to its checkpoint) is read again from the start.
    """

    def __init__(self, path: Path | str, max_rows: int = MAX_ROWS):
        self.path = Path(path)
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.history = History(self.max_rows)
        self.offset = 0
        self.inode = None

    def read(self) -> list[dict]:
        with self._lock:
            try:
                st = os.stat(self.path)
            except OSError:
                self._reset()
                return []
            if st.st_ino != self.inode or st.st_size < self.offset:
                self._reset()
                self.inode = st.st_ino
            if st.st_size > self.offset:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    chunk = f.read(st.st_size - self.offset)
                end = chunk.rfind(b"\n") + 1  # complete lines only
                for line in chunk[:end].splitlines():
                    try:
                        self.history.append(json.loads(line))
                    except ValueError:
                        continue  # a line torn earlier and then appended to: skip it, as read_metrics does
                self.offset += end
            return self.history.snapshot()
