"""`sitemap.xml` (absolute URLs with `lastmod`) and `robots.txt` pointing at it. Pure.

Search engines read `robots.txt` only at the root of a host, so under a subpath (`base_url` =
`https://example.org/digest/`) it is written anyway but only serves when that folder is the root
of a host; the sitemap itself works at any path.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from html import escape as _html_escape
from operator import attrgetter, itemgetter
from typing import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from digest import urls
from digest.feeds import entry_updated, rfc3339 as w3c_datetime  # W3C datetimes are RFC 3339 in UTC
from digest.model import SiteConfig
from digest.views import SiteViews


def _escape(text: str) -> str:
    """XML character data: &, < and > escaped (as xml.sax.saxutils.escape, without importing urllib)."""
    return _html_escape(text, quote=False)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
EXCLUDED = frozenset({"404.html"})


def render_sitemap(config: SiteConfig, entries: Iterable[tuple[str, datetime | None]]) -> dict[str, bytes]:
    """`{"sitemap.xml": ..., "robots.txt": ...}` for (site-relative URL, last modified or None) pairs.

    Entries are sorted by URL and de-duplicated (the latest `lastmod` wins); `404.html` is left out.
    """
    latest: dict[str, datetime | None] = {}
    for url, when in entries:
        if url in EXCLUDED:
            continue
        previous = latest.get(url)
        latest[url] = when if previous is None or (when is not None and when > previous) else previous
    lines = ["<?xml version='1.0' encoding='utf-8'?>", f'<urlset xmlns="{SITEMAP_NS}">']
    lines += [_url_element(config.base_url, url, latest[url]) for url in sorted(latest)]
    lines.append("</urlset>")
    if not latest:
        lines[1:] = [f'<urlset xmlns="{SITEMAP_NS}" />']
    sitemap = ("\n".join(lines) + "\n").encode("utf-8")
    return {"sitemap.xml": sitemap, "robots.txt": robots_txt(config).encode("utf-8")}


@lru_cache(maxsize=1 << 18)  # a rebuild after an edit writes the same entries again: made once per process
def _url_element(base_url: str, url: str, when: datetime | None) -> str:
    """One `<url>` entry, laid out as ElementTree's indent() would (written directly: fast)."""
    loc = f"  <url>\n    <loc>{_escape(urls.absolute(base_url, url))}</loc>\n"
    return loc + (f"    <lastmod>{w3c_datetime(when)}</lastmod>\n  </url>" if when is not None else "  </url>")


def robots_txt(config: SiteConfig) -> str:
    """Allow everything and name the sitemap (only when `base_url` is absolute: the line needs a
    full URL; not at all when `[sitemap] enabled = false`)."""
    lines = ["User-agent: *", "Allow: /"]
    if config.sitemap_enabled and urlsplit(config.base_url).netloc:
        lines += ["", f"Sitemap: {urls.absolute(config.base_url, 'sitemap.xml')}"]
    elif config.sitemap_enabled:
        lines += ["", "# Sitemap: set an absolute base_url (https://...) to name sitemap.xml here"]
    return "\n".join(lines) + "\n"


_URL = attrgetter("url")
_FIRST = itemgetter(0)


def _instant(when: datetime) -> float:
    """Seconds since the epoch (a naive time taken as UTC, as `w3c_datetime` writes it)."""
    return (when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)).timestamp()


def sitemap_entries(views: SiteViews, page_urls: Sequence[str],
                    mtimes: Mapping[str, datetime] | None = None) -> list[tuple[str, datetime | None]]:
    """(URL, lastmod) for every page: a story's own date; a listing's newest story; else None.

    `page_urls` are the site-relative URLs of the rendered pages (e.g. `[s.url for s in specs]`).
    A listing whose stories are the last build's very tuple of views keeps its newest date
    (`views.reuse`; undated stories' times come from `mtimes`, which must then be the same too).
    """
    mtimes = mtimes or {}
    story_time = {v.url: entry_updated(v.story, mtimes) for v in views.stories}
    # (instant, time) per dated story: a listing's newest is a max over floats, not over aware
    # datetimes (each comparison of which asks both for their UTC offset)
    instants = {url: (_instant(when), when) for url, when in story_time.items() if when is not None}

    def newest(url: str, stories: tuple) -> datetime | None:
        def make() -> datetime | None:
            best = max(filter(None, map(instants.get, map(_URL, stories))), key=_FIRST, default=None)
            return None if best is None else best[1]
        return views.reuse(("sitemap", url), stories, (mtimes_key,), make)

    mtimes_key = tuple(sorted(mtimes.items()))
    listing: dict[str, datetime | None] = {"": newest("", views.stories)}
    for topic in views.topics:
        url = urls.topic(topic.slug)
        listing[url] = newest(url, views.topic_stories.get(topic.slug, ()))
    for tag in views.tags:
        listing[tag.url] = newest(tag.url, views.tag_stories.get(urls.tag_slug(tag.name), ()))
    for source in views.sources:
        listing[source.url] = newest(source.url, views.source_stories.get(urls.tag_slug(source.name), ()))
    for year, month, stories in views.months:
        url = urls.month(year, month)
        listing[url] = newest(url, stories)
    out = []
    for url in page_urls:
        if url in story_time:
            out.append((url, story_time[url]))
        else:
            out.append((url, listing.get(url)))
    return out
