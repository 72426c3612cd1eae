"""Article metadata from every place a page keeps it, most specific source first.

JSON-LD (NewsArticle & co., inside @graph too) > OpenGraph / article:* > Twitter cards >
other <meta> names > microdata, <time datetime>, rel=canonical/author > byline and dateline
patterns in the text > the URL. Reads the parsed tree; never changes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from digest.ingest import jsonld
from digest.ingest.dates import date_from_url, parse_machine_date, parse_text_date
from digest.ingest.extracted import ExtractedImage
from digest.ingest.names import clean_authors
from digest.ingest.pagedate import find_page_date
from digest.ingest.sanitize import safe_url
from digest.ingest.treetext import texts_outside

MAX_TAGS = 20


@dataclass(frozen=True)
class Metadata:
    """What a page says about its article, outside the article's text."""

    title: str | None = None
    date: str | None = None
    updated: str | None = None
    authors: tuple[str, ...] = ()
    source: str | None = None
    source_url: str | None = None
    image: ExtractedImage | None = None
    summary: str | None = None
    lang: str | None = None
    tags: tuple[str, ...] = ()


def _ws(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def _text(el) -> str:
    return _ws(el.text_content()) if hasattr(el, "text_content") else _ws("".join(el.itertext()))


def _klass(el) -> str:
    return ((el.get("class") or "") + " " + (el.get("id") or "")).lower()


_LOWER = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_XP_ITEMPROP = etree.XPath("//*[@itemprop and not(self::meta)]")
_XP_OWN_TEXT = etree.XPath("text()")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_XP_BYLINE = etree.XPath(
    "//body//*[@class or @id][not(self::article or self::main or self::section or self::script or self::style)]"
    "[contains(@class, 'byline') or contains(@class, 'Byline') or contains(@class, 'author') or "
    "contains(@class, 'Author') or contains(@id, 'byline') or contains(@id, 'author')]"
    "[not(contains(@class, 'authority'))]")


_NOT_BYLINE = frozenset({"article", "main", "section", "script", "style"})


def _bylines(body) -> list:
    """_XP_BYLINE's first 20 elements under one <body>, by a Python pass (twice as fast)."""
    out: list = []
    for el in body.iterdescendants():
        klass, ident = el.get("class"), el.get("id")
        if klass is None and ident is None:
            continue
        tag = el.tag
        if not isinstance(tag, str) or tag in _NOT_BYLINE or klass is not None and "authority" in klass:
            continue
        if klass is not None and ("byline" in klass or "Byline" in klass or "author" in klass or "Author" in klass) \
                or ident is not None and ("byline" in ident or "author" in ident):
            out.append(el)
            if len(out) == 20:
                break
    return out


class _Page:
    """Indexes of one parsed page, built in a single pass over the tree."""

    def __init__(self, tree, url: str | None) -> None:
        self.tree = tree
        self.url = url
        self.base = url
        self.meta: dict[str, list[str]] = {}
        self.itemprops: dict[str, list] = {}
        metas: list = []
        titles: list = []
        self.ld_texts: list[str] = []
        h1s: list = []
        self.times: list = []
        self.canonical: str | None = None
        bases: list[str] = []
        rel_authors: list = []
        # one pass over the elements the indexes read (the tag filter runs in C), instead of an
        # XPath scan of the whole tree for each index; same elements, same document order
        for el in tree.iter("meta", "title", "h1", "time", "link", "base", "a", "script"):
            tag = el.tag
            if tag == "a":
                rel = el.get("rel")
                if rel is not None and len(rel_authors) < 5 and " author " in f" {rel.translate(_ASCII_LOWER)} ":
                    rel_authors.append(el)
            elif tag == "meta":
                metas.append(el)
            elif tag == "link":
                rel, href = el.get("rel"), el.get("href")
                if self.canonical is None and rel is not None and href is not None \
                        and " canonical " in f" {rel.translate(_ASCII_LOWER)} ":
                    self.canonical = href
            elif tag == "script":
                kind = el.get("type")
                if kind is not None and "ld+json" in kind.translate(_ASCII_LOWER):
                    self.ld_texts.extend(t for t in _XP_OWN_TEXT(el) if isinstance(t, str))
            elif tag == "title":
                titles.append(el)
            elif tag == "h1":
                if len(h1s) < 8:
                    h1s.append(el)
            elif tag == "time":
                self.times.append(el)
            elif tag == "base":
                href = el.get("href")
                if href is not None:
                    bases.append(href)
        for el in metas:
            key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or ""
            content = el.get("content")
            if key and content is not None and content.strip():
                self.meta.setdefault(key.strip().lower(), []).append(content.strip())
        for el in _XP_ITEMPROP(tree):
            for p in el.get("itemprop").lower().split():
                self.itemprops.setdefault(p, []).append(el)
        self.title_tag: str | None = _text(titles[0]) if titles else None
        self.h1: list[str] = [t for t in (_text(h) for h in h1s) if t]
        if bases and url:
            self.base = safe_url(bases[0], url) or url
        self.author_links: list[str] = [t for t in (_text(a) for a in rel_authors) if t]
        self._bylines: list | None = None

    @property
    def bylines(self) -> list:
        """Elements whose class or id says byline/author (computed when first needed)."""
        if self._bylines is None:
            bodies = list(self.tree.iter("body"))
            if len(bodies) == 1:
                self._bylines = _bylines(bodies[0])
            else:
                self._bylines = _XP_BYLINE(self.tree)[:20]
        return self._bylines

    def get(self, *keys: str) -> str | None:
        for key in keys:
            for value in self.meta.get(key, ()):
                if value:
                    return value
        return None

    def all(self, *keys: str) -> list[str]:
        return [v for key in keys for v in self.meta.get(key, ())]


# --------------------------------------------------------------------------- JSON-LD
@dataclass(frozen=True)
class _LD:
    headline: str | None = None
    published: str | None = None
    modified: str | None = None
    authors: tuple[str, ...] = ()
    author_orgs: tuple[str, ...] = ()
    publisher: str | None = None
    url: str | None = None
    image: tuple[str | None, str | None, str | None] = (None, None, None)
    description: str | None = None
    keywords: tuple[str, ...] = ()
    lang: str | None = None


def _read_ld(page: _Page) -> _LD:
    objects = [o for block in jsonld.parse_blocks(page.ld_texts) for o in jsonld.walk(block)]
    if not objects:
        return _LD()
    ids = jsonld.index_ids(objects)
    ranked = sorted(((jsonld.rank(o), i, o) for i, o in enumerate(objects) if jsonld.rank(o) > 0),
                    key=lambda x: (-x[0], x[1]))
    if not ranked:
        return _LD()
    best = ranked[0][2]
    articles = [o for r, _, o in ranked if r >= 2] or [best]

    def first(field: str):
        for o in articles:
            v = o.get(field)
            if v:
                return v
        return None

    people: list[str] = []
    orgs: list[str] = []
    for field in ("author", "creator"):
        v = first(field)
        if v:
            p, o = jsonld.person_names(v, ids)
            people, orgs = p, o
            break
    publisher = jsonld.resolve(first("publisher"), ids)
    pub_name = None
    if isinstance(publisher, dict):
        pub_name = jsonld.text_value(publisher.get("name"))
    elif isinstance(publisher, list) and publisher:
        _, orgs2 = jsonld.person_names(publisher, ids)
        pub_name = orgs2[0] if orgs2 else None
    if not pub_name:
        for o in objects:
            if "newsmediaorganization" in jsonld._types(o) or "organization" in jsonld._types(o):
                pub_name = jsonld.text_value(o.get("name"))
                if pub_name:
                    break
    if not pub_name:
        for o in objects:
            if "website" in jsonld._types(o):
                pub_name = jsonld.text_value(o.get("name"))
                if pub_name:
                    break
    main = first("mainEntityOfPage")
    url = jsonld.text_value(first("url"))
    if isinstance(main, dict):
        url = jsonld.text_value(main.get("@id") or main.get("url")) or url
    elif isinstance(main, str):
        url = main
    kw = first("keywords")
    if isinstance(kw, str):
        kw = kw.split(",")
    keywords = tuple(str(k).strip() for k in (kw or []) if isinstance(k, str) and k.strip())
    section = first("articleSection")
    if isinstance(section, str):
        section = [section]
    keywords += tuple(s.strip() for s in (section or []) if isinstance(s, str) and s.strip())
    return _LD(
        headline=jsonld.text_value(first("headline") or (best.get("name") if jsonld.rank(best) >= 2 else None)),
        published=jsonld.text_value(first("datePublished") or first("dateCreated") or first("uploadDate")),
        modified=jsonld.text_value(first("dateModified")),
        authors=tuple(people), author_orgs=tuple(orgs),
        publisher=pub_name, url=url,
        image=jsonld.image_value(first("image") or first("thumbnailUrl"), ids),
        description=jsonld.text_value(first("description")),
        keywords=keywords,
        lang=jsonld.text_value(first("inLanguage")),
    )


# --------------------------------------------------------------------------- title
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|–—»·•:/\\]|-{1,2}|::)\s+")


def _norm(s: str | None) -> str:
    return re.sub(r"\W+", " ", (s or "").casefold()).strip()


def _title_parts(title: str) -> list[str]:
    return [p for p in _TITLE_SEPARATORS.split(title) if p.strip()]


def strip_site_name(title: str, site: str | None) -> str:
    """'Headline | Outlet' -> 'Headline' (also 'Outlet - Headline'), when the outlet is known or short."""
    parts = _title_parts(title)
    if len(parts) < 2:
        return title
    site_n = _norm(site)
    kept = [p for p in parts if not site_n or _norm(p) != site_n and site_n not in _norm(p)]
    if site_n and kept and len(kept) < len(parts):
        m = _TITLE_SEPARATORS
        # keep the original separators between the parts that stay
        if len(kept) == 1:
            return kept[0].strip()
        start = title.find(kept[0])
        end = title.rfind(kept[-1]) + len(kept[-1])
        if 0 <= start < end:
            return title[start:end].strip()
        return " - ".join(k.strip() for k in kept) if m else title
    # unknown outlet: the last (or first) short part is the site name
    last, first = parts[-1], parts[0]
    if len(last.split()) <= 4 and len(last) < len(title) / 2:
        return title[: title.rfind(last)].rstrip(" |-–—»·•:/\\").strip()
    if len(first.split()) <= 3 and len(first) < len(title) / 3:
        return title[len(first):].lstrip(" |-–—»·•:/\\").strip()
    return title


def _pick_title(page: _Page, ld: _LD, site: str | None) -> str | None:
    og = page.get("og:title")
    tw = page.get("twitter:title")
    other = page.get("title", "dc.title", "dcterms.title", "parsely-title", "sailthru.title", "headline")
    tag = page.title_tag
    candidates = [c for c in (ld.headline, og, tw, other, tag) if c]
    h1s = page.h1
    h1_norm = {_norm(h): h for h in h1s}
    # a headline the page also shows as its <h1> is the title
    for c in candidates:
        for variant in (c, strip_site_name(c, site)):
            if _norm(variant) in h1_norm and _norm(variant):
                return _ws(h1_norm[_norm(variant)])
    # an <h1> that a metadata title contains ("H1 | Outlet")
    for h in h1s:
        hn = _norm(h)
        if len(hn) > 10 and any(hn in _norm(c) for c in candidates):
            return _ws(h)
    if ld.headline:
        return _ws(strip_site_name(ld.headline, site))
    for c in (og, tw, other):
        if c:
            return _ws(strip_site_name(c, site))
    if len(h1s) == 1:
        return _ws(h1s[0])
    if tag:
        return _ws(strip_site_name(tag, site))
    return _ws(h1s[0]) if h1s else None


# --------------------------------------------------------------------------- dates
_DATE_META = (
    "article:published_time", "og:article:published_time", "article.published", "og:published_time",
    "datepublished", "article:published", "published_time", "publishdate", "publish-date",
    "publish_date", "pubdate", "date.published", "parsely-pub-date", "sailthru.date",
    "dc.date.issued", "dcterms.issued", "dc.date.created", "dcterms.created", "dc.date",
    "dcterms.date", "citation_publication_date", "citation_date", "date", "created",
    "article_date_original", "originalpublicationdate", "cxenseparse:recs:publishtime",
    "last-modified",
)
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dc.date.modified",
                  "dcterms.modified", "modified", "lastmod")


def _attr_date(el) -> str | None:
    for attr in ("datetime", "content", "data-datetime", "data-date", "title"):
        d = parse_machine_date(el.get(attr))
        if d:
            return d
    return parse_text_date(_text(el)[:200])


_XP_DATEISH = etree.XPath(
    "//body//*[self::span or self::div or self::p or self::li or self::small or self::time]"
    "[contains(" + _LOWER.format("concat(@class, ' ', @id)") + ", 'date') or contains("
    + _LOWER.format("concat(@class, ' ', @id)") + ", 'publish') or contains("
    + _LOWER.format("concat(@class, ' ', @id)") + ", 'posted') or contains("
    + _LOWER.format("concat(@class, ' ', @id)") + ", 'meta')]"
    "[not(contains(" + _LOWER.format("concat(@class, ' ', @id)") + ", 'update'))]")

_NOT_BODY_TEXT = frozenset({"script", "style", "noscript"})

STRONG, WEAK = 2, 1


def _structured_date(page: _Page, ld: _LD) -> tuple[str | None, int]:
    """The publication date from machine-readable sources, and how much to trust it."""
    og = None
    for key in _DATE_META[:6]:
        for value in page.meta.get(key, ()):
            og = og or parse_machine_date(value)
    d = parse_machine_date(ld.published)
    if d:
        # an OpenGraph date a few days later is the page's own (re)publication: people see that one
        if og and og[:10] != d[:10] and og[:10] > d[:10]:
            return og, STRONG
        return d, STRONG
    for key in _DATE_META:
        for value in page.meta.get(key, ()):
            d = parse_machine_date(value)
            if d:
                return d, STRONG
    for el in page.itemprops.get("datepublished", []) + page.itemprops.get("datecreated", []):
        d = _attr_date(el)
        if d:
            return d, STRONG
    # <time pubdate> or a <time> whose class says it is the publication date
    times = page.times
    for el in times:
        parent = el.getparent()
        k = _klass(el) + " " + (_klass(parent) if parent is not None else "")
        if el.get("pubdate") is not None or "publish" in k or "posted" in k or "created" in k:
            d = _attr_date(el)
            if d:
                return d, STRONG
    d = date_from_url(page.url)
    if d:
        return d, STRONG
    for el in times[:1]:
        if "modif" in _klass(el) or "update" in _klass(el):
            continue
        d = _attr_date(el)
        if d:
            return d, WEAK
    return None, 0


def _pick_date(page: _Page, ld: _LD) -> str | None:
    d, strength = _structured_date(page, ld)
    if strength == STRONG:
        if d and _utc_near_midnight(d):
            # a UTC instant near midnight: the page's own day may be the one before or after
            local = _htmldate(page, ld)
            if local and local != d[:10] and abs((_day(local) - _day(d)).days) == 1:
                return local
        return d
    # a labelled dateline in the text ("Published on ...", "Erschienen am ...")
    found = _dateline(page)
    if found:
        return found
    # no trustworthy markup: htmldate's whole-page heuristics (bylines, text, URL patterns)
    found = _htmldate(page, ld)
    if found:
        # same day as the page's <time>: keep that one, it has the time and zone
        return d if d and d[:10] == found[:10] else found
    if d:
        return d
    for el in page.bylines:
        d = parse_text_date(_text(el)[:300])
        if d:
            return d
    for el in _XP_DATEISH(page.tree)[:30]:
        d = parse_text_date(_text(el)[:200])
        if d:
            return d
    return None


_DATELINE = re.compile(
    r"(?<![^\W\d])(?:published|posted|first published|erschienen|ver(?:ö|oe)ffentlicht|publiziert|erstellt|"
    r"publicado|publicada|publié|publiée|pubblicato|gepubliceerd|datum|date)\b"
    r"(?:\s+(?:on|am|le|el|em|il|op|at))?\s*:?\s*(\d.{5,20}|[^\W\d]{3,12}\.?,?\s.{4,16})", re.I)


def _dateline(page: _Page) -> str | None:
    body = page.tree.find("body")
    if body is None:
        return None
    text = re.sub(r"\s+", " ", "".join(texts_outside(body, _NOT_BODY_TEXT))[:200_000])
    for m in _DATELINE.finditer(text):
        d = parse_text_date(m.group(1))
        if d:
            return d
    return None


def _day(iso: str):
    from datetime import date as _date

    return _date.fromisoformat(iso[:10])


def _utc_near_midnight(iso: str) -> bool:
    m = re.search(r"T(\d{2}):\d{2}:\d{2}(?:Z|\+00:00)$", iso)
    return bool(m) and (int(m.group(1)) >= 21 or int(m.group(1)) < 4)


def _htmldate(page: _Page, ld: _LD) -> str | None:
    return find_page_date(page.tree, page.url, _pick_lang(page, ld))


def _pick_updated(page: _Page, ld: _LD) -> str | None:
    d = parse_machine_date(ld.modified)
    if d:
        return d
    for key in _MODIFIED_META:
        for value in page.meta.get(key, ()):
            d = parse_machine_date(value)
            if d:
                return d
    for el in page.itemprops.get("datemodified", []):
        d = _attr_date(el)
        if d:
            return d
    return None


# --------------------------------------------------------------------------- authors
_AUTHOR_META = ("author", "article:author", "og:article:author", "parsely-author", "sailthru.author",
                "dc.creator", "dcterms.creator", "byl", "citation_author", "twitter:data1")


def _pick_authors(page: _Page, ld: _LD, outlets: tuple[str, ...]) -> tuple[str, ...]:
    if ld.authors:
        names = clean_authors(list(ld.authors), outlets)
        if names:
            return names
    values = [v for v in page.all(*_AUTHOR_META) if not re.match(r"https?://|www\.", v)]
    if page.meta.get("twitter:label1") and "author" not in page.meta["twitter:label1"][0].lower() \
            and "autor" not in page.meta["twitter:label1"][0].lower():
        values = [v for v in values if v not in page.meta.get("twitter:data1", [])]
    if values:
        names = clean_authors(values[:1] if len(values) > 1 and "," in values[0] else values, outlets)
        if names:
            return names
    for el in page.itemprops.get("author", []) + page.itemprops.get("creator", []):
        inner = el.find(".//*[@itemprop='name']")
        value = (inner.get("content") or _text(inner)) if inner is not None else (el.get("content") or _text(el))
        names = clean_authors(value, outlets)
        if names:
            return names
    if page.author_links:
        names = clean_authors(page.author_links[:3], outlets)
        if names:
            return names
    for el in page.bylines:
        text = _text(el)
        if 3 <= len(text) <= 120:
            names = clean_authors(text, outlets)
            if names:
                return names
    if ld.author_orgs:
        return clean_authors(list(ld.author_orgs), ())
    return ()


# --------------------------------------------------------------------------- the rest
def _pick_source(page: _Page, ld: _LD) -> str | None:
    name = page.get("og:site_name") or ld.publisher or page.get("application-name", "publisher", "dc.publisher")
    return _ws(name) or None


def _pick_tags(page: _Page, ld: _LD) -> tuple[str, ...]:
    raw: list[str] = list(page.all("article:tag", "og:article:tag"))
    for value in page.all("news_keywords", "keywords"):
        raw.extend(value.split(","))
    raw.extend(ld.keywords)
    raw.extend(page.all("article:section"))
    out: list[str] = []
    seen: set[str] = set()
    for t in raw:
        t = _ws(t).strip(" ;#")
        if not t or len(t) > 60 or t.casefold() in seen:
            continue
        seen.add(t.casefold())
        out.append(t)
    return tuple(out[:MAX_TAGS])


def _pick_lang(page: _Page, ld: _LD) -> str | None:
    lang = page.tree.get("lang") or page.tree.get("xml:lang") or ld.lang \
        or page.get("og:locale", "content-language", "language", "dc.language")
    if not lang:
        return None
    lang = lang.strip().replace("_", "-").split(",")[0]
    return lang if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", lang) else None


def extract_metadata(tree, url: str | None = None, captions: dict | None = None) -> Metadata:
    """Title, dates, authors, outlet, canonical URL, lead image, summary, language, tags of a page."""
    page = _Page(tree, url)
    ld = _read_ld(page)
    source = _pick_source(page, ld)
    outlets = tuple(x for x in (source, ld.publisher, page.get("og:site_name")) if x)
    if url:
        host = urlsplit(url).hostname or ""
        outlets += (host, host.removeprefix("www.").split(".")[0])
    canonical = None
    for cand in (page.canonical, page.get("og:url"), ld.url, url):
        canonical = safe_url(cand, page.base) if cand else None
        if canonical:
            break
    img_src, img_caption, img_credit = ld.image
    og_image = page.get("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src")
    src = safe_url(og_image or img_src, page.base, image=True) or safe_url(img_src, page.base, image=True)
    image = None
    if src:
        known = (captions or {}).get(src)
        caption = img_caption or (known.caption if known else None)
        credit = img_credit or (known.credit if known else None)
        alt = page.get("og:image:alt", "twitter:image:alt")
        image = ExtractedImage(src=src, alt=_ws(alt) or None, caption=_ws(caption) or None,
                               credit=_ws(credit) or None)
    summary = page.get("og:description", "description", "twitter:description", "dc.description") or ld.description
    return Metadata(
        title=_pick_title(page, ld, source) or None,
        date=_pick_date(page, ld),
        updated=_pick_updated(page, ld),
        authors=_pick_authors(page, ld, outlets),
        source=source,
        source_url=canonical,
        image=image,
        summary=_ws(summary) or None,
        lang=_pick_lang(page, ld),
        tags=_pick_tags(page, ld),
    )
