"""Real-browser fixtures: a `streamlit run app.py` server per test module and Debian's Chromium.

Each module gets its own server with its own empty runs/ and data/ folders, so journeys never see
each other's runs. Screenshots go to screenshots/<module>/ (git-ignored); the folder is printed.
No browser is a failure with a message, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, env_extra: dict | None = None, script: str = "app.py"):
        self.script = script
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.runs_dir = tmp / "runs"
        self.data_dir = tmp / "data"
        self.log_path = tmp / "server.log"
        self.env = {
            **os.environ,
            "STUDIO_RUNS_DIR": str(self.runs_dir),
            "STUDIO_DATA_DIR": str(self.data_dir),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **(env_extra or {}),
        }
        self.proc = None

    def start(self, timeout: float = 90):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                self.script,
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early; log:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout} s")

    def kill(self, sig=None):
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig or signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if getattr(self, "_log", None):
            self._log.close()

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("studio")).start()
    yield s
    s.kill()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium); "
            "the browser tests do not skip."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    ctx.set_default_timeout(30_000)
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.fixture(scope="module")
def shots(request):
    """shots(page, "name") saves screenshots/<module>/<nn>-name.png and returns its path."""
    folder = ROOT / "screenshots" / Path(request.module.__file__).stem
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    counter = {"n": 0}

    def take(pg, name: str, full_page: bool = True) -> Path:
        """Streamlit scrolls inside its main container, so grow the viewport to show it all."""
        counter["n"] += 1
        path = folder / f"{counter['n']:02d}-{name}.png"
        size = pg.viewport_size
        if full_page:
            h = pg.evaluate(
                "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                " return m ? m.scrollHeight : document.body.scrollHeight; }"
            )
            pg.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(h) + 40, 6000))})
            pg.wait_for_timeout(300)
        pg.screenshot(path=str(path))
        if full_page:
            pg.set_viewport_size(size)
        return path

    return take


def wait_idle(pg, timeout: float = 60_000):
    """Wait until the script run finished and nothing is still a loading placeholder.

    The app flips between running and idle while run_every fragments tick, so this is a
    best-effort settle; assert on the thing you need with expect(...) afterwards.
    """
    from playwright.sync_api import expect

    expect(pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_be_attached(timeout=timeout)
    expect(pg.locator("[data-testid='stSkeleton'], [data-testid='stAppSkeleton']")).to_have_count(0, timeout=timeout)
    expect(pg.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_be_attached(timeout=timeout)


def goto_page(pg, server: Server, title: str):
    """Open the app and navigate by the sidebar link (a URL navigation would start a new session)."""
    pg.goto(server.url)
    wait_idle(pg)
    pg.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    wait_idle(pg)


def choose(pg, key: str, option: str):
    """Pick ``option`` in the selectbox with widget key ``key`` (Streamlit 1.67: a react-aria combobox)."""
    pg.locator(f".st-key-{key} [role='combobox']").first.click()
    pg.get_by_role("option", name=option, exact=True).click()
    wait_idle(pg)


def set_number(pg, key: str, value: str, attempts: int = 3):
    """Type ``value`` into the number input with widget key ``key`` and see the app keep it.

    A rerun still in flight (a selectbox callback that refills the settings, a fragment tick)
    can land after the typing and put the old value back; type again until the value holds
    through an idle app.
    """
    from playwright.sync_api import expect

    box = pg.locator(f".st-key-{key} input")
    for _ in range(attempts):
        box.fill(value)
        box.press("Enter")
        wait_idle(pg)
        try:
            expect(box).to_have_value(value, timeout=3_000)
            pg.wait_for_timeout(300)
            wait_idle(pg)
            expect(box).to_have_value(value, timeout=1_000)
            return
        except AssertionError:
            continue
    expect(box).to_have_value(value)
