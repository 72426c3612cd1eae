"""Rendering pages on every core: a forked process pool shares the built views without copying
them (copy-on-write). Same output as rendering in one process: each page is a pure function of
its spec.

With a staging folder, each worker also compares its pages with the output folder and writes
only the pages that changed into the staging folder, so neither the page bytes nor their
writing pass through the parent: it moves the staged files into place (`output.write_site`)
once every page has rendered, and the output stays as it was when any page fails. When there
is no output folder yet (a first build), workers write the pages straight into a staging tree
laid out like the site (`fresh_tree`), which becomes the output folder in one rename
(`output.write_fresh`): no per-page move, and the folders are made by the workers in parallel.
"""

from __future__ import annotations

import itertools
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from digest.errors import Problem, TemplateError
from digest.forkmap import can_fork, fork_map, fork_pool, workers  # noqa: F401 (fork_map re-exported for the build)
from digest.model import SiteConfig
from digest.output import Staged
from digest.render import PageSpec, render_pages
from digest.views import SiteViews

MIN_PAGES = 1000  # below this, forking a large build process costs more than it saves
CHUNKS_PER_WORKER = 16  # enough chunks to balance the load and move a progress bar; few enough to be cheap
SERIAL_CHUNK = 256  # pages rendered between progress reports in one process
_JOB: tuple | None = None  # set in the parent just before forking; read by the workers
_STAGED = itertools.count()  # numbers the files a worker stages
_MADE: set[str] = set()  # folders a worker has made in a fresh tree (reset per job)


@dataclass(frozen=True)
class Rendered:
    """Rendered pages: bytes (or staged files) of the pages to write, and how many were unchanged."""

    files: dict[str, bytes | Staged]
    unchanged: int = 0  # pages a worker found identical in the output folder (not in `files`)


@contextmanager
def staging_for(out_dir: Path) -> Iterator[Path]:
    """A fresh staging folder beside `out_dir` (same file system, so moves are renames), removed afterwards."""
    staging = out_dir.parent / f".{out_dir.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)  # left by a killed build
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fresh_tree(staging: Path) -> Path:
    """Where a first build's pages are laid out, inside `staging`, before it becomes the output folder."""
    return staging / "site"


def render_all(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec], template_dirs: Sequence[Path],
               parallel: bool = True, progress: Callable[[str, int, int], None] | None = None,
               out_dir: Path | None = None, staging: Path | None = None, fresh: bool = False) -> Rendered:
    """Render `specs`, in parallel when it pays; raise TemplateError listing every failing template.

    `progress` is told `("rendering pages", done, total)` as chunks of pages finish. Given
    `out_dir` and `staging`, parallel workers stage changed pages there; with `fresh` (no output
    folder yet) they lay every page out in `fresh_tree(staging)` instead (see the module doc)."""
    count = workers()
    total = len(specs)
    if not parallel or count < 2 or total < MIN_PAGES or not can_fork():
        chunks: Iterable[range] = [range(start, min(start + SERIAL_CHUNK, total)) for start in range(0, total, SERIAL_CHUNK)]
        return _gather((_render(config, views, specs, template_dirs, chunk) for chunk in chunks), total, progress)
    global _JOB
    _JOB = (config, views, specs, template_dirs,
            None if out_dir is None or staging is None else (str(out_dir), str(staging), fresh))
    _MADE.clear()
    chunks = [range(start, total, count * CHUNKS_PER_WORKER) for start in range(count * CHUNKS_PER_WORKER)]
    try:
        with fork_pool(count) as pool:
            return _gather(pool.imap_unordered(_render_chunk, chunks, chunksize=1), total, progress)
    finally:
        _JOB = None


def _gather(results: Iterable[tuple[dict[str, bytes | Staged], int, list[Problem], int]], total: int,
            progress: Callable[[str, int, int], None] | None) -> Rendered:
    files: dict[str, bytes | Staged] = {}
    problems: dict[str, Problem] = {}
    done = unchanged = 0
    for chunk_files, chunk_unchanged, chunk_problems, rendered in results:
        files.update(chunk_files)
        unchanged += chunk_unchanged
        for problem in chunk_problems:
            problems.setdefault(str(problem), problem)
        done += rendered
        if progress is not None and total:
            progress("rendering pages", done, total)
    if problems:
        raise TemplateError(sorted(problems.values(), key=str))
    return Rendered({name: files[name] for name in sorted(files)}, unchanged)


def _render(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec], template_dirs: Sequence[Path],
            indices: range) -> tuple[dict[str, bytes | Staged], int, list[Problem], int]:
    try:
        return dict(render_pages(config, views, [specs[i] for i in indices], template_dirs)), 0, [], len(indices)
    except TemplateError as exc:
        return {}, 0, exc.problems, len(indices)


def _render_chunk(indices: range) -> tuple[dict[str, bytes | Staged], int, list[Problem], int]:
    assert _JOB is not None, "render workers must be forked from render_all"
    config, views, specs, template_dirs, folders = _JOB
    files, _, problems, rendered = _render(config, views, specs, template_dirs, indices)
    if folders is None or problems:
        return files, 0, problems, rendered
    return (*_stage(files, *folders), problems, rendered)


def _stage(files: dict[str, bytes | Staged], out_dir: str, staging: str, fresh: bool = False
           ) -> tuple[dict[str, bytes | Staged], int]:
    """Stage the pages whose bytes differ from the output folder's; count the others."""
    if fresh:
        return _lay_out(files, str(fresh_tree(Path(staging)))), 0
    staged: dict[str, bytes | Staged] = {}
    unchanged = 0
    os.makedirs(staging, exist_ok=True)
    prefix = os.path.join(staging, f"{os.getpid()}-")
    for name, data in files.items():
        assert isinstance(data, bytes)
        target = os.path.join(out_dir, name)
        try:
            if os.path.getsize(target) == len(data):
                with open(target, "rb") as handle:
                    if handle.read() == data:
                        unchanged += 1
                        continue
        except FileNotFoundError:
            pass
        path = f"{prefix}{next(_STAGED)}"  # flat, unique in this worker: no folder per page to make or remove
        with open(path, "wb") as handle:
            handle.write(data)
        staged[name] = Staged(path)
    return staged, unchanged


def _lay_out(files: dict[str, bytes | Staged], tree: str) -> dict[str, bytes | Staged]:
    """Write every page at its own place in the fresh tree `tree` (no output folder to compare with)."""
    staged: dict[str, bytes | Staged] = {}
    for name, data in files.items():
        assert isinstance(data, bytes)
        path = os.path.join(tree, name)
        folder = os.path.dirname(path)
        if folder not in _MADE:
            os.makedirs(folder, exist_ok=True)  # another worker may make it at the same moment
            _MADE.add(folder)
        with open(path, "wb") as handle:
            handle.write(data)
        staged[name] = Staged(path)
    return staged
