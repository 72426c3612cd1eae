"""The build: load -> classify (topics) -> relate -> views -> render -> write.

Every problem is gathered before anything is written, so a failed build leaves the previous
output as it was.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from digest import topics as topics_mod
from digest.config import load_config, with_base_url
from digest.content import load_site
from digest.errors import ContentError, Problem
from digest.model import Site, Story
from digest.output import WriteReport, write_site
from digest.render import page_specs, render_pages, theme_dir
from digest.views import build_views


@dataclass(frozen=True)
class BuildOptions:
    drafts: bool = False  # include draft stories
    future: bool = False  # include stories dated after `now`
    base_url: str | None = None  # overrides digest.toml
    out_dir: Path | None = None  # overrides [paths] output


@dataclass(frozen=True)
class BuildResult:
    pages: int
    report: WriteReport
    warnings: tuple[str, ...] = field(default=())


def select_stories(site: Site, options: BuildOptions, now: datetime) -> tuple[list[Story], dict[str, tuple[str, ...]], list[Story]]:
    """(built stories, their preview status marks, stories left out) for the given options."""
    built, status, left_out = [], {}, []
    for story in site.stories:
        marks = []
        if story.draft:
            marks.append("draft")
        if story.date is not None and story.date > now:
            marks.append("future")
        if ("draft" in marks and not options.drafts) or ("future" in marks and not options.future):
            left_out.append(story)
            continue
        built.append(story)
        if marks:
            status[story.slug] = tuple(marks)
    return built, status, left_out


def build_site(root: Path, *, options: BuildOptions = BuildOptions(), now: datetime) -> BuildResult:
    """Build the site at `root` into its output folder; raise DigestError on any problem."""
    config = load_config(root)
    if options.base_url is not None:
        config = with_base_url(config, options.base_url)
    site = load_site(config)
    stories, status, left_out = select_stories(site, options, now)
    warnings: list[str] = []

    built = {s.slug for s in stories}
    dropped = {s.slug for s in left_out}
    for story in stories:
        for pin in story.related:
            if pin in dropped:
                warnings.append(f"{story.path}: related story '{pin}' is not built (draft or future); left out")
    story_topics = topics_mod.assign_topics(stories, site.topics)
    if config.related_enabled and config.related_count > 0:
        from digest import related as related_mod

        relations = related_mod.compute_related(stories, story_topics, count=config.related_count)
        links = {slug: [(l.slug, l.reasons) for l in items if l.slug in built] for slug, items in relations.links.items()}
        groups = dict(relations.groups)
    else:
        links, groups = {}, {}

    views = build_views(config, stories, site.topics, site.pages, story_topics, links, groups, status)
    undated = [s for s in stories if s.date is None]
    if undated:
        warnings.append(f"{len(undated)} undated stor{'y' if len(undated) == 1 else 'ies'} "
                        f"(shown without a date, after dated ones): " + ", ".join(s.path for s in undated))

    template_dirs = [d for d in (root / config.templates_dir, theme_dir()) if d.is_dir()]
    files = render_pages(config, views, list(page_specs(config, views)), template_dirs)
    files.update(static_files(root / config.static_dir, [d / "assets" for d in reversed(template_dirs)]))
    out_dir = options.out_dir or (root / config.output_dir)
    report = write_site(out_dir, files)
    return BuildResult(pages=len(files), report=report, warnings=tuple(warnings))


def static_files(static_dir: Path, asset_dirs: list[Path]) -> dict[str, bytes]:
    """Theme assets under `assets/` (the site's own templates/assets win), then `static/` as is."""
    files: dict[str, bytes] = {}
    for folder in asset_dirs:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    files["assets/" + path.relative_to(folder).as_posix()] = path.read_bytes()
    if static_dir.is_dir():
        for path in sorted(static_dir.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                files[path.relative_to(static_dir).as_posix()] = path.read_bytes()
    return files
