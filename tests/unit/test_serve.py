"""The preview server, over real HTTP on 127.0.0.1 against a temporary site folder."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest

from digest.errors import ContentError, Problem
from digest.serve import (
    EVENTS_PATH,
    OVERLAY_ID,
    SCRIPT_PATH,
    PortInUse,
    PreviewServer,
    base_path_of,
    content_type,
    inject,
    locate,
)
from tests.conftest import DIGEST_CTRL_C

SECRET = "TOP-SECRET-OUTSIDE-THE-ROOT"
INDEX = "<!doctype html><html><head><title>Home</title></head><body><h1>Home v1</h1></body></html>\n"


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "topics" / "x").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "index.html").write_text(INDEX)
    (root / "topics" / "x" / "index.html").write_text("<html><body><p>Topic X</p></body></html>")
    (root / "404.html").write_text("<html><body><p>Custom not found</p></body></html>")
    (root / "style.css").write_text("body { color: red }\n")
    (root / "app.js").write_text("console.log(1)\n")
    (root / "feed.xml").write_text("<?xml version='1.0'?><feed/>")
    (root / "data.json").write_text("{}")
    (root / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (root / "no-body.html").write_text("<p>fragment</p>")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd").write_text(SECRET)
    (secret / "index.html").write_text(SECRET)
    (root / "leak.txt").symlink_to(secret / "passwd")
    (root / "leakdir").symlink_to(secret)
    (root / "inner.css").symlink_to(root / "style.css")  # a symlink inside the root is fine
    return root


class Recorder:
    """A log callable that keeps the lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _noop(changes: frozenset) -> None:
    return None


@pytest.fixture()
def server(site: Path):
    log = Recorder()
    with PreviewServer(site, rebuild=_noop, port=0, log=log) as srv:
        srv.log_lines = log
        yield srv


def request(srv: PreviewServer, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def raw_request(srv: PreviewServer, request_line: str) -> bytes:
    """Send a request line byte for byte (no client-side checks) and return the raw response."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
        sock.sendall(request_line.encode("latin-1") + b"\r\nHost: x\r\n\r\n")
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


class EventStream:
    """A Server-Sent Events client over http.client."""

    def __init__(self, srv: PreviewServer) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        self.conn.request("GET", EVENTS_PATH)
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        assert self.resp.getheader("Content-Type").startswith("text/event-stream")

    def next(self) -> tuple[str, dict]:
        name, data = None, None
        while True:
            line = self.resp.fp.readline().decode()
            assert line, "stream closed"
            line = line.rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and name:
                return name, data

    def close(self) -> None:
        self.conn.close()


# --- pure parts -------------------------------------------------------------------------


def test_base_path_of() -> None:
    assert base_path_of(None) == "/"
    assert base_path_of("https://example.org") == "/"
    assert base_path_of("https://example.org/digest") == "/digest/"
    assert base_path_of("https://example.org/a/b/") == "/a/b/"
    assert base_path_of("/digest/") == "/digest/"


def test_content_types_carry_charset_for_text() -> None:
    assert content_type("a.html") == "text/html; charset=utf-8"
    assert content_type("a.CSS") == "text/css; charset=utf-8"
    assert content_type("a.js") == "text/javascript; charset=utf-8"
    assert content_type("feed.xml") == "application/xml; charset=utf-8"
    assert content_type("a.json") == "application/json; charset=utf-8"
    assert content_type("a.svg") == "image/svg+xml; charset=utf-8"
    assert content_type("a.png") == "image/png"
    assert content_type("a.woff2") == "font/woff2"
    assert content_type("a.wasm") == "application/wasm"
    assert content_type("pagefind.pf_meta") == "application/octet-stream"


def test_inject_goes_before_the_last_body_end_tag() -> None:
    page = b"<html><body><pre>&lt;/body&gt;</pre></BODY></html>"
    assert inject(page, b"<x>") == b"<html><body><pre>&lt;/body&gt;</pre><x></BODY></html>"
    assert inject(b"<p>no body", b"<x>") == b"<p>no body<x>"


def test_locate_refuses_traversal(site: Path) -> None:
    for target in ("/../secret/passwd", "/%2e%2e/secret/passwd", "/a/%2E%2E/%2e%2e/secret/passwd",
                   "/..%2fsecret%2fpasswd", "/.%2e/secret/passwd", "/./index.html", "//etc/passwd",
                   "/..\\secret\\passwd", "/..%5csecret%5cpasswd", "/leak.txt", "/leakdir/passwd",
                   "/leakdir/", "/etc/passwd", "/%252e%252e/secret/passwd"):
        result = locate(target, site)
        assert result.status == 404 and result.file is None, target
    for target in ("/index.html%00.css", "/%00", "/a%0d%0aSet-Cookie:x", "/%ff%fe", "index.html",
                   "http://evil.example/../etc/passwd"):
        assert locate(target, site).status == 400, target
    assert locate("/inner.css", site).file == (site / "style.css").resolve()
    assert locate("/topics/x/?q=1", site).file == (site / "topics" / "x" / "index.html").resolve()


# --- over HTTP ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/../secret/passwd",
        "/..%2f..%2fetc/passwd",
        "/..%2fsecret%2fpasswd",
        "/%2e%2e/secret/passwd",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/..\\secret\\passwd",
        "/..%5c..%5csecret%5cpasswd",
        "//etc/passwd",
        "/etc/passwd",
        "/leak.txt",
        "/leakdir/passwd",
        "/leakdir/",
        "/index.html%00.css",
        "/%00../secret/passwd",
    ],
)
def test_traversal_tricks_never_leave_the_root(server: PreviewServer, target: str) -> None:
    response = raw_request(server, f"GET {target} HTTP/1.0")
    status = int(response.split(b" ", 2)[1])
    assert status in (400, 404), (target, response[:200])
    assert SECRET.encode() not in response
    assert b"root:" not in response  # /etc/passwd


def test_nul_byte_is_a_bad_request(server: PreviewServer) -> None:
    status, _, _ = request(server, "/index.html%00")
    assert status == 400


def test_content_types_and_bytes(server: PreviewServer, site: Path) -> None:
    expected = {
        "/style.css": "text/css; charset=utf-8",
        "/app.js": "text/javascript; charset=utf-8",
        "/feed.xml": "application/xml; charset=utf-8",
        "/data.json": "application/json; charset=utf-8",
        "/logo.svg": "image/svg+xml; charset=utf-8",
        "/pic.png": "image/png",
    }
    for target, ctype in expected.items():
        status, headers, body = request(server, target)
        assert status == 200, target
        assert headers["content-type"] == ctype, target
        assert body == (site / target[1:]).read_bytes(), target  # non-HTML is served as is
    status, headers, _ = request(server, "/")
    assert (status, headers["content-type"]) == (200, "text/html; charset=utf-8")


def test_head_has_the_headers_of_get_and_no_body(server: PreviewServer) -> None:
    for target in ("/", "/pic.png", "/missing"):
        g_status, g_headers, g_body = request(server, target)
        h_status, h_headers, h_body = request(server, target, method="HEAD")
        assert h_status == g_status
        assert h_body == b""
        assert h_headers["content-type"] == g_headers["content-type"]
        assert int(h_headers["content-length"]) == len(g_body)


def test_misses_get_the_404_page_with_status_404(server: PreviewServer) -> None:
    for target in ("/missing", "/missing/", "/style.css/", "/empty/", "/empty", "/__digest__/nothing"):
        status, headers, body = request(server, target)
        assert status == 404, target
        assert b"Custom not found" in body
        assert headers["content-type"] == "text/html; charset=utf-8"


def test_404_without_a_404_page(site: Path) -> None:
    (site / "404.html").unlink()
    with PreviewServer(site, rebuild=_noop, port=0, log=Recorder()) as srv:
        status, _, body = request(srv, "/missing")
    assert status == 404 and b"404 Not Found" in body


def test_directory_without_slash_redirects(server: PreviewServer) -> None:
    status, headers, _ = request(server, "/topics/x")
    assert (status, headers["location"]) == (301, "/topics/x/")
    status, headers, _ = request(server, "/topics/x?page=2")
    assert (status, headers["location"]) == (301, "/topics/x/?page=2")
    status, _, body = request(server, "/topics/x/")
    assert status == 200 and b"Topic X" in body


def test_served_under_the_base_path(site: Path) -> None:
    with PreviewServer(site, rebuild=_noop, base_path="https://example.org/digest/", port=0, log=Recorder()) as srv:
        assert srv.url.endswith(f":{srv.port}/digest/")
        status, _, body = request(srv, "/digest/")
        assert status == 200 and b"Home v1" in body
        assert request(srv, "/digest/style.css")[0] == 200
        assert request(srv, "/index.html")[0] == 404
        assert request(srv, "/style.css")[0] == 404
        assert request(srv, "/digestx/style.css")[0] == 404
        status, headers, _ = request(srv, "/")
        assert (status, headers["location"]) == (302, "/digest/")
        status, headers, _ = request(srv, "/digest")
        assert (status, headers["location"]) == (301, "/digest/")
        status, headers, _ = request(srv, "/digest/topics/x")
        assert (status, headers["location"]) == (301, "/digest/topics/x/")
        assert request(srv, "/digest/../digest/style.css")[0] == 404
        assert SCRIPT_PATH.encode() in request(srv, "/digest/missing")[2]


def test_script_injected_into_served_html_only(server: PreviewServer, site: Path) -> None:
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    _, _, body = request(server, "/")
    tag = f'<script src="{SCRIPT_PATH}" data-site="'.encode()
    assert tag in body
    assert body.index(tag) < body.index(b"</body>")
    assert body.replace(body[body.index(tag): body.index(b"</script>") + 9], b"") == INDEX.encode()
    _, _, fragment = request(server, "/no-body.html")
    assert fragment.startswith(b"<p>fragment</p><script")
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    status, headers, script = request(server, SCRIPT_PATH)
    assert status == 200 and headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"EventSource" in script and EVENTS_PATH.encode() in script


def test_a_request_during_a_rebuild_waits_for_it(site: Path) -> None:
    started = threading.Event()

    def slow_rebuild(changes: frozenset) -> None:
        started.set()
        (site / "index.html").write_text("<html><body>half")
        time.sleep(0.6)
        (site / "index.html").write_text("<html><body><h1>Home v2</h1></body></html>")

    with PreviewServer(site, rebuild=slow_rebuild, port=0, log=Recorder()) as srv:
        builder = threading.Thread(target=srv.rebuild, args=({site / "x.md"},))
        builder.start()
        assert started.wait(5)
        t0 = time.perf_counter()
        status, _, body = request(srv, "/")
        waited = time.perf_counter() - t0
        builder.join()
    assert status == 200
    assert b"Home v2" in body and b"half" not in body
    assert waited > 0.3


def test_failed_rebuild_keeps_the_site_shows_the_overlay_then_recovers(site: Path) -> None:
    outcome: dict[str, Exception | None] = {"error": None}
    problems = [
        Problem("content/stories/a.md", 3, "missing title"),
        Problem("templates/story.html", 12, "unexpected '}' <script>alert(1)</script>"),
    ]

    def rebuild(changes: frozenset) -> None:
        if outcome["error"] is not None:
            raise outcome["error"]
        (site / "index.html").write_text("<html><body><h1>Home v3</h1></body></html>")

    log = Recorder()
    with PreviewServer(site, rebuild=rebuild, port=0, log=log) as srv:
        stream = EventStream(srv)
        hello = stream.next()
        assert hello[0] == "hello" and hello[1]["problems"] == []

        outcome["error"] = ContentError(problems)
        assert srv.rebuild({site / "content/stories/a.md"}) is False
        name, data = stream.next()
        assert name == "problems"
        assert data["problems"] == [str(p) for p in problems]
        status, _, body = request(srv, "/")
        assert status == 200 and b"Home v1" in body  # the last good site
        assert f'id="{OVERLAY_ID}"'.encode() in body
        assert b"content/stories/a.md:3: missing title" in body
        assert b"templates/story.html:12: unexpected &#x27;}&#x27; &lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert b"<script>alert(1)" not in body
        assert "content/stories/a.md:3: missing title" in log.text
        assert "templates/story.html:12:" in log.text
        late = EventStream(srv)  # a page opened now learns of the problems at once
        assert late.next()[1]["problems"] == [str(p) for p in problems]
        late.close()

        outcome["error"] = None
        assert srv.rebuild() is True
        name, data = stream.next()
        assert name == "reload" and data["site"] != hello[1]["site"]
        status, _, body = request(srv, "/")
        assert b"Home v3" in body and OVERLAY_ID.encode() not in body
        stream.close()


def test_an_unexpected_exception_is_reported_not_fatal(site: Path) -> None:
    def broken(changes: frozenset) -> None:
        raise RuntimeError("boom")

    log = Recorder()
    with PreviewServer(site, rebuild=broken, port=0, log=log) as srv:
        assert srv.rebuild() is False
        assert srv.problems == ("RuntimeError: boom",)
        assert b"RuntimeError: boom" in request(srv, "/")[2]
    assert "Traceback" in log.text


def test_port_in_use_moves_on_out_loud_or_says_so(site: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        log = Recorder()
        try:
            srv = PreviewServer(site, rebuild=_noop, port=port, port_tries=20, log=log)
        except PortInUse:
            pytest.skip("the next ports are taken too")
        try:
            assert srv.port != port
            assert f"port {port} is in use; serving on port {srv.port} instead" in log.text
        finally:
            srv.close()
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is in use"):
            PreviewServer(site, rebuild=_noop, port=port, port_tries=1, log=Recorder())


def test_binds_loopback_and_warns_on_all_interfaces(site: Path) -> None:
    log = Recorder()
    with PreviewServer(site, rebuild=_noop, port=0, log=log) as srv:
        assert srv.httpd.server_address[0] == "127.0.0.1"
    assert "all interfaces" not in log.text
    with PreviewServer(site, rebuild=_noop, host="0.0.0.0", port=0, log=log):
        pass
    assert "warning: serving on all interfaces" in log.text


def test_close_ends_streams_and_joins_threads(site: Path) -> None:
    before = threading.active_count()
    srv = PreviewServer(site, rebuild=_noop, port=0, log=Recorder(), keepalive=60).start()
    streams = [EventStream(srv) for _ in range(3)]
    for stream in streams:
        assert stream.next()[0] == "hello"
    t0 = time.perf_counter()
    srv.close()
    assert time.perf_counter() - t0 < 3
    assert threading.active_count() == before
    for stream in streams:
        assert stream.resp.fp.readline() == b""  # the server ended the stream
        stream.close()


# --- `digest serve` through the real CLI -----------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def _write_site(root: Path, toml: str = 'title = "CLI Digest"\n') -> Path:
    (root / "content" / "stories").mkdir(parents=True)
    (root / "content" / "topics").mkdir(parents=True)
    (root / "digest.toml").write_text(toml + "[related]\nenabled = false\n")
    (root / "content" / "stories" / "kept.md").write_text(
        "---\ntitle: Kept story\ndate: 2024-05-01\n---\nThe kept body.\n")
    (root / "content" / "stories" / "sketch.md").write_text(
        "---\ntitle: Sketch story\ndate: 2024-05-02\ndraft: true\n---\nA draft body.\n")
    (root / "content" / "stories" / "later.md").write_text(
        "---\ntitle: Later story\ndate: 2999-01-01\n---\nFrom the future.\n")
    return root


class Serve:
    """`python -m digest serve ARGS` in a subprocess, its output collected line by line."""

    def __init__(self, *args: str, expect_url: bool = True) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([*DIGEST_CTRL_C, "serve", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self.wait_for(r"at (http://\S+) ").group(1) if expect_url else ""

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if self.proc.poll() is not None:
                self._reader.join(2)
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in:\n" + "\n".join(self.lines))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._reader.join(5)


def _poll(check, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.05)


def test_cli_serves_a_preview_with_drafts_and_rebuilds_on_save(tmp_path: Path) -> None:
    root = _write_site(tmp_path / "site")
    serve = Serve("--site", str(root), "--port", "0")
    try:
        serve.wait_for(r"built in \d+ ms")
        status, body = serve.get("/stories/sketch/")
        assert status == 200 and "Sketch story" in body
        assert re.search(r">\s*draft\s*<", body), "a draft is marked as such"
        status, body = serve.get("/stories/later/")
        assert status == 200 and re.search(r">\s*future\s*<", body), "a future story is marked as such"
        assert not re.search(r">\s*(draft|future)\s*<", serve.get("/stories/kept/")[1])
        assert SCRIPT_PATH in serve.get("/stories/kept/")[1]
        assert not (root / "output").exists()
        assert "__digest__" not in (root / ".digest" / "preview" / "stories" / "kept" / "index.html").read_text()

        (root / "content" / "stories" / "kept.md").write_text(
            "---\ntitle: Kept story\ndate: 2024-05-01\n---\nThe rewritten body.\n")
        _poll(lambda: "The rewritten body." in serve.get("/stories/kept/")[1])
        serve.wait_for(r"changed: content/stories/kept\.md \(story\)")

        (root / "content" / "stories" / "kept.md").write_text("---\ntitle: [unclosed\n---\nx\n")
        _poll(lambda: OVERLAY_ID in serve.get("/stories/kept/")[1])
        status, body = serve.get("/stories/kept/")
        assert status == 200 and "The rewritten body." in body  # the last good build
        assert re.search(r"content/stories/kept\.md:\d+: ", body)
        serve.wait_for(r"^  .*content/stories/kept\.md:\d+: ")  # in the terminal too
    finally:
        code = serve.stop()
    assert code == 0 and serve.lines[-1] == "stopped", serve.lines


def test_cli_no_drafts_leaves_out_drafts_and_future_stories(tmp_path: Path) -> None:
    root = _write_site(tmp_path / "site")
    serve = Serve("--site", str(root), "--port", "0", "--no-drafts")
    try:
        serve.wait_for(r"built in \d+ ms")
        assert serve.get("/stories/kept/")[0] == 200
        assert serve.get("/stories/sketch/")[0] == 404
        assert serve.get("/stories/later/")[0] == 404
    finally:
        assert serve.stop() == 0


def test_cli_serves_under_base_path_and_follows_a_config_change(tmp_path: Path) -> None:
    root = _write_site(tmp_path / "site", 'title = "CLI Digest"\nbase_url = "https://example.org/news/"\n')
    serve = Serve("--site", str(root), "--port", "0")
    try:
        assert serve.url.endswith("/news/")
        serve.wait_for(r"built in \d+ ms")
        port = serve.url.split(":")[2].split("/")[0]
        origin = f"http://127.0.0.1:{port}"
        serve.url = origin
        assert serve.get("/news/stories/kept/")[0] == 200
        assert serve.get("/stories/kept/")[0] == 404
        links = re.findall(r'href="([^"]*stories/kept/[^"]*)"', serve.get("/news/")[1])
        assert links, "the index links the story"
        for link in links:  # links followed as a browser would land inside the base path
            target = urljoin(origin + "/news/", link)
            assert target.startswith(origin + "/news/stories/kept/"), target
            assert serve.get(target[len(origin):])[0] == 200
        (root / "digest.toml").write_text('title = "CLI Digest"\nbase_url = "https://example.org/daily/"\n'
                                          "[related]\nenabled = false\n")
        serve.wait_for(r"base path is now /daily/")
        assert serve.get("/daily/stories/kept/")[0] == 200
        assert serve.get("/news/stories/kept/")[0] == 404
    finally:
        assert serve.stop() == 0


def test_cli_port_in_use_moves_on_out_loud(tmp_path: Path) -> None:
    root = _write_site(tmp_path / "site")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = Serve("--site", str(root), "--port", str(port))
        try:
            match = serve.wait_for(rf"port {port} is in use; serving on port (\d+) instead")
            assert serve.url == f"http://127.0.0.1:{match.group(1)}/"
            assert serve.get("/")[0] == 200
        finally:
            assert serve.stop() == 0


def test_cli_errors_before_serving(tmp_path: Path) -> None:
    missing = Serve("--site", str(tmp_path / "nowhere"), expect_url=False)
    assert missing.proc.wait(10) == 2
    missing.wait_for(r"nowhere: no such folder")
    (tmp_path / "empty").mkdir()
    not_a_site = Serve("--site", str(tmp_path / "empty"), expect_url=False)
    assert not_a_site.proc.wait(10) == 1
    not_a_site.wait_for(r"digest\.toml: no digest\.toml here")


def test_cli_a_broken_config_at_start_is_shown_not_fatal(tmp_path: Path) -> None:
    root = _write_site(tmp_path / "site", 'title = "CLI Digest"\nstories_per_page = "many"\n')
    serve = Serve("--site", str(root), "--port", "0")
    try:
        serve.wait_for(r"build failed")
        status, body = serve.get("/")
        assert status == 404 and OVERLAY_ID in body and "digest.toml:2: " in body
        (root / "digest.toml").write_text('title = "CLI Digest"\n[related]\nenabled = false\n')
        _poll(lambda: serve.get("/")[0] == 200)
        assert OVERLAY_ID not in serve.get("/")[1]
    finally:
        assert serve.stop() == 0


def test_close_during_a_rebuild_releases_waiting_requests(site: Path) -> None:
    release = threading.Event()

    def stuck_rebuild(changes: frozenset) -> None:
        release.wait(10)

    srv = PreviewServer(site, rebuild=stuck_rebuild, port=0, log=Recorder()).start()
    builder = threading.Thread(target=srv.rebuild)
    builder.start()
    while not srv.busy:
        time.sleep(0.01)
    result: dict[str, int] = {}
    waiter = threading.Thread(target=lambda: result.setdefault("status", request(srv, "/")[0]))
    waiter.start()
    time.sleep(0.3)
    assert "status" not in result  # waiting for the build
    t0 = time.perf_counter()
    srv.close()
    assert time.perf_counter() - t0 < 3
    waiter.join(5)
    assert result["status"] == 503
    release.set()
    builder.join(5)
