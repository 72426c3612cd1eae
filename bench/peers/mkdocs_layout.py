"""Lay out the generated benchmark corpus as an MkDocs site (bench/peers/mkdocs/ is its frame).

MkDocs has no taxonomies, so the list pages (one per tag, one per topic, an index of the 20
latest stories) are written here as Markdown from the same generated stories the Hugo and
Pelican sites get; MkDocs renders them, but an edited story does not change them. Each story
page carries its topics and tags in its front matter and the theme links them, as the Hugo
peer's story template does.

    from mkdocs_layout import write_mkdocs_site
    write_mkdocs_site(Path("/tmp/n1000/mkdocs"), stories=1000, seed=1)
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(PEERS_DIR.parent))

import generate  # noqa: E402  (bench/generate.py)

STORY_PATH = "docs/stories/{slug}.md"
TEMPLATE = "theme/main.html"
INDEX_SIZE = 20


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def tag_slug(tag: str) -> str:
    """The URL slug of a tag page (as Hugo makes it: lower case, hyphens)."""
    return generate.ascii_slug(tag, max_words=20)


def mkdocs_story_text(s: generate.GenStory) -> str:
    """The story as an MkDocs Markdown page with YAML front matter (read by theme/main.html)."""
    titles = {spec.slug: spec.title for spec in generate.TOPICS}
    lines = ["---", f"title: {_q(s.title)}"]
    if s.date_text:
        lines.append(f"date: {_q(s.date_text)}")
    lines += [f"source: {_q(s.source)}", f"source_url: {s.source_url}", f"author: {_q(s.author)}",
              f"summary: {_q(s.summary)}",
              "topic_links: [" + ", ".join(f"[{_q(t)}, {_q(titles[t])}]" for t in s.topics) + "]",
              "tag_links: [" + ", ".join(f"[{_q(tag_slug(t))}, {_q(t)}]" for t in s.tags) + "]", "---", ""]
    return "\n".join(lines) + s.body


def _sort_key(s: generate.GenStory) -> tuple[float, int]:
    when = s.date.timestamp() if s.date else datetime(1970, 1, 1, tzinfo=timezone.utc).timestamp()
    return (-when, s.index)


def _list(stories: list[generate.GenStory], up: str) -> str:
    lines = []
    for s in sorted(stories, key=_sort_key):
        when = f" ({s.date.date().isoformat()})" if s.date else ""
        lines.append(f"- [{s.title}]({up}stories/{s.slug}.md){when}")
    return "\n".join(lines) + "\n"


def write_mkdocs_frame(root: Path) -> None:
    """The frame: bench/peers/mkdocs (mkdocs.yml, theme/) with the topics added to `extra`."""
    shutil.copytree(PEERS_DIR / "mkdocs", root, dirs_exist_ok=True)
    topics = [{"slug": spec.slug, "title": spec.title} for spec in generate.TOPICS]
    with open(root / "mkdocs.yml", "a", encoding="utf-8") as conf:
        conf.write("extra:\n  topics: " + json.dumps(topics, ensure_ascii=False) + "\n")


def write_mkdocs_site(root: Path, stories: int, seed: int) -> None:
    """Write the corpus of (`stories`, `seed`) as an MkDocs site at `root`, with its .bench.json."""
    write_mkdocs_frame(root)
    by_tag: dict[str, list[generate.GenStory]] = {}
    by_topic: dict[str, list[generate.GenStory]] = {spec.slug: [] for spec in generate.TOPICS}
    latest: list[generate.GenStory] = []
    for i in range(stories):
        s = generate.make_story(seed, i)
        generate._write(root / STORY_PATH.format(slug=s.slug), mkdocs_story_text(s))
        light = generate.GenStory(s.index, s.slug, s.title, s.date, s.date_has_time, s.source, s.source_url,
                                  s.author, s.summary, s.tags, s.topics, body="")
        for tag in s.tags:
            by_tag.setdefault(tag, []).append(light)
        for topic in s.topics:
            by_topic[topic].append(light)
        latest = sorted([*latest, light], key=_sort_key)[:INDEX_SIZE]
    for tag, members in by_tag.items():
        generate._write(root / f"docs/tags/{tag_slug(tag)}.md", f"# {tag}\n\n" + _list(members, "../"))
    for spec in generate.TOPICS:
        generate._write(root / f"docs/topics/{spec.slug}.md",
                        f"# {spec.title}\n\n{generate.topic_intro(spec)}\n" + _list(by_topic[spec.slug], "../"))
    generate._write(root / "docs/index.md", "# Bench Digest\n\nThe latest stories.\n\n" + _list(latest, ""))
    edited = generate.make_story(seed, stories // 2)
    manifest = {"tool": "mkdocs", "seed": seed, "stories": stories,
                "edit_story": STORY_PATH.format(slug=edited.slug), "edit_template": TEMPLATE}
    generate._write(root / generate.MANIFEST, json.dumps(manifest, indent=2) + "\n")
