"""The plain loop: the least a Python program on digest's stack does for the peers' minimal workload.

The performance issue measures such a loop as a yardstick: for each story, read the file, load its
front matter with PyYAML's C loader, render its Markdown, fill a Jinja2 template and write the
page. This one also writes what Hugo builds for the minimal workload besides the story pages, but
the topic pages: the index and every tag's listing, 20 stories a page, and one feed of the 20
latest stories (`bench/peers/plain/templates`, modelled on the Hugo site's layouts). It has no
cache, no topics, no related stories, no metadata, no checks of its input and no error handling:
it is a floor to compare builds with, not a site generator. The run harness builds it beside the
tools (`python3 bench/run.py --tools digest,hugo,plain`).

Usage: python3 bench/plain_loop.py [--processes N] [--markdown pyrs|py] [SITE]

SITE (default: the current folder) holds `content/stories/**/*.md` in digest's format and,
optionally, `templates/` (else the plain templates beside this file); pages go to SITE/output.
Story pages are rendered by N processes (forked; default: the CPUs this process may use), each
taking every N-th file; the listings are then split between them the same way.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import date, datetime
from multiprocessing import get_context
from pathlib import Path

import jinja2
import yaml
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "peers" / "plain" / "templates"
PER_PAGE = 20
SITE_TITLE = "Bench Digest"
BASE_URL = "https://bench.example/"

_state: dict = {}  # per process: the site, the Jinja environment, the Markdown renderer


def markdown_renderer(backend: str):
    """A function from Markdown to HTML: CommonMark with tables (what the issue's loop used)."""
    if backend == "pyrs":
        from markdown_it_pyrs import MarkdownIt as RustMarkdownIt

        return RustMarkdownIt("commonmark").enable("table").render
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render


def tag_slug(name: str) -> str:
    """A tag's URL segment: lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def split_front_matter(text: str) -> tuple[str, str]:
    """(YAML front matter, Markdown body) of a story file that starts with `---`."""
    end = text.index("\n---", 3)
    return text[4:end], text[end + 5:]


def day_of(value: object) -> date | None:
    """The front matter's date as a day (a time of day is dropped)."""
    return value.date() if isinstance(value, datetime) else value if isinstance(value, date) else None


def render_story(path: str) -> tuple:
    """Write one story's page; returns what the listings show of it."""
    site, env, render = _state["site"], _state["env"], _state["markdown"]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    front, body = split_front_matter(text)
    meta = yaml.load(front, Loader=yaml.CSafeLoader)
    slug = os.path.basename(path)[:-3]
    meta["date"] = day_of(meta.get("date"))
    tags = [(name, tag_slug(name)) for name in meta.get("tags") or ()]
    page = env.get_template("story.html").render(story=meta, body=Markup(render(body)),
                                                 tags=tags, site_title=SITE_TITLE, base_url=BASE_URL)
    _write(site / "output" / "stories" / slug / "index.html", page)
    return slug, meta.get("title", ""), meta["date"], meta.get("source", ""), meta.get("summary", ""), tuple(tags)


def render_stories(paths: list[str]) -> list[tuple]:
    """`render_story` for each of `paths`."""
    return [render_story(path) for path in paths]


def render_listings(jobs: list[tuple]) -> int:
    """Write listing pages: (output file, template, context) each; returns how many."""
    site, env = _state["site"], _state["env"]
    for name, template, context in jobs:
        _write(site / "output" / name, env.get_template(template).render(site_title=SITE_TITLE, base_url=BASE_URL,
                                                                        **context))
    return len(jobs)


def _write(path: Path, text: str) -> None:
    os.makedirs(path.parent, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def listing_jobs(entries: list[tuple]) -> list[tuple]:
    """Every listing page (index and tags, paginated) and the feed, newest story first."""
    keyed = [dict(zip(("slug", "title", "date", "source", "summary", "tags"), entry)) for entry in entries]
    keyed.sort(key=lambda e: (e["date"] is not None, e["date"] or date.min, e["slug"]), reverse=True)
    jobs = [("index.xml", "feed.xml", {"entries": keyed[:PER_PAGE]})]
    jobs += _paginated("", "index.html", {}, keyed)
    by_tag: dict[str, tuple[str, list]] = {}
    for entry in keyed:
        for name, slug in entry["tags"]:
            by_tag.setdefault(slug, (name, []))[1].append(entry)
    for slug, (name, tagged) in sorted(by_tag.items()):
        jobs += _paginated(f"tags/{slug}/", "list.html", {"title": name}, tagged)
    return jobs


def _paginated(base: str, template: str, context: dict, entries: list) -> list[tuple]:
    pages = max(1, -(-len(entries) // PER_PAGE))
    jobs = []
    for number in range(1, pages + 1):
        url = "/" + base + ("" if number == 1 else f"page/{number}/")
        newer = None if number == 1 else "/" + base + ("" if number == 2 else f"page/{number - 1}/")
        older = "/" + base + f"page/{number + 1}/" if number < pages else None
        jobs.append((url[1:] + "index.html", template, {**context, "newer": newer, "older": older,
                                                        "entries": entries[(number - 1) * PER_PAGE:number * PER_PAGE]}))
    return jobs


def build(site: Path, processes: int, backend: str) -> int:
    """Build `site` into SITE/output; returns the number of pages written."""
    templates = site / "templates" if (site / "templates").is_dir() else TEMPLATES
    _state.update(site=site, markdown=markdown_renderer(backend),
                  env=jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=True))
    paths = sorted(str(p) for p in (site / "content" / "stories").rglob("*.md"))
    if processes <= 1:
        entries = render_stories(paths)
        jobs = listing_jobs(entries)
        return len(entries) + render_listings(jobs)
    with get_context("fork").Pool(processes) as pool:
        entries = [e for part in pool.map(render_stories, [paths[i::processes] for i in range(processes)]) for e in part]
        jobs = listing_jobs(entries)
        return len(entries) + sum(pool.map(render_listings, [jobs[i::processes] for i in range(processes)]))


def main(argv: list[str] | None = None) -> int:
    """Command line of the plain loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", type=Path, default=Path("."))
    parser.add_argument("--processes", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--markdown", choices=("pyrs", "py"), default="pyrs",
                        help="markdown-it-pyrs (digest's fast backend; the default) or markdown-it-py")
    args = parser.parse_args(argv)
    written = build(args.site.resolve(), args.processes, args.markdown)
    print(f"{written} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
