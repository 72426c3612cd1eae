"""Rendering pages on every core: a forked process pool shares the built views without copying
them (copy-on-write) and returns each page's bytes. Same output as rendering in one process:
each page is a pure function of its spec."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from digest.errors import Problem, TemplateError
from digest.forkmap import fork_map, workers  # noqa: F401 (re-exported for the build)
from digest.model import SiteConfig
from digest.render import PageSpec, render_pages
from digest.views import SiteViews

MIN_PAGES = 1000  # below this, forking a large build process costs more than it saves
CHUNKS_PER_WORKER = 16  # enough chunks to balance the load and move a progress bar; few enough to be cheap
SERIAL_CHUNK = 256  # pages rendered between progress reports in one process
_JOB: tuple | None = None  # set in the parent just before forking; read by the workers


def render_all(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec], template_dirs: Sequence[Path],
               parallel: bool = True, progress: Callable[[str, int, int], None] | None = None) -> dict[str, bytes]:
    """Render `specs`, in parallel when it pays; raise TemplateError listing every failing template.

    `progress` is told `("rendering pages", done, total)` as chunks of pages finish."""
    count = workers()
    total = len(specs)
    if not parallel or count < 2 or total < MIN_PAGES or "fork" not in multiprocessing.get_all_start_methods():
        chunks: Iterable[range] = [range(start, min(start + SERIAL_CHUNK, total)) for start in range(0, total, SERIAL_CHUNK)]
        results = (_render(config, views, specs, template_dirs, chunk) for chunk in chunks)
        return _gather(results, total, progress)
    global _JOB
    _JOB = (config, views, specs, template_dirs)
    chunks = [range(start, total, count * CHUNKS_PER_WORKER) for start in range(count * CHUNKS_PER_WORKER)]
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            return _gather(pool.imap_unordered(_render_chunk, chunks, chunksize=1), total, progress)
    finally:
        _JOB = None


def _gather(results: Iterable[tuple[dict[str, bytes], list[Problem]]], total: int,
            progress: Callable[[str, int, int], None] | None) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    problems: dict[str, Problem] = {}
    done = 0
    for chunk_files, chunk_problems, rendered in results:
        files.update(chunk_files)
        for problem in chunk_problems:
            problems.setdefault(str(problem), problem)
        done += rendered
        if progress is not None and total:
            progress("rendering pages", done, total)
    if problems:
        raise TemplateError(sorted(problems.values(), key=str))
    return {name: files[name] for name in sorted(files)}


def _render(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec], template_dirs: Sequence[Path],
            indices: range) -> tuple[dict[str, bytes], list[Problem], int]:
    try:
        return render_pages(config, views, [specs[i] for i in indices], template_dirs), [], len(indices)
    except TemplateError as exc:
        return {}, exc.problems, len(indices)


def _render_chunk(indices: range) -> tuple[dict[str, bytes], list[Problem], int]:
    assert _JOB is not None, "render workers must be forked from render_all"
    config, views, specs, template_dirs = _JOB
    return _render(config, views, specs, template_dirs, indices)
