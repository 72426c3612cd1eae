"""Incremental builds equal clean builds, byte for byte, over random sequences of edits."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.build import BuildOptions, build_site
from tests.conftest import tree_bytes

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
WORDS = ["Japan", "China", "ASEAN", "loans", "Cambodia", "sea", "summit", "aid", "trade", "Hun Sen"]
TOPICS = {
    "japan-aid": '---\ntitle: Japan aid\nmatch:\n  phrases: {"Japan": 2, "aid": 2}\n  min_score: 2\n---\nIntro.\n',
    "china-asean": '---\ntitle: China–ASEAN\nmatch:\n  phrases: {"China": 2, "ASEAN": 2}\n  min_score: 2\n---\nIntro.\n',
}


def _story(title: str, words: list[str], day: int | None, tags: list[str], topics: list[str] | None,
           draft: bool = False) -> str:
    lines = ["---", f"title: {title}", "source: Outlet " + str(len(title) % 3)]
    if draft:
        lines.append("draft: true")
    if day is not None:
        lines.append(f"date: 2024-01-{day:02d}")
    lines.append(f"tags: [{', '.join(tags)}]")
    if topics is not None:
        lines.append(f"topics: [{', '.join(topics)}]")
    lines += ["---", "", " ".join(words) + ".", "", "Second paragraph about " + " and ".join(words[:3]) + ".", ""]
    return "\n".join(lines)


story_text = st.builds(
    _story,
    title=st.sampled_from(["Loans", "Summit talk", "Sea row", "Aid deal", "Trade news"]),
    words=st.lists(st.sampled_from(WORDS), min_size=3, max_size=12),
    day=st.one_of(st.none(), st.integers(1, 28)),
    tags=st.lists(st.sampled_from(["Japan", "China", "ASEAN", "Trade"]), max_size=3, unique=True),
    topics=st.one_of(st.none(), st.just([]), st.just(["japan-aid"])),
    draft=st.sampled_from([False, False, False, True]),
)
step = st.one_of(
    st.tuples(st.just("write"), st.integers(0, 7), story_text),
    st.tuples(st.just("delete"), st.integers(0, 7), st.none()),
    st.tuples(st.just("rename"), st.integers(0, 7), st.integers(0, 7)),
    st.tuples(st.just("topic"), st.sampled_from(sorted(TOPICS)), st.sampled_from(["", "Edited intro. "])),
    st.tuples(st.just("template"), st.sampled_from(["<p>v1</p>", "<p>v2</p>", None]), st.none()),
)


@pytest.mark.parametrize("persist", [True, False], ids=["cache-on-disk", "cache-in-memory-like-serve"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=6))
def test_incremental_equals_clean(tmp_path_factory, persist, steps) -> None:
    """On disk as `digest build` keeps it; in memory with drafts shown, as `digest serve` builds."""
    root = tmp_path_factory.mktemp("site")
    shown = {} if persist else {"drafts": True, "future": True}
    (root / "digest.toml").write_text('title = "T"\nstories_per_page = 3\n', encoding="utf-8")
    stories = root / "content" / "stories"
    stories.mkdir(parents=True)
    (root / "content" / "topics").mkdir()
    for slug, text in TOPICS.items():
        (root / "content" / "topics" / f"{slug}.md").write_text(text, encoding="utf-8")
    (stories / "s0.md").write_text(_story("Start", ["Japan", "aid", "loans"], 3, ["Japan"], None), encoding="utf-8")
    incremental = root / "out-inc"
    build_site(root, options=BuildOptions(out_dir=incremental, persist=persist, **shown), now=NOW)
    for kind, a, b in steps:
        if kind == "write":
            (stories / f"s{a}.md").write_text(b, encoding="utf-8")
        elif kind == "delete":
            (stories / f"s{a}.md").unlink(missing_ok=True)
        elif kind == "rename" and (stories / f"s{a}.md").exists() and a != b:
            (stories / f"s{a}.md").replace(stories / f"s{b}.md")
        elif kind == "topic":
            (root / "content" / "topics" / f"{a}.md").write_text(TOPICS[a] + b, encoding="utf-8")
        elif kind == "template":
            template = root / "templates" / "partials" / "story_list.html"
            if a is None:
                shutil.rmtree(root / "templates", ignore_errors=True)
            else:
                template.parent.mkdir(parents=True, exist_ok=True)
                template.write_text(a + "{% for item, others in entries %}{{ item.title }}{% endfor %}\n", encoding="utf-8")
        build_site(root, options=BuildOptions(out_dir=incremental, persist=persist, **shown), now=NOW)
        clean = root / "out-clean"
        shutil.rmtree(clean, ignore_errors=True)
        build_site(root, options=BuildOptions(out_dir=clean, use_cache=False, **shown), now=NOW)
        assert tree_bytes(incremental) == tree_bytes(clean), f"after {kind} {a}"


def _one_old_story(root: Path) -> Path:
    """A site of one story, last modified a minute ago; the story's file."""
    import os
    import time

    (root / "digest.toml").write_text("", encoding="utf-8")
    (root / "content" / "stories").mkdir(parents=True)
    story = root / "content" / "stories" / "a.md"
    story.write_text("---\ntitle: A\ndate: 2024-01-01\n---\nBody.\n", encoding="utf-8")
    past = time.time() - 60
    os.utime(story, (past, past))
    return story


def test_no_change_rebuild_does_no_work(tmp_path: Path) -> None:
    story = _one_old_story(tmp_path)
    first = build_site(tmp_path, now=NOW)
    assert not first.skipped and first.rendered > 0
    second = build_site(tmp_path, now=NOW)
    assert second.skipped and second.report.written == 0
    story.write_text("---\ntitle: A edited\ndate: 2024-01-01\n---\nBody.\n", encoding="utf-8")
    third = build_site(tmp_path, now=NOW)
    assert not third.skipped and 0 < third.rendered < first.rendered
    assert "A edited" in (tmp_path / "output/stories/a/index.html").read_text(encoding="utf-8")


def test_a_story_saved_just_before_a_build_is_trusted_once_its_bytes_are_checked(tmp_path: Path) -> None:
    """A file modified within two seconds of a build's save may change again within the same
    tick of the file system's clock, keeping its size and modification time: the next build
    hashes it (not the whole site) and does nothing when it holds the bytes the build read."""
    import os

    story = _one_old_story(tmp_path)
    build_site(tmp_path, now=NOW)
    story.write_text("---\ntitle: B\ndate: 2024-01-01\n---\nBody.\n", encoding="utf-8")
    assert not build_site(tmp_path, now=NOW).skipped
    assert build_site(tmp_path, now=NOW).skipped  # recent, but its bytes are the ones built
    stat = story.stat()
    story.write_text("---\ntitle: C\ndate: 2024-01-01\n---\nBody.\n", encoding="utf-8")  # same size
    os.utime(story, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same modification time
    assert not build_site(tmp_path, now=NOW).skipped
    assert "<title>C" in (tmp_path / "output/stories/a/index.html").read_text(encoding="utf-8")


def test_future_story_appears_when_its_time_comes(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text("", encoding="utf-8")
    (tmp_path / "content" / "stories").mkdir(parents=True)
    (tmp_path / "content" / "stories" / "later.md").write_text("---\ntitle: Later\ndate: 2026-06-01\n---\n", encoding="utf-8")
    build_site(tmp_path, now=NOW)
    assert not (tmp_path / "output/stories/later").exists()
    build_site(tmp_path, now=datetime(2026, 7, 1, tzinfo=timezone.utc))
    assert (tmp_path / "output/stories/later/index.html").is_file()


def test_search_index_can_be_deferred_for_the_preview(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text("", encoding="utf-8")
    (tmp_path / "content" / "stories").mkdir(parents=True)
    (tmp_path / "content" / "stories" / "a.md").write_text("---\ntitle: A\ndate: 2024-01-01\n---\nWords.\n",
                                                          encoding="utf-8")
    result = build_site(tmp_path, options=BuildOptions(defer_search=True), now=NOW)
    assert (tmp_path / "output/stories/a/index.html").is_file()
    assert result.deferred is not None and not (tmp_path / "output/pagefind").exists()
    result.deferred()
    assert (tmp_path / "output/pagefind/pagefind-entry.json").is_file()


def _japan_aid_site(root: Path, count: int) -> Path:
    """A site with default config and `count` dated stories tagged Japan; returns its stories folder."""
    (root / "digest.toml").write_text("", encoding="utf-8")
    stories = root / "content" / "stories"
    stories.mkdir(parents=True)
    for i in range(count):
        (stories / f"s{i}.md").write_text(_story(f"Story {i}", ["Japan", "aid", WORDS[i]], i + 1, ["Japan"], None),
                                          encoding="utf-8")
    return stories


def test_in_memory_cache_equals_clean_build(tmp_path: Path) -> None:
    """`digest serve` keeps the cache in memory (persist=False): same bytes as a clean build."""
    stories = _japan_aid_site(tmp_path, 4)
    memory = BuildOptions(out_dir=tmp_path / "mem", persist=False)
    build_site(tmp_path, options=memory, now=NOW)
    assert not list((tmp_path / ".digest" / "cache").glob("*"))  # nothing persisted
    edits = [("s1.md", _story("Story one, edited", ["China", "ASEAN", "sea"], 2, ["China"], None)),
             ("s4.md", _story("A new story", ["Japan", "loans", "aid"], 9, [], ["japan-aid"][:0]))]
    for name, text in edits:
        (stories / name).write_text(text, encoding="utf-8")
        build_site(tmp_path, options=memory, now=NOW)
    (stories / "s2.md").unlink()
    build_site(tmp_path, options=memory, now=NOW)
    build_site(tmp_path, options=BuildOptions(out_dir=tmp_path / "clean", use_cache=False), now=NOW)
    assert tree_bytes(tmp_path / "mem") == tree_bytes(tmp_path / "clean")


def _serve_options(out: Path) -> BuildOptions:
    return BuildOptions(out_dir=out, persist=False, drafts=True, future=True)


def test_in_memory_rebuild_follows_a_topic_neighbours_title_and_a_future_mark_coming_due(tmp_path: Path) -> None:
    """Views a rebuild reuses (serve) still change when what they show does: a story page names its
    topic neighbours (here with related stories off, so nothing else links them), and a future
    story loses its mark when its time comes, without its file changing."""
    (tmp_path / "digest.toml").write_text("[related]\nenabled = false\n", encoding="utf-8")
    (tmp_path / "content" / "topics").mkdir(parents=True)
    (tmp_path / "content" / "topics" / "japan-aid.md").write_text(TOPICS["japan-aid"], encoding="utf-8")
    stories = tmp_path / "content" / "stories"
    stories.mkdir()
    for i, day in enumerate((1, 2, 3)):
        (stories / f"s{i}.md").write_text(_story(f"Story {i}", ["Japan", "aid"], day, [], ["japan-aid"]), encoding="utf-8")
    (stories / "later.md").write_text(_story("Later", ["Japan", "aid"], 20, [], []), encoding="utf-8")
    before, after = datetime(2024, 1, 10, tzinfo=timezone.utc), datetime(2024, 1, 25, tzinfo=timezone.utc)
    build_site(tmp_path, options=_serve_options(tmp_path / "mem"), now=before)
    (stories / "s0.md").write_text(_story("Story zero, retitled", ["Japan", "aid"], 1, [], ["japan-aid"]), encoding="utf-8")
    build_site(tmp_path, options=_serve_options(tmp_path / "mem"), now=before)
    assert "Story zero, retitled" in (tmp_path / "mem" / "stories" / "s1" / "index.html").read_text(encoding="utf-8")
    build_site(tmp_path, options=_serve_options(tmp_path / "clean"), now=before)
    assert tree_bytes(tmp_path / "mem") == tree_bytes(tmp_path / "clean")
    build_site(tmp_path, options=_serve_options(tmp_path / "mem"), now=after)  # "later" is no longer in the future
    shutil.rmtree(tmp_path / "clean")
    build_site(tmp_path, options=BuildOptions(out_dir=tmp_path / "clean", use_cache=False, drafts=True, future=True),
               now=after)
    assert tree_bytes(tmp_path / "mem") == tree_bytes(tmp_path / "clean")


def test_in_memory_rebuild_follows_a_related_storys_new_view_that_related_stories_do_not_see(tmp_path: Path) -> None:
    """A related story's date gains a time of day: the related-stories engine sees the same date
    (nothing to recompute there), but the page linking to it shows the new `<time>`."""
    (tmp_path / "digest.toml").write_text("", encoding="utf-8")
    stories = tmp_path / "content" / "stories"
    stories.mkdir(parents=True)
    text = ["Japan", "aid", "loans", "Cambodia", "summit", "trade", "sea"]
    (stories / "a.md").write_text(_story("Japan aid loans", text, 2, [], []), encoding="utf-8")
    (stories / "b.md").write_text(_story("Japan aid loans again", text, 3, [], []), encoding="utf-8")
    build_site(tmp_path, options=_serve_options(tmp_path / "mem"), now=NOW)
    page = tmp_path / "mem" / "stories" / "a" / "index.html"
    assert 'datetime="2024-01-03"' in page.read_text(encoding="utf-8")  # b, related to a, is listed with its date
    (stories / "b.md").write_text(_story("Japan aid loans again", text, 3, [], []).replace(
        "date: 2024-01-03", "date: 2024-01-03T00:00:00+00:00"), encoding="utf-8")
    build_site(tmp_path, options=_serve_options(tmp_path / "mem"), now=NOW)
    assert 'datetime="2024-01-03T00:00:00+00:00"' in page.read_text(encoding="utf-8")
    build_site(tmp_path, options=_serve_options(tmp_path / "clean"), now=NOW)
    assert tree_bytes(tmp_path / "mem") == tree_bytes(tmp_path / "clean")


def test_in_memory_rebuild_after_the_preview_folder_was_deleted_writes_the_whole_site(tmp_path: Path) -> None:
    """serve does not stat its preview pages one by one; if the folder went away, it notices."""
    stories = _japan_aid_site(tmp_path, 3)
    build_site(tmp_path, options=_serve_options(tmp_path / "mem"), now=NOW)
    shutil.rmtree(tmp_path / "mem")
    (stories / "s1.md").write_text(_story("Story one, edited", ["China", "ASEAN"], 2, ["China"], None), encoding="utf-8")
    build_site(tmp_path, options=_serve_options(tmp_path / "mem"), now=NOW)
    build_site(tmp_path, options=_serve_options(tmp_path / "clean"), now=NOW)
    assert tree_bytes(tmp_path / "mem") == tree_bytes(tmp_path / "clean")
