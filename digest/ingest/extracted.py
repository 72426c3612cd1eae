"""What extraction yields from one source, before it becomes a story file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractedImage:
    src: str | None = None  # absolute URL
    alt: str | None = None
    caption: str | None = None
    credit: str | None = None


@dataclass(frozen=True)
class Extracted:
    """An article pulled out of a page: metadata and a clean Markdown body."""

    title: str | None
    body: str  # Markdown, sanitised
    date: str | None = None  # ISO 8601, with the time zone when the page gives one
    updated: str | None = None
    authors: tuple[str, ...] = ()
    source: str | None = None  # the outlet's name
    source_url: str | None = None  # canonical URL
    image: ExtractedImage | None = None
    summary: str | None = None
    lang: str | None = None
    tags: tuple[str, ...] = ()
