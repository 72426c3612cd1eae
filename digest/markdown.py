"""The one configured Markdown renderer (markdown-it-py): CommonMark, tables, footnotes,
strikethrough, smart punctuation and ASCII heading anchors. Bodies are never templates."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin
from slugify import slugify


def heading_id(text: str) -> str:
    """An ASCII id for a heading ("Japan’s ODA" -> "japans-oda")."""
    return slugify(text) or "section"


@lru_cache(maxsize=2)
def _parser(html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": html, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_id)
    return md


def renderer(html: bool = True) -> Callable[[str], str]:
    """A function Markdown -> HTML; `html=False` escapes raw HTML instead of passing it through."""
    return _parser(html).render


def render_markdown(text: str, html: bool = True) -> str:
    """Render Markdown text to HTML."""
    return _parser(html).render(text)


_ROOT_LINK = re.compile(r'(\s(?:href|src)=")/(?!/)')


def rebase_links(html: str, prefix: str) -> str:
    """Point root-relative links (`href="/x"`) of rendered HTML at `prefix` (e.g. `../../` or a base URL)."""
    return _ROOT_LINK.sub(lambda m: m.group(1) + prefix, html)


_BLOCK_SPLIT = re.compile(r"\n[ \t]*\n")


def opening(text: str, paragraphs: int = 3) -> str:
    """The first `paragraphs` prose blocks of a Markdown body (for excerpt-only stories)."""
    blocks = [b for b in _BLOCK_SPLIT.split(text.strip()) if b.strip()]
    prose = [b for b in blocks if not b.lstrip().startswith(("#", "|", "!["))]
    return "\n\n".join(prose[:paragraphs]) + "\n"
