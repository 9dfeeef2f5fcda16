"""Browser tests: one real uvicorn server and one Debian chromium for the whole session.

The server is the real app (worker pool and all) on a free loopback port; each test gets a
fresh browser context, which is cheap. Every page records console errors, so a CSP
violation (an inline style or script slipping in) fails the test that caused it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from tests.services import live_server

ROOT = Path(__file__).resolve().parents[2]
# Screenshots are artifacts, never compared: a normal run writes them under the ignored build/
# folder, so the tracked PNGs in docs/screenshots stay as committed. UPDATE_SCREENSHOTS=1
# refreshes those instead (then commit them).
SCREENSHOTS = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "build") \
    / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
START_TIMEOUT_S = 120  # /readyz: the workers are warm (torch imported in each)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    # One worker; the browser tests send a burst of runs from one address.
    with live_server({"PLAYGROUND_WORKERS": "1", "PLAYGROUND_RATE_LIMIT_PER_MINUTE": "0"},
                     START_TIMEOUT_S) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser: Browser, server_url: str, **options: object) -> Iterator[Page]:
    context = browser.new_context(base_url=server_url, **options)  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not problems, f"browser console errors: {problems}"


@pytest.fixture
def page(browser: Browser, server_url: str) -> Iterator[Page]:
    yield from _open(browser, server_url, viewport={"width": 1280, "height": 900},
                     locale="en-US")


@pytest.fixture
def open_page(browser: Browser, server_url: str):
    """For tests that need other context options (a phone viewport, another language)."""
    pages: list[Iterator[Page]] = []

    def make(**options: object) -> Page:
        gen = _open(browser, server_url, **options)
        pages.append(gen)
        return next(gen)

    yield make
    for gen in pages:
        next(gen, None)


@pytest.fixture(scope="session")
def screenshot():
    """Save a page or element screenshot as <SCREENSHOTS>/<name>.png (build/screenshots, or
    docs/screenshots with UPDATE_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(target: Page | Locator, name: str, **options: object) -> None:
        target.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **options)  # type: ignore[arg-type]

    return save
