"""Writing a built site: only files whose bytes changed are rewritten (atomically), files that
no longer belong are removed, and nothing is touched until the whole site has been rendered."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

@dataclass(frozen=True)
class Staged:
    """A file already written elsewhere on the same file system (by a render worker), to be moved into place."""

    path: str


@dataclass(frozen=True)
class WriteReport:
    written: int
    unchanged: int
    removed: int


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    write_atomic_parts(path, [data])


def write_atomic_parts(path: Path, parts: list) -> None:
    """`write_atomic` of the concatenation of `parts` (bytes or buffers), without joining them first."""
    PendingFile(path, parts).commit()


class PendingFile:
    """A file written now under a temporary name beside `path`, and moved into place by `commit`
    (or removed by `discard`): a build writes a large cache file while it waits on its workers,
    and replaces the old one only where its save is ordered (the state, then the manifest)."""

    def __init__(self, path: Path, parts: list) -> None:
        """Write the concatenation of `parts` (bytes or buffers) beside `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        self.path, self._tmp = path, tmp
        try:
            with os.fdopen(fd, "wb") as handle:
                for part in parts:
                    handle.write(part)
            os.chmod(tmp, 0o644)
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        """Move the file into place (once; an error leaves nothing behind)."""
        if self._tmp is None:
            raise ValueError(f"{self.path}: already committed or discarded")
        try:
            os.replace(self._tmp, self.path)
        except BaseException:
            self.discard()
            raise
        self._tmp = None

    def discard(self) -> None:
        """Remove the file unless it was committed (a build that failed after writing it)."""
        if self._tmp is not None:
            Path(self._tmp).unlink(missing_ok=True)
            self._tmp = None


def write_site(out_dir: Path, files: Mapping[str, bytes | Staged], expected: set[str] | None = None,
               protected: frozenset[str] = frozenset(), previous: frozenset[str] | None = None) -> WriteReport:
    """Write `files` into `out_dir` and remove every file not in `expected` (default: `files`).

    Files in `expected` but not in `files` are kept as they are (pages an incremental build did
    not need to render); `protected` top-level folders (e.g. the search index) are left alone.
    With `previous` (the files the last build left), only those are candidates for removal, so
    an incremental build does not walk the whole folder; without it every file is. A `Staged`
    value is a file a render worker already wrote and found different: it is moved into place.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = unchanged = 0
    made: set[Path] = {out_dir}
    for name in sorted(files):
        data = files[name]
        target = out_dir / name
        if isinstance(data, Staged):  # known to differ from the output's file: moved into place (a rename)
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            os.replace(data.path, target)
            written += 1
            continue
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                unchanged += 1
                continue
        except FileNotFoundError:
            # A new file: nobody can be reading a half-written version of it, so no rename needed.
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            with open(target, "wb") as handle:
                handle.write(data)
            written += 1
            continue
        write_atomic(target, data)
        written += 1
    keep = set(files) if expected is None else expected | set(files)
    if previous is None:
        removed = _remove_stale(out_dir, keep, protected)
    else:
        removed = _remove_listed(out_dir, previous - keep, protected)
    return WriteReport(written=written, unchanged=unchanged, removed=removed)


def write_fresh(tree: Path, out_dir: Path, files: Mapping[str, bytes | Staged]) -> WriteReport | None:
    """A first build: lay `files` out in `tree` (a staging folder on the output's file system;
    files a render worker staged there already stay put) and make `tree` the output folder with
    one rename. Returns None, with every file still in `tree`, when `out_dir` holds files by then
    (another process wrote there): the caller writes them into place one by one instead."""
    root = str(tree)
    made: set[str] = set()
    for name, data in files.items():  # plain strings: most are pages already in place, skipped (14,000 Paths ~30 ms)
        target = os.path.join(root, name)
        if isinstance(data, Staged) and data.path == target:
            continue
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        if isinstance(data, Staged):
            os.replace(data.path, target)
        else:
            with open(target, "wb") as handle:
                handle.write(data)
    tree.mkdir(parents=True, exist_ok=True)  # a site of no files still gets its (empty) folder
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(tree, out_dir)  # replaces an empty folder; refuses one with files in it
    except OSError:
        return None
    return WriteReport(written=len(files), unchanged=0, removed=0)


def _remove_listed(out_dir: Path, names: set[str] | frozenset[str], protected: frozenset[str]) -> int:
    """Remove these files (relative names) and the folders they leave empty."""
    removed = 0
    folders: set[Path] = set()
    for name in sorted(names):
        if name.split("/", 1)[0] in protected:
            continue
        target = out_dir / name
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        removed += 1
        folders.update(p for p in target.parents if p != out_dir and out_dir in p.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def _remove_stale(out_dir: Path, keep: set[str], protected: frozenset[str]) -> int:
    removed = 0
    for folder, dirs, names in os.walk(out_dir, topdown=False):
        rel_folder = os.path.relpath(folder, out_dir)
        prefix = "" if rel_folder == "." else rel_folder.replace(os.sep, "/") + "/"
        if prefix and prefix.split("/", 1)[0] in protected:
            continue
        for name in names:
            rel = prefix + name
            if rel not in keep and not (not prefix and name in protected):
                os.unlink(os.path.join(folder, name))
                removed += 1
        if prefix and not os.listdir(folder):
            os.rmdir(folder)
    return removed
