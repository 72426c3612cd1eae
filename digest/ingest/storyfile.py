"""An `Extracted` article becomes the text of a story file: YAML front matter + Markdown (pure).

The front matter records two hashes: `content_hash` (of the extracted title and body,
normalised) recognises the same article again; `file_hash` (of the file as ingest wrote it,
without the `file_hash` line) tells whether a person has edited the file since.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

import yaml
from slugify import slugify

from digest.errors import IngestError, Problem
from digest.ingest.extracted import Extracted

FILE_HASH_KEY = "file_hash"
_FILE_HASH_LINE = re.compile(r"^file_hash:[^\n]*\n", re.MULTILINE)
SLUG_MAX = 80


@dataclass(frozen=True)
class StoryOptions:
    """What the editor adds on the command line, and the clock read once by the caller."""

    now: datetime
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    date: str | None = None
    source: str | None = None
    url: str | None = None
    license: str | None = None


@dataclass(frozen=True)
class StoryFile:
    """A rendered story file and what ingest needs to decide where it goes."""

    text: str
    title: str
    slug: str  # slug of the title; the file name adds the date and, on a clash, a short hash
    date: str | None
    source_url: str | None
    content_hash: str


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(title: str, body: str) -> str:
    """Hash of the normalised title and body: the same article gives the same hash."""
    text = unicodedata.normalize("NFKC", f"{title}\n{body}").casefold()
    text = re.sub(r"\\(?=[^\w\s])", "", text)  # Markdown escapes do not change the article
    return _sha256(re.sub(r"\s+", " ", text).strip())


def file_hash(text: str) -> str:
    """Hash of a story file's text with its `file_hash` line left out (line endings normalised)."""
    text = text.replace("\r\n", "\n")
    front_end = _front_matter_end(text)
    head, tail = text[:front_end], text[front_end:]
    return _sha256(_FILE_HASH_LINE.sub("", head, count=1) + tail)


def recorded_file_hash(text: str) -> str | None:
    """The `file_hash` recorded in a story file's front matter, if any."""
    head = text.replace("\r\n", "\n")[: _front_matter_end(text.replace("\r\n", "\n"))]
    m = re.search(r"^file_hash:\s*['\"]?([\w:]+)['\"]?\s*$", head, re.MULTILINE)
    return m.group(1) if m else None


def _front_matter_end(text: str) -> int:
    if not text.startswith("---\n"):
        return 0
    m = re.search(r"^---[ \t]*$", text[4:], re.MULTILINE)
    return 4 + m.end() if m else 0


def title_slug(title: str) -> str:
    """ASCII file-name slug of a title, at most 80 characters, cut at a word boundary."""
    text = re.sub(r"(?<=\w)['’ʼ`](?=\w)", "", title)
    slug = slugify(text, max_length=SLUG_MAX, word_boundary=True, save_order=True)
    if not slug:
        return "story-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]
    return slug


def _utc_stamp(now: datetime) -> str:
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unique(values: tuple[str, ...] | list[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def front_matter(extracted: Extracted, options: StoryOptions, title: str, chash: str) -> dict:
    """The story's front matter as an ordered mapping; absent values are left out."""
    meta: dict = {"title": title}
    date = options.date or extracted.date
    if date:
        meta["date"] = date
    if extracted.updated and extracted.updated != date:
        meta["updated"] = extracted.updated
    authors = _unique(extracted.authors)
    if len(authors) == 1:
        meta["author"] = authors[0]
    elif authors:
        meta["author"] = authors
    source = options.source or extracted.source
    if source:
        meta["source"] = source
    url = options.url or extracted.source_url
    if url:
        meta["source_url"] = url
    image = extracted.image
    if image:
        fields = {k: v for k, v in (("src", image.src), ("alt", image.alt), ("caption", image.caption),
                                    ("credit", image.credit)) if v}
        if fields:
            meta["image"] = fields
    if extracted.summary:
        meta["summary"] = extracted.summary
    if extracted.lang:
        meta["lang"] = extracted.lang
    topics = _unique(options.topics)
    if topics:
        meta["topics"] = topics
    tags = _unique(tuple(extracted.tags) + tuple(options.tags))
    if tags:
        meta["tags"] = tags
    if options.license:
        meta["license"] = options.license
    meta["ingested"] = _utc_stamp(options.now)
    meta["content_hash"] = chash
    return meta


def _dump(meta: dict) -> str:
    return yaml.safe_dump(meta, allow_unicode=True, width=1_000_000, sort_keys=False, default_flow_style=False)


def render_story(extracted: Extracted, options: StoryOptions, origin: str = "<input>") -> StoryFile:
    """The full text of the story file for `extracted`; IngestError when there is no article."""
    title = re.sub(r"\s+", " ", extracted.title or "").strip()
    body = extracted.body.strip("\n")
    if not body.strip():
        raise IngestError(Problem(origin, None, "no article text found"))
    if not title:
        raise IngestError(Problem(origin, None, "no title found"))
    chash = content_hash(title, body)
    meta = front_matter(extracted, options, title, chash)
    head = _dump(meta)
    if yaml.safe_load(head) != meta:
        raise IngestError(Problem(origin, None, "front matter does not survive a YAML round trip"))
    text = f"---\n{head}---\n\n{body}\n"
    fhash = file_hash(text)
    text = f"---\n{head}{FILE_HASH_KEY}: {fhash}\n---\n\n{body}\n"
    date = meta.get("date")
    return StoryFile(text=text, title=title, slug=title_slug(title), date=str(date) if date else None,
                     source_url=meta.get("source_url"), content_hash=chash)
