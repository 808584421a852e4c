"""Server CPU per slider drag with 1 and with 5 viewers dragging at once (issue 15: "a new one for viewers").

Explore's latent pad draws each slider move in the viewer's page (ui/web/gen.js) and tells the server
only the settled values: one rerun of the picture fragment per released drag. Target: the server's CPU
per drag per page does not grow with viewers beyond those settled-value reruns (5 pages ≤ about 1 page).
The verdict printed: met when, in the page, every page asked for exactly one rerun per drag and the
most pages' CPU per drag per page is within 1.25× + 5 ms of the fewest pages' (the CPU clock ticks in
10 ms).

For each number of pages (``--viewers``) and each way of drawing (in the page; on a server started with
``STUDIO_WEB_GENERATION=0``, as before issue 15), that many browser pages open Explore on one tiny run,
and then:

1. idle: every page shows ``data-test-script-state='notRunning'`` without a break for
   ``--settle`` seconds and the server's CPU is flat (below ``--flat`` of a core over the last second);
2. the window: every page drags direction slider ``dir_2`` end to end ``--drags`` times, the pages'
   mouse steps interleaved (all pages drag at once), each drag released and the pages idle again
   before the next; the window closes when they are idle as in 1;
3. the server's idle CPU is measured over a window as long as 2, the pages open and untouched, and
   subtracted.

Every drag is checked, never assumed: each page counts its slider's input events per drag (a
capturing listener on the document: a rerun may replace the slider) and the slider must end at the
other end of its range; the reruns are the pages' own websocket messages (Streamlit ``BackMsg``
``rerun_script``, read with Playwright's ``page.on('websocket')``: full or fragment, timer or not) and
the runs the server finished (``ForwardMsg`` ``script_finished``). A drag that moved nothing ends the
benchmark with a message.

Diagnostics (not the measurement): ``--back-to-back`` starts each drag right after the last release;
``--as-before`` repeats the procedure ui_latency.py used before (slider positions read once, drags back
to back, the window opened 1 s after the pages showed). Both also count input events on the slider
element itself and report whether the slider moved on screen or was replaced between drags.

    flock /tmp/studio-bench.lock python benchmarks/viewer_drags.py [--viewers 1 5] [--drags 3] [--steps 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.ui_latency import EXPLORE_PICTURE, _open, pad_slider, studio_with_run  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SLIDER = "dir_2"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# Input events of the slider, per page, on the document (the slider element may be replaced).
COUNT_JS = """(sel) => { window.__inputs = 0;
    document.addEventListener('input', (e) => { if (e.target.matches(sel)) window.__inputs++; }, true); }"""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (its own threads; /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Wire:
    """What one page and the server said to each other over Streamlit's websocket."""

    def __init__(self, page):
        self.reruns: list[tuple[float, str, bool]] = []  # (time, fragment id or "", timer rerun)
        self.finished = 0  # script runs the server reported finished to this page
        self.undecoded = 0
        page.on("websocket", self._socket)

    def _socket(self, ws) -> None:
        if "_stcore/stream" not in ws.url:
            return
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def _sent(self, payload) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if isinstance(payload, str):
            return
        try:
            msg = BackMsg.FromString(payload)
        except Exception:  # noqa: BLE001 - counted, never fatal
            self.undecoded += 1
            return
        if msg.WhichOneof("type") == "rerun_script":
            rs = msg.rerun_script
            self.reruns.append((time.perf_counter(), rs.fragment_id, bool(rs.is_auto_rerun)))

    def _received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, str):
            return
        try:
            msg = ForwardMsg.FromString(payload)
        except Exception:  # noqa: BLE001
            self.undecoded += 1
            return
        if msg.WhichOneof("type") == "script_finished":
            self.finished += 1


def all_idle(pages) -> bool:
    return all(p.locator(IDLE).count() == 1 for p in pages)


def settle(server, pages, quiet_s: float, flat: float, timeout_s: float = 120.0) -> float:
    """Wait until every page has been idle for ``quiet_s`` without a break and the server's CPU over
    the last second is below ``flat`` core-seconds per second; returns the seconds waited."""
    t0 = time.perf_counter()
    quiet_since = None
    samples: list[tuple[float, float]] = []
    while True:
        now = time.perf_counter()
        samples.append((now, _cpu_seconds(server.proc.pid)))
        samples = [s for s in samples if now - s[0] <= 1.5]
        if all_idle(pages):
            quiet_since = quiet_since or now
        else:
            quiet_since = None
        old = [s for s in samples if now - s[0] >= 1.0]
        rate = (samples[-1][1] - old[-1][1]) / (now - old[-1][0]) if old else None
        if quiet_since and now - quiet_since >= quiet_s and rate is not None and rate < flat:
            return now - t0
        if now - t0 > timeout_s:
            print(f"  not settled after {timeout_s:.0f} s (last CPU rate {rate}); measuring anyway", flush=True)
            return now - t0
        pages[0].wait_for_timeout(100)


def slider_value(page) -> float:
    return float(page.locator(pad_slider(SLIDER)).input_value())


def drag_all(pages, d: int, steps: int, boxes: list | None = None) -> None:
    """Every page drags the slider from one end to the other (even d: left to right), at once,
    where the slider is now (or at ``boxes``, where it was once)."""
    if boxes is None:
        boxes = [page.locator(pad_slider(SLIDER)).bounding_box() for page in pages]
    if any(box is None for box in boxes):
        raise SystemExit(f"the slider {SLIDER} is not on the page")
    ends = [(b["x"] + 2, b["x"] + b["width"] - 2) for b in boxes]
    if d % 2:
        ends = [(x1, x0) for x0, x1 in ends]
    for page, b, (x0, _) in zip(pages, boxes, ends, strict=True):
        page.mouse.move(x0, b["y"] + b["height"] / 2)
        page.mouse.down()
    for i in range(1, steps + 1):
        for page, b, (x0, x1) in zip(pages, boxes, ends, strict=True):
            page.mouse.move(x0 + (x1 - x0) * i / steps, b["y"] + b["height"] / 2)
    for page in pages:
        page.mouse.up()


def measure(server, pages, wires, args) -> dict:
    for page in pages:
        page.locator(pad_slider(SLIDER)).scroll_into_view_if_needed()
        page.evaluate(COUNT_JS, pad_slider(SLIDER))
        # Also counted on the element itself, as ui_latency did before (diagnostic).
        page.locator(pad_slider(SLIDER)).evaluate(
            "(el) => { el.__gsCount = 0; el.addEventListener('input', () => el.__gsCount++); }"
        )
    fixed_boxes = [page.locator(pad_slider(SLIDER)).bounding_box() for page in pages] if args.as_before else None
    if args.as_before:  # ui_latency's old procedure: from the middle, 1 s after the pages showed
        for page in pages:
            page.wait_for_selector(IDLE, state="attached")
        pages[0].wait_for_timeout(1000)
        waited = 1.0
    else:
        # Start at the left end, outside the window (a drag then always crosses the whole range).
        for page in pages:
            page.locator(pad_slider(SLIDER)).focus()
            page.keyboard.press("Home")
        waited = settle(server, pages, args.settle, args.flat)
    before_reruns = [len(w.reruns) for w in wires]
    before_finished = [w.finished for w in wires]
    per_drag: list[list[int]] = []
    moved_boxes, replaced = 0, 0  # slider moved on screen / element replaced between drags (diagnostics)
    tag = "(el) => { const old = el.__gsTag; el.__gsTag = 1; return old === 1; }"
    for page in pages:
        page.locator(pad_slider(SLIDER)).evaluate(tag)
    last_boxes = [page.locator(pad_slider(SLIDER)).bounding_box() for page in pages]
    cpu0, t0 = _cpu_seconds(server.proc.pid), time.perf_counter()
    lo, hi = None, None
    for d in range(args.drags):
        counts0 = [int(p.evaluate("window.__inputs")) for p in pages]
        boxes = [page.locator(pad_slider(SLIDER)).bounding_box() for page in pages]
        moved_boxes += sum(1 for a, b in zip(last_boxes, boxes, strict=True) if abs(a["y"] - b["y"]) > 0.5)
        replaced += sum(1 for page in pages if not page.locator(pad_slider(SLIDER)).evaluate(tag))
        last_boxes = boxes
        drag_all(pages, d, args.steps, fixed_boxes)
        for page in pages:  # the release's rerun is asked for within a few ms; then let it finish
            if args.back_to_back or args.as_before:
                break
            page.wait_for_timeout(300)
            page.wait_for_selector(IDLE, state="attached", timeout=120_000)
        counts = [int(p.evaluate("window.__inputs")) - c for p, c in zip(pages, counts0, strict=True)]
        per_drag.append(counts)
        values = [slider_value(p) for p in pages]
        if lo is None:
            lo = float(pages[0].locator(pad_slider(SLIDER)).get_attribute("min"))
            hi = float(pages[0].locator(pad_slider(SLIDER)).get_attribute("max"))
        want = hi if d % 2 == 0 else lo
        bad = [i for i, (c, v) in enumerate(zip(counts, values, strict=True)) if c == 0 or abs(v - want) > 1e-6]
        if bad and (args.back_to_back or args.as_before):
            print(f"  drag {d + 1}: page(s) {bad} did not drag (input events {counts}, values {values})", flush=True)
        elif bad:
            raise SystemExit(
                f"drag {d + 1}: page(s) {bad} did not drag (input events {counts}, values {values}, wanted {want})"
            )
    tail = settle(server, pages, args.settle, args.flat)
    cpu, wall = _cpu_seconds(server.proc.pid) - cpu0, time.perf_counter() - t0
    reruns = [w.reruns[b:] for w, b in zip(wires, before_reruns, strict=True)]
    finished = sum(w.finished - b for w, b in zip(wires, before_finished, strict=True))
    # Idle: the same pages, untouched, over a window as long as the drags' window.
    idle0, ti = _cpu_seconds(server.proc.pid), time.perf_counter()
    pages[0].wait_for_timeout(1000 * wall)
    idle = (_cpu_seconds(server.proc.pid) - idle0) * wall / (time.perf_counter() - ti)
    idle_reruns = sum(len(w.reruns) for w in wires) - sum(len(r) for r in reruns) - sum(before_reruns)
    return {
        "per_drag": per_drag,
        "events": sum(sum(c) for c in per_drag),
        "drags": sum(1 for counts in per_drag for c in counts if c > 0),
        "reruns": sum(len(r) for r in reruns),
        "fragment_reruns": sum(1 for r in reruns for _, frag, _ in r if frag),
        "timer_reruns": sum(1 for r in reruns for _, _, auto in r if auto),
        "finished": finished,
        "idle_reruns": idle_reruns,
        "cpu": cpu,
        "idle": idle,
        "wall": wall,
        "startup_reruns": sum(before_reruns),
        "element_events": sum(int(p.locator(pad_slider(SLIDER)).evaluate("(el) => el.__gsCount ?? -1")) for p in pages),
        "slider_moved_on_screen": moved_boxes,
        "slider_replaced": replaced,
        "settle_before": waited,
        "settle_after": tail,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--viewers", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--drags", type=int, default=3, help="drags per page")
    ap.add_argument("--steps", type=int, default=60, help="mouse steps per drag")
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--train-steps", type=int, default=60)
    ap.add_argument("--settle", type=float, default=2.0, help="seconds every page must stay idle first")
    ap.add_argument("--flat", type=float, default=0.05, help="server CPU (cores) that counts as flat")
    ap.add_argument(
        "--back-to-back",
        action="store_true",
        help="start each drag right after the last release, not once the pages are idle (diagnostic)",
    )
    ap.add_argument(
        "--as-before",
        action="store_true",
        help="ui_latency's old procedure (diagnostic): slider boxes read once, drags back to back, "
        "the window 1 s after the pages showed, not once idle",
    )
    ap.add_argument("--modes", nargs="+", default=["page", "server"], choices=["page", "server"])
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="viewer-drags-"))
    servers = []
    rows = []
    try:
        in_page, on_server, res = studio_with_run(tmp, args.preset, args.train_steps, "drag-run")
        servers += [in_page, on_server]
        cfg = res.run.config
        modes = [m for m in (("page", "in the page", in_page), ("server", "on the server", on_server))]
        modes = [m for m in modes if m[0] in args.modes]

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for n in args.viewers:
                for mode, label, srv in modes:
                    wires: list[Wire] = []

                    def listen(page, wires=wires):
                        wires.append(Wire(page))

                    pages = [_open(browser, srv.url, "Explore", EXPLORE_PICTURE, before=listen) for _ in range(n)]
                    if mode == "page":
                        for pg in pages:
                            pg.wait_for_selector(".st-key-explore_pad .gs-lp[data-engine]", state="attached")
                    print(f"{n} page(s), drawn {label}: measuring…", flush=True)
                    r = measure(srv, pages, wires, args)
                    r.update(pages=n, mode=label, undecoded=sum(w.undecoded for w in wires))
                    print(f"  {r}", flush=True)
                    rows.append(r)
                    for pg in pages:
                        pg.context.close()
            browser.close()
    finally:
        for s in servers:
            s.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    load = os.getloadavg()
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}. Run: {cfg.model} {cfg.image_size} px, z_dim {cfg.z_dim}, "
        f"base_filters {cfg.base_filters}. Each page drags {SLIDER} end to end {args.drags} times "
        f"({args.steps} mouse steps), all pages at once.\n"
    )
    print(
        "| pages | drawn | input events | drags | server reruns (fragment) | reruns per drag "
        "| server CPU s (minus idle) | idle CPU s | CPU ms per drag per page |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        net = r["cpu"] - r["idle"]
        print(
            f"| {r['pages']} | {r['mode']} | {r['events']} | {r['drags']} | {r['reruns']} ({r['fragment_reruns']}) "
            f"| {r['reruns'] / max(r['drags'], 1):.1f} | {net:.2f} | {r['idle']:.2f} "
            f"| {1000 * net / max(r['drags'], 1):.0f} |"
        )
    page_rows = {r["pages"]: r for r in rows if r["mode"] == "in the page"}
    if len(page_rows) >= 2:
        one, many = page_rows[min(page_rows)], page_rows[max(page_rows)]
        per = {k: 1000 * (r["cpu"] - r["idle"]) / max(r["drags"], 1) for k, r in page_rows.items()}
        settled = all(r["reruns"] == r["drags"] for r in page_rows.values())
        ok = settled and per[max(per)] <= 1.25 * per[min(per)] + 5
        print(
            f"\nIn the page: {per[min(per)]:.0f} ms per drag per page with {one['pages']} page(s), "
            f"{per[max(per)]:.0f} ms with {many['pages']}; reruns per drag "
            f"{one['reruns'] / max(one['drags'], 1):.2f} and {many['reruns'] / max(many['drags'], 1):.2f}. "
            f"Target (no growth beyond one settled-value rerun per drag per page): {'met' if ok else 'not met'}."
        )


if __name__ == "__main__":
    main()
