"""Story, topic and page parsing, and the site loader's cross-checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import parse_config
from digest.content import load_site, parse_page, parse_story, parse_topic
from digest.errors import ContentError
from tests.conftest import write

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "content"
BAD = sorted(FIXTURES.glob("bad_*.md"))


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_story_gives_exact_path_line_message(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").strip()
    with pytest.raises(ContentError) as info:
        parse_story(path.read_text(encoding="utf-8"), path.name)
    assert str(info.value) == expected


def test_full_story_front_matter() -> None:
    text = """---
title: "Japan push"
date: 2013-12-17T09:30:00+07:00
updated: 2013-12-18
source: Phnom Penh Post
source_url: https://example.org/a
author: [Jane Doe, John Roe]
image: {src: /img/a.jpg, alt: Leaders, caption: Two leaders, credit: Vireak Mai}
summary: Short.
note: Worth reading.
topics: [japan-aid]
tags: [Japan, Japan, ASEAN]
related: [other]
unrelated: [third]
draft: false
slug: custom-slug
lang: en
excerpt: true
license: public domain
kind: readout
---
Body **here**.
"""
    story = parse_story(text, "content/stories/x.md")
    assert story.slug == "custom-slug"
    assert story.title == "Japan push"
    assert story.date is not None and story.date.isoformat() == "2013-12-17T09:30:00+07:00"
    assert story.date_has_time is True
    assert story.updated is not None and story.updated.date().isoformat() == "2013-12-18"
    assert story.authors == ("Jane Doe", "John Roe")
    assert story.image is not None and story.image.credit == "Vireak Mai"
    assert story.tags == ("Japan", "ASEAN")  # duplicates dropped, order kept
    assert story.topics == ("japan-aid",)
    assert story.related == ("other",) and story.unrelated == ("third",)
    assert story.excerpt is True and story.license == "public domain"
    assert dict(story.extra) == {"kind": "readout"}
    assert story.body == "Body **here**.\n"
    assert story.body_line == 22


def test_undated_story_and_topics_absent_vs_empty() -> None:
    absent = parse_story("---\ntitle: A\n---\nx\n", "a.md")
    empty = parse_story("---\ntitle: A\ntopics: []\n---\nx\n", "a.md")
    assert absent.date is None and absent.topics is None
    assert empty.topics == ()


def test_naive_datetime_takes_site_timezone() -> None:
    from zoneinfo import ZoneInfo

    story = parse_story("---\ntitle: A\ndate: 2024-01-02 08:00:00\n---\n", "a.md", ZoneInfo("Asia/Phnom_Penh"))
    assert story.date is not None and story.date.utcoffset().total_seconds() == 7 * 3600


def test_quoted_iso_string_date_is_accepted() -> None:
    story = parse_story("---\ntitle: A\ndate: '2021-01-27'\n---\n", "a.md")
    assert story.date is not None and story.date.date().isoformat() == "2021-01-27"
    assert story.date_has_time is False


def test_slug_from_unsafe_file_name() -> None:
    assert parse_story("---\ntitle: A\n---\n", "stories/Some File.md").slug == "some-file"


def test_topic_and_page() -> None:
    topic = parse_topic("---\ntitle: Japan aid\ndescription: Loans.\n---\nIntro.\n", "content/topics/japan-aid.md")
    assert (topic.slug, topic.title, topic.description, topic.body) == ("japan-aid", "Japan aid", "Loans.", "Intro.\n")
    page = parse_page("---\ntitle: About\n---\nHi\n", "content/pages/about.md")
    assert page.slug == "about"


def _site(root: Path):
    return load_site(parse_config("", "digest.toml", root=root))


def test_site_reports_all_problems_of_all_files(tmp_path: Path) -> None:
    write(tmp_path, "content/stories/a.md", "---\ntitle: A\nrelated: [nobody]\ntopics: [nothing]\n---\n")
    write(tmp_path, "content/stories/sub/a.md", "---\ntitle: Same slug\n---\n")
    write(tmp_path, "content/stories/b.md", "---\ntags: 5\n---\n")
    (tmp_path / "content/stories/latin1.md").write_bytes("---\ntitle: caf\xe9\n---\n".encode("latin-1"))
    with pytest.raises(ContentError) as info:
        _site(tmp_path)
    messages = [str(p) for p in info.value.problems]
    assert "content/stories/b.md:1: missing required field 'title'" in messages
    assert "content/stories/b.md:2: 'tags' must be a list of strings, not a number" in messages
    assert "content/stories/latin1.md:2: not valid UTF-8 (byte 0xe9 at offset 14)" in messages
    assert ("content/stories/sub/a.md:1: two story files have the slug 'a' (the other is content/stories/a.md)"
            in messages)
    assert "content/stories/a.md:3: 'related' names the story 'nobody', which does not exist" in messages
    assert "content/stories/a.md:4: 'topics' names the topic 'nothing', which does not exist" in messages


def test_incoming_and_hidden_files_are_not_content(tmp_path: Path) -> None:
    write(tmp_path, "content/stories/a.md", "---\ntitle: A\n---\n")
    write(tmp_path, "content/stories/a.incoming.md", "---\ntitle: A (incoming)\n---\n")
    write(tmp_path, "content/stories/.a.md", "not front matter")
    site = _site(tmp_path)
    assert [s.slug for s in site.stories] == ["a"]


def test_listing_from_the_manifests_scan_equals_a_fresh_listing(tmp_path: Path) -> None:
    """A build lists content once (the input manifest's scan) and derives each folder's listing from it."""
    from digest.cache import scan
    from digest.content import content_listing, listing_from_scan

    content = tmp_path / "content"
    names = ["stories/2024/b.md", "stories/2024/a.md", "stories/a-b.md", "stories/a/z.md", "stories/.hidden.md",
             "stories/.git/x.md", "stories/x.md~", "stories/.#x.md", "stories/n.incoming.md", "stories/notes.txt",
             "stories/2023/deep/er/c.md", "topics/t.md", "pages/about.md", "storiesx/y.md", "stories/4913"]
    for name in names:
        (content / name).parent.mkdir(parents=True, exist_ok=True)
        (content / name).write_text(name, encoding="utf-8")
    scanned = scan(content, ".md")
    for folder in ("stories", "topics", "pages", "missing"):
        assert listing_from_scan(scanned, content / folder, tmp_path, content) == content_listing(content / folder, tmp_path)
    assert [shown for _, shown, _ in listing_from_scan(scanned, content / "stories", tmp_path, content)] == [
        "content/stories/2023/deep/er/c.md", "content/stories/2024/a.md", "content/stories/2024/b.md",
        "content/stories/a/z.md", "content/stories/a-b.md"]


def test_topics_found_while_parsing_equal_assign_topics_and_problems_keep_their_order(tmp_path: Path, monkeypatch) -> None:
    """`load_site_cached(topics_for=...)` reads topic files first and computes each story's topics
    in the process that parsed it (forked here); the records and problems come in the order of
    the folders as before (stories, topics, pages)."""
    from digest import forkmap
    from digest.content import load_site_cached
    from digest.topics import assign_topics, topic_assigner

    monkeypatch.setattr(forkmap, "MIN_ITEMS", 1)
    monkeypatch.setattr(forkmap, "workers", lambda: 2)
    write(tmp_path, "content/topics/japan.md", "---\ntitle: Japan\nmatch:\n  phrases: {Japan: 2}\n  min_score: 2\n---\n")
    write(tmp_path, "content/topics/trade.md", "---\ntitle: Trade\nmatch: {phrases: [tariff, exports]}\n---\n")
    for i in range(12):
        body = ["Japan aid.", "Tariff and exports rise.", "Nothing here.", "Japan exports tariff."][i % 4]
        extra = "topics: [trade]\n" if i == 5 else ""
        write(tmp_path, f"content/stories/s{i:02d}.md", f"---\ntitle: Story {i}\n{extra}---\n{body}\n")
    write(tmp_path, "content/pages/about.md", "---\ntitle: About\n---\nHi.\n")
    config = parse_config("", "digest.toml", root=tmp_path)
    site, records, found = load_site_cached(config, {}, 0, topics_for=topic_assigner)
    expected = assign_topics(site.stories, site.topics)
    assert {s.slug: found[records[s.path].stamp] for s in site.stories} == expected
    assert expected["s00"] == ("japan",) and expected["s05"] == ("trade",) and expected["s03"] == ("japan", "trade")
    assert [path.split("/")[1] for path in records] == ["stories"] * 12 + ["topics"] * 2 + ["pages"]
    assert load_site_cached(config, {}, 0)[2] == {}

    write(tmp_path, "content/topics/bad.md", "---\ndescription: no title\n---\n")
    write(tmp_path, "content/stories/zz.md", "---\ntags: 5\ntitle: Z\n---\n")
    with pytest.raises(ContentError) as info:
        load_site_cached(config, {}, 0, topics_for=topic_assigner)
    assert [p.path for p in info.value.problems] == ["content/stories/zz.md", "content/topics/bad.md"]
