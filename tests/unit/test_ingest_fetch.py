"""URL fetching against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from digest.errors import IngestError
from digest.ingest.fetch import USER_AGENT, fetch

PAGE = "<html><head><title>Ñandú</title></head><body><p>Grüße aus Phnom Penh.</p></body></html>"
SEEN: dict[str, str] = {}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (timeouts, size limits)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        SEEN["user-agent"] = self.headers.get("User-Agent", "")
        path = self.path
        if path == "/page":
            self._send(200, PAGE.encode("iso-8859-1"), {"Content-Type": "text/html; charset=ISO-8859-1"})
        elif path == "/gzip":
            self._send(200, gzip.compress(PAGE.encode("utf-8")),
                       {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
        elif path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            target = "/page" if n == 0 else f"/hop/{n - 1}"
            self._send(302, b"", {"Location": target})
        elif path == "/loop-a":
            self._send(301, b"", {"Location": "/loop-b"})
        elif path == "/loop-b":
            self._send(301, b"", {"Location": "/loop-a"})
        elif path == "/missing":
            self._send(404, b"not here", {"Content-Type": "text/plain"})
        elif path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"x" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/bomb":
            self._send(200, gzip.compress(b"a" * (8 * 1024 * 1024)),
                       {"Content-Type": "text/html", "Content-Encoding": "gzip"})
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late", {"Content-Type": "text/html"})
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(30):
                    self.wfile.write(b"<p>drip</p>")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_page_with_charset_and_user_agent(server: str) -> None:
    result = fetch(f"{server}/page")
    assert result.status == 200 and result.charset == "ISO-8859-1"
    assert result.body.decode(result.charset) == PAGE
    assert SEEN["user-agent"] == USER_AGENT and "Mozilla/5.0" in USER_AGENT and "digest/" in USER_AGENT


def test_gzip_is_decompressed(server: str) -> None:
    assert fetch(f"{server}/gzip").body.decode("utf-8") == PAGE


def test_bounded_redirects(server: str) -> None:
    result = fetch(f"{server}/hop/3", max_redirects=5)
    assert result.url == f"{server}/page" and result.status == 200
    with pytest.raises(IngestError, match="too many redirects"):
        fetch(f"{server}/hop/9", max_redirects=5)


def test_redirect_loop(server: str) -> None:
    with pytest.raises(IngestError, match=r"/loop-a: redirect loop"):
        fetch(f"{server}/loop-a")


def test_http_error_names_the_url(server: str) -> None:
    with pytest.raises(IngestError) as caught:
        fetch(f"{server}/missing")
    assert str(caught.value) == f"{server}/missing: HTTP error 404 Not Found"


def test_size_limits(server: str) -> None:
    with pytest.raises(IngestError, match="page too large"):
        fetch(f"{server}/huge", max_bytes=1024 * 1024)
    with pytest.raises(IngestError, match="page too large"):
        fetch(f"{server}/bomb", max_bytes=1024 * 1024)


def test_slow_server_times_out(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(IngestError, match="timed out"):
        fetch(f"{server}/slow", timeout=0.5)
    with pytest.raises(IngestError, match="timed out"):
        fetch(f"{server}/trickle", timeout=0.5)
    assert time.monotonic() - started < 2.5


def test_refused_and_unsupported(server: str) -> None:
    with pytest.raises(IngestError, match="only http"):
        fetch("file:///etc/passwd")
    with pytest.raises(IngestError, match="cannot fetch"):
        fetch("http://127.0.0.1:9/nothing", timeout=2)
