"""`digest ingest SOURCE...`: articles (HTML, URLs, text, Markdown) become story files."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from digest import clock
from digest.config import load_config
from digest.errors import DigestError, UsageError
from digest.ingest.sources import expand_sources, load_source
from digest.ingest.storyfile import StoryFile, StoryOptions, render_story
from digest.ingest.write import Decision, apply, plan, scan_stories

STATUSES = ("written", "unchanged", "duplicate", "conflict", "failed")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest", help="turn articles (HTML, URLs, text, Markdown) into story files",
        description="Extract articles from saved pages (.html, .htm, .gz), folders of them, http(s) URLs, "
                    "plain-text scrapes (.txt) and Markdown files with front matter (.md), and write them "
                    "to content/stories/. Hand-edited files are never overwritten.")
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="file, folder or http(s) URL")
    parser.add_argument("--topic", action="append", default=[], metavar="SLUG", help="add a topic (repeatable)")
    parser.add_argument("--tag", action="append", default=[], metavar="TAG", help="add a tag (repeatable)")
    parser.add_argument("--date", help="the story's date (ISO 8601), when the source does not give it")
    parser.add_argument("--source", metavar="NAME", help="the outlet's name")
    parser.add_argument("--url", help="the original URL of a saved page or text (one SOURCE only)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    parser.add_argument("--force", action="store_true",
                        help="on a hand-edited file, write the new version beside it as <name>.incoming.md")
    parser.add_argument("--site", type=Path, default=Path("."), help="the site folder (default: .)")
    parser.set_defaults(func=run)


def check_date(value: str | None) -> str | None:
    """The --date value, checked to be ISO 8601 (UsageError otherwise)."""
    if value is None:
        return None
    if not _DATE_RE.match(value.strip()):
        raise UsageError(f"--date must be an ISO 8601 date or date-time (e.g. 2013-12-17), not {value!r}")
    return value.strip()


class _Progress:
    """A one-line progress bar on stderr, shown only on a terminal and for batches."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.enabled = total > 1 and sys.stderr.isatty()

    def step(self, done: int, label: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * done // self.total
        name = os.path.basename(label.rstrip("/"))[:40]
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {name:<40}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()


def _extract_all(items: list[str], options: StoryOptions, url: str | None) -> tuple[list, list[Decision]]:
    stories: list[tuple[str, StoryFile]] = []
    failed: list[Decision] = []
    progress = _Progress(len(items))
    for n, item in enumerate(items, 1):
        progress.step(n - 1, item)
        try:
            loaded = load_source(item, url)
            item_options = options if not loaded.license else StoryOptions(
                now=options.now, topics=options.topics, tags=options.tags, date=options.date,
                source=options.source, url=options.url, license=loaded.license)
            stories.append((item, render_story(loaded.extracted, item_options, item)))
        except DigestError as exc:
            failed.append(Decision(item, "failed", reason="; ".join(p.message for p in exc.problems)))
        except Exception as exc:  # one bad source never stops the batch; reported, not swallowed
            failed.append(Decision(item, "failed", reason=f"internal error: {type(exc).__name__}: {exc}"))
    progress.step(len(items), "")
    progress.close()
    return stories, failed


def run(args: argparse.Namespace) -> int:
    """Ingest every SOURCE; print one line per source and a summary; 1 if any failed or conflicted."""
    date = check_date(args.date)
    config = load_config(args.site)
    items = expand_sources(args.sources)
    if not items:
        raise UsageError("no sources to ingest (folders hold no .html, .htm, .gz, .txt or .md files)")
    if args.url and len(items) > 1:
        raise UsageError("--url names the origin of one source; give exactly one SOURCE with it")
    options = StoryOptions(now=clock.now(), topics=tuple(args.topic), tags=tuple(args.tag), date=date,
                           source=args.source, url=args.url)
    stories, failed = _extract_all(items, options, args.url)
    stories_dir = config.root / config.content_dir / "stories"
    decisions = apply(plan(stories, scan_stories(stories_dir), force=args.force), stories_dir, dry_run=args.dry_run)
    order = {item: n for n, item in enumerate(items)}
    outcomes = sorted(decisions + failed, key=lambda d: order.get(d.origin, len(order)))
    shown_dir = (Path(config.content_dir) / "stories").as_posix()
    for d in outcomes:
        where = f"{shown_dir}/{d.rel}" if d.rel else ""
        if d.status == "failed":
            print(f"{d.origin}: {d.reason}", file=sys.stderr)
            continue
        verb = d.status
        if args.dry_run and d.text is not None:
            verb = f"would write ({d.status})"
        detail = f" ({d.reason})" if d.reason and d.status not in ("written",) else ""
        if d.status == "written" and d.reason == "updated":
            detail = " (updated)"
        print(f"{verb}: {where} <- {d.origin}{detail}" if where else f"{verb}: {d.origin}{detail}")
    counts = {status: sum(1 for d in outcomes if d.status == status) for status in STATUSES}
    prefix = "dry run: " if args.dry_run else ""
    print(prefix + ", ".join(f"{counts[s]} {s}" for s in STATUSES))
    return 1 if counts["failed"] or counts["conflict"] else 0
