"""Many viewers: training throughput with 10 viewers of a live run, against the CLI alone, interleaved.

Arms, alternated round by round so that drift in the machine's load hits both alike:
  - CLI:  ``python -m studio train`` with the Train page's default settings (dataset digits, the
          page's default preset), nothing else running of ours;
  - UI:   a fresh ``streamlit run app.py``; viewer 1 opens the Train page and presses "Start
          training" (the same default settings: the run goes through the job manager), then 9 more
          viewers open the Train page of that live run. Every viewer keeps the page's polling on.

The viewers are websocket clients of Streamlit's own protocol (the frontend's messages: a BackMsg
``rerun_script`` for the page, then one per ``auto_rerun`` the server asks for — the live panel's
``run_every`` fragment — with the fragment's id), run from this process. That is what ten people
on their own computers cost the server: each session's page run, each second's fragment rerun, its
chart spec and grid picture serialised and sent. It does not put ten Chromium renderers on the two
cores the training uses (real viewers bring their own CPUs; benchmarks/long_watch.py and
ui_overhead.py measure the browser's side). The viewers' own CPU time is printed.

Throughput is the median of the per-interval images/s the loop logs to metrics.jsonl over the
measured window, skipping the first rows (tracing). Target (issue 14, item 5): UI ≥ 85% of CLI.

    flock /tmp/studio-bench.lock python benchmarks/viewers.py [--rounds 2] [--viewers 10] [--window 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import Server  # noqa: E402

SKIP_ROWS = 3


def median_ips(run_dir: Path, t_from: float | None = None, t_to: float | None = None) -> tuple[float, int]:
    """Median images/s of the logged intervals (after the first rows), optionally only rows whose
    file-modification-time window we watched; (median, rows used)."""
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x.strip()]
    rows = rows[SKIP_ROWS:]
    vals = [r["images_per_s"] for r in rows]
    return (statistics.median(vals) if vals else float("nan")), len(vals)


class Viewer:
    """One browser session, as Streamlit's frontend speaks it over /_stcore/stream."""

    def __init__(self, url: str, page: str):
        self.url, self.page = url, page
        self.page_hash = ""
        self.buttons: dict[str, str] = {}  # label -> widget id
        self.fragment_timers: dict[str, float] = {}
        self.reruns = 0
        self.bytes_in = 0
        self.running = False
        self.ws = None
        self._read = None

    async def connect(self):
        from websockets.asyncio.client import connect

        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await connect(ws_url, subprotocols=["streamlit"], max_size=1 << 28, compression=None)

    async def send_rerun(self, fragment_id: str = "", trigger: str | None = None):
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        cs.page_script_hash = self.page_hash
        cs.page_name = "" if self.page_hash else self.page
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = True
        if trigger:
            w = cs.widget_states.widgets.add()
            w.id = trigger
            w.trigger_value = True
        self.running = True
        await self.ws.send(msg.SerializeToString())

    def _walk(self, fm):
        kind = fm.WhichOneof("type")
        if kind == "new_session":  # a script run starts (the page's own reruns too)
            self.page_hash = fm.new_session.page_script_hash or self.page_hash
            self.running = True
        elif kind == "page_info_changed" or kind == "navigation":
            h = getattr(getattr(fm, kind), "page_script_hash", "")
            if h:
                self.page_hash = h
        elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            el = fm.delta.new_element
            if el.WhichOneof("type") == "button":
                self.buttons[el.button.label] = el.button.id
        elif kind == "auto_rerun":
            self.fragment_timers[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            self.fragment_timers.clear()
        elif kind == "script_finished":
            self.running = False
            self.reruns += 1

    async def pump(self, until: float):
        """Read messages and rerun every auto-rerun fragment at its interval until ``until``."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        due: dict[str, float] = {}
        while time.perf_counter() < until:
            now = time.perf_counter()
            if not self.running:
                for fid, every in self.fragment_timers.items():
                    due.setdefault(fid, now + every)
                    if now >= due[fid]:
                        due[fid] = now + every
                        await self.send_rerun(fragment_id=fid)
                        break
            if self._read is None:
                self._read = asyncio.ensure_future(self.ws.recv())
            done, _ = await asyncio.wait({self._read}, timeout=0.05)  # never cancel a read: it would lose a message
            if not done:
                continue
            raw, self._read = self._read.result(), None
            self.bytes_in += len(raw)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            self._walk(fm)

    async def settle(self, timeout: float = 60, want: str | None = None):
        """Pump until no script runs for 0.5 s (and the button ``want`` was drawn, if given)."""
        deadline = time.perf_counter() + timeout
        quiet = 0
        while time.perf_counter() < deadline and quiet < 3:
            await self.pump(time.perf_counter() + 0.2)
            done = not self.running and (want is None or want in self.buttons)
            quiet = quiet + 1 if done else 0


async def ui_arm(url: str, n_viewers: int, run_dir_of, window: float, warmup: float) -> dict:
    first = Viewer(url, "train")
    await first.connect()
    await first.send_rerun()
    await first.settle(120, want="Start training")
    if "Start training" not in first.buttons:
        raise RuntimeError(f"no Start training button on the Train page (buttons: {list(first.buttons)})")
    await first.send_rerun(trigger=first.buttons["Start training"])
    await first.settle(120)
    others = [Viewer(url, "train") for _ in range(n_viewers - 1)]
    for v in others:
        await v.connect()
        await v.send_rerun()
    viewers = [first, *others]
    # Wait for the run's rows to start, then watch: the window is what the table reports.
    cpu0 = time.process_time()
    t_end = time.perf_counter() + warmup + window
    await asyncio.gather(*(v.pump(t_end) for v in viewers))
    return {
        "cpu_s": time.process_time() - cpu0,
        "reruns": [v.reruns for v in viewers],
        "mb_in": sum(v.bytes_in for v in viewers) / 1e6,
        "fragments": sum(len(v.fragment_timers) for v in viewers),
    }


def ui_round(tmp: Path, n_viewers: int, window: float, warmup: float) -> tuple[float, int, dict, dict]:
    server = Server(tmp / f"srv-{time.time_ns()}")
    server.runs_dir.parent.mkdir(parents=True, exist_ok=True)
    server.start()
    try:
        info = asyncio.run(ui_arm(server.url, n_viewers, None, window, warmup))
        run_dir = next(server.runs_dir.iterdir())
        ips, n = median_ips(run_dir)
        cfg = json.loads((run_dir / "config.json").read_text())
    finally:
        server.kill()
    return ips, n, info, cfg


def cli_round(tmp: Path, cfg: dict, seconds: float) -> tuple[float, int, dict]:
    run_dir = tmp / f"cli-{time.time_ns()}"
    env = {
        **os.environ,
        "STUDIO_RUNS_DIR": str(tmp / "runs"),
        "STUDIO_DATA_DIR": str(tmp / "data"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    preset = cfg.get("preset") or "quick-sketch"
    args = ["--preset", preset, "--dataset", cfg["dataset"], "--time-budget", str(seconds)]
    args += ["--steps", str(cfg["steps"]), "--run-dir", str(run_dir), "--quiet"]
    subprocess.run(
        [sys.executable, "-m", "studio", "train", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    ips, n = median_ips(run_dir)
    return ips, n, json.loads((run_dir / "config.json").read_text())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--viewers", type=int, default=10)
    ap.add_argument("--window", type=float, default=60.0, help="seconds of training watched per UI round")
    ap.add_argument("--warmup", type=float, default=15.0, help="seconds after the click before the window")
    a = ap.parse_args()
    cli, ui, infos, diffs = [], [], [], set()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for i in range(a.rounds):
            ips, n, info, ui_cfg = ui_round(tmp, a.viewers, a.window, a.warmup)
            ui.append(ips)
            infos.append(info)
            print(f"round {i + 1} UI: {ips:.0f} img/s over {n} rows; viewers {info}", file=sys.stderr, flush=True)
            c_ips, c_n, cli_cfg = cli_round(tmp, ui_cfg, a.window + a.warmup)
            cli.append(c_ips)
            print(f"round {i + 1} CLI: {c_ips:.0f} img/s over {c_n} rows", file=sys.stderr, flush=True)
            skip = {"created", "run_id", "time_budget", "notes", "steps"}
            diffs |= {k for k in set(ui_cfg) | set(cli_cfg) if k not in skip and ui_cfg.get(k) != cli_cfg.get(k)}
    load1 = os.getloadavg()
    c, w = statistics.median(cli), statistics.median(ui)
    med_reruns = statistics.median([statistics.median(i["reruns"]) for i in infos])
    print(
        f"\nviewers: {ui_cfg['model']} {ui_cfg['image_size']} px, batch {ui_cfg['batch_size']} on {ui_cfg['dataset']} "
        f"(the Train page's defaults), {a.rounds} interleaved rounds, {a.warmup:g} s + {a.window:g} s watched per UI "
        f"round, {os.cpu_count()} CPUs, load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end\n"
    )
    print("| arm | images/s per round | median images/s | vs CLI | target |")
    print("|---|---|---|---|---|")
    print(
        f"| CLI alone (`python -m studio train`) | {', '.join(f'{x:.0f}' for x in cli)} | {c:.0f} | 100% | reference |"
    )
    ok = "met" if w >= 0.85 * c else "missed"
    print(
        f"| Train page, started there, {a.viewers} viewers polling | {', '.join(f'{x:.0f}' for x in ui)} | {w:.0f} "
        f"| {w / c:.0%} | ≥ 85%: {ok} |"
    )
    print(
        f"\nViewers: median {med_reruns:.0f} page/fragment runs each per round "
        f"({(a.warmup + a.window):g} s), {statistics.median(i['mb_in'] for i in infos):.1f} MB received by all "
        f"viewers per round, their own CPU {statistics.median(i['cpu_s'] for i in infos):.1f} s per round "
        f"(in this process, on the same cores). Settings that differ between the arms' config.json: "
        f"{', '.join(sorted(diffs)) or 'none'}."
    )


if __name__ == "__main__":
    main()
