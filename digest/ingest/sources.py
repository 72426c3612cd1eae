"""What a SOURCE argument is (file, folder, URL) and how it becomes an `Extracted` article.

Reads files and, through `fetch`, the network; the extraction itself is pure.
"""

from __future__ import annotations

import importlib
import inspect
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from digest.errors import IngestError, Problem
from digest.ingest.extracted import Extracted
from digest.ingest.fetch import FetchResult, fetch
from digest.ingest.markdown_source import parse_markdown_source
from digest.ingest.text import extract_text

MAX_FILE_BYTES = 20 * 1024 * 1024
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz")
TEXT_SUFFIXES = (".txt", ".txt.gz")
MARKDOWN_SUFFIXES = (".md", ".markdown")
SUFFIXES = HTML_SUFFIXES + TEXT_SUFFIXES + MARKDOWN_SUFFIXES
_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x7fELF", b"MZ", b"RIFF",
                 b"\x00\x00\x01\x00", b"OggS", b"ID3", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf")


@dataclass(frozen=True)
class Loaded:
    """An article read from one source, with the licence its source declared (Markdown only)."""

    origin: str
    extracted: Extracted
    license: str | None = None


def is_url(source: str) -> bool:
    """True for http(s) URLs."""
    return source.lower().startswith(("http://", "https://"))


def _supported(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(SUFFIXES) and not name.endswith(".incoming.md") and not name.startswith(".")


def expand_sources(sources: list[str]) -> list[str]:
    """Each SOURCE as a list of items: URLs as given, folders as their supported files (sorted)."""
    items: list[str] = []
    for source in sources:
        if is_url(source):
            items.append(source)
            continue
        path = Path(source)
        if path.is_dir():
            items.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file() and _supported(p))
        else:
            items.append(source)
    return items


def _html_extractor() -> Callable:
    try:
        module = importlib.import_module("digest.ingest.html")
    except ImportError as exc:
        raise IngestError(Problem("digest.ingest.html", None, f"HTML extraction is not available: {exc}")) from None
    return module.extract_html


def _decode_html(data: bytes, content_type: str | None) -> str | bytes:
    """HTML bytes decoded with the charset of the HTTP headers (bytes left to the extractor otherwise)."""
    if not content_type:
        return data
    try:
        module = importlib.import_module("digest.ingest.decode")
    except ImportError:
        return data
    return module.decode_html(data, content_type)


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Bytes of a text file as str: BOM, then the declared charset, then UTF-8, then Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _check_binary(data: bytes, origin: str, text_only: bool) -> None:
    if data.startswith(_BINARY_MAGIC):
        raise IngestError(Problem(origin, None, "binary file, not a page or text"))
    if text_only and b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(Problem(origin, None, "binary file, not text"))


def _gunzip(data: bytes, origin: str) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_FILE_BYTES + 1)
    except zlib.error as exc:
        raise IngestError(Problem(origin, None, f"not a valid gzip file: {exc}")) from None
    if len(out) > MAX_FILE_BYTES:
        raise IngestError(Problem(origin, None, f"file too large uncompressed (limit {MAX_FILE_BYTES} bytes)"))
    return out


def read_file(path: Path) -> bytes:
    """A source file's bytes (gunzipped for `.gz`), within the size limit."""
    origin = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IngestError(Problem(origin, None, f"file too large: {size} bytes (limit {MAX_FILE_BYTES})"))
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(Problem(origin, None, "no such file or folder")) from None
    except IsADirectoryError:
        raise IngestError(Problem(origin, None, "is a folder")) from None
    except OSError as exc:
        raise IngestError(Problem(origin, None, f"cannot read: {exc.strerror or exc}")) from None
    if path.name.lower().endswith(".gz") or data.startswith(b"\x1f\x8b"):
        data = _gunzip(data, origin)
    if not data.strip():
        raise IngestError(Problem(origin, None, "empty file"))
    return data


def _from_html(data: bytes, content_type: str | None, url: str | None, origin: str) -> Extracted:
    extract_html = _html_extractor()
    _check_binary(data, origin, text_only=False)
    page = _decode_html(data, content_type)
    if "where" in inspect.signature(extract_html).parameters:
        return extract_html(page, url, where=origin)
    return extract_html(page, url)


def load_source(item: str, url: str | None = None,
                fetcher: Callable[[str], FetchResult] = fetch) -> Loaded:
    """Read and extract one item (a file path or an http(s) URL); IngestError on any failure."""
    if is_url(item):
        result = fetcher(item)
        page_url = url or result.url
        if not result.body.strip():
            raise IngestError(Problem(item, None, "empty page"))
        kind = (result.content_type or "").split(";")[0].strip().lower()
        if kind == "text/plain":
            return Loaded(item, extract_text(decode_text(result.body, result.charset), page_url))
        if kind and not ("html" in kind or "xml" in kind):
            raise IngestError(Problem(item, None, f"not a web page (Content-Type {kind})"))
        return Loaded(item, _from_html(result.body, result.content_type, page_url, item))
    path = Path(item)
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        if path.is_dir():
            raise IngestError(Problem(item, None, "is a folder"))
        if not path.exists():
            raise IngestError(Problem(item, None, "no such file or folder"))
        raise IngestError(Problem(item, None, "unsupported file type (expected .html, .htm, .txt, .md or .gz)"))
    data = read_file(path)
    if name.endswith(MARKDOWN_SUFFIXES):
        _check_binary(data, item, text_only=True)
        parsed = parse_markdown_source(decode_text(data), item)
        return Loaded(item, parsed.extracted, parsed.license)
    if name.endswith(TEXT_SUFFIXES):
        _check_binary(data, item, text_only=True)
        return Loaded(item, extract_text(decode_text(data), url))
    return Loaded(item, _from_html(data, None, url, item))
