"""Fetching a page over HTTP(S): timeout, size limit, bounded redirects, gzip, charset.

The only place ingest touches the network. Every failure is an IngestError naming the URL.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from email.message import Message

from digest import __version__
from digest.errors import IngestError, Problem

USER_AGENT = (
    f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/124.0 Safari/537.36 digest/{__version__}"
)
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchResult:
    """A fetched page: the final URL after redirects, its bytes (decompressed) and headers."""

    url: str
    status: int
    content_type: str | None  # the full Content-Type header
    charset: str | None  # from the Content-Type header
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib hook
        return None  # redirects are followed by `fetch` itself, counted


def _fail(url: str, message: str) -> IngestError:
    return IngestError(Problem(url, None, message))


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(url, "only http:// and https:// URLs can be fetched")


def _read_body(response, url: str, max_bytes: int, deadline: float) -> bytes:
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise _fail(url, f"page too large: {int(length)} bytes (limit {max_bytes})")
    inflater = None
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    elif encoding not in ("", "identity"):
        raise _fail(url, f"unsupported Content-Encoding: {encoding}")
    out = bytearray()
    while True:
        if time.monotonic() > deadline:
            raise _fail(url, "timed out while reading the page")
        chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
        if not chunk:
            break
        if inflater is not None:
            try:
                chunk = inflater.decompress(chunk, max_bytes + 1 - len(out))
            except zlib.error as exc:
                raise _fail(url, f"corrupt compressed body: {exc}") from None
        out += chunk
        if len(out) > max_bytes:
            raise _fail(url, f"page too large: more than {max_bytes} bytes")
    if inflater is not None:
        out += inflater.flush()
        if len(out) > max_bytes:
            raise _fail(url, f"page too large: more than {max_bytes} bytes")
    return bytes(out)


def fetch(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    user_agent: str = USER_AGENT,
) -> FetchResult:
    """GET `url`, following at most `max_redirects` redirects, within `timeout` seconds overall."""
    opener = urllib.request.build_opener(_NoRedirect)
    deadline = time.monotonic() + timeout
    current, seen = url, []
    for _hop in range(max_redirects + 1):
        _check_url(current)
        seen.append(current)
        request = urllib.request.Request(current, headers={
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
            "Accept-Language": "en;q=0.9, *;q=0.5",
        })
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _fail(url, f"timed out after {timeout:g} s")
        try:
            response = opener.open(request, timeout=remaining)
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
                exc.close()
                current = urllib.parse.urljoin(current, exc.headers["Location"])
                if current in seen:
                    raise _fail(url, f"redirect loop at {current}") from None
                continue
            exc.close()
            raise _fail(url, f"HTTP error {exc.code} {exc.reason}".rstrip()) from None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                raise _fail(url, f"timed out after {timeout:g} s") from None
            raise _fail(url, f"cannot fetch: {reason}") from None
        with response:
            try:
                body = _read_body(response, url, max_bytes, deadline)
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                if isinstance(exc, TimeoutError) or "timed out" in str(exc):
                    raise _fail(url, f"timed out after {timeout:g} s") from None
                raise _fail(url, f"connection failed while reading: {exc}") from None
            content_type = response.headers.get("Content-Type")
            message = Message()
            if content_type:
                message["Content-Type"] = content_type
            charset = message.get_param("charset") if content_type else None
            return FetchResult(url=response.geturl() or current, status=response.status,
                               content_type=content_type, charset=str(charset) if charset else None, body=body)
    raise _fail(url, f"too many redirects (more than {max_redirects})")
