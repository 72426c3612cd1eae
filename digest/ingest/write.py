"""The only writer into content/stories/: decides per story and writes atomically.

Per story: `written` (a new file, or an untouched file of the same article brought up to date),
`unchanged` (same article, same content, file untouched), `duplicate` (the same canonical URL or
the same content is already in another file), `conflict` (a person edited the file: it is never
overwritten; with `force` the new version goes beside it as `<name>.incoming.md`) or `failed`.

File names: the title's slug, plus `-<yyyy-mm-dd>` when the story is dated, plus a short hash of
the source URL (or content hash) when two different articles would still share a name. Names are
decided for a whole batch at once, so they do not depend on the order of the sources.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from digest.ingest.storyfile import StoryFile, file_hash, recorded_file_hash

INCOMING_SUFFIX = ".incoming.md"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT_RE = re.compile(r"\A(?:\ufeff)?---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Existing:
    """What the index knows of a story file already in content/stories/."""

    rel: str  # path relative to the stories folder, POSIX separators
    stem: str
    source_url: str | None
    content_hash: str | None
    intact: bool  # its recorded file_hash still matches: nobody edited it


@dataclass(frozen=True)
class Decision:
    """What ingest will do with one story."""

    origin: str
    status: str  # written | unchanged | duplicate | conflict | failed
    rel: str | None = None  # the file concerned (relative to the stories folder)
    text: str | None = None  # what to write to `rel`, when anything
    reason: str | None = None


@dataclass
class _Pending:
    origin: str
    story: StoryFile
    base: str
    decision: Decision | None = None
    extra: dict = field(default_factory=dict)


def _read_front_matter(text: str) -> dict:
    m = _FRONT_RE.match(text.replace("\r\n", "\n"))
    if not m:
        return {}
    try:
        meta = yaml.load(m.group(1), Loader=_Loader)
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def scan_stories(stories_dir: Path) -> list[Existing]:
    """Index every story file under `stories_dir` by source_url and content_hash."""
    found: list[Existing] = []
    if not stories_dir.is_dir():
        return found
    for path in sorted(stories_dir.rglob("*.md")):
        if path.name.endswith(INCOMING_SUFFIX) or not path.is_file():
            continue
        rel = path.relative_to(stories_dir).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            found.append(Existing(rel, path.stem, None, None, False))
            continue
        meta = _read_front_matter(text)
        recorded = recorded_file_hash(text)
        url, chash = meta.get("source_url"), meta.get("content_hash")
        found.append(Existing(
            rel=rel, stem=path.stem, source_url=url if isinstance(url, str) else None,
            content_hash=chash if isinstance(chash, str) else None,
            intact=recorded is not None and recorded == file_hash(text),
        ))
    return found


def base_name(story: StoryFile) -> str:
    """The file name (without `.md`) a story gets when nothing clashes: slug and date."""
    if story.date and re.match(r"\d{4}-\d{2}-\d{2}", story.date):
        return f"{story.slug}-{story.date[:10]}"
    return story.slug


def _short_hash(story: StoryFile, length: int = 7) -> str:
    key = story.source_url or story.content_hash
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:length]


def _incoming(rel: str) -> str:
    return rel[: -len(".md")] + INCOMING_SUFFIX


def _same_article_name(stem: str, base: str) -> bool:
    return stem == base or re.fullmatch(re.escape(base) + r"-[0-9a-f]{7,12}", stem) is not None


def plan(stories: list[tuple[str, StoryFile]], existing: list[Existing], *, force: bool = False) -> list[Decision]:
    """Decide, for each (origin, story), what to write where (pure; order-independent names)."""
    pending = [_Pending(origin, story, base_name(story)) for origin, story in stories]
    seen: list[tuple[str, str | None, str]] = []  # (label, source_url, content_hash) of earlier stories
    for p in pending:
        story = p.story
        exact = next((e for e in existing if e.content_hash == story.content_hash
                      and e.source_url == story.source_url), None)
        same_url = next((e for e in existing if story.source_url and e.source_url == story.source_url), None)
        same_content = next((e for e in existing if e.content_hash == story.content_hash), None)
        earlier = next((label for label, url, chash in seen
                        if chash == story.content_hash or (story.source_url and url == story.source_url)), None)
        if exact is not None:
            if exact.intact:
                p.decision = Decision(p.origin, "unchanged", exact.rel, reason="already ingested")
            else:
                p.decision = _conflict(p.origin, exact.rel, story.text, force)
        elif same_url is not None and _same_article_name(same_url.stem, p.base):
            if same_url.intact:
                p.decision = Decision(p.origin, "written", same_url.rel, story.text, reason="updated")
            else:
                p.decision = _conflict(p.origin, same_url.rel, story.text, force)
        elif same_url is not None:
            p.decision = Decision(p.origin, "duplicate", same_url.rel,
                                  reason=f"same source_url as {same_url.rel}")
        elif same_content is not None:
            p.decision = Decision(p.origin, "duplicate", same_content.rel, reason=f"same content as {same_content.rel}")
        elif earlier is not None:
            p.decision = Decision(p.origin, "duplicate", None, reason=f"same article as {earlier} in this batch")
        seen.append((p.origin, story.source_url, story.content_hash))
    _name_new(pending, existing)
    return [p.decision for p in pending if p.decision is not None]


def _conflict(origin: str, rel: str, text: str, force: bool) -> Decision:
    if force:
        return Decision(origin, "conflict", _incoming(rel), text,
                        reason=f"{rel} was edited by hand; new version written to {_incoming(rel)}")
    return Decision(origin, "conflict", rel,
                    reason=f"{rel} was edited by hand since ingest; not overwritten (--force writes "
                           f"{_incoming(rel)} beside it)")


def _name_new(pending: list[_Pending], existing: list[Existing]) -> None:
    new = [p for p in pending if p.decision is None]
    taken = {e.stem.lower() for e in existing}
    groups: dict[str, list[_Pending]] = {}
    for p in new:
        groups.setdefault(p.base, []).append(p)
    for base, members in sorted(groups.items()):
        clash = len(members) > 1 or base.lower() in taken
        for p in sorted(members, key=lambda q: q.story.content_hash):
            name = base
            if clash:
                length = 7
                name = f"{base}-{_short_hash(p.story, length)}"
                while name.lower() in taken and length < 64:
                    length += 4
                    name = f"{base}-{_short_hash(p.story, length)}"
            taken.add(name.lower())
            p.decision = Decision(p.origin, "written", f"{name}.md", p.story.text, reason="new")


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply(decisions: list[Decision], stories_dir: Path, *, dry_run: bool = False) -> list[Decision]:
    """Carry out the decisions (nothing when `dry_run`); a failed write becomes a `failed` decision."""
    done: list[Decision] = []
    for d in decisions:
        if d.text is None or d.rel is None or dry_run:
            done.append(d)
            continue
        try:
            atomic_write(stories_dir / d.rel, d.text)
        except OSError as exc:
            done.append(Decision(d.origin, "failed", d.rel, reason=f"cannot write {d.rel}: {exc.strerror or exc}"))
            continue
        done.append(d)
    return done
