"""File watching for `digest serve`: watchdog events -> debounced, classified changes.

`classify(path, layout)` is pure: it says what kind of source a path is (story, topic, page,
template, static file, config) or None when the path does not matter (editor swap and backup
files, the output and preview folders, anything outside the site's sources). `Watcher` feeds
watchdog events through it into a `Debouncer`, which calls back once per burst (an atomic save,
a `git checkout` of many files) with the set of `Change`s.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import traceback
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch


class ChangeKind(str, Enum):
    """What a changed path is to the build."""

    STORY = "story"
    TOPIC = "topic"
    PAGE = "page"
    TEMPLATE = "template"
    STATIC = "static"
    CONFIG = "config"


@dataclass(frozen=True, order=True)
class Change:
    """One changed (created, modified, deleted or moved) path and its kind."""

    kind: ChangeKind
    path: Path  # absolute


@dataclass(frozen=True)
class SiteLayout:
    """Where a site's sources are, relative to its root (POSIX paths), and what to ignore."""

    root: Path
    content_dir: str = "content"
    templates_dir: str = "templates"
    static_dir: str = "static"
    config_name: str = "digest.toml"
    ignored_dirs: tuple[str, ...] = ("output", ".digest", ".preview", ".digest-cache", ".git")

    def source_dirs(self) -> tuple[Path, ...]:
        """The folders to watch recursively (whether or not they exist yet)."""
        return tuple(self.root / d for d in (self.content_dir, self.templates_dir, self.static_dir))


# Editors' swap, backup, lock and temporary files (vim, emacs, JetBrains, Kate, gedit,
# LibreOffice, macOS/Windows folder metadata).
_JUNK_NAMES = {"4913", ".DS_Store", "Thumbs.db", "desktop.ini"}
_JUNK_RE = re.compile(
    r"""(\.sw[a-px]$)|(~$)|(^\.\#)|(^\#.*\#$)|(\.tmp$)|(\.bak$)|(\.kate-swp$)|(___jb_(tmp|old)___$)
    |(^\.goutputstream-)|(^\.~lock\.)|(\.crswap$)""",
    re.VERBOSE,
)
_CONTENT_KINDS = {"stories": ChangeKind.STORY, "topics": ChangeKind.TOPIC, "pages": ChangeKind.PAGE}


def is_editor_junk(name: str) -> bool:
    """True for an editor's swap/backup/temporary file name (`x.swp`, `x~`, `.#x`, `4913`...)."""
    return name in _JUNK_NAMES or _JUNK_RE.search(name) is not None


def _relative(path: Path | str, root: Path) -> PurePosixPath | None:
    path = Path(path)
    if not path.is_absolute():
        return PurePosixPath(path.as_posix())
    try:
        return PurePosixPath(path.relative_to(root).as_posix())
    except ValueError:
        return None


def _under(rel: PurePosixPath, folder: str) -> PurePosixPath | None:
    """`rel` relative to `folder` when it lies inside it (or is it), else None."""
    try:
        return rel.relative_to(PurePosixPath(folder))
    except ValueError:
        return None


def classify(path: Path | str, layout: SiteLayout, *, is_directory: bool = False) -> ChangeKind | None:
    """The kind of source `path` is (absolute, or relative to the site root), or None to ignore it.

    Stories are `content/stories/**/*.md`, topics `content/topics/*.md`, pages
    `content/pages/*.md`; anything in `templates/` is a template and in `static/` a static
    file; `digest.toml` is the config. A folder counts as the kind of what it holds (a deleted
    or renamed folder of stories is a story change).
    """
    rel = _relative(path, layout.root)
    if rel is None or rel == PurePosixPath("."):
        return None
    if any(part == ".." for part in rel.parts) or any(is_editor_junk(part) for part in rel.parts):
        return None
    if any(_under(rel, ignored) is not None for ignored in layout.ignored_dirs):
        return None
    if not is_directory and rel == PurePosixPath(layout.config_name):
        return ChangeKind.CONFIG
    for folder, kind in ((layout.templates_dir, ChangeKind.TEMPLATE), (layout.static_dir, ChangeKind.STATIC)):
        inner = _under(rel, folder)
        if inner is not None:
            return kind
    inner = _under(rel, layout.content_dir)
    if inner is None:
        return None
    if inner == PurePosixPath("."):
        return ChangeKind.STORY if is_directory else None
    kind = _CONTENT_KINDS.get(inner.parts[0])
    if kind is None:
        return None
    if is_directory:
        return kind if kind is ChangeKind.STORY or len(inner.parts) == 1 else None
    if inner.suffix != ".md":
        return None
    if kind is not ChangeKind.STORY and len(inner.parts) != 2:
        return None  # topics and pages are not read from subfolders
    return kind


BULK = 8  # more distinct changes than this pending: a bulk operation (git checkout, a copy) is under way
BULK_DELAY = 0.3  # the quiet time that ends a bulk burst


class Debouncer:
    """Collects changes and calls `callback(frozenset[Change])` once per burst.

    A burst ends after `delay` seconds without a new change (an editor's save touches one to
    three paths: it is rebuilt at once), or, once more than BULK changes are pending, after
    BULK_DELAY seconds without one (a `git checkout` of hundreds of files on a busy machine can
    pause longer than `delay` between files, and it should still give one rebuild); and
    `max_delay` seconds after its first change at the latest. Callbacks run one at a time in the
    debouncer's own thread; changes arriving meanwhile form the next burst. An exception in the
    callback is printed and does not stop the watching.
    """

    def __init__(
        self,
        callback: Callable[[frozenset[Change]], None],
        *,
        delay: float = 0.05,
        max_delay: float = 2.0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._callback = callback
        self._delay = delay
        self._max_delay = max_delay
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._cond = threading.Condition()
        self._pending: set[Change] = set()
        self._first = 0.0
        self._last = 0.0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="digest-debounce", daemon=True)
        self._thread.start()

    def add(self, changes: Iterable[Change]) -> None:
        """Record changes (thread-safe)."""
        changes = set(changes)
        if not changes:
            return
        with self._cond:
            now = time.monotonic()
            if not self._pending:
                self._first = now
            self._pending |= changes
            self._last = now
            self._cond.notify_all()

    def _due(self) -> float | None:
        """Seconds until the pending burst is due (<= 0: now); None when nothing is pending."""
        if not self._pending:
            return None
        now = time.monotonic()
        quiet = self._delay if len(self._pending) <= BULK else max(self._delay, BULK_DELAY)
        return min(self._last + quiet, self._first + self._max_delay) - now

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    wait = self._due()
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._closed:
                    return
                batch = frozenset(self._pending)
                self._pending.clear()
            try:
                self._callback(batch)
            except Exception:  # the watcher must outlive a failing callback; the error is shown
                self._log("".join(traceback.format_exc()).rstrip())

    def close(self) -> None:
        """Stop: pending changes are dropped, a running callback is waited for."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join()


_SKIPPED_EVENTS = {"opened", "closed_no_write"}


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: "Watcher") -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._watcher._event(event)


class Watcher:
    """Watches a site's sources with watchdog and reports debounced, classified changes.

    `content/`, `templates/` and `static/` are watched recursively and the site root (for
    `digest.toml`, and for source folders that appear later) not recursively.
    """

    def __init__(
        self,
        layout: SiteLayout,
        callback: Callable[[frozenset[Change]], None],
        *,
        delay: float = 0.05,
        max_delay: float = 2.0,
        log: Callable[[str], None] | None = None,
        observer: BaseObserver | None = None,
    ) -> None:
        self.layout = replace(layout, root=Path(layout.root).absolute())
        self._debouncer = Debouncer(callback, delay=delay, max_delay=max_delay, log=log)
        self._observer = observer or Observer()
        self._handler = _Handler(self)
        self._watches: dict[Path, ObservedWatch] = {}
        self._lock = threading.Lock()

    def start(self) -> "Watcher":
        """Schedule the watches and start the observer thread."""
        self._observer.schedule(self._handler, str(self.layout.root), recursive=False)
        for folder in self.layout.source_dirs():
            self._watch(folder)
        self._observer.start()
        return self

    def set_layout(self, layout: SiteLayout) -> None:
        """Follow a new layout (after a config change): watch its source folders instead."""
        layout = replace(layout, root=Path(layout.root).absolute())
        if layout == self.layout:
            return
        if layout.root != self.layout.root:
            raise ValueError("a watcher cannot move to another site root")
        self.layout = layout
        wanted = set(layout.source_dirs())
        for folder in set(self._watches) - wanted:
            self._unwatch(folder)
        for folder in wanted:
            self._watch(folder)

    def _watch(self, folder: Path) -> None:
        with self._lock:
            if folder in self._watches or not folder.is_dir():
                return
            self._watches[folder] = self._observer.schedule(self._handler, str(folder), recursive=True)

    def _unwatch(self, folder: Path) -> None:
        with self._lock:
            watch = self._watches.pop(folder, None)
        if watch is not None:
            try:
                self._observer.unschedule(watch)
            except KeyError:
                return  # watchdog already dropped the watch of a deleted folder

    def _event(self, event: FileSystemEvent) -> None:
        if event.event_type in _SKIPPED_EVENTS or (event.is_directory and event.event_type == "modified"):
            return
        paths = [event.src_path] + ([event.dest_path] if getattr(event, "dest_path", "") else [])
        changes = []
        for raw in paths:
            path = Path(raw.decode() if isinstance(raw, bytes) else raw)
            if event.is_directory and path.parent == self.layout.root and path in self.layout.source_dirs():
                if path.is_dir():
                    self._watch(path)
                else:
                    self._unwatch(path)
            kind = classify(path, self.layout, is_directory=event.is_directory)
            if kind is not None:
                changes.append(Change(kind, path))
        self._debouncer.add(changes)

    def stop(self) -> None:
        """Stop the observer and the debouncer and join their threads."""
        self._observer.stop()
        self._observer.join()
        self._debouncer.close()

    def __enter__(self) -> "Watcher":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
