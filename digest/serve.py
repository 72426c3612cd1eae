"""The preview server: a built site folder over HTTP with live reload and an error overlay.

It imports nothing from the build pipeline. It is given a `rebuild` callable:

    rebuild(changes: frozenset) -> None

which returns on success (the folder now holds the new site) and raises on failure, leaving
the folder as it was. When the exception has a `.problems` attribute (as
`digest.errors.DigestError` has), each item's `str()` (`path:line: message`) is one line of
the overlay; any other exception becomes one line naming its type.

Requests wait while a rebuild runs, so a page is never read half-written. After each good
rebuild every open page reloads (Server-Sent Events on `/__digest__/events`, listened to by
`/__digest__/live.js`, which is injected into served HTML only, never into files on disk).
After a failed one every open page shows the errors over the last good site.
"""

from __future__ import annotations

import errno
import html
import json
import mimetypes
import os
import queue
import select
import socket
import sys
import threading
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable, Iterator
from urllib.parse import unquote, urlsplit

RESERVED = "/__digest__/"
EVENTS_PATH = RESERVED + "events"
SCRIPT_PATH = RESERVED + "live.js"
OVERLAY_ID = "__digest_overlay__"
ALL_INTERFACES = ("0.0.0.0", "::", "")

Rebuild = Callable[[frozenset], None]
Log = Callable[[str], None]

# Content types by suffix; the rest come from Python's built-in table (not the system's).
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
}
_BUILTIN_TYPES = mimetypes.MimeTypes()
_TEXT_APPLICATION = ("application/json", "application/xml", "application/javascript", "application/manifest+json")


def content_type(name: str) -> str:
    """The Content-Type for a file name, with `charset=utf-8` for text types."""
    suffix = os.path.splitext(name)[1].lower()
    ctype = _TYPES.get(suffix) or _BUILTIN_TYPES.guess_type("x" + suffix, strict=False)[0]
    ctype = ctype or "application/octet-stream"
    if ctype.startswith("text/") or ctype in _TEXT_APPLICATION or ctype.endswith("+xml") or ctype.endswith("+json"):
        return f"{ctype}; charset=utf-8"
    return ctype


def base_path_of(base_url: str | None) -> str:
    """The path part of a base URL, with leading and trailing slashes (`/` when none)."""
    path = urlsplit(base_url or "/").path.strip("/")
    return f"/{path}/" if path else "/"


@dataclass(frozen=True)
class Target:
    """Where a request goes: a file to serve (200), a redirect (301/302) or an error (400/404)."""

    status: int
    file: Path | None = None
    location: str | None = None


def locate(raw_target: str, root: Path, base_path: str = "/") -> Target:
    """Map a raw request target to a file strictly inside `root` (symlinks resolved), or refuse.

    `..` and `.` segments, empty segments, backslashes, NUL and control characters, invalid
    percent-encoding and anything resolving outside `root` are refused; directories redirect to
    their slash form when they hold an index.html, and are served as that file.
    """
    raw_path, _, query = raw_target.partition("?")
    raw_path = raw_path.partition("#")[0]
    suffix = f"?{query}" if query else ""
    if not raw_path.startswith("/"):
        return Target(HTTPStatus.BAD_REQUEST)
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        return Target(HTTPStatus.BAD_REQUEST)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        return Target(HTTPStatus.BAD_REQUEST)
    if "\\" in path:
        return Target(HTTPStatus.NOT_FOUND)
    if base_path != "/":
        if path == "/":
            return Target(HTTPStatus.FOUND, location=base_path)
        if path == base_path.rstrip("/"):
            return Target(HTTPStatus.MOVED_PERMANENTLY, location=base_path + suffix)
        if not path.startswith(base_path):
            return Target(HTTPStatus.NOT_FOUND)
    rest = path[len(base_path):]
    slash = rest == "" or rest.endswith("/")
    parts = rest.split("/")
    if slash:
        parts = parts[:-1]
    if any(part in ("", ".", "..") for part in parts):
        return Target(HTTPStatus.NOT_FOUND)
    real_root = os.path.realpath(root)
    candidate = _inside(real_root, os.path.join(real_root, *parts))
    if candidate is None:
        return Target(HTTPStatus.NOT_FOUND)
    if os.path.isdir(candidate):
        index = _inside(real_root, os.path.join(candidate, "index.html"))
        if index is None or not os.path.isfile(index):
            return Target(HTTPStatus.NOT_FOUND)
        if not slash:
            return Target(HTTPStatus.MOVED_PERMANENTLY, location=raw_path + "/" + suffix)
        return Target(HTTPStatus.OK, file=Path(index))
    if os.path.isfile(candidate) and not slash:
        return Target(HTTPStatus.OK, file=Path(candidate))
    return Target(HTTPStatus.NOT_FOUND)


def _inside(real_root: str, path: str) -> str | None:
    """`path` with symlinks resolved when it stays inside `real_root`, else None."""
    real = os.path.realpath(path)
    if real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep):
        return real
    return None


def inject(page: bytes, snippet: bytes) -> bytes:
    """`page` with `snippet` inserted before its last `</body>` (appended when there is none)."""
    at = page.lower().rfind(b"</body")
    if at < 0:
        return page + snippet
    return page[:at] + snippet + page[at:]


def overlay_markup(problems: Iterable[str]) -> str:
    """The error overlay as HTML (the live script redraws the same structure in the browser)."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in problems)
    return (
        f'<div id="{OVERLAY_ID}" role="alert" style="position:fixed;inset:0;z-index:2147483647;'
        "overflow:auto;background:rgba(20,0,0,.92);color:#fff;font:14px/1.5 monospace;"
        'padding:2rem;white-space:pre-wrap">'
        "<strong>digest: the build failed. Pages shown are from the last good build, if any.</strong>"
        f"<ul>{items}</ul></div>"
    )


def problems_of(exc: BaseException) -> tuple[str, ...]:
    """The overlay lines of a failed rebuild: each `.problem`'s str(), else the exception."""
    problems = getattr(exc, "problems", None)
    if problems:
        return tuple(str(problem) for problem in problems)
    return (f"{type(exc).__name__}: {exc}",)


LIVE_SCRIPT = """(function () {
  "use strict";
  var me = document.currentScript;
  var site = me.getAttribute("data-site");
  var ID = "%(overlay)s";
  function overlay(problems) {
    var old = document.getElementById(ID);
    if (old) old.remove();
    if (!problems.length) return;
    var box = document.createElement("div");
    box.id = ID;
    box.setAttribute("role", "alert");
    var s = box.style;
    s.position = "fixed"; s.inset = "0"; s.zIndex = "2147483647"; s.overflow = "auto";
    s.background = "rgba(20,0,0,.92)"; s.color = "#fff"; s.font = "14px/1.5 monospace";
    s.padding = "2rem"; s.whiteSpace = "pre-wrap";
    var head = document.createElement("strong");
    head.textContent = "digest: the build failed. Pages shown are from the last good build, if any.";
    box.appendChild(head);
    var list = document.createElement("ul");
    problems.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    box.appendChild(list);
    document.body.appendChild(box);
  }
  var events = new EventSource("%(events)s");
  events.addEventListener("hello", function (e) {
    var state = JSON.parse(e.data);
    if (state.site !== site) { events.close(); location.reload(); return; }
    overlay(state.problems);
  });
  events.addEventListener("reload", function () { events.close(); location.reload(); });
  events.addEventListener("problems", function (e) { overlay(JSON.parse(e.data).problems); });
})();
""" % {"overlay": OVERLAY_ID, "events": EVENTS_PATH}


class _State:
    """The site's generation and current problems; readers wait while a rebuild holds it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._building = False
        self._readers = 0
        self.closing = False
        self.instance = uuid.uuid4().hex[:8]
        self.generation = 0
        self.problems: tuple[str, ...] = ()

    @property
    def site(self) -> str:
        return f"{self.instance}-{self.generation}"

    @contextmanager
    def reading(self, timeout: float) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Wait for any rebuild to finish, then hold the site stable while reading it."""
        with self._cond:
            self._cond.wait_for(lambda: not self._building or self.closing, timeout=timeout)
            self._readers += 1
            snapshot = (self.site, self.problems)
        try:
            yield snapshot
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def building(self) -> Iterator[None]:
        """Hold the site exclusively: new requests wait, running reads finish first."""
        with self._cond:
            self._cond.wait_for(lambda: not self._building)
            self._building = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._building = False
                self._cond.notify_all()

    def close(self) -> None:
        """Release every waiting request (the server is stopping)."""
        with self._cond:
            self.closing = True
            self._cond.notify_all()

    def snapshot(self) -> tuple[str, tuple[str, ...]]:
        with self._cond:
            return self.site, self.problems


class _Clients:
    """The open event streams; each gets its own queue of (event, data) messages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: set[queue.Queue] = set()

    def add(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        with self._lock:
            self._queues.add(q)
        return q

    def remove(self, q: queue.Queue) -> None:
        with self._lock:
            self._queues.discard(q)

    def send(self, message: tuple[str, dict] | None) -> None:
        with self._lock:
            targets = list(self._queues)
        for q in targets:
            q.put(message)

    def __len__(self) -> int:
        with self._lock:
            return len(self._queues)


class PortInUse(OSError):
    """No port could be bound in the range tried."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every request thread
    block_on_close = True
    preview: "PreviewServer"


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class PreviewServer:
    """An HTTP server over `root` (served under `base_path`), with live reload.

    `rebuild(changes)` is called by `rebuild()` (see the module docstring for its contract).
    The port is bound at construction; when `port` is taken and `port_tries` > 1 the next
    free port is used and said in the log. `port=0` picks any free port.
    """

    def __init__(
        self,
        root: Path,
        *,
        rebuild: Rebuild,
        base_path: str = "/",
        host: str = "127.0.0.1",
        port: int = 8000,
        port_tries: int = 10,
        log: Log | None = None,
        wait_timeout: float = 120.0,
        keepalive: float = 15.0,
    ) -> None:
        self.root = Path(root)
        self.base_path = base_path_of(base_path)
        self._rebuild = rebuild
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._wait_timeout = wait_timeout
        self._keepalive = keepalive
        self._state = _State()
        self._clients = _Clients()
        self._rebuild_lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.httpd = self._bind(host, port, port_tries)
        self.httpd.preview = self
        if host in ALL_INTERFACES:
            self._log(f"warning: serving on all interfaces ({host or '*'}): anyone on your network can read this preview")

    def _bind(self, host: str, port: int, tries: int) -> _HTTPServer:
        cls = _HTTPServer6 if ":" in host else _HTTPServer
        last = None
        for candidate in range(port, port + max(tries, 1)) if port else (0,):
            try:
                httpd = cls((host, candidate), _Handler)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                last = exc
                continue
            if candidate != port:
                self._log(f"port {port} is in use; serving on port {httpd.server_address[1]} instead")
            return httpd
        span = f"{port}" if tries <= 1 else f"{port}-{port + tries - 1}"
        raise PortInUse(errno.EADDRINUSE, f"port {span} on {host} is in use; choose another with --port") from last

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        """The preview's address (the base path included)."""
        host = self.httpd.server_address[0]
        if host in ALL_INTERFACES:
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{self.base_path}"

    @property
    def problems(self) -> tuple[str, ...]:
        """The errors of the last rebuild (empty after a good one)."""
        return self._state.snapshot()[1]

    @property
    def busy(self) -> bool:
        """True while a rebuild runs."""
        return self._rebuild_lock.locked()

    @property
    def open_pages(self) -> int:
        """How many pages are listening for reloads right now."""
        return len(self._clients)

    @property
    def generation(self) -> int:
        """How many rebuilds have succeeded."""
        return self._state.generation

    def rebuild(self, changes: Iterable = ()) -> bool:
        """Run the rebuild callable while requests wait; tell every open page. True on success."""
        changes = frozenset(changes)
        with self._rebuild_lock:
            started = time.perf_counter()
            with self._state.building():
                try:
                    self._rebuild(changes)
                except Exception as exc:  # reported to the terminal and the overlay, never fatal
                    problems = problems_of(exc)
                    if not hasattr(exc, "problems"):
                        self._log("".join(traceback.format_exception(exc)).rstrip())
                else:
                    problems = ()
                    self._state.generation += 1
                self._state.problems = problems
                site = self._state.site
            elapsed = (time.perf_counter() - started) * 1000
            if problems:
                self._log(f"build failed ({len(problems)} problem{'s' if len(problems) != 1 else ''}); still serving the last good build:")
                for line in problems:
                    self._log(f"  {line}")
                self._clients.send(("problems", {"site": site, "problems": list(problems)}))
            else:
                self._log(f"built in {elapsed:.0f} ms; reloading {len(self._clients)} page(s)")
                self._clients.send(("reload", {"site": site}))
            return not problems

    def start(self) -> "PreviewServer":
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="digest-serve")
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving: end the event streams, stop the loop, join every thread, close the socket."""
        self._closing.set()
        self._state.close()
        self._clients.send(None)
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> "PreviewServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"
    server_version = "digest-preview"
    sys_version = ""
    timeout = 30  # a stalled client cannot hold a thread (or Ctrl-C) for long

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Quiet: only errors reach the terminal (via log_error -> here with a 4xx/5xx)."""

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, *, head: bool) -> None:
        preview = self.server.preview
        path = self.path.partition("?")[0]
        if path == EVENTS_PATH and not head:
            self._events(preview)
            return
        if path == SCRIPT_PATH:
            self._send(HTTPStatus.OK, LIVE_SCRIPT.encode(), content_type(SCRIPT_PATH), head)
            return
        with preview._state.reading(preview._wait_timeout) as (site, problems):
            if preview._closing.is_set():
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"the preview server is stopping\n",
                           content_type("x.txt"), head)
                return
            target = locate(self.path, preview.root, preview.base_path)
            if target.status == HTTPStatus.OK and target.file is not None:
                status, file = HTTPStatus.OK, target.file
            elif target.status == HTTPStatus.NOT_FOUND:
                page = _inside(os.path.realpath(preview.root), os.path.join(preview.root, "404.html"))
                status, file = HTTPStatus.NOT_FOUND, (Path(page) if page and os.path.isfile(page) else None)
            else:
                status, file = target.status, None
            body = file.read_bytes() if file is not None else None
        if target.location is not None:
            self._send(target.status, b"", "text/plain; charset=utf-8", head, location=target.location)
            return
        if body is None:
            message = HTTPStatus(status).phrase
            body = f"<!doctype html><title>{status} {message}</title><body><h1>{status} {message}</h1></body>".encode()
            ctype = content_type("404.html")
        else:
            ctype = content_type(file.name)
        if ctype.startswith("text/html"):
            snippet = overlay_markup(problems) if problems else ""
            snippet += f'<script src="{SCRIPT_PATH}" data-site="{site}" async></script>'
            body = inject(body, snippet.encode())
        self._send(status, body, ctype, head)

    def _send(self, status: int, body: bytes, ctype: str, head: bool, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if location is not None:
            self.send_header("Location", location)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self, preview: PreviewServer) -> None:
        """A Server-Sent Events stream: `hello` with the current state, then `reload`/`problems`."""
        q = preview._clients.add()
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            site, problems = preview._state.snapshot()
            self._event("hello", {"site": site, "problems": list(problems)}, retry=500)
            quiet_since = time.monotonic()
            while not preview._closing.is_set():
                try:
                    message = q.get(timeout=min(preview._keepalive, 0.25))
                except queue.Empty:
                    if self._client_gone():
                        return
                    if time.monotonic() - quiet_since >= preview._keepalive:
                        self.wfile.write(b": keepalive\n\n")
                        self.wfile.flush()
                        quiet_since = time.monotonic()
                    continue
                if message is None:
                    break
                self._event(*message)
                quiet_since = time.monotonic()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return  # the page went away: the stream simply ends (finally still unregisters it)
        finally:
            preview._clients.remove(q)
            self.close_connection = True

    def _client_gone(self) -> bool:
        """True when the page closed its end of the stream (so it stops counting as open)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _event(self, name: str, data: dict, retry: int | None = None) -> None:
        head = f"retry: {retry}\n" if retry is not None else ""
        self.wfile.write(f"{head}event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()
