"""The build cache, kept outside the output folder (`<site>/.digest/cache/`): parsed content,
page fingerprints and the manifest of inputs of the last good build. Invalidated as a whole by
the package version; any unreadable or foreign cache is ignored and rebuilt."""

from __future__ import annotations

import hashlib
import os
import pickle
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from digest import __version__
from digest.output import write_atomic

CACHE_FORMAT = 7  # bump whenever the pickled classes change shape


@dataclass(frozen=True)
class Manifest:
    """The small part of the cache, read first: enough to tell that nothing changed."""

    version: str = ""
    inputs: tuple = ()  # every input's (path, mtime_ns, size), options and config hash
    saved_ns: int = 0  # wall-clock time of the save (for racy mtimes)
    not_before_ns: int = 0  # the build's clock must stay below this (the next future story) for a no-op
    warnings: tuple[str, ...] = ()  # repeated by a build that finds nothing changed
    files: int = 0  # output files of that build


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
    # Kept in memory only (a long-running process such as serve), never saved:
    config: Any = None  # the config those views were made with
    salt: str = ""  # what every page of that build depended on (package, config, templates, menu, topics)
    views: Any = None  # the last build's views (build_views reuses what did not change)
    contexts: Mapping[str, tuple] = field(default_factory=dict)  # output file -> (page context, its fingerprint)


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


def _load(path: Path, kind: type) -> Any:
    try:
        with path.open("rb") as handle:
            fmt, value = pickle.load(handle)
    except FileNotFoundError:
        return kind()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        return kind()  # a damaged or foreign cache only costs a full build
    if fmt != CACHE_FORMAT or not isinstance(value, kind):
        return kind()
    return value


def load_manifest(path: Path) -> Manifest:
    """The saved manifest, or an empty one when missing, unreadable or from another version."""
    manifest = _load(path.with_suffix(".manifest"), Manifest)
    return manifest if manifest.version == code_version() else Manifest()


def load_cache(path: Path) -> BuildCache:
    """The whole saved cache, or an empty one when missing, unreadable or from another version."""
    cache = _load(path, BuildCache)
    if cache.manifest.version != code_version():
        return BuildCache()
    token, base = _load(path.with_suffix(".records"), tuple) or ("", {})
    if not token or token != cache.records_base[0]:
        return BuildCache()  # the parsed content does not belong to this state
    delta = _load(path.with_suffix(".delta"), tuple)
    records = dict(base)
    if delta:
        delta_token, changed, removed = delta
        if delta_token != token:
            return BuildCache()
        records.update(changed)
        for name in removed:
            records.pop(name, None)
    ids = frozenset((name, loaded.key, loaded.stamp) for name, loaded in base.items())
    return replace(cache, records=records, records_base=(token, ids))


def save_cache(path: Path, cache: BuildCache) -> None:
    """Save the cache atomically: parsed content, then the state, then the manifest that vouches for both.

    Parsed content (most of the bytes) is kept as a base file plus a small delta of the records
    that changed since, so a rebuild after a few edits rewrites kilobytes, not the whole site;
    the base is rewritten when the delta grows past a tenth of it."""
    token, base_ids = cache.records_base
    changed = {name: loaded for name, loaded in cache.records.items()
               if (name, loaded.key, loaded.stamp) not in base_ids}
    removed = sorted({name for name, _, _ in base_ids} - set(cache.records))
    records_file, delta_file = path.with_suffix(".records"), path.with_suffix(".delta")
    if token and records_file.is_file() and len(changed) + len(removed) <= max(64, len(cache.records) // 10):
        write_atomic(delta_file, _dump((token, changed, removed)))
    else:
        token = secrets.token_hex(8)
        write_atomic(records_file, _dump((token, dict(cache.records))))
        delta_file.unlink(missing_ok=True)
    state = replace(cache, records={}, records_base=(token, frozenset()), config=None, salt="", views=None, contexts={})
    write_atomic(path, _dump(state))
    write_atomic(path.with_suffix(".manifest"), _dump(cache.manifest))


def remove_cache(path: Path) -> None:
    """Delete a saved cache and its companion files."""
    for suffix in (".manifest", ".records", ".delta", path.suffix):
        path.with_suffix(suffix).unlink(missing_ok=True)


def _dump(value: Any) -> bytes:
    return pickle.dumps((CACHE_FORMAT, value), protocol=pickle.HIGHEST_PROTOCOL)


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
