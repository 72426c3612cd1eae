"""`digest new "Title"`: a story file with a complete front-matter skeleton."""

from __future__ import annotations

import argparse
from pathlib import Path

from slugify import slugify

from digest import clock
from digest.config import load_config
from digest.errors import UsageError

SKELETON = '''---
title: {title}
date: {date}
# updated: 2024-01-31
source: ""          # the outlet's name
source_url: ""      # link to the original article
author: []          # one name or a list
image:
  src: ""
  alt: ""
  caption: ""
  credit: ""
summary: ""
note: ""            # the editor's comment, shown apart from the story
# topics: []        # leave out to let topic rules decide; [] means none, on purpose
tags: []
related: []         # slugs of stories to pin as related
draft: true
---

Write the story here, in Markdown.
'''


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("new", help="create a story file from a skeleton",
                                   description="Create content/stories/<slug>.md with a complete front-matter skeleton.")
    parser.add_argument("title", help="the story's title")
    parser.add_argument("--site", type=Path, default=Path("."), help="the site folder (default: .)")
    parser.add_argument("--slug", help="the file name (default: a slug of the title)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.site)
    slug = args.slug or slugify(args.title, max_length=80, word_boundary=True)
    if not slug:
        raise UsageError(f"cannot make a file name from the title {args.title!r}; give --slug")
    path = args.site / config.content_dir / "stories" / f"{slug}.md"
    if path.exists():
        raise UsageError(f"{path} already exists; not overwriting it")
    path.parent.mkdir(parents=True, exist_ok=True)
    title = '"' + args.title.replace("\\", "\\\\").replace('"', '\\"') + '"'
    today = clock.now().date().isoformat()
    with path.open("x", encoding="utf-8") as handle:
        handle.write(SKELETON.format(title=title, date=today))
    print(path)
    return 0
