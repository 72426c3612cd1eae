"""Shared browser settings (the fixtures `chromium` and `browser_page` live in tests/conftest.py): Debian's chromium driven by Playwright (never `playwright install`).

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
