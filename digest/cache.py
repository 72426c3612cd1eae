"""The build cache, kept outside the output folder (`<site>/.digest/cache/`): parsed content,
page fingerprints and the manifest of inputs of the last good build. Invalidated as a whole by
the package version; any unreadable or foreign cache is ignored and rebuilt.

Files, per output folder: `.manifest` (read first: is anything changed?), the state pickle
(fingerprints, topic assignments, search records...), `.records` (each parsed content file
pickled on its own, so one can be read without the others, then a header of where each is)
with a small `.delta` of the records changed since, `.related` (the related-stories index) and
`.pages` (`pagestore`: what a quick rebuild needs)."""

from __future__ import annotations

import gc
import hashlib
import mmap
import os
import pickle
import secrets
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from digest import __version__
from digest.output import PendingFile, write_atomic, write_atomic_parts

CACHE_FORMAT = 9  # bump whenever the pickled classes change shape


@dataclass(frozen=True)
class Manifest:
    """The small part of the cache, read first: enough to tell that nothing changed."""

    version: str = ""
    inputs: tuple = ()  # every input's (path, mtime_ns, size), options and config hash
    saved_ns: int = 0  # wall-clock time of the save (for racy mtimes)
    not_before_ns: int = 0  # the build's clock must stay below this (the next future story) for a no-op
    warnings: tuple[str, ...] = ()  # repeated by a build that finds nothing changed
    files: int = 0  # output files of that build
    # content files modified too close to the save to trust their stat: (name as scanned, the hash
    # of the bytes the build read); None when some other input was (then nothing is vouched for)
    racy: tuple[tuple[str, str], ...] | None = ()


@dataclass(frozen=True)
class BuildCache:
    """What a build remembers for the next one: the manifest and the state an edit reuses."""

    manifest: Manifest = field(default_factory=Manifest)
    records: Mapping[str, Any] = field(default_factory=dict)  # content path -> content.Loaded
    fingerprints: Mapping[str, str] = field(default_factory=dict)  # output file -> fingerprint
    related_state: Any = None  # whatever the related-stories engine keeps between builds
    search_records: Mapping[str, Any] = field(default_factory=dict)  # story stamp -> search record
    topic_rules_key: str = ""  # fingerprint of the topic files the assignments below were made with
    topic_assignments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # file stamp -> topics
    outputs: frozenset[str] = frozenset()  # the files that build wrote or kept (what the next one may remove)
    records_base: tuple[str, frozenset] = ("", frozenset())  # (token, {(path, key, stamp)}) of the records file on disk
    store_token: str = ""  # the token of the page store (`.pages`) saved with this state
    # Kept in memory only (a long-running process such as serve), never saved:
    config: Any = None  # the config those views were made with
    salt: str = ""  # what every page of that build depended on (package, config, templates, menu, topics)
    views: Any = None  # the last build's views (build_views reuses what did not change)
    contexts: Mapping[str, tuple] = field(default_factory=dict)  # output file -> (page context, its fingerprint)


def content_stamp(data: bytes) -> str:
    """The hash of a content file's bytes, as records, manifests and quick rebuilds compare them."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version plus a fingerprint of its source files, so a changed digest (a
    development checkout, an upgrade) never reuses a cache pickled by other code."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    for rel, mtime, size in scan(package, ".py"):
        digest.update(f"{rel}:{mtime}:{size};".encode())
    return f"{__version__}+{digest.hexdigest()}"


def cache_file(root: Path, out_dir: Path) -> Path:
    """Where the cache for building `root` into `out_dir` lives."""
    key = hashlib.blake2b(str(out_dir.resolve()).encode(), digest_size=8).hexdigest()
    return root / ".digest" / "cache" / f"build-{key}.pickle"


def load_pickled(path: Path, kind: type, fmt: int) -> Any:
    """What `pickled(value, fmt)` wrote to `path`, when it is a `kind` of that format; else `kind()`
    (missing, damaged, another format or another version's classes only cost a full build)."""
    try:
        with path.open("rb") as handle, _no_gc():
            found, value = pickle.load(handle)
    except FileNotFoundError:
        return kind()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        return kind()
    if found != fmt or not isinstance(value, kind):
        return kind()
    return value


def pickled(value: Any, fmt: int) -> bytes:
    """`value` pickled with its format number (read back by `load_pickled`)."""
    return pickle.dumps((fmt, value), protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: Path, kind: type) -> Any:
    return load_pickled(path, kind, CACHE_FORMAT)


def load_manifest(path: Path) -> Manifest:
    """The saved manifest, or an empty one when missing, unreadable or from another version."""
    manifest = _once("manifest", [path.with_suffix(".manifest")], lambda: _load(path.with_suffix(".manifest"), Manifest))
    return manifest if manifest.version == code_version() else Manifest()


_READ: dict[str, tuple[tuple, Any]] = {}  # what -> (the files' identities, what was read from them)


def _once(what: str, files: list[Path], read: Any) -> Any:
    """`read()`, or what it gave last in this process while `files` are the very same files (by
    inode, size and mtime: the cache is only ever replaced, never written in place). `digest build`
    checks the manifest, and its quick path then reads the state that the full engine reads again
    when the quick path cannot build; each file is read once."""
    identity = []
    for file in files:
        try:
            stat = file.stat()
            identity.append((str(file), stat.st_ino, stat.st_size, stat.st_mtime_ns))
        except OSError:
            identity.append((str(file), None))
    known = _READ.get(what)
    if known is not None and known[0] == tuple(identity):
        return known[1]
    value = read()
    _READ[what] = (tuple(identity), value)
    return value


def load_state(path: Path) -> BuildCache:
    """The saved state without the parsed content and the related index (empty when missing,
    unreadable or from another version): what a quick rebuild reads."""
    cache = _once("state", [path], lambda: _load(path, BuildCache))
    return cache if cache.manifest.version == code_version() else BuildCache()


def load_cache(path: Path) -> BuildCache:
    """The whole saved cache, or an empty one when missing, unreadable or from another version."""
    cache = load_state(path)
    if not cache.manifest.version:
        return BuildCache()
    stored = StoredRecords.open(path, cache.records_base[0])
    if stored is None:
        return BuildCache()  # the parsed content does not belong to this state
    records = stored.all()
    ids = frozenset((name, key, stamp) for name, (key, stamp) in stored.base_ids.items())
    return replace(cache, records=records, records_base=(stored.token, ids), related_state=load_related(path))


class StoredRecords:
    """The parsed content files on disk, read one by one on demand (`get`) or all at once (`all`).

    The base file is each record pickled on its own, then a pickled header (token, each record's
    stat key and stamp, and where its bytes are) and that header's length (8 bytes); the delta
    is one pickle."""

    def __init__(self, file: Path, token: str, base_ids: Mapping[str, tuple], spans: Mapping[str, tuple[int, int]],
                 changed: Mapping[str, Any], removed: frozenset[str]):
        self.file = file
        self.token = token
        self.base_ids = base_ids  # path -> ((mtime_ns, size), stamp) of the base file's records
        self._spans = spans  # path -> (offset, length) of its pickled record
        self.changed = dict(changed)  # the delta: path -> record changed since the base
        self.removed = removed
        self._made: dict[str, Any] = {}

    @classmethod
    def open(cls, path: Path, token: str) -> "StoredRecords | None":
        """The records saved beside the state whose records token is `token`, or None."""
        found = _once("records", [path.with_suffix(".records"), path.with_suffix(".delta")],
                      lambda: cls._open(path))
        return found if found is not None and found.token == token and token else None

    @classmethod
    def _open(cls, path: Path) -> "StoredRecords | None":
        file = path.with_suffix(".records")
        try:
            with file.open("rb") as handle, _no_gc():
                handle.seek(-8, os.SEEK_END)
                size = int.from_bytes(handle.read(8), "little")
                handle.seek(-8 - size, os.SEEK_END)
                fmt, header = pickle.loads(handle.read(size))
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
            return None
        if fmt != CACHE_FORMAT or not isinstance(header, tuple) or len(header) != 3:
            return None
        token = header[0]
        delta = _load(path.with_suffix(".delta"), tuple)
        changed, removed = {}, frozenset()
        if delta:
            if delta[0] != token:
                return None
            changed, removed = delta[1], frozenset(delta[2])
        return cls(file, token, header[1], header[2], changed, removed)

    def ids(self, name: str) -> tuple | None:
        """((mtime_ns, size), stamp) of a record, without reading it."""
        if name in self.changed:
            loaded = self.changed[name]
            return loaded.key, loaded.stamp
        return None if name in self.removed else self.base_ids.get(name)

    def get(self, name: str) -> Any:
        """The record of one content file (a KeyError when there is none)."""
        loaded = self.changed.get(name)
        if loaded is not None:
            return loaded
        if name in self.removed:
            raise KeyError(name)
        made = self._made.get(name)
        if made is None:
            offset, length = self._spans[name]
            with self.file.open("rb") as handle:
                handle.seek(offset)
                made = self._made[name] = pickle.loads(handle.read(length))
        return made

    def all(self) -> dict[str, Any]:
        """Every record (path -> record)."""
        with self.file.open("rb") as handle:
            data = memoryview(handle.read())
        with _no_gc():
            records = {name: pickle.loads(data[offset:offset + length]) for name, (offset, length) in self._spans.items()
                       if name not in self.removed}
        records.update(self.changed)
        return records


@contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic garbage collection while many objects are made at once (each full collection
    would walk them all again; unpickled records hold no cycles to collect)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_related(path: Path, populate: bool = False) -> Any:
    """The related-stories index saved beside the state, or None.

    Its arrays are not read but mapped (copy-on-write: the index may change them in place without
    touching the file), so a rebuild pays only for the pages of them it reads. With `populate`,
    every page is read once now (a process with time to spare before the update: the update then
    runs without faulting pages in, ~20 ms at 10,000 stories)."""
    file = path.with_suffix(".related")
    try:
        with file.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    except (OSError, ValueError):  # missing, or empty
        return None
    view = memoryview(mapped)
    if populate:
        bytes(view[::mmap.PAGESIZE])  # one byte of each page: read, so no copy is made
    try:
        if bytes(view[:len(_RELATED_MAGIC)]) != _RELATED_MAGIC:
            return None
        size = int.from_bytes(view[-8:], "little")
        with _no_gc():
            fmt, (data_at, data_len), spans = pickle.loads(view[-8 - size:-8])
            if fmt != CACHE_FORMAT:
                return None
            return pickle.loads(view[data_at:data_at + data_len], buffers=[view[at:at + n] for at, n in spans])
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError, IndexError):
        return None  # a damaged or foreign index only costs a full computation


_RELATED_MAGIC = b"digest-related\n"
_ALIGN = 64  # each array starts at a multiple of this (numpy works on aligned memory without copying)


def save_related(path: Path, index: Any) -> None:
    """Save the related-stories index (or remove the saved one, for None)."""
    if index is None:
        path.with_suffix(".related").unlink(missing_ok=True)
        return
    pending_related(path, index).commit()


def pending_related(path: Path, index: Any) -> PendingFile:
    """The related-stories index written beside the cache file `path`, not yet in place (see
    `save_cache`). Layout: a magic line, the index pickled with its large arrays out of band
    (pickle protocol 5), each array as it is in memory (aligned), then a header of where each
    part is, and the header's length (8 bytes)."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(index, protocol=5, buffer_callback=buffers.append)
    parts: list = [_RELATED_MAGIC]
    at = len(_RELATED_MAGIC)

    def place(chunk: Any, size: int) -> int:
        nonlocal at
        start = _aligned(at)
        parts.extend([b"\0" * (start - at), chunk])
        at = start + size
        return start

    data_at = place(data, len(data))
    spans = [(place(raw, raw.nbytes), raw.nbytes) for raw in (b.raw() for b in buffers)]
    header = pickle.dumps((CACHE_FORMAT, (data_at, len(data)), spans), protocol=pickle.HIGHEST_PROTOCOL)
    parts += _trailer(header)
    return PendingFile(path.with_suffix(".related"), parts)


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def save_delta(path: Path, token: str, changed: Mapping[str, Any], removed: Sequence[str] = ()) -> None:
    """Save the records changed since the base records file `token` (all of them: it replaces the last delta)."""
    write_atomic(path.with_suffix(".delta"), _dump((token, dict(changed), list(removed))))


def delta_fits(changed: int, total: int) -> bool:
    """Whether `changed` records are few enough to be kept as a delta beside a base of `total`."""
    return changed <= max(64, total // 10)


def save_state(path: Path, cache: BuildCache) -> None:
    """Save the state pickle and then the manifest that vouches for it (records and related index apart)."""
    state = replace(cache, manifest=replace(cache.manifest, inputs=()),  # the manifest file has them
                    records={}, related_state=None, config=None, salt="", views=None, contexts={})
    write_atomic(path, _dump(state))
    write_atomic(path.with_suffix(".manifest"), _dump(cache.manifest))


def save_cache(path: Path, cache: BuildCache, written: RecordsWriter | None = None,
               related: PendingFile | None = None) -> None:
    """Save the cache atomically: parsed content, the related index, then the state, then the
    manifest that vouches for them. `related`: `cache.related_state` as `pending_related` wrote
    it already (moved into place here).

    Parsed content (most of the bytes) is kept as a base file plus a small delta of the records
    that changed since, so a rebuild after a few edits rewrites kilobytes, not the whole site;
    the base is rewritten when the delta grows past a tenth of it. Each record of the base is
    pickled on its own, so that a quick rebuild reads only those it shows. `written`: the base
    as the parse wrote it (used when it holds exactly these records)."""
    token, base_ids = cache.records_base
    changed = {name: loaded for name, loaded in cache.records.items()
               if (name, loaded.key, loaded.stamp) not in base_ids}
    removed = sorted({name for name, _, _ in base_ids} - set(cache.records))
    records_file = path.with_suffix(".records")
    if token and records_file.is_file() and delta_fits(len(changed) + len(removed), len(cache.records)):
        save_delta(path, token, changed, removed)
    elif written is not None and written.holds(cache.records):
        token = written.finish(records_file)
        path.with_suffix(".delta").unlink(missing_ok=True)
    else:
        token = secrets.token_hex(8)
        blobs = [pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL) for loaded in cache.records.values()]
        spans, offset = {}, 0
        for name, blob in zip(cache.records, blobs):
            spans[name] = (offset, len(blob))
            offset += len(blob)
        ids = {name: (loaded.key, loaded.stamp) for name, loaded in cache.records.items()}
        write_atomic_parts(records_file, [*blobs, *_records_header(token, ids, spans)])  # not joined: no second copy
        path.with_suffix(".delta").unlink(missing_ok=True)
    if related is not None:
        related.commit()
    else:
        save_related(path, cache.related_state)
    save_state(path, replace(cache, records_base=(token, frozenset())))


def _records_header(token: str, ids: Mapping[str, tuple], spans: Mapping[str, tuple[int, int]]) -> list[bytes]:
    """The end of a records file: where each record is, then that header's length (8 bytes)."""
    return _trailer(_dump((token, ids, spans)))


def _trailer(header: bytes) -> list[bytes]:
    """The last parts of a records or related-index file: its header, then the header's length
    (8 bytes, little-endian), so that a reader finds the header from the file's end."""
    return [header, len(header).to_bytes(8, "little")]


class RecordsWriter:
    """A records file written while the content is parsed: each record is added as pickled (by
    the process that parsed it) and goes to a temporary file at once, so that saving the cache
    after a first build only writes the header and renames the file (`save_cache(written=...)`).
    Nothing is kept in memory but where each record is."""

    def __init__(self, path: Path) -> None:
        """A writer for the records beside the cache file `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".records")
        self._handle = os.fdopen(fd, "wb", buffering=1 << 20)  # a record is ~4 KB: one write per 250 or so, not each
        self._ids: dict[str, tuple] = {}
        self._spans: dict[str, tuple[int, int]] = {}
        self._offset = 0

    def add(self, name: str, loaded: Any, blob: bytes) -> None:
        """Record `name` (a content.Loaded), pickled as `blob`."""
        self._handle.write(blob)
        self._ids[name] = (loaded.key, loaded.stamp)
        self._spans[name] = (self._offset, len(blob))
        self._offset += len(blob)

    def holds(self, records: Mapping[str, Any]) -> bool:
        """Whether the file holds exactly `records` (the same files, read with the same stat and bytes)."""
        return not self._handle.closed and len(records) == len(self._ids) and all(
            self._ids.get(name) == (loaded.key, loaded.stamp) for name, loaded in records.items())

    def finish(self, target: Path) -> str:
        """Write the header and move the file to `target`; returns the file's token."""
        token = secrets.token_hex(8)
        with self._handle:
            for part in _records_header(token, self._ids, self._spans):
                self._handle.write(part)
        os.chmod(self._tmp, 0o644)
        os.replace(self._tmp, target)
        return token

    def abort(self) -> None:
        """Drop the temporary file (nothing is left once `finish` has moved it)."""
        if not self._handle.closed:
            self._handle.close()
        Path(self._tmp).unlink(missing_ok=True)


STALE_TEMPORARY_NS = 3600 * 1_000_000_000  # a cache file's temporary this old was left by a killed build


def remove_stale_temporaries(folder: Path, wall_ns: int) -> list[str]:
    """Remove the temporary files (`.tmp-*`) that a build killed mid-way (SIGKILL, power loss) left
    in the cache folder `folder`: those last modified over an hour before `wall_ns` (a running
    build's own are younger). Returns their names; a missing folder has none."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if entry.name.startswith(".tmp-") and entry.is_file(follow_symlinks=False):
            try:
                if wall_ns - entry.stat(follow_symlinks=False).st_mtime_ns > STALE_TEMPORARY_NS:
                    os.unlink(entry.path)
                    removed.append(entry.name)
            except FileNotFoundError:  # removed meanwhile (by the build that made it)
                continue
    return sorted(removed)


def remove_cache(path: Path) -> None:
    """Delete a saved cache and its companion files."""
    for suffix in (".manifest", ".records", ".delta", ".related", ".pages", ".stamps", path.suffix):
        path.with_suffix(suffix).unlink(missing_ok=True)


def _dump(value: Any) -> bytes:
    return pickled(value, CACHE_FORMAT)


def scan(folder: Path, suffix: str | None = None) -> list[tuple[str, int, int]]:
    """(relative path, mtime_ns, size) of the files under `folder`, sorted; cheap (no reads)."""
    found: list[tuple[str, int, int]] = []
    if not folder.is_dir():
        return found
    stack = [""]  # folders relative to `folder`, as "a/b/"
    base = str(folder) + os.sep
    while stack:
        current = stack.pop()
        with os.scandir(base + current) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(current + entry.name + os.sep)
                elif suffix is None or entry.name.endswith(suffix):
                    stat = entry.stat()
                    found.append((current + entry.name, stat.st_mtime_ns, stat.st_size))
    found.sort()
    return found
