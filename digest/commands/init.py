"""`digest init [DIR]`: make a new site with an example story."""

from __future__ import annotations

import argparse
from pathlib import Path

from digest.config import CONFIG_NAME
from digest.errors import UsageError

CONFIG_TEMPLATE = '''# digest site configuration: every key is optional.
title = "{title}"
description = "A curated digest of news stories"
language = "en"
base_url = "/"
timezone = "UTC"
stories_per_page = 20
related_count = 5
'''

EXAMPLE_STORY = '''---
title: An example story
date: 2024-01-15
source: Example Outlet
source_url: https://example.org/news/an-example-story
author: Jane Reporter
summary: What a story file looks like; edit or delete it.
note: The editor's comment goes here, shown apart from the story.
topics: [example]
tags: [example]
---

This is the body of the story, in Markdown. Ingest articles with `digest ingest`, or write
stories by hand with `digest new "Title"`.
'''

EXAMPLE_TOPIC = '''---
title: Example topic
description: Stories about the example.
match:
  phrases: {{"example": 1}}
  min_score: 1
---

The editor's introduction to this topic.
'''.replace("{{", "{").replace("}}", "}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("init", help="create a new site",
                                   description="Create a new site: digest.toml, content/stories/, content/topics/ and an example story.")
    parser.add_argument("dir", nargs="?", type=Path, default=Path("."), help="where to create the site (default: .)")
    parser.add_argument("--title", default="My Digest", help="the site's title")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root: Path = args.dir
    if (root / CONFIG_NAME).exists():
        raise UsageError(f"{root / CONFIG_NAME} already exists; not overwriting it")
    (root / "content" / "stories").mkdir(parents=True, exist_ok=True)
    (root / "content" / "topics").mkdir(parents=True, exist_ok=True)
    (root / "content" / "pages").mkdir(parents=True, exist_ok=True)
    title = args.title.replace("\\", "\\\\").replace('"', '\\"')
    (root / CONFIG_NAME).write_text(CONFIG_TEMPLATE.format(title=title), encoding="utf-8")
    _write_new(root / "content" / "stories" / "an-example-story.md", EXAMPLE_STORY)
    _write_new(root / "content" / "topics" / "example.md", EXAMPLE_TOPIC)
    gitignore = root / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("output/\n.digest/\n", encoding="utf-8")
    print(f"created a new site in {root}; build it with: cd {root} && digest build")
    return 0


def _write_new(path: Path, text: str) -> None:
    if not path.exists():
        path.write_text(text, encoding="utf-8")
