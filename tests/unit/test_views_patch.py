"""Views patched after a small edit (digest/views_patch.py) equal views built from scratch."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from digest import views_patch
from digest.model import SiteConfig, Story, Topic
from digest.views import SiteViews, StoryView, build_views

CONFIG = SiteConfig(title="T", timezone="Asia/Phnom_Penh", excerpt_sources=("Wire",))
TOPICS = (Topic("japan-aid", "Japan aid", "content/topics/japan-aid.md", "Intro."),
          Topic("china", "China", "content/topics/china.md", "Intro."))
START = datetime(2024, 1, 31, 20, 0, tzinfo=timezone.utc)  # near a month's end in the site's time zone
TAGS = ["Japan", "japan", "China", "Trade", "ASEAN"]  # "Japan" and "japan" share a listing
SOURCES = [None, "Wire", "Daily", "daily"]


def _story(n: int, title: str, hours: int | None, tags: list[str], source: str | None) -> Story:
    return Story(slug=f"s{n}", title=title, path=f"content/stories/s{n}.md", body=f"Body of {title}.\n\nMore.",
                 date=None if hours is None else START + timedelta(hours=hours), tags=tuple(tags), source=source)


story = st.builds(_story, n=st.integers(0, 11), title=st.sampled_from(["A", "B", "C"]),
                  hours=st.one_of(st.none(), st.integers(-30, 30)),
                  tags=st.lists(st.sampled_from(TAGS), max_size=3, unique=True), source=st.sampled_from(SOURCES))
topic_choice = st.sampled_from([(), ("japan-aid",), ("china",), ("japan-aid", "china")])
edit = st.one_of(
    st.tuples(st.just("write"), story, topic_choice),
    st.tuples(st.just("delete"), st.integers(0, 11), st.none()),
    st.tuples(st.just("topics"), st.integers(0, 11), topic_choice),
    st.tuples(st.just("status"), st.integers(0, 11), st.sampled_from([(), ("draft",), ("future",)])),
    st.tuples(st.just("related"), st.integers(0, 11), st.lists(st.integers(0, 11), max_size=3)),
    st.tuples(st.just("group"), st.integers(0, 11), st.integers(0, 11)),
)


def _projection(views: SiteViews) -> Any:
    """Everything templates can read from `views`, as plain values (views by their content)."""
    def v(view: StoryView | None) -> Any:
        if view is None:
            return None
        return (view.slug, view.story, view.url, view.body_md, view.excerpt, view.topics, view.tags,
                view.source_page, view.status)

    def many(items) -> list:
        return [v(x) for x in items]

    links = {slug: ([(v(r.story), r.reasons) for r in link.related], many(link.group),
                    [(t, v(a), v(b)) for t, a, b in link.neighbours]) for slug, link in views.links.items()}
    return (many(views.stories), {k: v(x) for k, x in views.by_slug.items()}, links, views.topics,
            {k: many(x) for k, x in views.topic_stories.items()}, views.tags,
            {k: many(x) for k, x in views.tag_stories.items()}, views.sources,
            {k: many(x) for k, x in views.source_stories.items()},
            [(y, m, many(x)) for y, m, x in views.months], many(views.undated), views.pages, dict(views.groups))


@settings(max_examples=150, deadline=None)
@given(initial=st.lists(story, min_size=1, max_size=12), edits=st.lists(edit, min_size=1, max_size=8))
def test_patched_views_equal_views_built_from_scratch(initial, edits) -> None:
    stories = {s.slug: s for s in initial}
    chosen = {slug: () for slug in stories}
    status: dict[str, tuple[str, ...]] = {}
    related: dict[str, tuple] = {}
    groups: dict[str, tuple[str, ...]] = {}

    def build(previous: SiteViews | None) -> SiteViews:
        return build_views(CONFIG, list(stories.values()), TOPICS, (), chosen, related, groups, status,
                           previous=previous, remember=True)

    kept = build(None)
    for kind, a, b in edits:
        if kind == "write":
            stories[a.slug] = a
            chosen[a.slug] = b
        elif kind == "delete":
            stories.pop(f"s{a}", None)
            chosen.pop(f"s{a}", None)
        elif kind == "topics" and f"s{a}" in stories:
            chosen[f"s{a}"] = b
        elif kind == "status" and f"s{a}" in stories:
            status[f"s{a}"] = b
        elif kind == "related":
            related[f"s{a}"] = tuple((f"s{n}", ("a reason",)) for n in b if n != a)
        elif kind == "group" and a != b:
            members = (f"s{a}", f"s{b}")
            groups = {**groups, f"s{a}": members, f"s{b}": members}
        patched = views_patch.patch_views(CONFIG, list(stories.values()), TOPICS, (), chosen, related, groups,
                                          status, kept)
        fresh = build_views(CONFIG, list(stories.values()), TOPICS, (), chosen, related, groups, status)
        if patched is not None:
            assert _projection(patched) == _projection(fresh), f"after {kind} {a} {b}"
        kept = build(kept)
        assert _projection(kept) == _projection(fresh)


def test_a_one_story_edit_is_patched_and_keeps_every_other_object() -> None:
    stories = [_story(n, "A", n, ["Japan"], "Daily") for n in range(60)]
    chosen = {s.slug: ("japan-aid",) for s in stories}
    first = build_views(CONFIG, stories, TOPICS, (), chosen, {}, {}, {}, remember=True)
    stories[10] = replace(stories[10], title="Edited")
    second = views_patch.patch_views(CONFIG, stories, TOPICS, (), chosen, {}, {}, {}, first)
    assert second is not None
    assert second.by_slug["s10"] is not first.by_slug["s10"] and second.by_slug["s10"].title == "Edited"
    assert second.by_slug["s30"] is first.by_slug["s30"]
    assert second.links["s30"] is first.links["s30"]  # not next to s10 in its topic, not linking to it
    assert second.links["s11"] is not first.links["s11"]  # its topic neighbour's view changed
    assert second.source_stories is not first.source_stories
    assert second.topics is first.topics


def test_too_many_changes_or_a_changed_topic_are_built_in_full() -> None:
    stories = [_story(n, "A", n, ["Japan"], "Daily") for n in range(60)]
    chosen = {s.slug: () for s in stories}
    first = build_views(CONFIG, stories, TOPICS, (), chosen, {}, {}, {}, remember=True)
    edited = [replace(s, title="Edited") for s in stories]
    assert views_patch.patch_views(CONFIG, edited, TOPICS, (), chosen, {}, {}, {}, first) is None
    topics = (replace(TOPICS[0], title="Japan's aid"), TOPICS[1])
    assert views_patch.patch_views(CONFIG, stories, topics, (), chosen, {}, {}, {}, first) is None


def test_many_stories_removed_are_built_in_full_and_one_removed_is_patched() -> None:
    stories = [_story(n, "A", n, ["Japan"], "Daily") for n in range(60)]
    chosen = {s.slug: () for s in stories}
    first = build_views(CONFIG, stories, TOPICS, (), chosen, {}, {}, {}, remember=True)
    assert views_patch.patch_views(CONFIG, stories[:30], TOPICS, (), chosen, {}, {}, {}, first) is None
    one_less = views_patch.patch_views(CONFIG, stories[1:], TOPICS, (), chosen, {}, {}, {}, first)
    assert one_less is not None and "s0" not in one_less.by_slug
    assert _projection(one_less) == _projection(build_views(CONFIG, stories[1:], TOPICS, (), chosen, {}, {}, {}))
