"""Markdown files with front matter written by other tools become an `Extracted` article (pure).

The body is hostile until proven otherwise: raw HTML is cut down to an allowlist of harmless
formatting tags by nh3; `<script>`, `<style>`, `<iframe>`, `<form>` (and kin) go with their
content; event handlers and `javascript:`/`data:` URLs go everywhere.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

import nh3
import yaml
from markdown_it import MarkdownIt
from markdown_it.common.html_re import close_tag, comment, declaration, open_tag, processing, cdata

from digest.errors import IngestError, Problem
from digest.ingest.extracted import Extracted
from digest.ingest.text import summarize

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s",
    "samp", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul", "var", "wbr",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "abbr": {"title"},
    "time": {"datetime"},
    "ol": {"start"},
    "q": {"cite"},
    "span": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_VOID = {"br", "col", "hr", "img", "wbr"}
_DANGEROUS = ("script", "style", "iframe", "form", "object", "embed", "noscript", "template", "textarea",
              "select", "svg", "math", "frameset", "frame", "applet", "xmp", "noembed", "noframes")
_DANGEROUS_BLOCK_RE = re.compile(
    r"<(" + "|".join(_DANGEROUS) + r")\b[^>]*>.*?(?:</\1\s*>|\n[ \t]*\n|\Z)", re.IGNORECASE | re.DOTALL
)
_TAG_RE = re.compile("(?:" + "|".join((open_tag, close_tag, comment, processing, declaration, cdata)) + ")")
_TAG_NAME_RE = re.compile(r"^</?\s*([A-Za-z][A-Za-z0-9-]*)")
_BAD_SCHEME_RE = re.compile(r"^(?:javascript|vbscript|livescript|data|file)\s*:", re.IGNORECASE)
_INLINE_LINK_RE = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()]*\)[^()\s]*)*)([^)]*)\)"
)
_REF_DEF_RE = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+).*$", re.MULTILINE)
_AUTOLINK_RE = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_FRONT_RE = re.compile(r"\A(?:\ufeff)?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class MarkdownSource:
    """An article from a Markdown file, plus the licence its front matter declares."""

    extracted: Extracted
    license: str | None


def _is_bad_url(url: str) -> bool:
    decoded = html.unescape(url.strip().strip("<>"))
    decoded = re.sub(r"[\x00-\x20\x7f]+", "", decoded)
    return bool(_BAD_SCHEME_RE.match(decoded))


def clean_html(fragment: str) -> str:
    """An HTML fragment cut down by nh3 to harmless formatting tags, attributes and URL schemes."""
    return nh3.clean(fragment, tags=set(ALLOWED_TAGS), attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel=None, strip_comments=True,
                     clean_content_tags=set(_DANGEROUS) - {"svg", "math"},
                     filter_style_properties={"text-decoration", "font-weight", "font-style"})


def _html_block_lines(text: str) -> list[tuple[int, int]]:
    """Line ranges [start, end) of raw HTML blocks, as CommonMark sees them."""
    tokens = MarkdownIt("commonmark").parse(text)
    return [tuple(t.map) for t in tokens if t.type == "html_block" and t.map]


def _clean_tag(tag: str) -> str:
    """One HTML tag, cut down to the allowlist (an empty string when it is not allowed)."""
    m = _TAG_NAME_RE.match(tag)
    if not m:
        return ""  # comments, processing instructions, declarations, CDATA
    name = m.group(1).lower()
    if name not in ALLOWED_TAGS:
        return ""
    if tag.startswith("</"):
        return "" if name in _VOID else f"</{name}>"
    cleaned = clean_html(tag)
    if name not in _VOID:
        cleaned = re.sub(r"</" + name + r">$", "", cleaned)
    return cleaned


def _clean_link(m: re.Match) -> str:
    bang, text, dest = m.group(1), m.group(2), m.group(3)
    if _is_bad_url(dest):
        return "" if bang else text
    return m.group(0)


def sanitize_markdown(text: str) -> str:
    """Markdown from an untrusted tool, with its raw HTML and URLs made harmless."""
    previous = None
    while previous != text:  # nested or overlapping dangerous blocks
        previous = text
        text = _DANGEROUS_BLOCK_RE.sub("", text)
    lines = text.split("\n")
    pieces: list[str] = []
    at = 0
    for start, end in _html_block_lines(text):
        pieces.append(_TAG_RE.sub(lambda m: _clean_tag(m.group(0)), "\n".join(lines[at:start])))
        pieces.append(clean_html("\n".join(lines[start:end])))
        at = end
    pieces.append(_TAG_RE.sub(lambda m: _clean_tag(m.group(0)), "\n".join(lines[at:])))
    text = "\n".join(pieces)
    text = re.sub(r"<(?=/?\s*(?:" + "|".join(_DANGEROUS) + r")\b)", "&lt;", text, flags=re.IGNORECASE)
    text = _INLINE_LINK_RE.sub(_clean_link, text)
    text = _REF_DEF_RE.sub(lambda m: "" if _is_bad_url(m.group(1)) else m.group(0), text)
    text = _AUTOLINK_RE.sub(lambda m: "" if _is_bad_url(m.group(1)) else m.group(0), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


# emphasis delimiters Markdown left as text (unmatched, or around nothing but spaces, as in
# "1.**\u00a0** Cambodia"): a run of two or more not inside a word, or one standing alone
_DELIMITER_RESIDUE = re.compile(r"(?<!\w)([*_~])\1+|([*_~])\2+(?!\w)|(?<!\S)[*_~]+(?!\S)")
# link syntax Markdown did not take as a link (e.g. one whose URL it refuses): its text stays
_LINK_RESIDUE = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")


def _plain(children) -> str:
    """The plain text of a paragraph's inline tokens: no markup, no footnote marks, one-spaced."""
    parts, in_note = [], False
    for child in children or []:
        if child.type == "html_inline" and re.match(r"</?su[pb]\b", child.content, re.I):
            in_note = not child.content.startswith("</")
        elif in_note:
            continue
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    text = _LINK_RESIDUE.sub(lambda m: m.group(1), "".join(parts))
    text = _DELIMITER_RESIDUE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def plain_text(markdown: str) -> str:
    """Inline Markdown (a summary or description another tool wrote) as plain text."""
    tokens = MarkdownIt("commonmark").parseInline(markdown)
    return _plain(tokens[0].children) if tokens else ""


def lede(body: str) -> str | None:
    """The plain text of the first real paragraph of a Markdown body (for a summary)."""
    tokens = MarkdownIt("commonmark").parse(body)
    for i, token in enumerate(tokens[:-1]):
        if token.type != "paragraph_open" or token.level != 0:
            continue
        text = _plain(tokens[i + 1].children)
        if len(text.split()) >= 12 and text[-1:] in ".!?\"”’)":
            return summarize(text)
    return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _summary(value: object) -> str | None:
    text = _text(value)
    return plain_text(text) or None if text else None


def _kind_tag(kind: object) -> str | None:
    text = _text(kind)
    return text.replace("_", "-").lower() if text else None


def parse_markdown_source(text: str, path: str = "<input>") -> MarkdownSource:
    """Front matter (title, date, source, source_url, kind, license, ...) and sanitised body."""
    m = _FRONT_RE.match(text.replace("\r\n", "\n"))
    if not m:
        raise IngestError(Problem(path, 1, "no front matter: expected a '---' block at the top"))
    try:
        meta = yaml.load(m.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise IngestError(Problem(path, (line + 2) if line is not None else 1, f"invalid YAML: {exc}")) from None
    if not isinstance(meta, dict):
        raise IngestError(Problem(path, 1, "front matter is not a mapping"))
    body = sanitize_markdown(text.replace("\r\n", "\n")[m.end():])
    authors = meta.get("author") or meta.get("authors") or ()
    if isinstance(authors, str):
        authors = (authors,)
    tags = meta.get("tags") or ()
    if isinstance(tags, str):
        tags = (tags,)
    tag_list = [t for t in (_text(t) for t in tags) if t]
    kind = _kind_tag(meta.get("kind"))
    if kind:
        tag_list.append(kind)
    url = _text(meta.get("source_url") or meta.get("url"))
    if url and _is_bad_url(url):
        url = None
    return MarkdownSource(
        extracted=Extracted(
            title=_text(meta.get("title")),
            body=body,
            date=_text(meta.get("date")),
            updated=_text(meta.get("updated")),
            authors=tuple(a for a in (_text(a) for a in authors) if a),
            source=_text(meta.get("source")),
            source_url=url,
            summary=_summary(meta.get("summary") or meta.get("description")) or lede(body),
            lang=_text(meta.get("lang")),
            tags=tuple(tag_list),
        ),
        license=_text(meta.get("license")),
    )
