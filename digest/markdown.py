"""The one configured Markdown renderer (markdown-it-py): CommonMark, tables, footnotes,
strikethrough, smart punctuation and ASCII heading anchors. Bodies are never templates."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from html import escape, unescape
from typing import Any, Callable

from slugify import slugify


def heading_id(text: str) -> str:
    """An ASCII id for a heading ("Japan’s ODA" -> "japans-oda")."""
    return slugify(text) or "section"


@lru_cache(maxsize=2)
def _reference(html: bool) -> Any:
    from markdown_it import MarkdownIt  # imported when first needed: most texts take the fast renderer
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": html, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(footnote_plugin)
    return md


@lru_cache(maxsize=2)
def _fast(html: bool) -> Any:
    """markdown-it-pyrs (Rust port of markdown-it) with the same rules, or None when unavailable."""
    if os.environ.get("DIGEST_MARKDOWN") == "reference":
        return None
    try:
        import markdown_it_pyrs
    except ImportError:
        return None
    rules = ["table", "strikethrough", "smartquotes", "replacements"]
    md = markdown_it_pyrs.MarkdownIt("commonmark").enable_many(rules)
    if not html:
        return None  # the Rust port cannot turn raw HTML off: use the reference renderer
    return md


def _needs_reference(text: str) -> bool:
    # Footnotes and no-break spaces render differently in the Rust port; the reference handles them.
    return "[^" in text or "\u00a0" in text


_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _add_heading_ids(html: str) -> str:
    if "<h" not in html:
        return html
    seen: dict[str, int] = {}

    def add(match: re.Match[str]) -> str:
        base = heading_id(unescape(_TAG.sub("", match.group(2))))
        count = seen.get(base, 0)
        seen[base] = count + 1
        ident = base if count == 0 else f"{base}-{count}"
        return f'<h{match.group(1)} id="{ident}">{match.group(2)}</h{match.group(1)}>'

    return _HEADING.sub(add, html)


_FIGURE = re.compile(r'<p><img src="([^"]*)" alt="([^"]*)" title="([^"]*)" ?/?></p>')


def _figures(html: str) -> str:
    """An image alone in its paragraph, with a title, becomes a figure captioned by that title."""
    if "<img" not in html:
        return html
    return _FIGURE.sub(lambda m: f'<figure><img src="{m.group(1)}" alt="{m.group(2)}">'
                                 f'<figcaption>{m.group(3)}</figcaption></figure>', html)


def render_markdown(text: str, html: bool = True) -> str:
    """Render Markdown to HTML: CommonMark, tables, footnotes, smart punctuation, heading ids.

    markdown-it-py is the reference; the Rust port renders where its output is byte-identical
    (checked by tests over the corpus), and `DIGEST_MARKDOWN=reference` forces the reference.
    """
    fast = _fast(html)
    if fast is not None and not _needs_reference(text):
        out = fast.render(text)
    else:
        out = _reference(html).render(text)
    return _figures(_add_heading_ids(out))


def renderer(html: bool = True) -> Callable[[str], str]:
    """A function Markdown -> HTML; `html=False` escapes raw HTML instead of passing it through."""
    return lambda text: render_markdown(text, html)


_ROOT_LINK = re.compile(r'(\s(?:href|src)=")/(?!/)')


def rebase_links(html: str, prefix: str) -> str:
    """Point root-relative links (`href="/x"`) of rendered HTML at `prefix` (e.g. `../../` or a
    base URL, escaped for the attribute: a base URL may hold `&`)."""
    if '="/' not in html:  # no root-relative link at all: most bodies (and no regex pass)
        return html
    attribute = escape(prefix, quote=True)
    return _ROOT_LINK.sub(lambda m: m.group(1) + attribute, html)


_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n")


def opening(text: str, paragraphs: int = 3) -> str:
    """The first `paragraphs` prose blocks of a Markdown body (for excerpt-only stories)."""
    blocks = [b for b in _BLOCK_SPLIT.split(text.strip()) if b.strip()]
    prose = [b for b in blocks if not b.lstrip().startswith(("#", "|", "!["))]
    return "\n\n".join(prose[:paragraphs]) + "\n"
