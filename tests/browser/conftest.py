"""A real browser on the back office: Playwright driving Debian's Chromium against a live server.

Skipped, with the reason in the summary, when Chromium is not installed (`.ci/run` installs the
Debian package `chromium` when it is missing, so CI runs these tests).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from live_server import start_live_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_REASON = (
    "browser tests skipped: Chromium is not installed (Debian package `chromium`; "
    "`.ci/run` installs it when missing)"
)


@pytest.fixture(scope="session")
def live_url(database_url: str, settings: object) -> Iterator[str]:
    """The app served by uvicorn on this worker's test database; its base URL."""
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    proc, base = start_live_server(database_url, {"COOKIE_SECURE": "false"})
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, live_url: str) -> AsyncIterator[Page]:
    """A fresh browser profile (no cookies) per test, at a tablet-and-laptop width."""
    context = await browser.new_context(base_url=live_url, viewport={"width": 1180, "height": 820})
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    yield opened
    await context.close()
