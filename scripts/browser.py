"""Headless Chromium driven over the DevTools protocol: open a page, wait for text, click, shoot.

The Prefect UI is a single-page app: a plain ``--screenshot`` can fire before it has fetched
anything. This drives Debian's ``chromium`` through its DevTools websocket (``websockets`` is
already a Prefect dependency), so a screenshot is taken once the page shows the text we expect.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1400,1000",
)


class BrowserError(RuntimeError):
    """The page did not show what was expected in time."""


def chromium_binary() -> str:
    """Path of Debian's chromium, or a clear error naming the install command."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError("chromium is not installed: apt-get update && apt-get install -y chromium")


class Browser:
    """One headless Chromium with one page, closed (with its profile dir) on exit."""

    def __init__(self, port: int) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="svenn-chromium-"))
        self.process = subprocess.Popen(  # noqa: S603 (our own chromium command line)
            [
                chromium_binary(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.ids = itertools.count(1)
        self.socket = self._connect(port)

    def _connect(self, port: int) -> ClientConnection:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                page = next(p for p in pages if p.get("type") == "page")
                return connect(page["webSocketDebuggerUrl"], max_size=64 * 2**20)
            except (httpx.HTTPError, StopIteration, OSError):
                time.sleep(0.3)
        raise BrowserError("chromium did not open its DevTools port")

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events in between are skipped)."""
        call_id = next(self.ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == call_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, wait_for: str, timeout: float = 90.0) -> None:
        """Navigate and wait until the page's text contains ``wait_for``."""
        self.send("Page.navigate", url=url)
        self.wait_for_text(wait_for, timeout)

    def wait_for_text(self, text: str, timeout: float = 90.0) -> None:
        """Wait until the page's visible text contains ``text``, then let it settle."""
        deadline = time.monotonic() + timeout
        needle = json.dumps(text)
        while time.monotonic() < deadline:
            if self.evaluate(
                f"(document.body && document.body.innerText || '').includes({needle})"
            ):
                time.sleep(1.5)  # fonts, tables and charts finish drawing
                return
            time.sleep(0.5)
        raise BrowserError(f"the page never showed {text!r}")

    def click(self, text: str, selector: str = "button") -> None:
        """Click the first ``selector`` element whose text is ``text``."""
        script = f"""(() => {{
            const wanted = {json.dumps(text)};
            const el = [...document.querySelectorAll({json.dumps(selector)})]
                .find(e => e.innerText.trim() === wanted);
            if (!el) return false;
            el.click();
            return true;
        }})()"""
        if not self.evaluate(script):
            raise BrowserError(f"no {selector} {text!r} to click")

    def resize(self, width: int, height: int = 1000) -> None:
        """Lay the page out at ``width`` x ``height`` (e.g. for a wide table)."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(1.5)

    def screenshot(self, path: Path) -> Path:
        """Save what the page shows now (the viewport, 1400x1000 unless resized) as a PNG."""
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
