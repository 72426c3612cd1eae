"""Rendering pages on every core: a forked process pool shares the built views without copying
them (copy-on-write) and returns each page's bytes. Same output as rendering in one process:
each page is a pure function of its spec."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Sequence

from digest.errors import Problem, TemplateError
from digest.model import SiteConfig
from digest.render import PageSpec, render_pages
from digest.views import SiteViews

MIN_PAGES = 1000  # below this, forking a large build process costs more than it saves
_JOB: tuple | None = None  # set in the parent just before forking; read by the workers


def workers() -> int:
    """How many processes to render with (the cores this process may use)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def render_all(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec], template_dirs: Sequence[Path],
               parallel: bool = True) -> dict[str, bytes]:
    """Render `specs`, in parallel when it pays; raise TemplateError listing every failing template."""
    count = workers()
    if not parallel or count < 2 or len(specs) < MIN_PAGES or "fork" not in multiprocessing.get_all_start_methods():
        return render_pages(config, views, specs, template_dirs)
    global _JOB
    _JOB = (config, views, specs, template_dirs)
    chunks = [range(start, len(specs), count * 8) for start in range(count * 8)]
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            results = pool.map(_render_chunk, chunks, chunksize=1)
    finally:
        _JOB = None
    files: dict[str, bytes] = {}
    problems: dict[str, Problem] = {}
    for chunk_files, chunk_problems in results:
        files.update(chunk_files)
        for problem in chunk_problems:
            problems.setdefault(str(problem), problem)
    if problems:
        raise TemplateError(list(problems.values()))
    return {name: files[name] for name in sorted(files)}


def _render_chunk(indices: range) -> tuple[dict[str, bytes], list[Problem]]:
    assert _JOB is not None, "render workers must be forked from render_all"
    config, views, specs, template_dirs = _JOB
    try:
        return render_pages(config, views, [specs[i] for i in indices], template_dirs), []
    except TemplateError as exc:
        return {}, exc.problems
