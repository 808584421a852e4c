"""Keep TensorFlow's start-up chatter off a person's terminal.

TensorFlow's C++ runtime writes absl log lines ("oneDNN custom operations are on", "Could not find
cuda drivers", "failed call to cuInit", "remapper failed") straight to file descriptor 2, and
``TF_CPP_MIN_LOG_LEVEL`` does not silence all of them in TF 2.21. :func:`quiet_native_stderr` points
descriptor 2 at a pipe whose reader drops exactly those lines and forwards everything else, while
Python's own ``sys.stderr`` keeps writing to the terminal directly (so progress bars stay live).
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading

# absl: "I0000 00:00:1796283301.546783   27008 port.cc:153] ..." and its preamble line.
_NATIVE_LOG = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]|WARNING: All log messages before absl::)"
)

# A native message can span lines (the multi-worker "tasks have crashed" one at exit, TensorFlow bug
# 58434): lines that follow a dropped one this closely belong to it.
_CONTINUATION_S = 0.05


def quiet_native_stderr() -> None:
    """From now on, drop TensorFlow's native log lines from stderr (once per process; best effort)."""
    if getattr(quiet_native_stderr, "done", False):
        return
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
        r, w = os.pipe()
        os.dup2(w, 2)
        os.close(w)
    except OSError:
        return
    quiet_native_stderr.done = True
    sys.stderr = io.TextIOWrapper(os.fdopen(terminal, "wb", buffering=0), write_through=True, line_buffering=True)

    def forward() -> None:
        import time

        dropped_at = -1.0
        with os.fdopen(r, "rb", buffering=0) as pipe:
            for line in iter(pipe.readline, b""):
                now = time.monotonic()
                if _NATIVE_LOG.match(line):
                    dropped_at = now
                elif now - dropped_at > _CONTINUATION_S:
                    os.write(terminal, line)
                else:
                    dropped_at = now  # a further line of the message just dropped (one write, several lines)

    threading.Thread(target=forward, name="quiet-stderr", daemon=True).start()
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
