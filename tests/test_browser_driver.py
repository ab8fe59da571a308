"""The browser driver `make screenshots` uses (scripts/browser.py): Playwright on Debian's
Chromium opens a page, waits for its text, clicks, resizes and photographs it."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.browser import Browser, BrowserError

PAGE = (
    b'<html><body><h1>Plan</h1><button onclick="document.body.insertAdjacentHTML('
    b"'beforeend', '<p>Approve starts the initial sync</p>')\">Resume</button></body></html>"
)


class OnePage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def page_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OnePage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_the_driver_opens_clicks_resizes_and_photographs(page_url: str, tmp_path: Path) -> None:
    with Browser() as browser:
        browser.open(page_url, "Plan")
        browser.click("Resume")
        browser.wait_for_text("Approve starts the initial sync")
        browser.resize(800, 600)
        shot = browser.screenshot(tmp_path / "form.png")
        assert browser.page.viewport_size == {"width": 800, "height": 600}
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_a_missing_button_or_text_is_a_clear_error(page_url: str) -> None:
    with Browser() as browser:
        browser.open(page_url, "Plan")
        with pytest.raises(BrowserError, match="no button 'Approve'"):
            browser.click("Approve", timeout=1)
        with pytest.raises(BrowserError, match="never showed 'Godkjent'"):
            browser.wait_for_text("Godkjent", timeout=1)
