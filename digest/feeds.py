"""Atom 1.0 feeds: the whole digest, one per topic and one per tag. Pure: views in, bytes out.

Written with xml.etree rather than feedgen: feedgen has no `atom:source`, stamps its own version
into `<generator>` (bytes change with a library upgrade), falls back to the clock for missing
`updated` values and prepends entries; building the tree directly keeps every byte a function of
the content alone.

Dates: an entry's `updated` is the story's `updated`, else its `date`, else the time it entered the
digest (`ingested`, else the file's modification time, read by the caller and passed in as
`mtimes`); `published` is written only when the story has a date. A feed's `updated` is its newest
entry's, so the same content gives the same bytes.
"""

from __future__ import annotations

import heapq

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from html import escape
from typing import Mapping, Sequence
from urllib.parse import urlsplit

from digest import urls
from digest.markdown import rebase_links
from digest.model import SiteConfig, Story
from digest.views import SiteViews, StoryView

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_SIZE = 50
TAG_FEED_SIZE = 20



def feed_url(kind: str = "", slug: str = "") -> str:
    """Site-relative URL of a feed: `feed.xml`, `topics/<slug>/feed.xml`, `tags/<slug>/feed.xml`."""
    return f"{kind}/{slug}/feed.xml" if kind else "feed.xml"


def entry_time(story: Story, mtimes: Mapping[str, datetime]) -> datetime | None:
    """When the story entered the digest, for ordering: its date, else `ingested`, else the file's mtime."""
    return story.date or story.ingested or mtimes.get(story.slug)


def entry_updated(story: Story, mtimes: Mapping[str, datetime]) -> datetime | None:
    """An entry's `updated`: `updated`, else `date`, else `ingested`, else the file's mtime."""
    return story.updated or story.date or story.ingested or mtimes.get(story.slug)


def entry_id(config: SiteConfig, url: str) -> str:
    """A stable id for a site-relative `url`: the absolute URL (a `urn:` when `base_url` has no host)."""
    if urlsplit(config.base_url).netloc:
        return urls.absolute(config.base_url, url)
    path = (urls.base_path(config.base_url) + url).strip("/")
    return "urn:digest:" + (path or "index")


@dataclass(frozen=True)
class FeedJob:
    """One feed to write: where, which stories, and its title."""

    path: str  # site-relative file, e.g. topics/japan-aid/feed.xml
    stories: tuple[StoryView, ...]
    page: str  # the HTML page the feed belongs to
    title: str
    subtitle: str = ""
    summaries_only: bool = False  # tag feeds: summaries, so two hundred tags stay cheap
    limit: int = FEED_SIZE


def feed_jobs(config: SiteConfig, views: SiteViews, tags: bool = True) -> list[FeedJob]:
    """Every feed of the site: the whole digest, each topic and (with `tags`) each tag."""
    jobs = [FeedJob(feed_url(), views.stories, "", config.title, config.description)]
    for topic in views.topics:
        jobs.append(FeedJob(feed_url("topics", topic.slug), views.topic_stories.get(topic.slug, ()),
                            urls.topic(topic.slug), f"{topic.title} · {config.title}", topic.description or ""))
    if tags:
        for tag in views.tags:
            key = urls.tag_slug(tag.name)
            jobs.append(FeedJob(feed_url("tags", key), views.tag_stories.get(key, ()), tag.url,
                                f"{tag.name} · {config.title}", summaries_only=True, limit=TAG_FEED_SIZE))
    return jobs


def render_feed(config: SiteConfig, job: FeedJob, now: datetime, mtimes: Mapping[str, datetime] | None = None,
                limit: int = FEED_SIZE) -> bytes:
    """One feed's bytes (`now` is used only for an empty feed's `updated`)."""
    if job.summaries_only:
        config = replace(config, feed_full_content=False)
    return _feed(config, job.stories, job.page, job.title, job.subtitle, now, mtimes or {}, min(limit, job.limit))


def render_feeds(config: SiteConfig, views: SiteViews, now: datetime,
                 mtimes: Mapping[str, datetime] | None = None, limit: int = FEED_SIZE,
                 tags: bool = True) -> dict[str, bytes]:
    """Every feed of the site as `{site-relative path: bytes}` (`now` is used only for an empty feed)."""
    return {job.path: render_feed(config, job, now, mtimes, limit) for job in feed_jobs(config, views, tags)}


def feed_order(stories: Sequence[StoryView], mtimes: Mapping[str, datetime]) -> dict[str, int]:
    """Each story's rank, newest first by the time it appeared (dated or not), ties by slug:
    sorted once per build, so that every feed picks its newest entries by rank."""
    def key(view: StoryView) -> tuple:
        when = entry_time(view.story, mtimes)
        return (when is None, -when.timestamp() if when else 0.0, view.slug)

    return {view.slug: rank for rank, view in enumerate(sorted(stories, key=key))}


def newest(stories: Sequence[StoryView], mtimes: Mapping[str, datetime], limit: int,
           order: Mapping[str, int] | None = None) -> list[StoryView]:
    """The `limit` newest stories by the time they appeared (dated or not), ties by slug;
    `order` is `feed_order` of a superset of `stories` when the caller has it."""
    rank = order if order is not None else feed_order(stories, mtimes)
    return heapq.nsmallest(limit, stories, key=lambda view: rank[view.slug])


def _feed(config: SiteConfig, stories: Sequence[StoryView], page: str, title: str, subtitle: str,
          now: datetime, mtimes: Mapping[str, datetime], limit: int) -> bytes:
    chosen = newest(stories, mtimes, limit)
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: config.language})
    self_url = page + "feed.xml"
    _text(feed, "id", entry_id(config, self_url))
    _text(feed, "title", title)
    if subtitle:
        _text(feed, "subtitle", subtitle)
    stamps = [u for u in (entry_updated(v.story, mtimes) for v in chosen) if u is not None]
    _text(feed, "updated", _rfc3339(max(stamps) if stamps else now))
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "type": "application/atom+xml",
                                           "href": urls.absolute(config.base_url, self_url)})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html",
                                           "href": urls.absolute(config.base_url, page)})
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", config.title)
    _text(feed, "generator", "digest")
    for view in chosen:
        feed.append(_entry(config, view, mtimes, now))
    ET.indent(feed, space="  ")
    ET.register_namespace("", ATOM)  # the registry is global: claim the default prefix each time
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _entry(config: SiteConfig, view: StoryView, mtimes: Mapping[str, datetime], now: datetime) -> ET.Element:
    story = view.story
    attrs = {XML_LANG: story.lang} if story.lang else {}
    entry = ET.Element(f"{{{ATOM}}}entry", attrs)
    _text(entry, "id", entry_id(config, view.url))
    _text(entry, "title", story.title)
    link = urls.absolute(config.base_url, view.url)
    ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": link})
    if story.source_url:
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "related", "type": "text/html", "href": story.source_url,
                                                 **({"title": story.source} if story.source else {})})
    _text(entry, "updated", _rfc3339(entry_updated(story, mtimes) or now))
    if story.date is not None:
        _text(entry, "published", _rfc3339(story.date))
    for name in story.authors:
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        _text(author, "name", name)
    for topic in view.topics:
        ET.SubElement(entry, f"{{{ATOM}}}category", {
            "term": topic.slug, "label": topic.title,
            "scheme": urls.absolute(config.base_url, "topics/")})
    for tag in view.tags:
        ET.SubElement(entry, f"{{{ATOM}}}category", {
            "term": tag.name, "scheme": urls.absolute(config.base_url, "tags/")})
    summary = story.summary or (None if config.feed_full_content else _first_paragraph(view.body_html))
    if summary:
        _text(entry, "summary", summary)
    if config.feed_full_content:
        content = _text(entry, "content", _content_html(config, view))
        content.set("type", "html")
    if story.source:
        source = ET.SubElement(entry, f"{{{ATOM}}}source")
        _text(source, "title", story.source)
        origin = _origin(story.source_url)
        if origin:
            ET.SubElement(source, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": origin})
    return entry


def _content_html(config: SiteConfig, view: StoryView) -> str:
    """The entry's HTML: lead image, editor's note, body (links made absolute), link to the original."""
    story = view.story
    base = urls.absolute(config.base_url, "")
    parts = []
    image = story.image
    if image is not None and (image.src or image.caption or image.credit):
        figure = []
        if image.src:
            src = image.src if "://" in image.src else urls.absolute(config.base_url, image.src.lstrip("/"))
            figure.append(f'<img src="{escape(src)}" alt="{escape(image.alt or "")}">')
        caption = " ".join(escape(t) for t in (image.caption, image.credit) if t)
        if caption:
            figure.append(f"<figcaption>{caption}</figcaption>")
        parts.append("<figure>" + "".join(figure) + "</figure>")
    if view.note_html:
        parts.append("<aside><p><strong>Editor’s note</strong></p>" + rebase_links(view.note_html, base) + "</aside>")
    parts.append(rebase_links(view.body_html, base))
    if story.source_url:
        outlet = escape(story.source or "the original")
        lead = "This is an excerpt. Read the full story at" if view.excerpt else "Read the original at"
        parts.append(f'<p><a href="{escape(story.source_url)}">{lead} {outlet}</a></p>')
    elif story.source:
        parts.append(f"<p>Source: {escape(story.source)}</p>")
    return "\n".join(parts)


_TAG = re.compile(r"<[^>]+>")
_PARA = re.compile(r"<p[ >].*?</p>", re.S)


def _first_paragraph(html: str) -> str | None:
    from html import unescape

    match = _PARA.search(html)
    text = unescape(_TAG.sub("", match.group(0))).strip() if match else ""
    return " ".join(text.split()) or None


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else None


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    child.text = _xml_safe(text)
    return child


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters would make the feed malformed)."""
    return _NOT_XML.sub("", text)


def _rfc3339(when: datetime) -> str:
    """RFC 3339 in UTC (`2013-12-17T05:00:00Z`); a naive datetime is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
