"""`digest extract FILE_OR_URL`: print the story ingest would write; write nothing.

This is the interface the extraction benchmark drives (`cmd:digest extract {path}`); the page's
original URL comes from `--url` or, when unset, from `$EXTRACT_URL`.
"""

from __future__ import annotations

import argparse
import os
import sys

from digest import clock
from digest.ingest.sources import load_source
from digest.ingest.storyfile import StoryOptions, render_story


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract", help="print the story extracted from a page, text or URL",
        description="Print the story file (front matter + Markdown) that `digest ingest` would write "
                    "for FILE_OR_URL, and write nothing.")
    parser.add_argument("source", metavar="FILE_OR_URL", help="a saved page, text scrape, Markdown file or URL")
    parser.add_argument("--url", help="the page's original URL (default: $EXTRACT_URL)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Extract one source and print its story file text to stdout."""
    url = args.url or os.environ.get("EXTRACT_URL") or None
    loaded = load_source(args.source, url)
    options = StoryOptions(now=clock.now(), license=loaded.license)
    story = render_story(loaded.extracted, options, args.source)
    sys.stdout.write(story.text)
    return 0
