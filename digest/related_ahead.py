"""The related-stories update of a quick rebuild (quick.py), started ahead in a forked process.

A quick rebuild after an edit that changes what the related-stories engine reads must import the
engine (numpy), map the saved index and bring it up to date: about half a second at 10,000
stories, most of a one-story rebuild. `started` forks, as soon as the command knows a build is
needed, a process that imports the engine and maps the index while this one imports the build
and loads the rest of the cache; `ask` then hands it the stories it will read, and the answer is
waited for once the pages that do not show related lists are rendered. Without a process ahead
(no fork, `--clean`, no saved index, a build that is not a command's), `ask` does the same
update in this process: `update_related` is the one computation either way.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from digest.cache import load_related
from digest.forkmap import can_fork, child_signals, end_process

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from digest.model import Story


@dataclass(frozen=True)
class RelatedRequest:
    """What the update reads besides the saved index and the page store's file hashes.

    Small, so that handing it to the process ahead costs nothing: every story's file hash (ten
    thousand of them) is read there from the page store, which `store_token` names."""

    count: int  # related stories per story (config)
    store_token: str  # the page store (`PageStore.token`) whose file hashes the edits apply to
    edited_stamps: Mapping[str, str]  # slug -> the hash of its file, where it differs from the store's
    stories: Mapping[str, Story]  # the stories whose file changed since the index was saved, by slug
    topics: Mapping[str, tuple[str, ...]]  # their topics
    since: frozenset[str]  # the stories whose list quick rebuilds changed since the index was saved


@dataclass(frozen=True)
class RelatedUpdate:
    """The index's answer: what the quick rebuild compares with the page store and writes."""

    groups: dict[str, tuple[str, ...]]  # same-story groups
    entries: dict[str, tuple]  # slug -> its list as (slug, reasons) pairs: the lists made again, and `since`'s
    json: bytes  # related.json
    read: dict[str, tuple[str, str]]  # slug -> (file stamp, input key) of each story the index read anew


def update_related(index: Any, request: RelatedRequest, store_stamps: Mapping[str, str]) -> RelatedUpdate | None:
    """Bring the saved related index (`cache.load_related`) up to date with `request`, the page
    store's file hashes being `store_stamps`; None when the index cannot be used: missing, another
    count, or stories changed that the request does not hold."""
    from digest import related as related_mod
    from digest.pagestore import related_entry
    from digest.related_result import related_json_bytes
    from digest.related_input import input_key

    if not isinstance(index, related_mod.RelatedIndex) or index.count != request.count:
        return None
    file_stamps = {**store_stamps, **request.edited_stamps}
    drifted = index.drifted(file_stamps)
    if drifted is None or not request.stories.keys() >= set(drifted):
        return None
    if drifted and index.update_some([request.stories[s] for s in drifted], request.topics, file_stamps) is None:
        return None
    relations = index.result()
    entries = {slug: related_entry(relations.links[slug]) for slug in relations.made | request.since}
    read = {slug: (file_stamps[slug], input_key(request.stories[slug], request.topics[slug]))
            for slug in drifted}
    return RelatedUpdate(dict(relations.groups), entries, related_json_bytes(relations), read)


class Ahead:
    """A forked process that has imported the engine and mapped the index, waiting for one request."""

    def __init__(self, pid: int, conn: Connection):
        self._pid, self._conn = pid, conn
        self._asked = False

    def ask(self, request: RelatedRequest) -> Callable[[], RelatedUpdate | None] | None:
        """Send the request; returns how to wait for the answer, or None when the process is gone."""
        if self._asked:
            return None
        self._asked = True
        try:
            self._conn.send(request)
        except OSError:  # it ended (killed, or failed to start the engine)
            self.close()
            return None
        answer: list[tuple[str, Any]] = []

        def wait() -> RelatedUpdate | None:
            if not answer:
                try:
                    answer.append(self._conn.recv())
                except (EOFError, OSError):
                    answer.append(("failed", None))
                self.close()
            kind, value = answer[0]
            if kind != "ok":
                raise _Failed(value)
            return value
        return wait

    def close(self) -> None:
        """End the process (any time; more than once is fine) and reap it."""
        if self._pid:
            end_process(self._pid)
            self._pid = 0
            self._conn.close()


class _Failed(Exception):
    """The process ahead could not answer (its error is raised again by the same update here)."""


@contextlib.contextmanager
def started(cache_path: Path, enabled: bool) -> Iterator[Ahead | None]:
    """A process ahead for the build about to run (ended on exit), or None: not `enabled` (no
    related stories, `--clean`), no saved index, or no safe fork (another thread runs)."""
    ahead = None
    if enabled and can_fork() and cache_path.with_suffix(".related").is_file():
        ahead = _fork(cache_path)
    try:
        yield ahead
    finally:
        if ahead is not None:
            ahead.close()


def ask(ahead: Ahead | None, cache_path: Path, request: RelatedRequest,
        store_stamps: Mapping[str, str]) -> Callable[[], RelatedUpdate | None]:
    """The update for `request` (the page store's file hashes being `store_stamps`), by the
    process ahead when there is one (and it answers), else here; returns how to wait for it."""
    waiting = ahead.ask(request) if ahead is not None else None

    def here() -> RelatedUpdate | None:
        return update_related(load_related(cache_path), request, store_stamps)

    if waiting is None:
        return here

    def answer() -> RelatedUpdate | None:
        try:
            return waiting()
        except _Failed:
            return here()  # the same computation: its error, if any, is raised here with its traceback
    return answer


def _fork(cache_path: Path) -> Ahead:
    from multiprocessing.connection import Pipe

    parent, child = Pipe()
    pid = os.fork()
    if pid == 0:  # the child: runs nothing else of this process
        code = 0
        try:
            parent.close()
            child_signals()
            os.nice(10)  # the idle core's work: niced, it no longer slowed the edits that end it unused
            code = _serve(child, cache_path)
        finally:
            os._exit(code)
    child.close()
    return Ahead(pid, parent)


def _serve(conn: Connection, cache_path: Path) -> int:
    """The child's work: import, map, read the store's file hashes, wait for the request, answer.
    Its exit status: 0 when answered."""
    try:
        from digest import related  # noqa: F401 (numpy: the import this process is here to take ahead)
        import numpy.ma  # noqa: F401 (numpy 2 imports it at the update's first np.unique: 20 ms, taken here)
        from digest.pagestore import stored_stamps

        index = load_related(cache_path, populate=True)  # time to spare until the request comes
        stamps = stored_stamps(cache_path)
        request = conn.recv()
    except EOFError:  # the build went on without it
        return 1
    except Exception as exc:  # reported; the parent runs the update itself and meets the error there
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return 1
    try:
        if stamps is None or stamps[0] != request.store_token:  # saved again since: the build's own store differs
            answer = ("failed", "the page store changed")
        else:
            answer = ("ok", update_related(index, request, stamps[1]))
    except Exception as exc:
        answer = ("failed", f"{type(exc).__name__}: {exc}")
    conn.send(answer)
    return 0
