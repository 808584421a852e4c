"""Long runs stay light: bounded, evenly thinned metric histories read incrementally."""

from __future__ import annotations

import builtins
import json

from studio.train.metrics import History, MetricsTail


def test_history_is_bounded_evenly_spaced_and_keeps_the_newest():
    h = History(max_rows=500)
    for step in range(1, 200_001):
        h.append({"step": step})
    rows = h.snapshot()
    assert len(rows) <= 501
    steps = [r["step"] for r in rows]
    gaps = {b - a for a, b in zip(steps[:-2], steps[1:-1])}
    assert len(gaps) == 1, "evenly thinned"
    assert steps[0] == 1 and steps[-1] == 200_000, "the start and the newest row are kept"


def test_tail_reads_only_what_was_appended(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s, "d_loss": 1.0}) + "\n" for s in range(1, 20_001)))
    tail = MetricsTail(path)
    assert len(tail.read()) > 100
    read_sizes = []
    real_open = builtins.open

    class Counting:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

        def seek(self, n):
            self.f.seek(n)

        def read(self, n=-1):
            data = self.f.read(n)
            read_sizes.append(len(data))
            return data

    monkeypatch.setattr(builtins, "open", lambda *a, **k: Counting(real_open(*a, **k)))
    with real_open(path, "a") as f:
        f.write(json.dumps({"step": 20_001, "d_loss": 0.5}) + "\n")
    rows = tail.read()
    assert rows[-1]["step"] == 20_001
    assert read_sizes == [len(json.dumps({"step": 20_001, "d_loss": 0.5})) + 1], "only the new line was read"
    assert tail.read()[-1]["step"] == 20_001 and read_sizes[-1:] == read_sizes[-1:], "nothing new: nothing read"


def test_tail_waits_for_a_torn_line_and_starts_over_when_the_file_is_cut(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2, "d_l')
    tail = MetricsTail(path)
    assert [r["step"] for r in tail.read()] == [1]
    with open(path, "a") as f:
        f.write('oss": 1.0}\n')
    assert [r["step"] for r in tail.read()] == [1, 2]
    path.write_text('{"step": 1}\n')  # a resume truncated it to its checkpoint
    assert [r["step"] for r in tail.read()] == [1]
