"""Browser tests: Debian's Chromium, driven by Playwright, against a live service.

One browser for the session, a fresh context (cookies, storage) and a fresh service with
its own database for each test. Skipped, saying why, when Playwright or /usr/bin/chromium
is missing, except in CI (`CI` set), where that fails. Screenshots of each page go to
tests/web/screenshots/ (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
WAIT_MS = 30_000  # a generous bound on waits: two cores are shared, so never a timing claim


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: .venv/bin/pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class Tab:
    """An open page and what it reported: console errors and uncaught exceptions."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def shoot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def wait_ready(self) -> None:
        """Wait until the page's script has drawn its first data."""
        self.page.wait_for_selector("body[data-ready]", state="attached", timeout=WAIT_MS)


@pytest.fixture
def open_tab(browser: Any) -> Iterator[Callable[..., Tab]]:
    """Open a URL in a fresh browser context: `open_tab(url)`; `before(page)` runs before
    the page loads (to route its requests, say)."""
    contexts = []

    def open_url(
        url: str, width: int = 1440, height: int = 900, before: Callable[[Any], Any] | None = None
    ) -> Tab:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page)
        page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: tab.errors.append(f"uncaught: {exc}"))
        if before is not None:
            before(page)
        page.goto(url)
        return tab

    yield open_url
    for context in contexts:
        context.close()


@pytest.fixture
def browse(open_tab: Callable[..., Tab], service: Any) -> Callable[..., Tab]:
    """Open a path of the live service (the `service` fixture) in a fresh browser context."""
    return lambda path, **options: open_tab(service.url + path, **options)
