"""The page store (digest/pagestore.py): page contexts kept with their stories, topics and pages by
slug, and the two files of the store read back only together."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from digest.model import Page, Story, Topic
from digest.pagestore import PageStore, load_store, pack_context, save_store, story_shape, unpack_context
from digest.views import StoryView, TagRef


def _view(slug: str, title: str | None = None) -> StoryView:
    story = Story(slug=slug, title=title or slug.upper(), path=f"content/stories/{slug}.md", body="Text.")
    return StoryView(story=story, url=f"stories/{slug}/", body_md="Text.", markdown_html=True, excerpt=False,
                     topics=(), tags=(TagRef("Japan", "tags/japan/"),), source_page=None, slug=slug)


def test_a_context_comes_back_with_the_views_topics_and_pages_of_now() -> None:
    a, b = _view("a"), _view("b")
    topic = Topic("t", "T", "content/topics/t.md", "")
    page = Page("about", "About", "content/pages/about.md", "Body.")
    context = {"entries": ((a, ()), (b, (a,))), "by_topic": [(topic, ((a, ()),))], "page": page,
               "tag": TagRef("Japan", "tags/japan/", 3), "pager": {"number": 2, "older": None}}
    blob, slugs = pack_context(context)
    assert slugs == ("a", "b")
    assert b"Text." not in blob  # the stories are not in it, only their slugs
    edited = _view("a", title="A, edited")
    now = {("s", "a"): edited, ("s", "b"): b, ("t", "t"): topic, ("p", "about"): page}
    back = unpack_context(blob, lambda kind, slug: now[(kind, slug)])
    assert back["entries"][0][0] is edited and back["entries"][1][1] == (edited,)
    assert back["by_topic"][0][0] is topic and back["page"] is page
    assert back["tag"] == context["tag"] and back["pager"] == context["pager"]


def test_a_context_that_holds_a_story_itself_is_refused() -> None:
    """A story stored by value would go stale when it is edited: pages hold views."""
    with pytest.raises(TypeError):
        pack_context({"story": _view("a").story})


def test_the_two_files_load_only_together(tmp_path: Path) -> None:
    path = tmp_path / "build.pickle"
    store = PageStore(token="t1", layout="L1", salt="s", order=("a",), paths={"a": "content/stories/a.md"},
                      file_stamps={"a": "x"}, related={"a": (("b", ("Japan",)),)})
    save_store(path, store)
    assert load_store(path) == store
    later = replace(store, token="t2", file_stamps={"a": "y"})
    save_store(path, later, layout=False)  # a quick rebuild: the stamps only
    assert load_store(path) == later
    save_store(tmp_path / "other.pickle", replace(store, layout="L2"))
    (tmp_path / "other.stamps").replace(tmp_path / "build.stamps")  # stamps of another layout
    assert load_store(path) is None
    (tmp_path / "build.pages").write_bytes(b"damaged")
    assert load_store(path) is None
    assert load_store(tmp_path / "missing.pickle") is None


def test_a_shape_changes_with_what_other_pages_read_and_only_that() -> None:
    story = Story(slug="a", title="A", path="content/stories/a.md", body="Text.",
                  date=datetime(2024, 1, 2, tzinfo=timezone.utc), tags=("Japan",), source="Outlet")
    shape = story_shape(story, ("japan-aid",), (), None)
    assert story_shape(replace(story, title="B", body="Other text.", summary="S."), ("japan-aid",), (), None) == shape
    for other in (replace(story, date=datetime(2024, 1, 3, tzinfo=timezone.utc)), replace(story, tags=("China",)),
                  replace(story, source="Other"), replace(story, draft=True), replace(story, related=("b",)),
                  replace(story, unrelated=("b",)), replace(story, updated=datetime(2024, 2, 1, tzinfo=timezone.utc))):
        assert story_shape(other, ("japan-aid",), (), None) != shape
    assert story_shape(story, (), (), None) != shape
    assert story_shape(story, ("japan-aid",), ("draft",), None) != shape


def test_a_stored_context_unpickles_only_through_unpack_context() -> None:
    """Its references are resolved by the caller: plain pickle.loads refuses them rather than
    making something else of them."""
    import pickle

    blob, _ = pack_context({"entries": ((_view("a"), ()),)})
    with pytest.raises(pickle.UnpicklingError):
        pickle.loads(blob)
