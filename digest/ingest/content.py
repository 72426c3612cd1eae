"""Finding a page's main content (the article) and the captions of its figures.

Main-content detection is trafilatura's (a maintained, benchmarked extractor): it scores
the page's blocks and drops navigation, teasers, comments and other boilerplate. Its
result comes back here as a small HTML tree for `tomarkdown` to render.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from lxml import etree

from digest.ingest.tomarkdown import Caption, image_source
from digest.ingest.treetext import texts_outside

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)

_CREDIT_CLASS = re.compile(r"credit|copyright|source|photographer|byline|author", re.I)
_CREDIT_TEXT = re.compile(
    r"\s*[\(\[]?\s*((?:photo|photograph|image|picture|foto|bild|credit|quelle|source|copyright|©|\(c\))"
    r"\s*(?:by|:)?\s*.+?)[\)\]]?\s*$", re.I)


def _ws(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def split_credit(text: str) -> tuple[str | None, str | None]:
    """'Caption text. Photo: Jane Doe' -> ('Caption text.', 'Jane Doe')."""
    text = _ws(text)
    m = _CREDIT_TEXT.search(text)
    if m and m.start() > 0:
        credit = re.sub(r"^(?:photo|photograph|image|picture|foto|bild|credit|quelle|source|copyright)\s*(?:by|:)?\s*",
                        "", m.group(1), flags=re.I).strip(" :")
        caption = text[: m.start()].strip()
        return caption or None, credit or None
    return text or None, None


_SKIP_IMAGE = re.compile(r"logo|icon|avatar|sprite|pixel|spacer|badge|banner|advert|\bads?\b|emoji|gravatar|"
                         r"placeholder|blank\.gif|loading|share|social|button|tracking", re.I)
_BLOCK_TAGS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote")


@dataclass(frozen=True)
class FigureRef:
    """An image of the page with its caption, and the text of the block it follows."""

    src: str
    alt: str | None
    caption: str | None
    credit: str | None
    anchor: str | None  # normalised text of the preceding paragraph


def _norm(s: str | None) -> str:
    return re.sub(r"\W+", " ", (s or "").casefold()).strip()


def _caption_of(cap_el) -> tuple[str | None, str | None]:
    credit = None
    for el in cap_el.iter():
        if isinstance(el.tag, str) and el is not cap_el and _CREDIT_CLASS.search(el.get("class") or ""):
            credit = _ws(el.text_content()) or None
            break
    full = _ws(cap_el.text_content())
    if credit:
        return _ws(full.replace(credit, "")) or None, credit
    return split_credit(full)


def _small(img) -> bool:
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < 120:
            return True
    return False


def collect_figures(tree, base_url: str | None) -> list[FigureRef]:
    """The page's content images in document order: figures and large standalone images.

    Each keeps the text of the paragraph before it, so that it can be put back at its place
    in the extracted article (images outside the article are not put back).
    """
    out: list[FigureRef] = []
    seen: set[str] = set()
    in_figure: set = set()
    anchor = None
    for el in tree.iter(*_BLOCK_TAGS, "figure", "img"):
        tag = el.tag
        if tag in _BLOCK_TAGS:
            if el not in in_figure:
                anchor = el
            continue
        if tag == "figure":
            in_figure.update(el.iter())
            imgs = list(el.iter("img"))
            if not imgs:
                continue
            img = imgs[0]
            cap_el = el.find(".//figcaption")
            caption, credit = _caption_of(cap_el) if cap_el is not None else (None, None)
        else:
            if el in in_figure or next(el.iterancestors("a", "header", "nav", "aside", "footer"), None) is not None:
                continue
            img = el
            caption = credit = None
        if _small(img):  # (before the costlier source lookup; skipped either way)
            continue
        src = image_source(img, base_url)
        if not src or src in seen:
            continue
        hint = " ".join((img.get("class") or "", img.get("id") or "", src.rsplit("/", 1)[-1], img.get("alt") or ""))
        if _SKIP_IMAGE.search(hint) or src.lower().split("?")[0].endswith((".svg", ".gif")):
            continue
        seen.add(src)
        out.append(FigureRef(src=src, alt=_ws(img.get("alt")) or None, caption=caption, credit=credit,
                             anchor=_norm(anchor.text_content()) if anchor is not None else None))
    return out


def figure_captions(figures: list[FigureRef]) -> dict[str, Caption]:
    """Image source URL -> its caption and credit."""
    return {f.src: Caption(f.caption, f.credit) for f in figures if f.caption or f.credit}


def insert_figures(body, figures: list[FigureRef]) -> None:
    """Put each figure back after the extracted paragraph it followed on the page."""
    from lxml.etree import SubElement, Element

    if not figures:
        return
    # the first block with each figure's anchor text (the scan stops once all are found)
    wanted = {f.anchor for f in figures if f.anchor}
    blocks: dict[str, object] = {}
    for el in body.iter(*_BLOCK_TAGS):
        if len(blocks) == len(wanted):
            break
        key = _norm("".join(el.itertext()))
        if key in wanted and key not in blocks:
            blocks[key] = el
    last_for_anchor: dict[int, object] = {}
    for fig in figures:
        target = blocks.get(fig.anchor or "")
        if target is None:
            continue
        # a figure goes after the anchor's top-level block, and after figures already put there
        while target.getparent() is not None and target.getparent() is not body:
            target = target.getparent()
        after = last_for_anchor.get(id(target), target)
        node = Element("figure")
        img = SubElement(node, "img", src=fig.src)
        if fig.alt:
            img.set("alt", fig.alt)
        if fig.caption or fig.credit:
            SubElement(node, "figcaption").text = " — ".join(x for x in (fig.caption, fig.credit) if x)
        node.tail = after.tail
        after.tail = None
        after.addnext(node)
        last_for_anchor[id(target)] = node


RETRY_BELOW_CHARS = 1500  # a fast-mode result shorter than this gets the full cascade too


# removed unread by trafilatura's own cleaning in fast mode; asides, footers and drawings are
# left out of its page-size measure (for its recall escalation) too, navigation is not: without
# it that measure is the page's content, not its menus (dev set: same F1, scrapinghub +0.0001)
CHROME_TAGS = ("aside", "footer", "svg", "nav")
_CLEANED_TAGS: set[str] = set()


def _keeps_a_paragraph(tree) -> bool:
    """Whether a <p> lies outside everything trafilatura's cleaning removes.

    Only then are the chrome elements removed beforehand: on a page whose every paragraph sits
    in such elements trafilatura's recall retry puts them back, and so must see them.
    """
    if not _CLEANED_TAGS:
        from trafilatura.settings import MANUALLY_CLEANED

        _CLEANED_TAGS.update(t for t in MANUALLY_CLEANED if t != "form")
    cleaned = _CLEANED_TAGS
    for p in tree.iter("p"):
        if next(p.iterancestors(*cleaned), None) is None:
            return True
    return False


COMPLETE_SHARE = 0.6  # a short fast-mode result holding this share of the running text is complete
# running text: outside links, navigation, page headers and forms
_NOT_RUNNING_TEXT = frozenset({"a", "nav", "header", "form", "select", "button", "noscript"})


def _running_text_size(tree) -> int:
    body = tree.find("body")
    if body is None:
        return 0
    return len(" ".join("".join(texts_outside(body, _NOT_RUNNING_TEXT)).split()))


def main_content(tree, url: str | None = None, *, original=None):
    """The article part of a parsed page as a simplified HTML element, or None if none is found.

    trafilatura runs in its fast mode (its own rules only) on the page without its navigation,
    asides, footers and drawings, which that mode removes unread; when that finds little text, and
    less than COMPLETE_SHARE of the page's running text, the full cascade (with its
    readability and jusText comparisons, which read the whole page) runs as well on
    `original()`, an unchanged parse of the page, and the longer result is kept.
    Changes `tree`: read metadata and figures from it first.
    """
    if _keeps_a_paragraph(tree):
        etree.strip_elements(tree, *CHROME_TAGS, with_tail=False)
    first = _extract(tree, fast=True)
    size = _size(first)
    if size >= RETRY_BELOW_CHARS or original is None:
        return first
    running = _running_text_size(tree)
    if size and running and size >= COMPLETE_SHARE * running:
        return first  # the page has little more text: no longer article for the cascade to find
    second = _extract(original(), fast=False)
    return second if _size(second) > size else first


def _size(root) -> int:
    return 0 if root is None else len(" ".join("".join(root.itertext()).split()))


_OPTIONS: dict[bool, object] = {}


def _options(fast: bool):
    """trafilatura's settings for one mode, built once (it never changes them).

    No URL: links stay as written (tomarkdown makes them absolute), which spares a costly
    pass. Output "xml" only so that trafilatura does not also render the text, unused here.
    """
    if fast not in _OPTIONS:
        from trafilatura.settings import Extractor

        _OPTIONS[fast] = Extractor(output_format="xml", fast=fast, comments=False, tables=True,
                                   images=False, links=True, formatting=True, url=None)
    return _OPTIONS[fast]


def _extract(tree, fast: bool):
    from trafilatura import bare_extraction
    from trafilatura.htmlprocessing import convert_to_html

    if tree is None:
        return None
    doc = bare_extraction(tree, options=_options(fast))
    if doc is None or doc.body is None:
        return None
    return convert_to_html(doc.body)
