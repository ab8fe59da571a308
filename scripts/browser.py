"""Debian's Chromium driven by Playwright: the one browser driver of `make screenshots` and of
the browser tests (tests/flows/tenant_side). Playwright launches the system's chromium through
``executable_path``; no browser is ever downloaded (the Makefile's ``chromium`` target installs
Debian's package when it is missing).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

SETTLE_MS = 1500  # fonts, tables and charts finish drawing after the text is there


class BrowserError(RuntimeError):
    """The page did not show what was expected in time, or there is no chromium."""


def chromium_binary() -> str:
    """Path of Debian's chromium, or a clear error naming the install command."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError("chromium is not installed: `make chromium` (apt-get install chromium)")


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000) -> Iterator[Page]:
    """A fresh page in headless Debian Chromium, closed (with the browser) afterwards."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary())
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


class Browser:
    """What the screenshots need of a page: open, wait for text, click, resize, photograph."""

    def __init__(self) -> None:
        self._page_context = chromium_page()
        self.page = self._page_context.__enter__()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._page_context.__exit__(kind, error, trace)

    def open(self, url: str, wait_for: str, timeout: float = 90.0) -> None:
        """Navigate and wait until the page shows ``wait_for``."""
        self.page.goto(url)
        self.wait_for_text(wait_for, timeout)

    def wait_for_text(self, text: str, timeout: float = 90.0) -> None:
        """Wait until the page shows ``text``, then let it settle."""
        try:
            self.page.get_by_text(text).first.wait_for(timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise BrowserError(f"the page never showed {text!r}") from None
        self.page.wait_for_timeout(SETTLE_MS)

    def click(self, text: str, selector: str = "button", timeout: float = 30.0) -> None:
        """Click the first ``selector`` element whose text is ``text``."""
        target = self.page.locator(selector, has_text=text).first
        try:
            target.click(timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise BrowserError(f"no {selector} {text!r} to click") from None

    def resize(self, width: int, height: int = 1000) -> None:
        """Lay the page out at ``width`` x ``height`` (e.g. for a wide table)."""
        self.page.set_viewport_size({"width": width, "height": height})
        self.page.wait_for_timeout(SETTLE_MS)

    def table_overflow(self) -> tuple[int, int]:
        """(width the first table needs, width it is given) as laid out now, in CSS px."""
        script = """() => {
            const table = document.querySelector('table');
            if (!table) return [0, 0];
            const box = table.parentElement;
            return [Math.max(table.scrollWidth, box.scrollWidth), box.clientWidth];
        }"""
        needed, given = self.page.evaluate(script)
        return int(needed), int(given)

    def screenshot(self, path: Path) -> Path:
        """Save what the page shows now (the viewport) as a PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        return path
