"""The HTML path of ingest: page bytes or text -> `Extracted` (metadata + clean Markdown body).

Pure: no file, network or clock access; the caller reads the page (and un-gzips it).
"""

from __future__ import annotations

import re

from lxml import etree

from digest.errors import IngestError, Problem
from digest.ingest.boilerplate import remove_furniture
from digest.ingest.content import collect_figures, figure_captions, insert_figures, main_content
from digest.ingest.decode import MAX_HTML_BYTES, decode_html, looks_binary
from digest.ingest.extracted import Extracted
from digest.ingest.metadata import Metadata, extract_metadata
from digest.ingest.tomarkdown import Options, all_text, fragment_to_markdown

__all__ = ["decode_html", "extract_html", "extract_for_eval", "parse_html", "MIN_ARTICLE_CHARS"]

MIN_ARTICLE_CHARS = 80  # less text than this (outside links) is no article
MAX_DEPTH = 1000  # deeper markup is hostile or broken; extraction time would grow with it


def _fail(where: str, message: str) -> IngestError:
    return IngestError(Problem(where, None, message))


_PARSER = None
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20))
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*>")


def xml_safe_utf8(text: str) -> bytes:
    """The text as UTF-8 without the characters XML cannot hold (C0 controls but tab and
    newlines, U+FFFE, U+FFFF, lone surrogates) and without a leading XML declaration."""
    data = text.encode("utf-8", "ignore")  # "ignore" drops lone surrogates, all UTF-8 cannot encode
    data = data.translate(None, _CONTROL_BYTES)  # in UTF-8 these bytes are only these characters
    if b"\xef\xbf" in data:
        data = data.replace(b"\xef\xbf\xbe", b"").replace(b"\xef\xbf\xbf", b"")
    # an XML declaration would contradict the encoding the bytes are given in
    return _XML_DECL.sub(b"", data, count=1)


def parse_html(text: str):
    """Parse page text into an lxml.html tree, or None.

    Lenient: truncated or broken markup is repaired by libxml2, and deep nesting is allowed
    (huge_tree) instead of being cut off; characters XML cannot hold are dropped.
    """
    global _PARSER
    from lxml import html as lxml_html

    if _PARSER is None:
        _PARSER = lxml_html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True,
                                       collect_ids=False, default_doctype=False, encoding="utf-8")
        # every element is a plain HtmlElement: lxml.html's per-tag lookup (form and input
        # classes, unused here) is Python code run for each element touched, a tenth of the time
        _PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
            element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
            pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity))
    try:
        tree = lxml_html.document_fromstring(xml_safe_utf8(text), parser=_PARSER)
    except (ValueError, etree.ParserError):
        return None
    return tree


# an element MAX_DEPTH + 1 levels down: one XPath step per level, each element visited once
_TOO_DEEP = etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")


def too_deep(tree) -> bool:
    """Whether the elements of a tree nest more than MAX_DEPTH levels deep."""
    return bool(_TOO_DEEP(tree))


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _to_text(html: bytes | str, where: str) -> str:
    if isinstance(html, bytes):
        if len(html) > MAX_HTML_BYTES:
            raise _fail(where, f"page too large ({len(html) // (1024 * 1024)} MB; the limit is "
                               f"{MAX_HTML_BYTES // (1024 * 1024)} MB)")
        if not html.strip():
            raise _fail(where, "empty page")
        if looks_binary(html):
            raise _fail(where, "not an HTML page (binary data)")
        return decode_html(html)
    if len(html) > MAX_HTML_BYTES:
        raise _fail(where, f"page too large (limit {MAX_HTML_BYTES // (1024 * 1024)} MB)")
    sample = html[:4096]
    if sample and len(_CONTROL_CHARS.findall(sample)) > len(sample) * 0.05:
        raise _fail(where, "not an HTML page (binary data)")
    return html


def drop_inert(tree) -> None:
    """Remove what no later step reads: styles and scripts, except JSON data blocks (JSON-LD).

    Metadata is read before this; the main-content extractor removes these elements itself
    (keeping their tail text, as here), so the result is the same, from a smaller tree.
    """
    for el in tree.iter("script"):
        if "json" not in (el.get("type") or "").lower():
            el.tag = "style"
    etree.strip_elements(tree, "style", with_tail=False)


def _reparsed(text: str):
    tree = parse_html(text)
    if tree is not None:
        drop_inert(tree)
    return tree


def _norm(s: str | None) -> str:
    return re.sub(r"\W+", " ", (s or "").casefold()).strip()


_BYLINE = re.compile(r"^(?:by|von|par|por|door|text|autor|author)\b", re.I)


def _strip_repeats(root, meta: Metadata) -> None:
    """Drop what repeats the metadata at the top of the body: the title, the byline, the dateline."""
    title = _norm(meta.title)
    authors = {_norm(a) for a in meta.authors}
    checked = 0
    for el in list(root.iter("h1", "h2", "h3", "p", "div")):
        if checked >= 4:
            break
        text = _norm(all_text(el))
        if not text:
            continue
        checked += 1
        if el.getparent() is None or len(el) and any(c.tag in ("img",) for c in el.iter()):
            continue
        words = text.split()
        is_title = bool(title) and text == title
        is_byline = len(words) <= 12 and (
            _BYLINE.match(all_text(el).strip()) is not None
            and any(a and a in text for a in authors)
            or (bool(authors) and text in authors)
        )
        if is_title or is_byline:
            _remove(el)


def _remove(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    prev = el.getprevious()
    if tail and tail.strip():
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _has_article(root) -> bool:
    """Enough running text: outside links, or inside one or two links wrapped around it."""
    total = len(" ".join("".join(root.itertext()).split()))
    links = [a for a in root.iter("a")]
    link_chars = sum(len(" ".join("".join(a.itertext()).split())) for a in links)
    if total - link_chars >= MIN_ARTICLE_CHARS:
        return True
    return total >= 3 * MIN_ARTICLE_CHARS and len(links) <= 2


def extract_html(html: bytes | str, url: str | None = None, where: str | None = None) -> Extracted:
    """Extract the article of one HTML page: metadata and a sanitised Markdown body.

    `html` is the page's bytes (any encoding; already un-gzipped) or text; `url` its address
    when known (for absolute links and the canonical URL); `where` names it in errors.
    Raises IngestError for empty, binary, huge or unparseable pages and pages with no article.
    """
    where = where or url or "<html>"
    text = _to_text(html, where)
    if not text.strip():
        raise _fail(where, "empty page")
    tree = parse_html(text)
    if tree is None or not len(tree):
        raise _fail(where, "not an HTML page (nothing could be parsed)")
    if too_deep(tree):
        raise _fail(where, f"markup nested too deeply (more than {MAX_DEPTH} levels)")
    figures = collect_figures(tree, url)
    captions = figure_captions(figures)
    meta = extract_metadata(tree, url, captions)
    base = url or meta.source_url
    drop_inert(tree)
    root = main_content(tree, url, original=lambda: _reparsed(text))
    if root is None:
        raise _fail(where, "no article found on the page")
    body_el = root.find("body")
    body_el = body_el if body_el is not None else root
    _strip_repeats(body_el, meta)
    remove_furniture(body_el)
    insert_figures(body_el, figures)
    if not _has_article(body_el):
        raise _fail(where, "no article found on the page")
    body = fragment_to_markdown(body_el, Options(base_url=base, captions=captions))
    if not body.strip():
        raise _fail(where, "no article found on the page")
    return Extracted(
        title=meta.title, body=body, date=meta.date, updated=meta.updated, authors=meta.authors,
        source=meta.source, source_url=meta.source_url, image=meta.image, summary=meta.summary,
        lang=meta.lang, tags=meta.tags,
    )


def extract_for_eval(html: str, url: str | None) -> dict:
    """The extraction harness's `py:` entry point: {'title', 'author', 'date', 'body'}."""
    try:
        ex = extract_html(html, url)
    except IngestError:
        return {"body": "", "title": None, "author": None, "date": None}
    return {"body": ex.body, "title": ex.title, "author": list(ex.authors) or None, "date": ex.date}
