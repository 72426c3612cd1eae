"""The content model: frozen dataclasses for stories, topics, pages, config and the site.

Nothing here imports from the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping


class FrozenMap(Mapping[str, Any]):
    """A read-only mapping that pickles (for front-matter keys the model does not know)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple:
        return (FrozenMap, (self._data,))


EMPTY: Mapping[str, Any] = FrozenMap()


@dataclass(frozen=True)
class Image:
    """A story's lead image; any field may be missing (a caption without `src` is shown alone)."""

    src: str | None = None
    alt: str | None = None
    caption: str | None = None
    credit: str | None = None


@dataclass(frozen=True)
class Story:
    """One story file of `content/stories/`."""

    slug: str
    title: str
    path: str  # source file, relative to the site root, POSIX separators
    body: str  # Markdown
    body_line: int = 1  # line of the file on which the body starts
    date: datetime | None = None  # timezone-aware; None when unknown (never invented)
    date_has_time: bool = False  # False when the front matter gave a date only
    updated: datetime | None = None
    source: str | None = None  # the outlet's name
    source_url: str | None = None
    authors: tuple[str, ...] = ()
    image: Image | None = None
    summary: str | None = None
    note: str | None = None  # the editor's comment, shown apart from the story
    topics: tuple[str, ...] | None = None  # None: assigned by topic rules at build time
    tags: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # pinned related story slugs
    unrelated: tuple[str, ...] = ()  # story slugs never to show as related
    draft: bool = False
    lang: str | None = None
    excerpt: bool | None = None  # None: decided by the outlet list in digest.toml
    license: str | None = None
    ingested: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # unknown front-matter keys


@dataclass(frozen=True)
class TopicRules:
    """Matching rules of a topic; phrases are matched case- and accent-insensitively, whole words."""

    phrases: tuple[tuple[str, float], ...] = ()  # (phrase, weight)
    require: tuple[str, ...] = ()  # at least one of these must appear (empty: no requirement)
    exclude: tuple[str, ...] = ()  # any of these present: the topic does not apply
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()  # phrase -> other spellings
    min_score: float = 1.0


@dataclass(frozen=True)
class Topic:
    """One topic file of `content/topics/`: title, description, the editor's introduction."""

    slug: str
    title: str
    path: str
    body: str
    body_line: int = 1
    description: str | None = None
    rules: TopicRules | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Page:
    """A free-standing page of `content/pages/` (about, etc.), served at `/<slug>/`."""

    slug: str
    title: str
    path: str
    body: str
    body_line: int = 1
    description: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class MenuItem:
    """One navigation entry: a title and either a URL or a page slug."""

    title: str
    url: str | None = None
    page: str | None = None


@dataclass(frozen=True)
class SiteConfig:
    """`digest.toml`, parsed and checked."""

    root: Path = Path(".")
    title: str = "Digest"
    description: str = ""
    language: str = "en"
    base_url: str = "/"
    timezone: str = "UTC"
    content_dir: str = "content"
    templates_dir: str = "templates"
    output_dir: str = "output"
    static_dir: str = "static"
    stories_per_page: int = 20
    related_count: int = 5
    related_enabled: bool = True
    markdown_html: bool = True
    feed_full_content: bool = True
    search_enabled: bool = True
    search_part_stories: int = 1250  # stories per part of the search index (digest.search.part_count)
    # the kinds of output a site may do without (like Hugo's disableKinds): every one on by default
    outlets_enabled: bool = True  # /sources/: the outlets' index and a listing per outlet
    archive_enabled: bool = True  # /archive/: the months' index and a listing per month
    sitemap_enabled: bool = True  # sitemap.xml (and robots.txt's line naming it)
    topic_feeds: bool = True  # a feed per topic (the site's own feed is always made)
    tag_feeds: bool = True  # a feed per tag
    excerpt_sources: tuple[str, ...] = ()
    menu: tuple[MenuItem, ...] | None = None  # None: topics and pages


@dataclass(frozen=True)
class Site:
    """Everything loaded from a site folder."""

    config: SiteConfig
    stories: tuple[Story, ...]
    topics: tuple[Topic, ...]
    pages: tuple[Page, ...]
