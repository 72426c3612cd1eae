"""An HTML fragment -> Markdown that keeps the article's structure and nothing unsafe.

Paragraphs, headings, links (absolute), emphasis, lists, block quotes, code, tables (as
Markdown tables when they have no merged cells, else as sanitised raw HTML) and images with
captions. Text is escaped so that markup-looking text (HTML tags, Jinja) shows as text.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field

from lxml import html as lxml_html

from digest.ingest.sanitize import (
    clean_raw_html,
    escape_line_start,
    escape_markdown_text,
    escape_table_cell,
    escape_title,
    safe_url,
)

DROPPED = frozenset({
    "script", "style", "iframe", "frame", "frameset", "form", "object", "embed", "noscript",
    "template", "svg", "math", "canvas", "button", "input", "select", "option", "textarea",
    "label", "nav", "audio", "video", "source", "track", "map", "area", "head", "title",
    "meta", "link", "base", "dialog", "applet", "param",
})
BLOCKS = frozenset({
    "p", "div", "section", "article", "main", "header", "footer", "aside", "body", "html",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "table",
    "figure", "hr", "dl", "dt", "dd", "center", "address", "details", "summary", "fieldset",
    "figcaption", "caption", "thead", "tbody", "tfoot", "tr", "td", "th", "menu", "hgroup",
})
RAW_INLINE = frozenset({"sup", "sub", "s", "del", "ins", "u", "mark", "small", "strike"})
EMPHASIS = {"em": "*", "i": "*", "cite": "*", "dfn": "*", "var": "*",
            "strong": "**", "b": "**"}
LAZY_SRC = ("src", "data-src", "data-original", "data-lazy-src", "data-srcset", "srcset")


@dataclass(frozen=True)
class Caption:
    """What a page says about one of its images outside the <img> itself."""

    caption: str | None = None
    credit: str | None = None


@dataclass(frozen=True)
class Options:
    """How a fragment is rendered: base URL for relative links, known image captions."""

    base_url: str | None = None
    captions: dict[str, Caption] = field(default_factory=dict)
    min_heading: int = 2


def _tag(el) -> str | None:
    tag = el.tag
    if not isinstance(tag, str):
        return None  # comment, processing instruction, entity
    if "}" in tag:
        tag = tag.rsplit("}", 1)[1]
    return tag.lower()


_WS = re.compile(r"[\s\u200b\ufeff]+")


def _ws(text: str | None) -> str:
    return _WS.sub(" ", text) if text else ""


def image_source(el, base_url: str | None) -> str | None:
    """The real (absolute, http(s)) source of an <img>, looking past lazy-loading placeholders."""
    for attr in LAZY_SRC:
        value = (el.get(attr) or "").strip()
        if not value or value.startswith("data:"):
            continue
        if attr.endswith("srcset"):
            value = value.split(",")[0].strip().split(" ")[0]
        url = safe_url(value, base_url, image=True)
        if url:
            return url
    return None


def all_text(el) -> str:
    """All text inside an element (lxml.html and plain lxml.etree elements alike)."""
    return "".join(t for t in el.itertext() if isinstance(t, str))


def _text_of(el) -> str:
    return _ws(all_text(el)).strip()


def render_image(el, opts: Options, caption: str | None = None) -> str:
    """`![alt](src "caption")`: an image carries its caption (and credit) as its title.

    The caption is the image's, not the article's text: a renderer shows the title of an image
    that stands alone in its paragraph as the figure's caption. Alt text that merely repeats
    the caption is dropped.
    """
    src = image_source(el, opts.base_url)
    if not src:
        return ""
    alt = _ws(el.get("alt")).strip()
    known = opts.captions.get(src)
    if caption is None and known is not None:
        caption = " — ".join(x for x in (known.caption, known.credit) if x) or None
    caption = _ws(caption).strip() if caption else ""
    if caption and _ws(alt).casefold().strip(" .") == caption.casefold().strip(" ."):
        alt = ""
    alt = escape_markdown_text(alt).replace("[", "\\[").replace("]", "\\]")
    title = f' "{escape_title(caption)}"' if caption else ""
    return f"![{alt}]({src}{title})"


class _Renderer:
    def __init__(self, opts: Options) -> None:
        self.opts = opts

    # ---- inline ---------------------------------------------------------------
    def inline(self, el) -> str:
        """Inline Markdown for an element's content (text, children, not its tail)."""
        parts = [escape_markdown_text(_ws(el.text))]
        for child in el:
            parts.append(self.inline_element(child))
            parts.append(escape_markdown_text(_ws(child.tail)))
        return "".join(parts)

    def inline_element(self, el) -> str:
        tag = _tag(el)
        if tag is None or tag in DROPPED:
            return ""
        if tag == "br":
            return "\n"
        if tag == "img":
            return render_image(el, self.opts).replace("\n", " ")
        if tag in EMPHASIS:
            return _wrap(self.inline(el), EMPHASIS[tag])
        if tag in ("code", "kbd", "samp", "tt"):
            return _inline_code(_ws(all_text(el)))
        if tag == "a":
            content = self.inline(el)
            url = safe_url(el.get("href"), self.opts.base_url)
            if not content.strip() or not url:
                return content
            lead, core, trail = _split_ws(content)
            return f"{lead}[{core}]({url}){trail}"
        if tag in RAW_INLINE:
            name = {"strike": "s"}.get(tag, tag)
            content = self.inline(el)
            if not content.strip():
                return content
            lead, core, trail = _split_ws(content)
            return f"{lead}<{name}>{core}</{name}>{trail}"
        if tag in BLOCKS:
            # a block inside inline context (e.g. <div> inside <a>): keep its text flowing
            return " " + self.inline(el) + " "
        return self.inline(el)

    # ---- blocks ---------------------------------------------------------------
    def blocks(self, el) -> list[str]:
        """Markdown blocks for the content of a block-level element."""
        out: list[str] = []
        buf: list[str] = [escape_markdown_text(_ws(el.text))]
        for child in el:
            tag = _tag(child)
            if tag == "pre" and _tag(el) == "p" and "\n" not in all_text(child).strip():
                buf.append(" " + _inline_code(_ws(all_text(child))) + " ")  # inline code in a paragraph
            elif tag is not None and tag in BLOCKS and tag not in DROPPED:
                _flush(buf, out)
                out.extend(self.block(child, tag))
            else:
                buf.append(self.inline_element(child))
            buf.append(escape_markdown_text(_ws(child.tail)))
        _flush(buf, out)
        return out

    def block(self, el, tag: str) -> list[str]:
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = _one_line(self.inline(el))
            if not text:
                return []
            level = min(6, max(self.opts.min_heading, int(tag[1])))
            return ["#" * level + " " + text]
        if tag in ("ul", "ol", "menu"):
            return self.list_block(el, ordered=tag == "ol")
        if tag == "blockquote":
            inner = self.blocks(el)
            if not inner:
                return []
            text = "\n\n".join(inner)
            return ["\n".join(("> " + line).rstrip() for line in text.split("\n"))]
        if tag == "pre":
            return _code_block(all_text(el))
        if tag == "table":
            return self.table(el)
        if tag == "figure":
            return self.figure(el)
        if tag == "hr":
            return ["* * *"]
        if tag in ("dt", "summary", "caption"):
            text = _one_line(self.inline(el))
            return ["**" + text + "**"] if text else []
        return self.blocks(el)

    def list_block(self, el, ordered: bool) -> list[str]:
        items: list[str] = []
        number = _start(el)
        for child in el:
            if _tag(child) != "li":
                if _tag(child) in ("ul", "ol"):
                    items.extend(self.list_block(child, _tag(child) == "ol"))
                continue
            inner = self.blocks(child)
            if not inner:
                continue
            marker = f"{number}. " if ordered else "- "
            number += 1
            pad = " " * len(marker)
            body = inner[0]
            for blk in inner[1:]:
                sep = "\n" if re.match(r"(- |\d+\. )", blk) else "\n\n"
                body += sep + blk
            lines = body.split("\n")
            items.append(marker + lines[0] + "".join("\n" + (pad + ln if ln else "") for ln in lines[1:]))
        return ["\n".join(items)] if items else []

    def figure(self, el) -> list[str]:
        caption_el = el.find(".//figcaption")
        caption = _text_of(caption_el) if caption_el is not None else None
        images = [img for img in el.iter("img")]
        rendered = [render_image(img, self.opts, caption=caption or None) for img in images]
        rendered = [r for r in rendered if r]
        if not rendered:
            # a figure holding something else (a quote, a table): render its blocks
            return [b for b in self.blocks(el) if b]
        return rendered

    def table(self, el) -> list[str]:
        rows = [r for r in el.iter("tr") if _nearest_table(r) is el]
        if not rows:
            return []
        complex_ = any(el2 is not el for el2 in el.iter("table")) or any(
            (c.get("colspan") or "1").strip() not in ("", "1") or (c.get("rowspan") or "1").strip() not in ("", "1")
            for r in rows for c in r if _tag(c) in ("td", "th"))
        if complex_:
            raw = clean_raw_html(lxml_html.tostring(el, encoding="unicode", with_tail=False))
            return [raw] if raw.strip() else []
        grid = [[escape_table_cell(_one_line(" ".join(self.blocks(c)))) for c in r if _tag(c) in ("td", "th")]
                for r in rows]
        grid = [r for r in grid if any(cell for cell in r)]
        if not grid:
            return []
        width = max(len(r) for r in grid)
        if width == 1:
            # a one-column "table" is layout, not data: keep its cells as paragraphs
            return [r[0] for r in grid if r[0]]
        grid = [r + [""] * (width - len(r)) for r in grid]
        lines = ["| " + " | ".join(grid[0]) + " |", "|" + "---|" * width]
        lines += ["| " + " | ".join(r) + " |" for r in grid[1:]]
        caption = el.find("caption")
        out = []
        if caption is not None and _text_of(caption):
            out.append("**" + _one_line(self.inline(caption)) + "**")
        out.append("\n".join(lines))
        return out


def _nearest_table(el):
    p = el.getparent()
    while p is not None and _tag(p) != "table":
        p = p.getparent()
    return p


def _start(el) -> int:
    try:
        return max(0, int(el.get("start", "1")))
    except ValueError:
        return 1


def _split_ws(s: str) -> tuple[str, str, str]:
    core = s.strip()
    if not core:
        return s, "", ""
    i = s.index(core[0])
    return s[:i], core, s[i + len(core):]


def _wrap(content: str, marker: str) -> str:
    lead, core, trail = _split_ws(content)
    if not core:
        return content
    lead = lead.replace("\n", " ") if lead else ""
    return f"{lead}{marker}{core}{marker}{trail}"


def _inline_code(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if re.search(r"[{}<>&]", text):
        return "<code>" + _html_text(text) + "</code>"
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _html_text(text: str) -> str:
    return htmllib.escape(text, quote=False).replace("{", "&#123;").replace("}", "&#125;")


def _code_block(text: str) -> list[str]:
    text = text.strip("\n")
    if not text.strip():
        return []
    if re.search(r"\{[{%#]|[}%#]\}", text):
        return ["<pre><code>" + _html_text(text) + "</code></pre>"]
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}\n{text}\n{fence}"]


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_PARAGRAPH_BREAK = re.compile(r"[ \t]*\n[ \t]*\n\s*")
_BLANKS = re.compile(r"[ \t]+")


def _flush(buf: list[str], out: list[str]) -> None:
    text = "".join(buf)
    buf.clear()
    buf.append("")
    if not text or text.isspace():
        return  # every line would be stripped to nothing
    for para in _PARAGRAPH_BREAK.split(text):
        lines = [_BLANKS.sub(" ", ln).strip() for ln in para.split("\n")]
        lines = [escape_line_start(ln) for ln in lines if ln]
        if lines:
            out.append("\\\n".join(lines))


def fragment_to_markdown(fragment, opts: Options | None = None) -> str:
    """Render an HTML fragment (a string or an lxml element) as Markdown text."""
    opts = opts or Options()
    if isinstance(fragment, str):
        if not fragment.strip():
            return ""
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    else:
        root = fragment
    if not isinstance(root.tag, str):
        return ""
    blocks = _Renderer(opts).blocks(root)
    return "\n\n".join(b for b in blocks if b.strip()) + ("\n" if blocks else "")


__all__ = ["Caption", "Options", "fragment_to_markdown", "image_source", "render_image"]
