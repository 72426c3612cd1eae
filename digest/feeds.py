"""Atom 1.0 feeds: the whole digest, one per topic and one per tag. Pure: views in, bytes out.

Written as strings rather than with feedgen or xml.etree: feedgen has no `atom:source`, stamps its
own version into `<generator>` (bytes change with a library upgrade), falls back to the clock for
missing `updated` values and prepends entries; ElementTree cost most of the feeds stage (a tree of
~400 elements per feed, serialised a write() call at a time). The layout is the one
`ElementTree.indent(space="  ")` + `tostring(encoding="utf-8", xml_declaration=True)` gave, byte for
byte, so every byte stays a function of the content alone. Each story's `<entry>` is made once per
build (`FeedWriter`) and shared by every feed that shows it.

Escaping: character data escapes `&`, `<`, `>`; attribute values also `"`, and CR, LF and TAB as
character references (as ElementTree does); characters XML 1.0 cannot carry (C0 controls other
than TAB, LF, CR; U+FFFE, U+FFFF) are dropped from text and attributes alike.

Dates: an entry's `updated` is the story's `updated`, else its `date`, else the time it entered the
digest (`ingested`, else the file's modification time, read by the caller and passed in as
`mtimes`); `published` is written only when the story has a date. A feed's `updated` is its newest
entry's, so the same content gives the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from operator import attrgetter
from typing import Mapping, Sequence
from urllib.parse import urlsplit

from digest import urls
from digest.markdown import rebase_links
from digest.model import SiteConfig, Story
from digest.views import SiteViews, StoryView

ATOM = "http://www.w3.org/2005/Atom"
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
    """Every feed of the site: the whole digest, each topic and (with `tags`) each tag, as far as
    the config has them (`[feeds] topics`, `tags`)."""
    jobs = [FeedJob(feed_url(), views.stories, "", config.title, config.description)]
    for topic in views.topics if config.topic_feeds else ():
        jobs.append(FeedJob(feed_url("topics", topic.slug), views.topic_stories.get(topic.slug, ()),
                            urls.topic(topic.slug), f"{topic.title} · {config.title}", topic.description or ""))
    if tags and config.tag_feeds:
        for tag in views.tags:
            key = urls.tag_slug(tag.name)
            jobs.append(FeedJob(feed_url("tags", key), views.tag_stories.get(key, ()), tag.url,
                                f"{tag.name} · {config.title}", summaries_only=True, limit=TAG_FEED_SIZE))
    return jobs


def render_feed(config: SiteConfig, job: FeedJob, now: datetime, mtimes: Mapping[str, datetime] | None = None,
                limit: int = FEED_SIZE) -> bytes:
    """One feed's bytes (`now` is used only for an empty feed's `updated`)."""
    return FeedWriter(config, now, mtimes or {}).render(job, limit=limit)


def render_feeds(config: SiteConfig, views: SiteViews, now: datetime,
                 mtimes: Mapping[str, datetime] | None = None, limit: int = FEED_SIZE,
                 tags: bool = True) -> dict[str, bytes]:
    """Every feed of the site as `{site-relative path: bytes}` (`now` is used only for an empty feed)."""
    mtimes = mtimes or {}
    writer = FeedWriter(config, now, mtimes)
    order = feed_order(views.stories, mtimes)
    out = {}
    for job in feed_jobs(config, views, tags):
        out[job.path] = writer.render(job, newest(job.stories, mtimes, min(limit, job.limit), order))
    return out


def feed_order(stories: Sequence[StoryView], mtimes: Mapping[str, datetime]) -> dict[str, int]:
    """Each story's rank, newest first by the time it appeared (dated or not), ties by slug:
    sorted once per build, so that every feed picks its newest entries by rank."""
    keys = []
    for view in stories:
        story = view.story
        when = story.date or story.ingested or mtimes.get(view.slug)
        keys.append((when is None, -when.timestamp() if when else 0.0, view.slug))
    keys.sort()
    return {key[2]: rank for rank, key in enumerate(keys)}


_SLUG = attrgetter("slug")


def newest(stories: Sequence[StoryView], mtimes: Mapping[str, datetime], limit: int,
           order: Mapping[str, int] | None = None) -> list[StoryView]:
    """The `limit` newest stories by the time they appeared (dated or not), ties by slug;
    `order` is `feed_order` of a superset of `stories` when the caller has it."""
    rank = order if order is not None else feed_order(stories, mtimes)
    ranks = list(map(rank.__getitem__, map(_SLUG, stories)))
    return [stories[i] for i in sorted(range(len(ranks)), key=ranks.__getitem__)[:max(limit, 0)]]


class FeedWriter:
    """Writes the feeds of one build: each story's `<entry>` is serialised once (per full-content or
    summary form) and reused by every feed that shows it. Output depends only on the arguments."""

    def __init__(self, config: SiteConfig, now: datetime, mtimes: Mapping[str, datetime]):
        self.config = config
        self.now = now
        self.mtimes = mtimes
        self._base = urls.absolute(config.base_url, "")
        self._topics_scheme = _attr(urls.absolute(config.base_url, "topics/"))
        self._tags_scheme = _attr(urls.absolute(config.base_url, "tags/"))
        self._entries: dict[tuple[int, bool], tuple[StoryView, str]] = {}
        self._categories: dict[tuple[str, str | None], str] = {}
        self._stamps: dict[tuple, str] = {}

    def render(self, job: FeedJob, chosen: Sequence[StoryView] | None = None, limit: int = FEED_SIZE) -> bytes:
        """The feed's bytes; `chosen` is `newest(job.stories, mtimes, job.limit)` when the caller has it."""
        config, mtimes = self.config, self.mtimes
        if chosen is None:
            chosen = newest(job.stories, mtimes, min(limit, job.limit))
        full = config.feed_full_content and not job.summaries_only
        self_url = job.page + "feed.xml"
        stamps = [u for u in (entry_updated(v.story, mtimes) for v in chosen) if u is not None]
        parts = ["<?xml version='1.0' encoding='utf-8'?>\n"
                 f'<feed xmlns="{ATOM}" xml:lang="{_attr(config.language)}">',
                 _leaf(1, "id", entry_id(config, self_url)),
                 _leaf(1, "title", job.title)]
        if job.subtitle:
            parts.append(_leaf(1, "subtitle", job.subtitle))
        parts += [_leaf(1, "updated", rfc3339(max(stamps) if stamps else self.now)),
                  f'\n  <link rel="self" type="application/atom+xml" href="{_attr(urls.absolute(config.base_url, self_url))}" />',
                  f'\n  <link rel="alternate" type="text/html" href="{_attr(urls.absolute(config.base_url, job.page))}" />',
                  "\n  <author>", _leaf(2, "name", config.title), "\n  </author>",
                  "\n  <generator>digest</generator>"]
        parts += [self._entry(view, full) for view in chosen]
        parts.append("\n</feed>\n")
        return "".join(parts).encode("utf-8", "xmlcharrefreplace")

    def _entry(self, view: StoryView, full: bool) -> str:
        """The entry's XML, indented for its place in a feed (a leading newline, no trailing one)."""
        key = (id(view), full)
        known = self._entries.get(key)
        if known is not None and known[0] is view:
            return known[1]
        text = self._make_entry(view, full)
        self._entries[key] = (view, text)
        return text

    def _make_entry(self, view: StoryView, full: bool) -> str:
        config, story, stamp, category = self.config, view.story, self._stamp, self._category
        parts = [f'\n  <entry xml:lang="{_attr(story.lang)}">' if story.lang else "\n  <entry>",
                 _leaf(2, "id", entry_id(config, view.url)),
                 _leaf(2, "title", story.title),
                 f'\n    <link rel="alternate" type="text/html" href="{_attr(self._base + view.url)}" />']
        if story.source_url:
            title = f' title="{_attr(story.source)}"' if story.source else ""
            parts.append(f'\n    <link rel="related" type="text/html" href="{_attr(story.source_url)}"{title} />')
        parts.append(f"\n    <updated>{stamp(entry_updated(story, self.mtimes) or self.now)}</updated>")
        if story.date is not None:
            parts.append(f"\n    <published>{stamp(story.date)}</published>")
        for name in story.authors:
            parts += ["\n    <author>", _leaf(3, "name", name), "\n    </author>"]
        parts += [category(topic.slug, topic.title) for topic in view.topics]
        parts += [category(tag.name, None) for tag in view.tags]
        summary = story.summary or (None if full else _first_paragraph(view.body_html))
        if summary:
            parts.append(_leaf(2, "summary", summary))
        if full:
            parts.append(_leaf(2, "content", _content_html(view, self._base), ' type="html"'))
        if story.source:
            parts += ["\n    <source>", _leaf(3, "title", story.source)]
            origin = _origin(story.source_url)
            if origin:
                parts.append(f'\n      <link rel="alternate" type="text/html" href="{_attr(origin)}" />')
            parts.append("\n    </source>")
        parts.append("\n  </entry>")
        return "".join(parts)

    def _category(self, term: str, label: str | None) -> str:
        """A topic's (with `label`) or a tag's `<category>` line, made once per build."""
        line = self._categories.get((term, label))
        if line is None:
            if label is None:
                line = f'\n    <category term="{_attr(term)}" scheme="{self._tags_scheme}" />'
            else:
                line = f'\n    <category term="{_attr(term)}" label="{_attr(label)}" scheme="{self._topics_scheme}" />'
            self._categories[(term, label)] = line
        return line

    def _stamp(self, when: datetime) -> str:
        """`rfc3339(when)`, made once per instant (stories share dates; equal aware datetimes with equal
        offsets are the same instant; a naive one never equals an aware one)."""
        key = (when, when.utcoffset())
        text = self._stamps.get(key)
        if text is None:
            text = self._stamps[key] = rfc3339(when)
        return text


def _content_html(view: StoryView, base: str) -> str:
    """The entry's HTML: lead image, editor's note, body (links made absolute), link to the original."""
    story = view.story
    parts = []
    image = story.image
    if image is not None and (image.src or image.caption or image.credit):
        figure = []
        if image.src:
            src = image.src if "://" in image.src else base + image.src.lstrip("/")
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


_PLAIN_ORIGIN = re.compile(r"(https?)://([A-Za-z0-9.-]+)(?:[/?#]|\Z)")


def _origin(url: str | None) -> str | None:
    """`scheme://host/` of an http(s) URL, else None (as `urlsplit` reads it)."""
    if not url:
        return None
    plain = _PLAIN_ORIGIN.match(url)  # the usual case, which urlsplit reads the same way, without its cost
    if plain is not None:
        return f"{plain[1]}://{plain[2]}/"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else None


_INDENT = ["\n" + "  " * level for level in range(4)]


def _leaf(level: int, tag: str, text: str, attrs: str = "") -> str:
    """`<tag attrs>text</tag>` on its own line at `level`, or `<tag attrs />` when no text is left."""
    text = _text(text)
    if not text:
        return f"{_INDENT[level]}<{tag}{attrs} />"
    return f"{_INDENT[level]}<{tag}{attrs}>{text}</{tag}>"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT_WORK = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTR_WORK = re.compile('[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters would make the feed malformed)."""
    return _NOT_XML.sub("", text)


def _text(text: str) -> str:
    """Character data: XML-safe, with `&`, `<` and `>` escaped."""
    if _TEXT_WORK.search(text) is None:  # most titles, names and dates: nothing to do
        return text
    text = _NOT_XML.sub("", text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attr(text: str) -> str:
    """An attribute value (inside double quotes): as `_text`, plus `"`, CR, LF and TAB as references."""
    if _ATTR_WORK.search(text) is None:
        return text
    text = _text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def rfc3339(when: datetime) -> str:
    """RFC 3339 in UTC (`2013-12-17T05:00:00Z`); a naive datetime is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
