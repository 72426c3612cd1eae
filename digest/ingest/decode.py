"""Bytes of a saved or fetched HTML page -> text, whatever its encoding."""

from __future__ import annotations

import codecs
import re

MAX_HTML_BYTES = 20 * 1024 * 1024  # larger pages are refused, not parsed

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels that browsers (WHATWG Encoding Standard) read as a wider encoding.
_WHATWG_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "x-mac-roman": "mac_roman",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)


def normalise_encoding(label: str | None) -> str | None:
    """A charset label as found in a page -> a Python codec name, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _WHATWG_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        # a page that declares UTF-16 in ASCII-readable markup is not UTF-16 (WHATWG)
        return "utf-8"
    return name


def declared_encoding(data: bytes, content_type: str | None = None) -> str | None:
    """The encoding a page declares: BOM, then HTTP Content-Type, then <?xml>/<meta> in its head."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    if content_type:
        m = _CT_CHARSET.search(content_type)
        enc = normalise_encoding(m.group(1)) if m else None
        if enc:
            return enc
    head = data[:8192]
    m = _XML_DECL.match(head)
    if m:
        enc = normalise_encoding(m.group(1).decode("ascii"))
        if enc:
            return enc
    # <meta charset=...> and <meta http-equiv="Content-Type" content="...; charset=...">
    for m in _META_CHARSET.finditer(head):
        enc = normalise_encoding(m.group(1).decode("ascii"))
        if enc:
            return enc
    return None


_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))
_ASCII = bytes(range(0x80))


def looks_binary(data: bytes) -> bool:
    """True when the bytes are no text at all (an image, archive, PDF... renamed .html)."""
    sample = data[:4096]
    if not sample:
        return False
    for bom, _ in _BOMS:
        if sample.startswith(bom):
            return False
    if sample.startswith((b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\x7fELF")):
        return True
    controls = len(sample.translate(None, _NOT_CONTROL))  # the bytes < 9 or 14-31, counted in C
    return controls > len(sample) * 0.05


# Undeclared non-UTF-8 text is read as windows-1252 (the WHATWG default for Western locales);
# a statistical guess is trusted only for scripts cp1252 cannot be, and on enough evidence.
_TRUSTED_GUESSES = frozenset({
    "cp932", "shift_jis", "euc_jp", "iso2022_jp", "gb18030", "gb2312", "gbk", "big5", "big5hkscs",
    "euc_kr", "cp949", "cp1251", "koi8_r", "koi8_u", "cp866", "iso8859_5", "mac_cyrillic",
    "cp1253", "iso8859_7", "cp1255", "iso8859_8", "cp1256", "iso8859_6", "cp874", "tis_620",
})


def _sniff(data: bytes) -> str:
    """Guess the encoding of undeclared, non-UTF-8 bytes."""
    sample = data[:200_000]
    if len(sample.translate(None, _ASCII)) < 16:  # fewer than 16 non-ASCII bytes
        return "cp1252"
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - charset-normalizer comes with trafilatura
        return "cp1252"
    best = from_bytes(sample).best()
    enc = normalise_encoding(best.encoding) if best is not None and best.encoding else None
    return enc if enc in _TRUSTED_GUESSES else "cp1252"


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Decode a page's bytes to text: BOM, Content-Type, <meta charset>/http-equiv, else sniff.

    A declaration that the bytes contradict (e.g. "utf-8" over windows-1252 bytes) is
    overruled; undecodable bytes become U+FFFD rather than an error.
    """
    enc = declared_encoding(data, content_type)
    body = data
    for bom, bom_enc in _BOMS:
        if data.startswith(bom) and enc == bom_enc:
            body = data[len(bom):]
            break
    if enc:
        try:
            return body.decode(enc)
        except UnicodeDecodeError:
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if enc and enc != "utf-8":
        return body.decode(enc, errors="replace")
    return body.decode(_sniff(body), errors="replace")
