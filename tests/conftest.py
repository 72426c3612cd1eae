"""Shared test helpers: make sites on disk and run the real CLI."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _wait_for_chromium

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m digest ARGS` as a subprocess and return the completed process."""
    full_env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600", **(env or {})}  # 2026-01-01T00:00:00Z
    return subprocess.run([sys.executable, "-m", "digest", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` as {relative posix path: bytes} (to compare two builds)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class _PrefixHandler(http.server.SimpleHTTPRequestHandler):
    prefix = "/"

    def translate_path(self, path: str) -> str:
        if not path.startswith(self.prefix):
            return "/nonexistent"
        return super().translate_path("/" + path[len(self.prefix):])

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return


def serve_folder(folder: Path, prefix: str = "/") -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `folder` under `prefix` on 127.0.0.1 (a free port), as a static host would;
    returns the server and its base URL."""
    handler = type("Handler", (_PrefixHandler,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}{prefix}"


def write(root: Path, rel: str, text: str) -> Path:
    """Write a dedented file under `root`."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small valid site: two stories, one topic, one page."""
    write(tmp_path, "digest.toml", 'title = "Test Digest"\n')
    write(tmp_path, "content/stories/first.md", """
        ---
        title: First story
        date: 2024-03-01
        source: The Outlet
        tags: [ASEAN]
        topics: [asean]
        ---
        Body of the first story.
        """)
    write(tmp_path, "content/stories/second.md", """
        ---
        title: Second story
        date: 2024-04-02T10:00:00+07:00
        source: Other Outlet
        tags: [Japan]
        ---
        Body of the second story.
        """)
    write(tmp_path, "content/topics/asean.md", """
        ---
        title: ASEAN
        ---
        About ASEAN.
        """)
    write(tmp_path, "content/pages/about.md", """
        ---
        title: About
        ---
        About this digest.
        """)
    return tmp_path


# `python -m digest ARGS` for a test to run and stop with Ctrl-C (SIGINT), which raises
# KeyboardInterrupt in it as in a terminal even when this test run itself was started with SIGINT
# ignored (a background job of a non-interactive shell, e.g. `pytest &`): an ignored signal is
# inherited by every process started, and a server told to stop with SIGINT would never stop.
DIGEST_CTRL_C = [sys.executable, "-c", "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                 "sys.argv[0] = 'digest'; runpy.run_module('digest', run_name='__main__', alter_sys=True)"]


# Browser fixtures: one Chromium for the whole session, shared by every test folder (Playwright's
# sync API allows one running instance per thread).
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


def pytest_collection_modifyitems(items: list) -> None:
    """Tests that use Chromium run last. Once the session's browser starts, its Playwright driver
    keeps an asyncio child-watcher thread alive in this process until the session ends (Python
    3.11), and builds do not fork while another thread runs (`forkmap.can_fork`): tests of the
    forked paths that came after it would find forking impossible."""
    items.sort(key=lambda item: "chromium" in getattr(item, "fixturenames", ()))
