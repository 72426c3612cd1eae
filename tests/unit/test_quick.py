"""The quick rebuild (digest/quick.py): a `digest build` in a new process after story edits that
keep every story's shape renders only the pages that show them, and gives the bytes of a clean
build; every other change falls back to the full engine, with the same result."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.build import BuildOptions, build_site
from digest.cache import cache_file
from digest.errors import ContentError
from tests.conftest import tree_bytes

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
TOPICS = {
    "japan-aid": '---\ntitle: Japan aid\nmatch:\n  phrases: {"Japan": 2, "aid": 2}\n  min_score: 2\n---\nIntro.\n',
    "china-asean": '---\ntitle: China–ASEAN\nmatch:\n  phrases: {"China": 2, "ASEAN": 2}\n  min_score: 2\n---\nIntro.\n',
}
WORDS = ["Japan", "aid", "China", "ASEAN", "loans", "Cambodia", "summit", "trade", "bridge", "port"]
PLACES = ["Kampot", "Kep", "Battambang", "Pursat", "Takeo", "Kratie", "Stung Treng", "Pailin", "Siem Reap",
          "Koh Kong", "Mondulkiri", "Ratanakiri", "Prey Veng", "Svay Rieng", "Kandal", "Kampong Cham"]


def _story(i: int, body: str | None = None, title: str | None = None, day: int | None = None,
           tags: tuple[str, ...] | None = None, draft: bool = False) -> str:
    words = [WORDS[(i * 3 + k) % len(WORDS)] for k in range(6)]
    lines = ["---", f"title: {title or f'Story {i} on ' + ' '.join(words[:2])}", f"source: Outlet {i % 3}",
             f"date: 2024-{(i % 12) + 1:02d}-{day or (i // 12) * 10 + 1:02d}",  # apart: no same-story groups
             f"tags: [{', '.join(tags or (words[0], words[2]))}]"]
    if draft:
        lines.append("draft: true")
    place = PLACES[i % len(PLACES)]
    lines += ["---", "", f"In {place}, {' '.join(words)} talks went on; {place} officials waited. " + (body or ""), "",
              f"A second paragraph about {words[1]} and {words[3]}.", ""]
    return "\n".join(lines)


def _site(root: Path, stories: int = 14, search: bool = False) -> Path:
    (root / "digest.toml").write_text('title = "T"\nstories_per_page = 3\n'
                                      f'[search]\nenabled = {"true" if search else "false"}\n', encoding="utf-8")
    (root / "content" / "topics").mkdir(parents=True)
    for slug, text in TOPICS.items():
        (root / "content" / "topics" / f"{slug}.md").write_text(text, encoding="utf-8")
    folder = root / "content" / "stories"
    folder.mkdir(parents=True)
    for i in range(stories):
        (folder / f"s{i}.md").write_text(_story(i), encoding="utf-8")
    return root


def _build(root: Path, out: str = "out", **options) -> object:
    return build_site(root, options=BuildOptions(out_dir=root / out, **options), now=NOW)


def _same_as_clean(root: Path) -> None:
    clean = root / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    build_site(root, options=BuildOptions(out_dir=clean, use_cache=False), now=NOW)
    assert tree_bytes(root / "out") == tree_bytes(clean)


def _edit(root: Path, i: int, text: str) -> None:
    (root / "content" / "stories" / f"s{i}.md").write_text(text, encoding="utf-8")


def _a_body_edit_is_quick(root: Path) -> None:
    """Edit one story's body, build: the quick path, with a clean build's bytes."""
    _edit(root, 7, _story(7, body="Then a body edit, quick again."))
    assert _build(root).quick
    _same_as_clean(root)


def test_a_body_edit_renders_only_the_pages_that_show_the_story(tmp_path: Path) -> None:
    root = _site(tmp_path)
    first = _build(root)
    assert not first.quick
    _edit(root, 4, _story(4, body="The Cambodia bridge grew. A corrected figure."))
    result = _build(root)
    assert result.quick
    assert 0 < result.rendered < first.rendered / 3  # the story, its listings and neighbours, not the site
    pages = [name for name, data in tree_bytes(root / "out").items() if b"A corrected figure." in data]
    assert any(name.startswith("stories/") for name in pages)
    _same_as_clean(root)


def test_a_title_edit_reaches_every_listing_feed_and_neighbour(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _build(root)
    _edit(root, 5, _story(5, title="A renamed headline"))
    result = _build(root)
    assert result.quick
    out = tree_bytes(root / "out")
    showing = [name for name, data in out.items() if b"A renamed headline" in data]
    assert "feed.xml" in showing and any(name == "index.html" or name.startswith("page/") for name in showing)
    assert any(name.startswith("tags/") for name in showing)
    _same_as_clean(root)


def test_a_revert_after_quick_edits_equals_a_clean_build(tmp_path: Path) -> None:
    """Quick rebuilds do not save the related index; a story edited back to what the index last
    read must still bring back the related lists it had (`related_since`)."""
    root = _site(tmp_path)
    _build(root)
    original = (root / "content" / "stories" / "s3.md").read_text(encoding="utf-8")
    for body in ("port port port summit summit trade.", "loans loans Cambodia bridge bridge bridge."):
        _edit(root, 3, _story(3, body=body))
        assert _build(root).quick
        _same_as_clean(root)
    _edit(root, 3, original)
    assert _build(root).quick
    _same_as_clean(root)


def test_an_edit_the_related_engine_does_not_read_leaves_its_index_unread(tmp_path: Path, monkeypatch) -> None:
    """The engine reads a story's title, summary and body start: a correction appended to a long
    story changes none of it, so the saved index is not even loaded (nor numpy imported for it)."""
    import digest.related_ahead

    root = _site(tmp_path)
    long_body = " ".join(f"Paragraph {n} on the Kampot port." for n in range(400))  # past the body start read
    _edit(root, 3, _story(3, body=long_body))
    _build(root)
    monkeypatch.setattr(digest.related_ahead, "load_related", lambda path, **_: pytest.fail("the related index was read"))
    _edit(root, 3, _story(3, body=long_body + " A correction: the port opened in May."))
    assert _build(root).quick
    _same_as_clean(root)
    monkeypatch.undo()
    _edit(root, 3, _story(3, body="A new start. " + long_body))  # the start changes: the index is updated
    assert _build(root).quick
    _same_as_clean(root)


def test_after_a_quick_rebuild_changed_related_lists_an_unread_edit_still_leaves_the_index_unread(
        tmp_path: Path, monkeypatch) -> None:
    """Quick rebuilds do not save the index, but the store notes what they read: once one has
    remade related lists from a new opening, an edit further down leaves the index unread, and
    going back to what the index read brings its lists back."""
    import digest.related_ahead

    root = _site(tmp_path)
    long_body = " ".join(f"Paragraph {n} on the Kampot port." for n in range(400))
    _edit(root, 3, _story(3, body=long_body))
    _build(root)
    _edit(root, 3, _story(3, body="Loans loans Cambodia bridge bridge bridge. " + long_body))
    assert _build(root).quick
    _same_as_clean(root)
    with monkeypatch.context() as patch:
        patch.setattr(digest.related_ahead, "load_related", lambda path, **_: pytest.fail("the related index was read"))
        for n in range(2):
            _edit(root, 3, _story(3, body=f"Loans loans Cambodia bridge bridge bridge. {long_body} Correction {n}."))
            assert _build(root).quick
            _same_as_clean(root)
    _edit(root, 3, _story(3, body=long_body))  # what the index read: its lists again
    assert _build(root).quick
    _same_as_clean(root)


def test_a_story_edit_right_after_a_page_edit_is_quick(tmp_path: Path) -> None:
    """The page file, saved just before the last build, is checked by its hash (it sorts before
    the stories: the edited files are looked up in scan order)."""
    root = _site(tmp_path)
    (root / "content" / "pages").mkdir()
    (root / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nWho we are.\n", encoding="utf-8")
    for path in (root / "content").rglob("*.md"):  # written a minute ago: only the files edited below are recent
        os.utime(path, (path.stat().st_mtime - 60, path.stat().st_mtime - 60))
    _build(root)
    (root / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nWho we are now.\n", encoding="utf-8")
    assert not _build(root).quick  # a page edit: the full engine
    _a_body_edit_is_quick(root)


def test_a_touched_file_renders_nothing(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _build(root)
    path = root / "content" / "stories" / "s2.md"
    path.write_bytes(path.read_bytes())  # same bytes, new modification time
    result = _build(root)
    assert result.quick and result.rendered == 0
    _same_as_clean(root)


@pytest.mark.parametrize("change", ["date", "tags", "draft", "topic by text", "new story", "removed story",
                                    "topic file", "template", "output file gone", "damaged store"])
def test_other_changes_fall_back_to_the_full_engine(tmp_path: Path, change: str) -> None:
    root = _site(tmp_path)
    _build(root)
    if change == "date":
        _edit(root, 6, _story(6, day=28))
    elif change == "tags":
        _edit(root, 6, _story(6, tags=("Laos",)))
    elif change == "draft":
        _edit(root, 6, _story(6, draft=True))
    elif change == "topic by text":  # the new text also matches "Japan aid"
        _edit(root, 8, _story(8, body="Japan aid. Japan aid. Japan aid."))
    elif change == "new story":
        _edit(root, 40, _story(40))
    elif change == "removed story":
        (root / "content" / "stories" / "s6.md").unlink()
    elif change == "topic file":
        (root / "content" / "topics" / "japan-aid.md").write_text(TOPICS["japan-aid"] + "More.\n", encoding="utf-8")
    elif change == "template":
        (root / "templates").mkdir()
        (root / "templates" / "404.html").write_text("<p>gone</p>\n", encoding="utf-8")
        # a template modified within two seconds of a build's save is not trusted by the quick
        # path (no hash of templates is kept): dated earlier, as an editor's would be by then
        os.utime(root / "templates" / "404.html", (1, 1))
    elif change == "output file gone":
        _edit(root, 6, _story(6, body="A body edit."))
        (root / "out" / "tags" / "index.html").unlink()
    elif change == "damaged store":
        _edit(root, 6, _story(6, body="A body edit."))
        cache_file(root, root / "out").with_suffix(".pages").write_bytes(b"not a pickle")
    result = _build(root)
    assert not result.quick
    _same_as_clean(root)
    if change in ("topic file", "template", "output file gone", "damaged store"):
        _a_body_edit_is_quick(root)


def test_a_story_that_does_not_parse_fails_the_build_and_keeps_the_output(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _build(root)
    before = tree_bytes(root / "out")
    _edit(root, 2, "---\ntitle: [unclosed\n---\nBody.\n")
    with pytest.raises(ContentError) as caught:
        _build(root)
    assert "content/stories/s2.md" in str(caught.value)
    assert tree_bytes(root / "out") == before


def test_the_search_index_follows_a_quick_edit(tmp_path: Path) -> None:
    root = _site(tmp_path, stories=8, search=True)
    _build(root)
    _edit(root, 1, _story(1, body="A zanzibarian causeway."))
    assert _build(root).quick
    _same_as_clean(root)


edit = st.one_of(
    st.tuples(st.just("body"), st.integers(0, 9), st.lists(st.sampled_from(WORDS), min_size=0, max_size=10)),
    st.tuples(st.just("title"), st.integers(0, 9), st.sampled_from(["Port talks", "Loans", "A summit", "Bridge"])),
    st.tuples(st.just("date"), st.integers(0, 9), st.integers(1, 28)),
    st.tuples(st.just("revert"), st.integers(0, 9), st.none()),
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(edit, min_size=2, max_size=6))
def test_quick_rebuilds_equal_clean_builds(tmp_path_factory, steps) -> None:
    """Random edits (mostly ones the quick path takes), each followed by `digest build` in the way a
    new process sees the cache, then compared with a clean build."""
    root = _site(tmp_path_factory.mktemp("site"), stories=10)
    _build(root)
    for kind, i, value in steps:
        if kind == "body":
            _edit(root, i, _story(i, body=" ".join(value) + "."))
        elif kind == "title":
            _edit(root, i, _story(i, title=value))
        elif kind == "date":
            _edit(root, i, _story(i, day=value))
        else:
            _edit(root, i, _story(i))
        _build(root)
        _same_as_clean(root)


def test_the_store_notes_what_the_related_index_read_of_each_story(tmp_path: Path) -> None:
    """The page store's related keys (the quick path compares them with an edited story's) are
    `input_key` of every built story under its topics, after a cold build and after a full rebuild."""
    from digest.content import parse_story
    from digest.pagestore import load_store
    from digest.related_input import input_key

    root = _site(tmp_path)

    def stored_and_expected() -> tuple[dict[str, str], dict[str, str]]:
        store = load_store(cache_file(root, root / "out"))
        keys = {}
        for path in sorted((root / "content" / "stories").glob("*.md")):
            story = parse_story(path.read_text(encoding="utf-8"), f"content/stories/{path.name}")
            keys[story.slug] = input_key(story, store.topics[story.slug])
        return store.related_keys, keys

    _build(root)
    stored, keys = stored_and_expected()
    assert stored == keys and len(keys) == 14
    _edit(root, 3, _story(3, title="Japan aid and ASEAN loans", body="China, Japan and aid."))
    (root / "content" / "topics" / "japan-aid.md").write_text(TOPICS["japan-aid"].replace("Intro.", "Intro, edited."),
                                                              encoding="utf-8")  # a topic edit: the full engine
    assert not _build(root).quick
    stored, keys = stored_and_expected()
    assert stored == keys
