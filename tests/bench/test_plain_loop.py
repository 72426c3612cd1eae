"""bench/plain_loop.py, the floor the benchmark measures digest against: it builds what it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from markupsafe import escape

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import plain_loop  # noqa: E402

SEED = 5
STORIES = 45


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "plain"
    generate.generate_plain(site, STORIES, SEED)
    return site


def test_builds_every_story_listing_and_the_feed(tmp_path: Path) -> None:
    site = _site(tmp_path)
    done = subprocess.run([sys.executable, str(BENCH / "plain_loop.py"), "--processes", "2", str(site)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = site / "output"
    stories = [generate.make_story(SEED, i) for i in range(STORIES)]
    for story in stories:
        page = (out / "stories" / story.slug / "index.html").read_text(encoding="utf-8")
        assert f"<h1>{escape(story.title)}</h1>" in page
        assert "<p>" in page and "</article>" in page  # the Markdown body, rendered
    # the index: 45 stories at 20 a page, newest first, linked both ways
    assert (out / "index.html").is_file() and (out / "page/2/index.html").is_file()
    last = (out / "page/3/index.html").read_text(encoding="utf-8")
    assert last.count("<article>") == STORIES - 40 and 'href="/page/2/">Newer' in last and "Older" not in last
    # every tag has its pages, and together they list each of its stories once
    tags: dict[str, int] = {}
    for story in stories:
        for name in story.tags:
            tags[plain_loop.tag_slug(name)] = tags.get(plain_loop.tag_slug(name), 0) + 1
    for slug, count in tags.items():
        pages = sorted((out / "tags" / slug).rglob("index.html"))
        assert len(pages) == -(-count // plain_loop.PER_PAGE)
        assert sum(p.read_text(encoding="utf-8").count("<li>") for p in pages) == count
    feed = (out / "index.xml").read_text(encoding="utf-8")
    assert feed.count("<item>") == plain_loop.PER_PAGE
    written = sum(1 for _ in out.rglob("*.html")) + 1
    assert f"{written} files" in done.stderr


def test_one_process_and_two_give_the_same_pages(tmp_path: Path) -> None:
    site = _site(tmp_path)
    plain_loop.build(site, 1, "pyrs")
    one = {p.relative_to(site): p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()}
    plain_loop.build(site, 2, "py")  # markdown-it-py gives the same HTML as its Rust port here
    two = {p.relative_to(site): p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()}
    assert one == two and len(one) > STORIES


def test_the_markdown_is_rendered_and_the_front_matter_split() -> None:
    render = plain_loop.markdown_renderer("pyrs")
    assert render("| a | b |\n|---|---|\n| 1 | 2 |\n").count("<td>") == 2
    assert re.search(r"<em>x</em>", render("*x*"))
    front, body = plain_loop.split_front_matter('---\ntitle: "a"\n---\nBody *b*\n')
    assert front == 'title: "a"' and body == "Body *b*\n"
