"""Shared browser fixtures: Debian's chromium driven by Playwright (never `playwright install`).

`chromium` is one browser for the whole session; `browser_page` is a fresh page in a fresh
context (no shared cache, cookies or storage) per test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _apt_running() -> bool:
    """True while an apt-get/apt/dpkg process runs (chromium may be being installed)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() in {"apt-get", "apt", "dpkg"}:
                    return True
            except OSError:
                continue  # the process ended meanwhile
    return False


def _wait_for_chromium(timeout: float = 600) -> bool:
    """True once /usr/bin/chromium exists, waiting while an apt install is still running."""
    deadline = time.monotonic() + timeout
    while not CHROMIUM.exists() and _apt_running() and time.monotonic() < deadline:
        time.sleep(2)
    return CHROMIUM.exists()


@pytest.fixture(scope="session")
def chromium() -> Iterator["object"]:
    """A headless Chromium (Playwright `Browser`) for the session."""
    from playwright.sync_api import sync_playwright

    if not _wait_for_chromium():
        pytest.fail(f"{CHROMIUM} is not installed: run `bash scripts/test.sh`, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def browser_page(chromium) -> Iterator["object"]:
    """A fresh Playwright `Page` in its own context.

    Uncaught script errors are kept in `page.page_errors`, console errors in `page.console_errors`.
    """
    context = chromium.new_context()
    page = context.new_page()
    page.console_errors = []
    page.page_errors = []
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
