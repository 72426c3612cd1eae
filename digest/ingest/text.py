"""Plain-text scrapes (a page copied as text) become an `Extracted` article (pure).

The text has no markup left, so the article is found by its shape: the longest run of long
prose paragraphs, with menus, share prompts, teasers, cookie notices and footers as short or
truncated lines around it. Title, outlet, lead-image caption and credit, byline and date are
read from the lines before the article (the "header").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from digest.ingest.extracted import Extracted, ExtractedImage
from digest.ingest.text_meta import find_date, parse_byline, parse_copyright, parse_credit, parse_dateline

_BULLET_RE = re.compile(r"^(?P<indent>\s*)(?P<mark>[•·▪●◦‣►▶*+\-–]|\d{1,2}[.)])\s+(?P<text>\S.*)$")
_TERMINAL = tuple(".!?:;\"”’»)]…") + ("'",)
_BOILER_RE = re.compile(
    r"^(?:share(?: this| on| via| article| story)?|tweet|email|print|whatsapp|facebook|twitter|x|linkedin|"
    r"reddit|telegram|pinterest|copy link|follow us.*|follow|like us.*|subscribe.*|sign (?:up|in).*|log ?in|"
    r"log ?out|register|newsletter.*|menu|main menu|search|home|skip to .*|back to top|top|close|"
    r"advertisement.*|advertising|sponsored.*|ad|scroll to continue.*|read more.*|more\b.*|continue reading.*|view comments|"
    r"comments?(?: \(\d+\))?|\d+ comments?|leave a (?:comment|reply)|show comments|load more|next|previous|"
    r"next article|previous article|related(?: articles| stories| posts| news)?|see also|also read.*|"
    r"you (?:may|might) also like.*|recommended(?: for you)?|most (?:read|popular|viewed|shared)|"
    r"trending(?: now)?|latest(?: news| stories)?|editor'?s picks|popular|tags?:?.*|topics?:|"
    r"click here.*|watch:? .*|listen.*|privacy policy|terms (?:of|and) .*|cookie.*|accept(?: all)?(?: cookies)?|"
    r"all rights reserved.*|contact us|about us|careers|imprint|impressum|sitemap|rss|"
    r"(?:©|copyright|\(c\)).*|photo gallery|video|videos|gallery|podcasts?|opinion|world|business|"
    r"sport|sports|politics|lifestyle|entertainment|technology|health|science|travel)$",
    re.IGNORECASE,
)
_BOILER_ANYWHERE_RE = re.compile(
    r"\b(?:we use cookies|uses cookies|cookie policy|cookie settings|accept cookies|by continuing to (?:browse|use)|"
    r"privacy policy|all rights reserved|sign up for our|subscribe to our|newsletter|follow us on|"
    r"share this (?:article|story|page)|enable javascript|your browser|ad blocker|adblock)\b",
    re.IGNORECASE,
)
_STOP_RE = re.compile(
    r"^(?:related(?: articles| stories| posts| news| content| coverage)?|more (?:from|on|in|stories|news)\b.*|"
    r"you (?:may|might) also (?:like|be interested in).*|recommended(?: for you| stories| articles)?|"
    r"most (?:read|popular|viewed|shared)(?: stories| articles)?|trending(?: now| stories)?|"
    r"latest (?:news|stories|articles)|also on .*|comments?(?: \(\d+\))?|\d+ comments?|"
    r"leave a (?:comment|reply)|join the (?:conversation|discussion)|read next|up next|"
    r"editor'?s picks|popular (?:stories|posts|articles)|other stories|in other news)\W*$",
    re.IGNORECASE,
)
_LOGO_RE = re.compile(r"\b(?:logo(?: of)?|homepage|home page|newspaper|news ?paper logo)\b", re.IGNORECASE)
_HEADER_WINDOW = 40
_SEPARATORS = (" - ", " – ", " — ", " | ", " :: ", " · ", " • ")


@dataclass(frozen=True)
class _Block:
    text: str
    indent: int
    bullet: bool
    item: int  # index of the bullet item this block belongs to, or -1


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\u00a0", " ").replace("\t", "    ")
    return re.sub(r"[\u200b\u200c\u200d\u2060\ufeff]", "", text)


def _is_wrapped(lines: list[str]) -> bool:
    """True when a group of lines is one paragraph hard-wrapped at a fixed width."""
    if len(lines) < 2:
        return False
    lengths = [len(line.strip()) for line in lines]
    width = max(lengths)
    if not 45 <= width <= 100:
        return False
    if any(_BULLET_RE.match(line) for line in lines[1:]):
        return False
    heads = [line.strip()[:24] for line in lines]
    if len(set(heads)) < len(heads):
        return False  # a line repeated (a caption and its credited copy), not a wrapped paragraph
    return all(n >= 0.6 * width for n in lengths[:-1])


def _blocks(text: str) -> list[_Block]:
    groups: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.strip():
            groups[-1].append(line.rstrip())
        elif groups[-1]:
            groups.append([])
    blocks: list[_Block] = []
    item, item_indent = -1, 0
    for group in groups:
        units = [" ".join(part.strip() for part in group)] if _is_wrapped(group) else group
        first_indent = len(group[0]) - len(group[0].lstrip()) if group else 0
        for unit in units:
            indent = first_indent if len(units) == 1 else len(unit) - len(unit.lstrip())
            m = _BULLET_RE.match(unit)
            if m:
                item += 1
                item_indent = len(m.group("indent"))
                blocks.append(_Block(m.group("text").strip(), item_indent, True, item))
                continue
            belongs = item >= 0 and blocks and blocks[-1].item == item and indent > item_indent
            blocks.append(_Block(re.sub(r"\s+", " ", unit).strip(), indent, False, item if belongs else -1))
    return [b for b in blocks if b.text]


def _words(text: str) -> int:
    return len(text.split())


def _is_boiler(text: str) -> bool:
    stripped = text.strip(" :>»›|-–—.•*")
    if _BOILER_RE.match(stripped):
        return True
    return len(text) < 600 and _words(text) < 60 and bool(_BOILER_ANYWHERE_RE.search(text))


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith(_TERMINAL) and not text.rstrip().endswith(("...", "…"))


def _is_prose(text: str) -> bool:
    words = _words(text)
    return (words >= 10 and _ends_sentence(text)) or (words >= 30 and not text.endswith(("...", "…")))


def _teaser_items(blocks: list[_Block]) -> set[int]:
    """Bullet items made of a headline and a snippet: the outlet's teaser list, never the article."""
    items: dict[int, list[_Block]] = {}
    for b in blocks:
        if b.item >= 0:
            items.setdefault(b.item, []).append(b)
    teasers = {i for i, members in items.items() if len(members) >= 2 and not _ends_sentence(members[0].text)}
    return teasers


def _weights(blocks: list[_Block], teasers: set[int]) -> list[float]:
    boiler = [_is_boiler(b.text) for b in blocks]
    prose = [_is_prose(b.text) and not b.bullet for b in blocks]
    # whether the nearest block before/after that is not boilerplate is prose (linear passes)
    prev_prose, next_prose = [False] * len(blocks), [False] * len(blocks)
    last = False
    for i in range(len(blocks)):
        prev_prose[i] = last
        if not boiler[i]:
            last = prose[i]
    last = False
    for i in range(len(blocks) - 1, -1, -1):
        next_prose[i] = last
        if not boiler[i]:
            last = prose[i]
    weights: list[float] = []
    for i, b in enumerate(blocks):
        if _STOP_RE.match(b.text.strip(" :>»›|-–—.•*")):
            weights.append(float("-inf"))
        elif b.item in teasers:
            weights.append(-max(150.0, float(len(b.text))))
        elif boiler[i]:
            weights.append(-20.0)  # removed from the body anyway; menus are long runs of these
        elif _is_prose(b.text):
            weight = float(len(b.text))
            if not prev_prose[i] and not next_prose[i]:
                weight *= 0.4  # a lone sentence between headlines: a teaser's dek more often than not
            weights.append(weight)
        elif _words(b.text) >= 20 and not _ends_sentence(b.text):
            weights.append(-float(len(b.text)))  # truncated snippet
        else:
            weights.append(-25.0 if b.bullet else -40.0)
    return weights


def _main_run(weights: list[float]) -> tuple[int, int] | None:
    """The contiguous run of blocks with the largest total weight (inclusive bounds)."""
    best, best_span = 0.0, None
    total, start = 0.0, 0
    for i, w in enumerate(weights):
        if total <= 0:
            total, start = 0.0, i
        total += w
        if total > best:
            best, best_span = total, (start, i)
        if total == float("-inf"):
            total = 0.0
    return best_span


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _split_outlet_line(line: str, title: str) -> str | None:
    """The outlet part of a line like "Outlet - Title" or "Title | Outlet", cleaned; None otherwise."""
    tkey = _key(title)
    for sep in _SEPARATORS:
        if sep not in line:
            continue
        head, _, tail = line.rpartition(sep)
        first, _, rest = line.partition(sep)
        for outlet, other in ((head, tail), (rest, first)):
            if _key(other) == tkey and outlet.strip():
                return _clean_outlet(outlet)
    return None


def _clean_outlet(raw: str) -> str | None:
    text = _LOGO_RE.sub(" ", raw)
    words = text.split()
    for k in range(len(words) // 2, 0, -1):
        if [w.casefold() for w in words[:k]] == [w.casefold() for w in words[-k:]]:
            words = words[:k]
            break
    name = " ".join(words).strip(" -–—|:·")
    if not name or _words(name) > 6:
        return None
    return name


def _find_caption(header: list[_Block]) -> tuple[ExtractedImage | None, set[int]]:
    """A lead-image caption: a line repeated with a trailing credit, or a line with "Photo: X"."""
    for i in range(len(header) - 1):
        a, b = header[i].text, header[i + 1].text
        stem = a.rstrip(" .")
        if _words(stem) >= 4 and b.startswith(stem) and len(b) > len(stem) + 1:
            rest = b[len(stem):].strip(" .,;:-–—|/()")
            parsed = parse_credit("x. " + b[len(stem):].strip(" .,;"))
            credit = parsed[1] if parsed else rest
            if credit and _words(credit) <= 8:
                return ExtractedImage(caption=stem, credit=credit), {i, i + 1}
    for i, block in enumerate(header):
        parsed = parse_credit(block.text)
        if parsed and _words(parsed[0]) >= 3:
            return ExtractedImage(caption=parsed[0], credit=parsed[1]), {i}
    return None, set()


def _title_candidates(header: list[_Block], all_blocks: list[_Block]) -> list[tuple[float, int, str]]:
    counts: dict[str, int] = {}
    for b in all_blocks:
        counts[_key(b.text)] = counts.get(_key(b.text), 0) + 1
    scored: list[tuple[float, int, str]] = []
    for i, b in enumerate(header):
        text = b.text.strip()
        words = _words(text)
        if b.bullet or not 2 <= words <= 30 or len(text) > 250 or _is_boiler(text):
            continue
        if parse_byline(text) or (find_date(text) and words <= 8) or parse_credit(text):
            continue
        score = 1.0 + i / max(len(header), 1)  # nearer the article is likelier
        if counts.get(_key(text), 0) >= 2 and words >= 3:
            score += 3
        if 4 <= words <= 25:
            score += 1
        following = next((h.text for h in header[i + 1:] if not _is_boiler(h.text)), None)
        if following and (parse_byline(following) or parse_credit(following)
                          or (find_date(following) and _words(following) <= 12)):
            score += 2
        if any(_split_outlet_line(o.text, text) for o in header if o is not b):
            score += 2
        if text.endswith(".") and words > 15:
            score -= 2
        if words <= 2:
            score -= 1.5
        scored.append((score, i, text))
    return sorted(scored, key=lambda s: (-s[0], -s[1]))


def _escape(text: str) -> str:
    """Plain text as Markdown that shows exactly this text (HTML-looking text stays text)."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([`*_\[\]<>|~])", r"\\\1", text)
    text = re.sub(r"&(?=#?\w+;)", r"\\&", text)
    text = re.sub(r"^(#{1,6}\s|[+=-]\s|\d{1,9}[.)]\s)", r"\\\1", text)
    return text


def summarize(paragraph: str, limit: int = 300) -> str:
    """A summary from a lede: the paragraph, cut at a sentence (or word) within `limit` characters."""
    if len(paragraph) <= limit:
        return paragraph
    cut = paragraph[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if end >= limit // 2:
        return cut[: end + 1]
    return cut.rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _is_heading(text: str, next_text: str | None) -> bool:
    return (
        _words(text) <= 14 and not _ends_sentence(text) and text[:1].isupper()
        and next_text is not None and _is_prose(next_text)
    )


def extract_text(text: str, url: str | None = None) -> Extracted:
    """Find the article in a plain-text scrape: metadata from the header lines, prose as Markdown."""
    blocks = _blocks(_normalise(text))
    teasers = _teaser_items(blocks)
    span = _main_run(_weights(blocks, teasers))
    if span is None:
        return Extracted(title=None, body="", source_url=url)
    start, end = span
    while start <= end and not _is_prose(blocks[start].text):
        start += 1
    while end >= start and not _is_prose(blocks[end].text):
        end -= 1
    # the lines just before the article, and the page's first lines (a window keeps this linear)
    header = blocks[:start] if start <= _HEADER_WINDOW + 8 else blocks[:8] + blocks[start - _HEADER_WINDOW:start]
    candidates = _title_candidates(header, blocks)
    title = candidates[0][2] if candidates else None

    source = None
    if title:
        for b in header:
            if _key(b.text) != _key(title):
                source = source or _split_outlet_line(b.text, title)
    image, caption_idx = _find_caption(header)

    authors: tuple[str, ...] = ()
    date = updated = None
    outlets = {source} if source else set()
    for b in header[-_HEADER_WINDOW:] + blocks[start : start + 2]:
        names = parse_byline(b.text, outlets)
        if names and not authors:
            authors = names
        if len(b.text) <= 160 and not b.bullet and (names or _words(b.text) <= 20):
            for segment in re.split(r"\s[|·•]\s", b.text):
                found = find_date(segment)
                if found and found.updated and updated is None:
                    updated = found.value
                elif found and not found.updated and date is None:
                    date = found.value
    for b in blocks[end + 1 : end + 3]:
        found = find_date(b.text) if len(b.text) <= 120 else None
        if found and re.search(r"\b(?:published|posted|updated)\b", b.text, re.I):
            if found.updated:
                updated = updated or found.value
            else:
                date = date or found.value

    caption_keys = {_key(header[i].text) for i in caption_idx}
    if image and image.caption:
        caption_keys.add(_key(image.caption))
    skip_keys = caption_keys | ({_key(title)} if title else set())
    body_blocks = [
        b for b in blocks[start : end + 1]
        if b.item not in teasers and not _is_boiler(b.text) and _key(b.text) not in skip_keys
        and not parse_byline(b.text) and not parse_credit(b.text)
    ]
    paragraphs: list[str] = []
    for i, b in enumerate(body_blocks):
        nxt = body_blocks[i + 1].text if i + 1 < len(body_blocks) else None
        if b.bullet:
            line = "- " + _escape(b.text)
            if paragraphs and paragraphs[-1].startswith("- ") and body_blocks[i - 1].bullet:
                paragraphs[-1] += "\n" + line
                continue
            paragraphs.append(line)
        elif _is_heading(b.text, nxt):
            paragraphs.append("## " + _escape(b.text))
        else:
            paragraphs.append(_escape(b.text))
    prose = [b.text for b in body_blocks if _is_prose(b.text) and not b.bullet]
    dateline = parse_dateline(prose[0]) if prose else None
    if dateline:
        date = date or dateline.date
    if not source:
        owners = [o for o in (parse_copyright(b.text) for b in blocks[end + 1:][-_HEADER_WINDOW:]) if o]
        source = owners[0] if owners else (dateline.agency if dateline else None)
    if title is None and blocks and _words(blocks[0].text) <= 30 and not _is_prose(blocks[0].text):
        title = blocks[0].text
    return Extracted(
        title=title,
        body="\n\n".join(paragraphs) + ("\n" if paragraphs else ""),
        date=date,
        updated=updated,
        authors=authors,
        source=source,
        source_url=url,
        image=image,
        summary=summarize(prose[0]) if prose else None,
    )
