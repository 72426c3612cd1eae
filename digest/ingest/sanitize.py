"""Making untrusted page content safe: URLs, raw HTML and text that looks like markup."""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit

import nh3

# The only tags raw HTML in a story body may keep: harmless formatting Markdown cannot express.
RAW_TAGS = frozenset({
    "sup", "sub", "s", "del", "ins", "u", "mark", "small", "abbr", "br",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
})
RAW_ATTRIBUTES = {
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "abbr": {"title"},
}
_DROP_WITH_CONTENT = {"script", "style", "iframe", "form", "object", "embed", "noscript",
                      "template", "svg", "math", "textarea", "select", "button"}

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def safe_url(href: str | None, base: str | None = None, *, image: bool = False) -> str | None:
    """An absolute, harmless URL for `href` (resolved against `base`), or None.

    Only http(s) (and mailto: for links) survive: javascript:, data:, vbscript:, file: and
    anything unparseable are refused. Links to a fragment of the page itself are refused too.
    """
    if not href:
        return None
    href = _CONTROL.sub("", href).strip()
    href = _SPACES.sub(" ", href)
    if not href or href.startswith("#"):
        return None
    try:
        scheme = urlsplit(href).scheme.lower()
        if not scheme and base:
            href = urljoin(base, href)
        elif href.startswith("//"):
            href = "https:" + href
        parts = urlsplit(href)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    allowed = {"http", "https"} if image else SAFE_SCHEMES
    if scheme not in allowed:
        return None
    if scheme in ("http", "https") and not parts.netloc:
        return None
    # characters that would end a Markdown link destination are percent-encoded
    return quote(href, safe=":/?#[]@!$&'*+,;=%~")


def clean_raw_html(fragment: str) -> str:
    """Cut an HTML fragment down to RAW_TAGS/RAW_ATTRIBUTES with nh3, on one line, braces escaped."""
    cleaned = nh3.clean(
        fragment,
        tags=set(RAW_TAGS),
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes={k: set(v) for k, v in RAW_ATTRIBUTES.items()},
        url_schemes=set(),
        strip_comments=True,
        link_rel=None,
    )
    cleaned = re.sub(r"\s*\n\s*", " ", cleaned)
    # Jinja-looking text in raw HTML shows as text and never reaches a template engine
    return cleaned.replace("{", "&#123;").replace("}", "&#125;")


_BACKSLASH_OR_TICK = re.compile(r"([\\`])")
_STAR = re.compile(r"\*(?!\s|$)|(?<=\S)\*")  # a "*" that could open or close emphasis
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LINK_CLOSE = re.compile(r"\](?=[(\[:])")  # "](" "][" "]:" would make a link or reference
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_TILDES = re.compile(r"~(?=~)|(?<=~)~")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_ANY_SPECIAL = re.compile(r"[\\`*_\]<~&{}]")
_TEMPLATE_PAIR = re.compile(r"\{[{%#]|[}%#]\}")


def escape_template(text: str) -> str:
    """Backslash-escape both characters of every "{{", "{%", "{#", "}}", "%}", "#}"."""
    marks = set()
    for m in _TEMPLATE_PAIR.finditer(text):
        marks.update((m.start(), m.start() + 1))
    if not marks:
        return text
    return "".join("\\" + ch if i in marks else ch for i, ch in enumerate(text))


def escape_markdown_text(text: str) -> str:
    """Escape text so Markdown (and Jinja, and raw HTML) show it as written.

    Only what could start markup is escaped: emphasis markers that could pair up, "](" of a
    link, "<" of a tag, entity references, template delimiters; line starts separately.
    """
    if not _ANY_SPECIAL.search(text):
        return text
    text = _BACKSLASH_OR_TICK.sub(r"\\\1", text)
    text = _STAR.sub(r"\\*", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _LINK_CLOSE.sub(r"\\]", text)
    text = _TAG_OPEN.sub(r"\\<", text)
    text = _TILDES.sub(r"\\~", text)
    text = _ENTITY.sub(r"\\&", text)
    return escape_template(text)


def escape_table_cell(text: str) -> str:
    """A Markdown table cell: pipes escaped."""
    return re.sub(r"(?<!\\)\|", r"\\|", text)


def escape_title(text: str) -> str:
    """Text for a Markdown link/image title in double quotes."""
    text = re.sub(r"\s+", " ", text).strip()
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return escape_template(text)


_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[-+*](?=\s)|>|=+\s*$|\[(?=[^\]]*\]:)|(\d{1,9})([.)])(?=\s|$))")


def escape_line_start(line: str) -> str:
    """Escape what would make a paragraph's line a heading, list item or setext underline."""
    def fix(m: re.Match) -> str:
        if m.group(3):
            return m.group(1) + m.group(3) + "\\" + m.group(4)
        return m.group(1) + "\\" + m.group(2)
    return _LINE_START.sub(fix, line, count=1)
