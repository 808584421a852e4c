"""A shared studio (STUDIO_PASSPHRASE set) in a real browser: an anonymous viewer can look at
everything but cannot upload or save a dataset or start a run; the passphrase unlocks them, and
wrong guesses slow down."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, goto_page, wait_idle

pytestmark = pytest.mark.e2e
T = 60_000
SECRET = "open sesame"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("shared"), env_extra={"STUDIO_PASSPHRASE": SECRET}).start()
    yield s
    s.kill()


def test_an_anonymous_viewer_cannot_write(shared_server, page, shots):
    goto_page(page, shared_server, "Data")
    expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible(timeout=T)
    wait_idle(page)
    assert page.locator(".st-key-upload_files input[type='file']").count() == 0, "no uploader while locked"
    expect(page.get_by_text("This studio is shared").first).to_be_visible(timeout=T)
    shots(page, "data-locked")

    goto_page(page, shared_server, "Train")
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=T)
    wait_idle(page)
    assert page.get_by_role("button", name="Start training").count() == 0, "no Start button while locked"
    form = page.locator("[data-testid='stForm']").first
    for _ in range(4):  # wrong guesses: the fourth is refused for a while
        form.get_by_label("Passphrase").fill("guess")
        form.get_by_role("button", name="Unlock").click()
        wait_idle(page)
    expect(page.get_by_text("Too many wrong passphrases").first).to_be_visible(timeout=T)
    shots(page, "train-locked-after-guesses")
    assert not list(shared_server.runs_dir.glob("*/config.json")), "no run was made"


def test_the_passphrase_unlocks_writing(shared_server, page, shots):
    goto_page(page, shared_server, "Train")
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=T)
    wait_idle(page)
    form = page.locator("[data-testid='stForm']").first
    form.get_by_label("Passphrase").fill(SECRET)
    form.get_by_role("button", name="Unlock").click()
    wait_idle(page)
    # the guesses came from this same address a moment ago: the wait applies to the right passphrase too
    if page.get_by_text("Too many wrong passphrases").count():
        page.wait_for_timeout(9_000)
        form = page.locator("[data-testid='stForm']").first
        form.get_by_label("Passphrase").fill(SECRET)
        form.get_by_role("button", name="Unlock").click()
        wait_idle(page)
    expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=T)
    shots(page, "train-unlocked")
