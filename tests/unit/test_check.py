"""`digest check`: a real site is built and checked; each kind of problem is reported, a clean site
passes; external links are checked against a local http.server only with --external."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from digest.check import check_site, find_problems, resolve, scan_page, scan_site

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)

CONFIG = """title = "Check"
base_url = "https://example.org/digest/"
[search]
enabled = false
[related]
enabled = false
"""

STORY_A = """---
title: Story A
date: 2024-01-02
source: Outlet
tags: [alpha]
---
Read [story B](/stories/b/#details) and its [notes](/stories/b/).

![chart](/images/chart.png)
"""

STORY_B = """---
title: Story B
date: 2024-01-01
source: Outlet
---
## Details

Back to [story A](/stories/a/).
"""


def make_site(root: Path, a: str = STORY_A, b: str = STORY_B, config: str = CONFIG) -> Path:
    (root / "content" / "stories").mkdir(parents=True)
    (root / "static" / "images").mkdir(parents=True)
    (root / "digest.toml").write_text(config, encoding="utf-8")
    (root / "content" / "stories" / "a.md").write_text(a, encoding="utf-8")
    (root / "content" / "stories" / "b.md").write_text(b, encoding="utf-8")
    (root / "static" / "images" / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return root


def run_check(site: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "digest", "check", "--site", str(site), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_clean_site_exits_0(tmp_path):
    result = run_check(make_site(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no problems" in result.stdout
    assert not list((tmp_path / ".digest").rglob("*.pickle"))  # the throw-away build leaves no cache behind


def test_each_problem_is_reported_as_page_to_target(tmp_path):
    a = STORY_A.replace("(/stories/b/)", "(/stories/b/#nowhere)").replace("![chart](/images/chart.png)",
                                                             "![chart](/images/missing.png)\n\n[gone](/stories/gone/)")
    b = STORY_B + '\n<p id="dup">one</p>\n<p id="dup">two</p>\n'
    site = make_site(tmp_path, a=a, b=b)
    (site / "static" / "orphan.html").write_text("<!doctype html><title>x</title><p>nobody links here</p>")
    (site / "static" / "broken.xml").write_text("<feed><entry></feed>")
    result = run_check(site)
    assert result.returncode == 1
    err = result.stderr
    assert "stories/a/index.html" in err
    lines = err.splitlines()

    def reported(page: str, target: str, message: str) -> bool:
        return any(line.startswith(page) and f"→ {target}: " in line and message in line for line in lines)

    assert reported("stories/a/index.html", "../../stories/gone/", "broken link: no such page"), err
    assert reported("stories/a/index.html", "../../stories/b/#nowhere", "no element with id 'nowhere'"), err
    assert reported("stories/a/index.html", "../../images/missing.png", "missing image: no such file"), err
    assert reported("stories/b/index.html", "#dup", "duplicate id (2 elements)"), err
    assert any(line.startswith("orphan.html: orphan") for line in lines), err
    assert any(line.startswith("broken.xml: malformed XML") for line in lines), err
    assert "(content/stories/a.md)" in err  # the page's content file is named
    assert "#details" + ":" not in err  # the existing anchor is fine
    assert "problems" in result.stdout


def test_content_problems_are_path_line(tmp_path):
    site = make_site(tmp_path, b="---\ntitle: B\ndate: not a date\n---\nx\n")
    result = run_check(site)
    assert result.returncode == 1
    assert "content/stories/b.md:3:" in result.stderr


def test_subpath_and_root_relative_links():
    files = frozenset({"index.html", "stories/a/index.html", "assets/style.css"})
    base = "https://example.org/digest/"
    assert resolve(base, "stories/a/index.html", "../../assets/style.css", files).file == "assets/style.css"
    assert resolve(base, "404.html", "/digest/assets/style.css", files).file == "assets/style.css"
    assert resolve(base, "stories/a/index.html", "/assets/style.css", files).error.startswith("outside")
    assert resolve(base, "stories/a/index.html", "https://example.org/digest/", files).file == "index.html"
    assert not resolve(base, "index.html", "https://elsewhere.org/x", files).internal
    assert not resolve(base, "index.html", "https://example.org/news/x", files).internal  # same host, not our path
    assert resolve(base, "index.html", "mailto:someone@example.org", files) is None


def test_scan_page_ids_refs_and_srcset():
    scan = scan_page(b'<html><head><link rel="stylesheet" href="a.css"><link rel="canonical" href="https://x/">'
                     b'<meta property="og:image" content="https://x/i.png"></head><body id="b">'
                     b'<img src="i.png" srcset="i-2x.png 2x, i-3x.png 3x"><a name="n" href="#b">x</a>'
                     b'<script src="s.js"></script><p id="b"></p></body></html>')
    assert set(scan.ids) == {"b", "n"}
    assert scan.duplicate_ids == (("b", 2),)
    kinds = {(r.kind, r.url) for r in scan.refs}
    assert kinds == {("stylesheet", "a.css"), ("canonical", "https://x/"), ("meta", "https://x/i.png"),
                     ("image", "i.png"), ("image", "i-2x.png"), ("image", "i-3x.png"), ("link", "#b"),
                     ("script", "s.js")}


def test_css_references_are_checked(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "style.css").write_text("body{background:url('bg.png')}\n@import \"more.css\";\n")
    (tmp_path / "index.html").write_text('<link rel="stylesheet" href="assets/style.css">')
    findings, _ = find_problems(scan_site(tmp_path), "/")
    assert [(f.page, f.target) for f in findings] == [("assets/style.css", "bg.png"), ("assets/style.css", "more.css")]


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, with_body: bool) -> None:
        if self.path == "/ok":
            code = 200
        elif self.path == "/no-head":
            code = 405 if self.command == "HEAD" else 200
        else:
            code = 404
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if with_body:
            self.wfile.write(b"ok")

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_external_links_only_with_external(tmp_path, server):
    a = STORY_A + f"\n[ok]({server}/ok) [head refused]({server}/no-head) [missing]({server}/missing)\n"
    site = make_site(tmp_path, a=a)
    assert check_site(site, now=NOW).findings == ()
    report = check_site(site, now=NOW, external=True, timeout=5, workers=2)
    assert report.external == 3
    assert [str(f) for f in report.findings] == [f"stories/a/index.html → {server}/missing: external link: HTTP 404"]
    result = run_check(site, "--external", "--timeout", "5")
    assert result.returncode == 1 and f"→ {server}/missing: external link: HTTP 404" in result.stderr
