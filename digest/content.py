"""Content: story, topic and page files parsed into the model.

`parse_story`, `parse_topic` and `parse_page` are pure (text in, model out); `load_site` reads
the content folder, gathers every problem of every file, and checks cross-references.
"""

from __future__ import annotations

import bisect
import os
import pickle
import re
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from slugify import slugify

from digest import frontmatter
from digest.cache import content_stamp, scan
from digest.errors import ContentError, Problem
from digest.model import FrozenMap, Image, Page, Site, SiteConfig, Story, Topic

_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_STORY_KEYS = {
    "title", "date", "updated", "source", "source_url", "author", "image", "summary", "note",
    "topics", "tags", "related", "unrelated", "draft", "slug", "lang", "excerpt", "license", "ingested",
}
_IMAGE_KEYS = ("src", "alt", "caption", "credit")


class _Fields:
    """Typed access to one file's front matter, collecting problems at the line of each key."""

    def __init__(self, meta: dict[str, Any], path: str, yaml_text: str, first_line: int) -> None:
        self.meta, self.path, self.yaml_text, self.first_line = meta, path, yaml_text, first_line
        self.problems: list[Problem] = []

    @cached_property
    def lines(self) -> dict[str, int]:
        """The file line of each key: found only when a problem is reported (most files have none)."""
        return frontmatter.key_lines(self.yaml_text, self.first_line)

    def line(self, key: str) -> int:
        return self.lines.get(key, self.first_line)

    def check(self) -> None:
        """Raise every problem found in this file, in line order."""
        if self.problems:
            raise ContentError(sorted(self.problems, key=lambda p: p.line or 0))

    def fail(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.path, self.line(key), message))

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.meta.get(key)
        if value is None:
            if required:
                self.problems.append(Problem(self.path, self.first_line - 1 if key not in self.lines else self.line(key),
                                             f"missing required field '{key}'"))
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.fail(key, f"'{key}' must be a string, not {_type_name(value)}")
            return None
        if required and not value.strip():
            self.fail(key, f"'{key}' must not be empty")
            return None
        return value

    def strings(self, key: str, *, allow_single: bool = True) -> tuple[str, ...] | None:
        value = self.meta.get(key)
        if value is None:
            return None
        if isinstance(value, str) and allow_single:
            return (value,)
        if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            return tuple(str(v) for v in value)
        self.fail(key, f"'{key}' must be a list of strings, not {_type_name(value)}")
        return None

    def boolean(self, key: str) -> bool | None:
        value = self.meta.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(key, f"'{key}' must be true or false, not {_type_name(value)}")
            return None
        return value

    def when(self, key: str, tz: ZoneInfo) -> tuple[datetime | None, bool]:
        value = self.meta.get(key)
        if value is None:
            return None, False
        try:
            return to_datetime(value, tz)
        except ValueError:
            self.fail(key, f"'{key}' is not an ISO 8601 date or date-time: {value!r}")
            return None, False


def to_datetime(value: Any, tz: ZoneInfo) -> tuple[datetime, bool]:
    """A front-matter date (YAML date, datetime or ISO string) as an aware datetime, and whether it had a time."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(text) from None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)), True
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=tz), False
    raise ValueError(repr(value))


def default_slug(path: str) -> str:
    """The slug of a content file: its name without `.md`, slugified when it is not URL-safe."""
    stem = Path(path).name.removesuffix(".md")
    return stem if _SLUG.match(stem) else (slugify(stem) or "untitled")


def _read_meta(text: str, path: str) -> tuple[_Fields, str, int]:
    yaml_text, first, body, body_line = frontmatter.split(text, path)
    meta = frontmatter.parse(yaml_text, path, first)
    return _Fields(meta, path, yaml_text, first), body, body_line


def _slug_field(fields: _Fields, path: str) -> str:
    slug = fields.string("slug")
    if slug is None:
        return default_slug(path)
    if not _SLUG.match(slug):
        fields.fail("slug", f"'slug' must be lowercase letters, digits and hyphens, not {slug!r}")
        return default_slug(path)
    return slug


def parse_story(text: str, path: str, tz: ZoneInfo = ZoneInfo("UTC")) -> Story:
    """Parse one story file's text; raise ContentError listing every problem in it."""
    fields, body, body_line = _read_meta(text, path)
    meta = fields.meta
    title = fields.string("title", required=True)
    when, has_time = fields.when("date", tz)
    updated, _ = fields.when("updated", tz)
    ingested, _ = fields.when("ingested", ZoneInfo("UTC"))
    authors = fields.strings("author") or ()
    story = Story(
        slug=_slug_field(fields, path),
        title=(title or "").strip(),
        path=path,
        body=body,
        body_line=body_line,
        date=when,
        date_has_time=has_time,
        updated=updated,
        source=fields.string("source"),
        source_url=fields.string("source_url"),
        authors=tuple(a.strip() for a in authors if a.strip()),
        image=_image(fields),
        summary=fields.string("summary"),
        note=fields.string("note"),
        topics=fields.strings("topics", allow_single=False),
        tags=_dedupe(fields.strings("tags") or ()),
        related=fields.strings("related", allow_single=False) or (),
        unrelated=fields.strings("unrelated", allow_single=False) or (),
        draft=bool(fields.boolean("draft")),
        lang=fields.string("lang"),
        excerpt=fields.boolean("excerpt"),
        license=fields.string("license"),
        ingested=ingested,
        extra=FrozenMap({k: v for k, v in meta.items() if k not in _STORY_KEYS}),
    )
    fields.check()
    return story


def _image(fields: _Fields) -> Image | None:
    value = fields.meta.get("image")
    if value is None:
        return None
    if isinstance(value, str):
        return Image(src=value)
    if not isinstance(value, dict):
        fields.fail("image", f"'image' must be a mapping (src, alt, caption, credit) or a URL, not {_type_name(value)}")
        return None
    parts: dict[str, str | None] = {}
    for key, item in value.items():
        if key not in _IMAGE_KEYS:
            fields.fail(f"image.{key}" if f"image.{key}" in fields.lines else "image", f"unknown key 'image.{key}' (expected one of: {', '.join(_IMAGE_KEYS)})")
        elif item is not None and not isinstance(item, str):
            fields.fail(f"image.{key}" if f"image.{key}" in fields.lines else "image", f"'image.{key}' must be a string, not {_type_name(item)}")
        else:
            parts[key] = item
    return Image(**parts) if any(parts.values()) else None


def parse_topic(text: str, path: str, parse_rules: Callable[[Any, str, int], Any] | None = None) -> Topic:
    """Parse one topic file: title, description, `match` rules, body = the editor's introduction."""
    fields, body, body_line = _read_meta(text, path)
    title = fields.string("title", required=True)
    rules = None
    if "match" in fields.meta and parse_rules is not None:
        try:
            rules = parse_rules(fields.meta["match"], path, fields.line("match"))
        except ContentError as exc:
            fields.problems.extend(exc.problems)
    topic = Topic(
        slug=_slug_field(fields, path),
        title=(title or "").strip(),
        path=path,
        body=body,
        body_line=body_line,
        description=fields.string("description"),
        rules=rules,
        extra=FrozenMap({k: v for k, v in fields.meta.items()
                                if k not in {"title", "description", "match", "slug"}}),
    )
    fields.check()
    return topic


def parse_page(text: str, path: str) -> Page:
    """Parse one page file of `content/pages/`."""
    fields, body, body_line = _read_meta(text, path)
    title = fields.string("title", required=True)
    page = Page(
        slug=_slug_field(fields, path),
        title=(title or "").strip(),
        path=path,
        body=body,
        body_line=body_line,
        description=fields.string("description"),
        extra=FrozenMap({k: v for k, v in fields.meta.items() if k not in {"title", "description", "slug"}}),
    )
    fields.check()
    return page


def _dedupe(items: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item:
            seen.setdefault(item, None)
    return tuple(seen)


def _type_name(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a mapping", str: "a string"}
    return names.get(type(value), type(value).__name__)


def content_listing(folder: Path, root: Path) -> list[tuple[str, str, tuple[int, int]]]:
    """(file path, path as shown relative to `root`, (mtime_ns, size)) of the `.md` files under
    `folder`, sorted part by part; editor backups, hidden files and `*.incoming.md` left out."""
    return listing_from_scan(scan(folder, ".md"), folder, root, folder)


def listing_from_scan(scanned: Sequence[tuple[str, int, int]], folder: Path, root: Path, content: Path
                      ) -> list[tuple[str, str, tuple[int, int]]]:
    """`content_listing(folder, root)` from rows of `cache.scan(content, ".md")` (path relative to
    `content`, mtime_ns, size), e.g. the build's input manifest, so a build stats each file once."""
    rel = os.path.relpath(folder, content)
    prefix = "" if rel == "." else rel + os.sep
    base, top = str(content) + os.sep, str(root) + os.sep
    found = []
    if prefix:  # the rows are sorted: the folder's are one run of them
        rows = scanned[bisect.bisect_left(scanned, (prefix,)):bisect.bisect_left(scanned, (prefix[:-1] + chr(ord(os.sep) + 1),))]
    else:
        rows = scanned
    sep = os.sep
    for name, mtime, size in rows:
        if not name.endswith(".md") or name.endswith(".incoming.md") or not name.startswith(prefix):
            continue
        inner = name[len(prefix):]
        if inner.startswith(".") or sep + "." in inner:  # a hidden file or folder
            continue
        path = base + name
        shown = (path[len(top):] if path.startswith(top) else path).replace(sep, "/")
        # part by part: the separator sorts before every character a name can hold
        found.append((inner.replace(sep, "\0"), path, shown, (mtime, size)))
    found.sort(key=lambda item: item[0])
    return [(path, shown, key) for _, path, shown, key in found]


def file_time(key: tuple[int, int], now: datetime) -> datetime:
    """When a file entered the digest, from its (mtime_ns, size) key: its modification time,
    clamped to the build's clock (so SOURCE_DATE_EPOCH makes it reproducible)."""
    return min(datetime.fromtimestamp(key[0] // 1_000_000_000, tz=timezone.utc), now)


def shown_prefix(root: Path, content: Path) -> str:
    """How content files are named in messages and caches (`listing_from_scan`: from `root`, with
    `/`): this prefix and then the name as `cache.scan` lists it under `content`."""
    top, base = str(root) + os.sep, str(content) + os.sep
    return (base[len(top):] if base.startswith(top) else base).replace(os.sep, "/")


def read_text(path: Path, shown: str) -> str:
    """Read a content file as UTF-8; a file that is not UTF-8 is a ContentError."""
    return decode(path.read_bytes(), shown)


def decode(data: bytes, shown: str) -> str:
    """A content file's bytes as text; a file that is not UTF-8 is a ContentError."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(Problem(shown, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")) from None


@dataclass(frozen=True)
class Loaded:
    """A parsed content file as remembered between builds: its stat key, text hash and model item."""

    key: tuple[int, int]  # (mtime_ns, size)
    stamp: str  # hash of the file's bytes
    item: Any  # Story, Topic or Page


def load_site(config: SiteConfig) -> Site:
    """Read every content file of the site; raise ContentError listing all problems of all files."""
    return load_site_cached(config, {}, 0)[0]


def load_site_cached(config: SiteConfig, previous: Mapping[str, Loaded], racy_after_ns: int,
                     progress: Callable[[str, int, int], None] | None = None,
                     parallel: bool = True, scanned: Sequence[tuple[str, int, int]] | None = None,
                     topics_for: Callable[[Sequence[Topic]], Callable[[Story], Any]] | None = None,
                     written: Callable[[str, Loaded, bytes], None] | None = None
                     ) -> tuple[Site, dict[str, Loaded], dict[str, Any]]:
    """Like `load_site`, reusing `previous` parses of files whose size and mtime are unchanged.

    A file modified at or after `racy_after_ns` (shortly before the previous build) is re-read
    and its hash compared, since a quick second edit can keep the same size and mtime.
    `progress` is told `("parsing stories", done, total)` as story files are read; with
    `parallel`, a large batch of changed files is parsed on every core. `scanned`: the content
    folder's files as `cache.scan` just listed them (the build's input manifest), if at hand.
    `topics_for(topics)`: a function of a story (e.g. its topics), computed for each story file
    read here by the process that parsed it, while the story is at hand (topic files are read
    first). `written(path, record, pickled record)` is told each record read here, pickled by the
    process that parsed it (see cache.RecordsWriter). Returns (site, records, file stamp -> that
    function's value for the stories read).
    """
    from digest.forkmap import fork_map  # multiprocessing: not needed by a quick rebuild, which reads no folder
    from digest.topics import parse_rules

    root = config.root
    content = root / config.content_dir
    tz = ZoneInfo(config.timezone)
    computed: dict[str, Any] = {}
    # per folder (stories, topics, pages): its files' records and problems, joined in that order
    records_of: dict[str, dict[str, Loaded]] = {"stories": {}, "topics": {}, "pages": {}}
    problems_of: dict[str, list[Problem]] = {"stories": [], "topics": [], "pages": []}

    def load(folder: str, parse: Callable[[str, str], Any], then: Callable[[Any], Any] | None = None) -> list[Any]:
        records, problems = records_of[folder], problems_of[folder]
        files = (content_listing(content / folder, root) if scanned is None
                 else listing_from_scan(scanned, content / folder, root, content))
        todo = []  # files whose size or mtime changed (or is too recent to trust): read and maybe parse
        for file, shown, key in files:
            old = previous.get(shown)
            if old is not None and old.key == key and key[0] < racy_after_ns:
                records[shown] = old
            else:
                todo.append((file, shown, key, old))
        report = None
        if progress is not None and folder == "stories":
            report = lambda done: progress("parsing stories", len(files) - len(todo) + done, len(files))
            report(0)
        work = (lambda chunk: [_read(item, parse, then) for item in chunk]) if written is None else (
            lambda chunk: [_pickle_record(_read(item, parse, then)) for item in chunk])
        arrived = None if written is None else lambda part: [_unpickle_record(result, written) for result in part]
        for shown, loaded, found, value in fork_map(work, todo, processes=None if parallel else 1, progress=report,
                                                    each=arrived):
            problems.extend(found)
            if loaded is not None:
                records[shown] = loaded
                if then is not None:
                    computed[loaded.stamp] = value
        return [records[shown].item for _, shown, _ in files if shown in records]

    topics = load("topics", lambda text, path: parse_topic(text, path, parse_rules))  # first: `topics_for` needs them
    stories = load("stories", lambda text, path: parse_story(text, path, tz),
                   topics_for(topics) if topics_for is not None else None)
    pages = load("pages", parse_page)
    records = {shown: record for folder_records in records_of.values() for shown, record in folder_records.items()}
    problems = [problem for folder_problems in problems_of.values() for problem in folder_problems]
    problems.extend(_cross_check(stories, topics, pages, lambda path, key: story_key_line(
        decode((root / path).read_bytes(), path), key)))
    if problems:
        raise ContentError(problems)
    site = Site(config=config, stories=tuple(stories), topics=tuple(topics), pages=tuple(pages))
    return site, records, computed


def _pickle_record(result: tuple[str, Loaded | None, list[Problem], Any]) -> tuple:
    shown, loaded, found, value = result
    return shown, None if loaded is None else pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL), found, value


def _unpickle_record(result: tuple, written: Callable[[str, Loaded, bytes], None]
                     ) -> tuple[str, Loaded | None, list[Problem], Any]:
    shown, blob, found, value = result
    if blob is None:
        return result
    loaded = pickle.loads(blob)
    written(shown, loaded, blob)
    return shown, loaded, found, value


def _read(item: tuple[str, str, tuple[int, int], Loaded | None], parse: Callable[[str, str], Any],
          then: Callable[[Any], Any] | None = None) -> tuple[str, Loaded | None, list[Problem], Any]:
    """(shown path, its record or None, its problems, `then(item)` or None) for one file:
    re-parsed only when its bytes changed."""
    file, shown, key, old = item
    with open(file, "rb") as handle:
        data = handle.read()
    stamp = content_stamp(data)
    if old is not None and old.stamp == stamp:
        loaded = Loaded(key, stamp, old.item)
    else:
        try:
            loaded = Loaded(key, stamp, parse(decode(data, shown), shown))
        except ContentError as exc:
            return shown, None, list(exc.problems), None
    return shown, loaded, [], then(loaded.item) if then is not None else None


def _cross_check(stories: list[Story], topics: list[Topic], pages: list[Page],
                 line_of: Callable[[str, str], int]) -> list[Problem]:
    problems: list[Problem] = []
    for kind, items in (("story", stories), ("topic", topics), ("page", pages)):
        first: dict[str, Any] = {}
        for item in items:
            if item.slug in first:
                problems.append(Problem(item.path, 1, f"two {kind} files have the slug '{item.slug}' "
                                                      f"(the other is {first[item.slug].path})"))
            else:
                first[item.slug] = item
    story_slugs = {s.slug for s in stories}
    topic_slugs = {t.slug for t in topics}
    reserved = {"stories", "topics", "tags", "sources", "archive", "page", "search", "assets", "feed.xml"}
    for page in pages:
        if page.slug in reserved:
            problems.append(Problem(page.path, 1, f"the page slug '{page.slug}' is reserved for the site's own pages"))
    for story in stories:
        for key, names, known, what in (("topics", story.topics or (), topic_slugs, "topic"),
                                        ("related", story.related, story_slugs, "story"),
                                        ("unrelated", story.unrelated, story_slugs, "story")):
            for name in names:
                if name not in known:
                    problems.append(Problem(story.path, line_of(story.path, key),
                                            f"'{key}' names the {what} '{name}', which does not exist"))
    return problems


def story_key_line(text: str, key: str) -> int:
    """The line of a top-level front-matter key in a story file's text (1 when absent)."""
    yaml_text, first, _body, _body_line = frontmatter.split(text, "")
    return frontmatter.key_lines(yaml_text, first).get(key, 1)
