"""The offline search index: Pagefind, fed only the text that should be searchable.

`search_records(views)` (pure) gives one record per story: title, summary, body text, outlet,
authors, topics and tags, its language, display metadata and filters. `index_site(out_dir, records)`
(an edge: files and a subprocess) builds the Pagefind bundle into `out_dir/pagefind/`.

How the records reach Pagefind: each record becomes a minimal HTML document (just the indexed text
with `data-pagefind-*` attributes, in its own language) in a temporary folder, indexed by the
Pagefind binary of the `pagefind` wheel (`python -m pagefind --site ... --output-path ...`), then
synced into `out_dir/pagefind/` so that only changed files are rewritten. Each language's stories
are indexed apart, and more than `[search] stories_per_part` of them (1,250) in several parts:
one bundle each, so that an edit re-indexes one part and no Pagefind process holds the whole
site (`index_site`, `plan_parts`). Pagefind's Python API was
measured and rejected (bench/SEARCH.md): `add_custom_record` costs ~0.1 s per record (its service
polls the pipe every 100 ms and reads one response per poll: 1,000 stories ~ 110 s), and with
`add_directory` its context manager returned before every file was written (a 0-byte
pagefind-component-ui.js in 2 of 8 runs); the CLI finishes writing before it exits.

Languages: Pagefind keeps one index per language (Chinese and Japanese are segmented into words by
Pagefind's extended build) and a page searches the index of its own `<html lang>`; the search page
(patches/search.html) therefore merges every other language's index of the same bundle.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from digest import urls
from digest.errors import DigestError, Problem
from digest.output import WriteReport, write_site
from digest.views import SiteViews, StoryView

if TYPE_CHECKING:
    from digest.model import SiteConfig

BUNDLE_DIR = "pagefind"
ENTRY = "pagefind-entry.json"
STAMP = "digest-index.sha256"  # hash of the indexed documents: an unchanged site is not re-indexed
BUNDLES = "digest-bundles.json"  # the bundles (parts) of the index and their languages, for the search page
PART_PREFIX = "part-"
PART_STORIES = 1250  # stories per part of the index by default ([search] stories_per_part)
MAX_PARTS = 16  # the search page merges every part: past this, parts grow instead


@dataclass(frozen=True)
class SearchRecord:
    """One searchable document: its site-relative URL, text, language, metadata and filters."""

    url: str
    title: str
    content: str
    language: str
    meta: Mapping[str, str] = field(default_factory=dict)  # shown in results: outlet, author, date
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # topic, tag, outlet
    sort: Mapping[str, str] = field(default_factory=dict)  # date (ISO 8601) when known


def search_records(views: SiteViews, default_language: str = "en") -> list[SearchRecord]:
    """One record per built story, in the views' order (newest first)."""
    return [story_record(view, default_language) for view in views.stories]


def story_record(view: StoryView, default_language: str = "en") -> SearchRecord:
    """The search record of one story."""
    story = view.story
    parts = [story.summary or "", html_text(view.body_html)]
    if view.note_html:
        parts.append(html_text(view.note_html))
    credits = []
    if story.source:
        credits.append(story.source)
    if story.authors:
        credits.append("By " + ", ".join(story.authors))
    if view.topics:
        credits.append("Topics: " + ", ".join(t.title for t in view.topics))
    if story.tags:
        credits.append("Tags: " + ", ".join(story.tags))
    parts.append(" · ".join(credits))
    meta = {"title": story.title}
    if story.source:
        meta["outlet"] = story.source
    if story.authors:
        meta["author"] = ", ".join(story.authors)
    sort = {}
    if story.date is not None:
        meta["date"] = story.date.date().isoformat()
        sort["date"] = story.date.isoformat()
    filters: dict[str, tuple[str, ...]] = {}
    if view.topics:
        filters["topic"] = tuple(t.title for t in view.topics)
    if story.tags:
        filters["tag"] = tuple(story.tags)
    if story.source:
        filters["outlet"] = (story.source,)
    return SearchRecord(
        url=view.url,
        title=story.title,
        content="\n\n".join(p for p in parts if p.strip()),
        language=pagefind_language(story.lang or default_language),
        meta=meta,
        filters=filters,
        sort=sort,
    )


_TAGS = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</(?:p|div|li|h[1-6]|blockquote|tr|td|th|pre|figcaption)>|<br\s*/?>", re.I)
_DROP = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.I | re.S)


def html_text(fragment: str) -> str:
    """The text of an HTML fragment (block ends become line breaks; scripts and styles dropped)."""
    text = _DROP.sub(" ", fragment)
    text = _BLOCK_END.sub("\n", text)
    text = html.unescape(_TAGS.sub("", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def pagefind_language(lang: str) -> str:
    """Pagefind's index key for a BCP 47 tag: the lower-cased primary subtag (`zh-Hant` -> `zh`)."""
    primary = lang.strip().lower().replace("_", "-").split("-")[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else "unknown"


def record_document(record: SearchRecord, filters: bool = False) -> str:
    """A minimal HTML document holding exactly what Pagefind should index for `record`.

    Filters are left out unless asked for: Pagefind 1.5.2 writes the values of a multi-valued
    filter in hash-map order, so the bundle's bytes would change from build to build.
    """
    e = html.escape
    out = [f'<!doctype html><html lang="{e(record.language)}"><head><meta charset="utf-8">'
           f"<title>{e(record.title)}</title></head><body>"]
    attrs = "".join(f' data-pagefind-sort="{e(key)}:{e(value)}"' for key, value in sorted(record.sort.items()))
    out.append(f"<main data-pagefind-body{attrs}>")
    out.append(f"<h1>{e(record.title)}</h1>")
    for paragraph in record.content.split("\n"):
        if paragraph.strip():
            out.append(f"<p>{e(paragraph)}</p>")
    for key, value in sorted(record.meta.items()):
        if key != "title":
            out.append(f'<span data-pagefind-meta="{e(key)}:{e(value)}"></span>')
    for key, values in sorted(record.filters.items()) if filters else ():
        for value in values:  # one element per value: a value may contain commas
            out.append(f'<span data-pagefind-filter="{e(key)}" data-pagefind-ignore="index">{e(value)}</span>')
    out.append("</main></body></html>\n")
    return "".join(out)


def index_site(out_dir: Path, records: Iterable[SearchRecord], *, filters: bool = False,
               part_stories: int = PART_STORIES, language: str = "en") -> WriteReport:
    """Build the Pagefind bundles for `records` into `out_dir/pagefind/` (only changed files rewritten).

    The records are split into parts (`plan_parts`), each indexed into a bundle of its own (the
    first part of the site's `language` in `pagefind/`, the others in `pagefind/part-<lang>-<i>/`)
    and listed with its language in `pagefind/digest-bundles.json`, which the search page reads to
    merge them all. Only the parts whose documents changed are indexed again, two at a time on two
    cores. Pagefind holds a whole bundle in memory (~0.4 MB a story) and takes ~1.6 ms a story:
    in one bundle, 10,000 stories took 17 s and 3.8 GB, and so did any edit of one of them.

    Runs without network access; raises DigestError when Pagefind is missing or fails. With
    `filters` the UI offers topic/tag/outlet filters, but the bundle is no longer byte-for-byte
    reproducible (see `record_document`).
    """
    bundle_dir = out_dir / BUNDLE_DIR
    folders, parts = _documents_by_part(list(records), filters, part_stories, language)
    if not parts:  # Pagefind refuses a site without pages; the search page says the index is empty
        return write_site(bundle_dir, {})
    stamps = [_stamp(documents) for documents in parts]
    stale = [i for i, folder in enumerate(folders)
             if _read(bundle_dir / folder / STAMP) != stamps[i] or not (bundle_dir / folder / ENTRY).is_file()]
    new = dict(zip(stale, _index_parts([parts[i] for i in stale])))
    for i, files in new.items():
        files[STAMP] = stamps[i].encode("ascii")
    entries = [json.loads(new[i][ENTRY] if i in new else (bundle_dir / folders[i] / ENTRY).read_bytes())
               for i in range(len(parts))]
    listing = _canonical_json(json.dumps({"bundles": [
        {"path": folder, "languages": entry.get("languages", {})} for folder, entry in zip(folders, entries)]}).encode())
    others = frozenset(folder.rstrip("/") for folder in folders[1:])
    if 0 in new:  # the first bundle's folder holds the others: they are left to their own writes
        reports = [write_site(bundle_dir, {**new[0], BUNDLES: listing}, protected=others)]
    else:  # the listing alone, where it changed
        reports = [write_site(bundle_dir, {BUNDLES: listing}, previous=frozenset({BUNDLES}))]
    reports += [write_site(bundle_dir / folders[i], files) for i, files in new.items() if i]
    written, removed = sum(r.written for r in reports), sum(r.removed for r in reports)
    for old in sorted(bundle_dir.glob(PART_PREFIX + "*")):  # parts of a larger index before
        if old.is_dir() and old.name not in others:
            removed += sum(1 for path in old.rglob("*") if path.is_file())
            shutil.rmtree(old)
    files = sum(1 for path in bundle_dir.rglob("*") if path.is_file())
    return WriteReport(written=written, unchanged=files - written, removed=removed)


def site_index(config: SiteConfig, out_dir: Path, records: list[SearchRecord]) -> Callable[[], WriteReport]:
    """`index_site` of `records` into `out_dir` with the site's `[search]` settings and language,
    to run now or later (`digest serve` refreshes the index after the browser reloads)."""
    return functools.partial(index_site, out_dir, records, part_stories=config.search_part_stories,
                             language=config.language)


def _documents_by_part(records: list[SearchRecord], filters: bool, part_stories: int, language: str
                       ) -> tuple[list[str], list[dict[str, str]]]:
    """(each part's folder, each part's record documents by output file) (see `plan_parts`)."""
    names: list[str] = []
    seen: set[str] = set()
    for record in records:
        name = urls.file_for(record.url.lstrip("/"))
        if name in seen:
            raise DigestError(Problem(record.url, None, "two search records with one URL"))
        seen.add(name)
        names.append(name)
    plan = plan_parts([(name, record.language) for name, record in zip(names, records)],
                      pagefind_language(language), part_stories)
    return ([folder for folder, _ in plan],
            [{names[i]: record_document(records[i], filters) for i in indices} for _, indices in plan])


def plan_parts(stories: Sequence[tuple[str, str]], primary: str, part_stories: int = PART_STORIES
               ) -> list[tuple[str, list[int]]]:
    """The parts of a search index, as (folder under `pagefind/`, indices of their stories), for
    stories given as (output file, Pagefind language): each language's stories in parts of their
    own (`part_count` of them, a story in the part `part_of` picks), so that a language with a
    dictionary (Japanese: ~0.7 s and 340 MB each time Pagefind loads it) costs only its parts.
    The first part of the `primary` language (else of the language with most stories) goes in
    `pagefind/` itself, where the search page finds Pagefind's scripts; the others in
    `pagefind/part-<language>-<i>/`."""
    by_language: dict[str, list[int]] = {}
    for index, (_, lang) in enumerate(stories):
        by_language.setdefault(lang, []).append(index)
    if not by_language:
        return []
    if primary not in by_language:
        primary = min(by_language, key=lambda lang: (-len(by_language[lang]), lang))
    plan: list[tuple[str, list[int]]] = []
    for lang in [primary, *sorted(set(by_language) - {primary})]:
        members = by_language[lang]
        count = part_count([stories[i][0] for i in members], part_stories)
        parts: list[list[int]] = [[] for _ in range(count)]
        for i in members:
            parts[part_of(stories[i][0], count)].append(i)
        plan += [("" if lang == primary and n == 0 else f"{PART_PREFIX}{lang}-{n}/", indices)
                 for n, indices in enumerate(parts)]
    return plan


def part_count(names: Sequence[str], part_stories: int = PART_STORIES) -> int:
    """How many parts the stories at `names` (of one language) take: one up to `part_stories`
    stories, else the least power of two that keeps parts to about that size (at most MAX_PARTS),
    halved while a part would be empty. A power of two changes only when the site doubles or
    halves: until then a story stays in its part, and an edit re-indexes one part."""
    count = 1
    while count * part_stories < len(names) and count < MAX_PARTS:
        count *= 2
    while count > 1 and len({part_of(name, count) for name in names}) < count:
        count //= 2
    return count


def part_of(name: str, count: int) -> int:
    """The part (0..count-1) that holds the story whose output file is `name`, of `count` parts."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little") % count


def _scratch(size: int) -> str | None:
    """Where a part's documents (`size` characters) and bundle are made: in memory (/dev/shm)
    where there is such a folder with room to spare (a container's may hold only 64 MB), else the
    system's temporary folder. Measured on an ext4 disk: 1,250 documents written in 1.8 s there,
    0.04 s in /dev/shm, and Pagefind over them took 3.2 s against 2.0 s."""
    shm = "/dev/shm"
    try:
        room = os.statvfs(shm)
    except OSError:  # no such folder (not Linux)
        return None
    # the documents, the bundle (about as large) and another part's, indexed at the same time
    enough = room.f_bavail * room.f_frsize > 8 * size
    return shm if enough and os.access(shm, os.W_OK | os.X_OK) else None


def _index_parts(parts: Sequence[Mapping[str, str]]) -> list[dict[str, bytes]]:
    """The Pagefind bundle of each part's documents (file name -> bytes), indexed on every core."""
    if len(parts) < 2:
        return [_index_part(documents) for documents in parts]
    from concurrent.futures import ThreadPoolExecutor  # threads wait on the Pagefind processes

    from digest.forkmap import workers

    with ThreadPoolExecutor(max_workers=min(workers(), len(parts))) as pool:
        return list(pool.map(_index_part, parts))


def _index_part(documents: Mapping[str, str]) -> dict[str, bytes]:
    """One bundle: the record documents written into a temporary folder and indexed by Pagefind."""
    size = sum(len(document) for document in documents.values())
    with tempfile.TemporaryDirectory(prefix="digest-search-", dir=_scratch(size)) as tmp:
        docs, bundle = Path(tmp) / "docs", Path(tmp) / "bundle"
        for name, document in documents.items():
            path = docs / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(document, encoding="utf-8")
        _run_pagefind(docs, bundle)
        files = {p.relative_to(bundle).as_posix(): p.read_bytes() for p in sorted(bundle.rglob("*")) if p.is_file()}
    if ENTRY not in files:
        raise DigestError(Problem("pagefind", None, f"search index failed: Pagefind wrote no {ENTRY}"))
    files[ENTRY] = _canonical_json(files[ENTRY])
    return files


def _stamp(documents: Mapping[str, str]) -> str:
    """A hash of everything that decides the bundle's bytes: the documents and Pagefind's version."""
    digest = hashlib.sha256(f"pagefind {_pagefind_version()}\n".encode())
    for name in sorted(documents):
        digest.update(name.encode("utf-8") + b"\0" + documents[name].encode("utf-8") + b"\0")
    return digest.hexdigest() + "\n"


@functools.lru_cache(maxsize=1)
def _pagefind_version() -> str:
    """The installed Pagefind's version (read once: each part's stamp names it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pagefind")
    except PackageNotFoundError:
        return "unknown"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii")
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def _canonical_json(data: bytes) -> bytes:
    """pagefind-entry.json with sorted keys (Pagefind writes its language map in hash-map order)."""
    return json.dumps(json.loads(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _run_pagefind(docs: Path, bundle: Path) -> None:
    """Index the record documents in `docs` into `bundle` with the Pagefind binary (offline)."""
    from pagefind.service import get_executable

    binary = get_executable()
    if binary is None:
        raise DigestError(Problem("pagefind", None, "Pagefind is not installed: pip install 'pagefind[extended]'"))
    command = [str(binary), "--site", str(docs), "--output-path", str(bundle), "--silent"]
    result = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace", check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise DigestError(Problem("pagefind", None, "search index failed: " + " / ".join(detail)))


def index_records_one_by_one(out_dir: Path, records: Iterable[SearchRecord]) -> None:
    """The same index through `add_custom_record`, one call per record (for bench/SEARCH.md only: slow)."""

    async def run() -> None:
        from pagefind.index import IndexConfig, PagefindIndex

        async with PagefindIndex(IndexConfig(output_path=str(out_dir / BUNDLE_DIR))) as index:
            for record in records:
                await index.add_custom_record(
                    url=record.url, content=record.title + "\n" + record.content, language=record.language,
                    meta=dict(record.meta), filters={k: list(v) for k, v in record.filters.items()},
                    sort=dict(record.sort) or None)

    import asyncio  # only here: a build without a search index does not pay for importing it

    asyncio.run(run())
