"""Live reload and the error overlay in a real browser (Debian chromium via Playwright).

Two levels: the preview server driven by a small copying rebuild (no build pipeline), and the
real `python -m digest serve` on a small site while its files are edited, broken and deleted.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect

from digest.errors import Problem, TemplateError
from digest.serve import OVERLAY_ID, PreviewServer
from tests.conftest import DIGEST_CTRL_C

REPO = Path(__file__).resolve().parents[2]
OVERLAY = f"#{OVERLAY_ID}"
RELOADED = "() => window.__same_document !== true && document.body.innerText.includes(%r)"


def _mark(page) -> None:
    """Mark the current document; a reload (a new document) loses the mark."""
    page.evaluate("window.__same_document = true")


def _shown_after(page, since_epoch: float) -> float:
    """Milliseconds from `since_epoch` (time.time()) to the current document's DOMContentLoaded."""
    shown = page.evaluate("performance.timeOrigin + performance.getEntriesByType('navigation')[0]"
                          ".domContentLoadedEventEnd")
    return shown - since_epoch * 1000


def _wait_for_listener(count: int, get, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while get() < count:
        assert time.monotonic() < deadline, "the page never opened its event stream"
        time.sleep(0.02)


def _html(title: str, text: str) -> str:
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>{text}</h1></body></html>"


def test_reload_and_overlay_with_a_copying_rebuild(tmp_path: Path, browser_page) -> None:
    page = browser_page
    src, out = tmp_path / "src", tmp_path / "out"
    (src / "stories" / "a").mkdir(parents=True)
    (src / "stories" / "a" / "index.html").write_text(_html("A", "Version 1"))
    failing: list[Problem] = []

    def rebuild(changes: frozenset) -> None:
        if failing:
            raise TemplateError(list(failing))
        shutil.copytree(src, out, dirs_exist_ok=True)

    lines: list[str] = []
    server = PreviewServer(out, rebuild=rebuild, base_path="https://example.org/digest/", port=0, log=lines.append)
    with server:
        assert server.rebuild()
        page.goto(server.url + "stories/a/")
        expect(page.locator("h1")).to_have_text("Version 1")
        _wait_for_listener(1, lambda: server.open_pages)

        # a good rebuild reloads the page by itself
        _mark(page)
        (src / "stories" / "a" / "index.html").write_text(_html("A", "Version 2"))
        started = time.time()
        assert server.rebuild()
        page.wait_for_function(RELOADED % "Version 2")
        print(f"rebuild-to-reloaded-page: {_shown_after(page, started):.0f} ms")
        expect(page.locator(OVERLAY)).to_have_count(0)

        # a failed one shows the overlay over the last good page, without reloading it
        _wait_for_listener(1, lambda: server.open_pages)
        _mark(page)
        failing[:] = [Problem("templates/story.html", 7, "unexpected '}'"),
                      Problem("content/stories/a.md", 3, "'date' is not a date: 'yesterday'")]
        (src / "stories" / "a" / "index.html").write_text(_html("A", "Never served"))
        assert not server.rebuild()
        overlay = page.locator(OVERLAY)
        expect(overlay).to_be_visible()
        expect(overlay).to_contain_text("templates/story.html:7: unexpected '}'")
        expect(overlay).to_contain_text("content/stories/a.md:3: 'date' is not a date: 'yesterday'")
        assert page.evaluate("window.__same_document") is True
        assert "Version 2" in page.locator("h1").inner_text()
        assert "templates/story.html:7: unexpected '}'" in "\n".join(lines)

        # a page opened while the build is broken shows the overlay at once
        other = page.context.new_page()
        other.goto(server.url + "stories/a/")
        expect(other.locator(OVERLAY)).to_contain_text("templates/story.html:7")
        expect(other.locator("h1")).to_have_text("Version 2")
        other.close()

        # the next good build clears it
        failing.clear()
        (src / "stories" / "a" / "index.html").write_text(_html("A", "Version 3"))
        assert server.rebuild()
        page.wait_for_function(RELOADED % "Version 3")
        expect(page.locator(OVERLAY)).to_have_count(0)
    assert page.page_errors == []  # the live script ran without an error


# --- end to end: `python -m digest serve` ---------------------------------------------------

STORY = """---
title: {title}
date: 2024-05-0{day}
source: The Outlet
topics: [asia]
---
{body}
"""


def _make_site(root: Path) -> None:
    (root / "content" / "stories").mkdir(parents=True)
    (root / "content" / "topics").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "digest.toml").write_text('title = "Browser Digest"\nbase_url = "https://example.org/news/"\n')
    (root / "content" / "topics" / "asia.md").write_text("---\ntitle: Asia\n---\nStories about Asia.\n")
    (root / "content" / "stories" / "alpha.md").write_text(
        STORY.format(title="Alpha story", day=1, body="The original paragraph of alpha."))
    (root / "content" / "stories" / "beta.md").write_text(
        STORY.format(title="Beta story", day=2, body="The paragraph of beta."))
    shutil.copy(REPO / "templates" / "story.html", root / "templates" / "story.html")


class ServeProcess:
    """`python -m digest serve` in a subprocess; its stderr is collected line by line."""

    def __init__(self, root: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen(
            [*DIGEST_CTRL_C, "serve", "--site", str(root), "--port", "0"],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self.wait_for(r"at (http://\S+) ").group(1)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30, fail: str | None = None) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
                assert not (fail and re.search(fail, line)), "\n".join(self.lines)
            assert self.proc.poll() is None, "digest serve exited:\n" + "\n".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._reader.join(timeout=5)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_digest_serve_end_to_end(tmp_path: Path, browser_page) -> None:
    page = browser_page
    root = tmp_path / "site"
    _make_site(root)
    server = ServeProcess(root)
    try:
        assert server.url.endswith("/news/")
        server.wait_for(r"built in \d+ ms", fail="build failed")
        assert not (root / "output").exists()  # the preview has a folder of its own
        assert (root / ".digest" / "preview" / "stories" / "alpha" / "index.html").is_file()
        assert "__digest__" not in (root / ".digest" / "preview" / "stories" / "alpha" / "index.html").read_text()

        # edit a story's Markdown: the open page reloads with the new text
        page.goto(server.url + "stories/alpha/")
        expect(page.locator("h1")).to_contain_text("Alpha story")
        expect(page.locator("main")).to_contain_text("The original paragraph of alpha.")
        page.wait_for_function("() => performance.getEntriesByType('resource')"
                               ".some(e => e.name.includes('/__digest__/live.js'))")
        time.sleep(0.3)  # let the event stream connect, so the reload comes from a change event
        _mark(page)
        story = root / "content" / "stories" / "alpha.md"
        started = time.time()
        story.write_text(STORY.format(title="Alpha story", day=1, body="The edited paragraph of alpha."))
        page.wait_for_function(RELOADED % "The edited paragraph of alpha.", timeout=15_000)
        build_ms = server.wait_for(r"built in (\d+ ms); reloading 1").group(1)
        print(f"save-to-reloaded-page: {_shown_after(page, started):.0f} ms ({build_ms} of it the build)")

        # break the template: the overlay names its file and line; the last good page stays
        template = root / "templates" / "story.html"
        good = template.read_text()
        lines = good.splitlines(keepends=True)
        lines.insert(1, "{{ story.title ) }}\n")
        template.write_text("".join(lines))
        overlay = page.locator(OVERLAY)
        expect(overlay).to_be_visible(timeout=15_000)
        expect(overlay).to_contain_text(re.compile(r"templates/story\.html:2: "))
        expect(page.locator("main")).to_contain_text("The edited paragraph of alpha.")
        server.wait_for(r"templates/story\.html:2: ")  # also in the terminal

        # fix it: the overlay goes
        template.write_text(good)
        expect(overlay).to_have_count(0, timeout=15_000)
        expect(page.locator("main")).to_contain_text("The edited paragraph of alpha.")

        # delete a story: its topic page no longer lists it, its page is gone
        page.goto(server.url + "topics/asia/")
        main = page.locator("main")
        expect(main).to_contain_text("Beta story")
        expect(main).to_contain_text("Alpha story")
        page.wait_for_function("() => performance.getEntriesByType('resource')"
                               ".some(e => e.name.includes('/__digest__/live.js'))")
        time.sleep(0.3)
        (root / "content" / "stories" / "beta.md").unlink()
        expect(main).not_to_contain_text("Beta story", timeout=15_000)
        expect(main).to_contain_text("Alpha story")
        assert _status(server.url + "stories/beta/") == 404
        assert _status(server.url + "stories/alpha/") == 200
        assert page.page_errors == []
    finally:
        code = server.stop()
    assert code == 0, "\n".join(server.lines)
    assert server.lines[-1] == "stopped"
