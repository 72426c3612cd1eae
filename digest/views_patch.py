"""Views after a small edit: the last build's views with the changed stories swapped in.

A long-running process (serve) rebuilds after every save, and a full `build_views` passes over
every story three times (views, listings, links). `patch_views` starts from the last build's
views instead and touches only what the changed stories are in or next to: the listings
(topic, tag, outlet, month) they leave or join, their neighbours in each topic, and the stories
whose links name them or whose related entry or group changed. Every other object is the last
build's, so later stages still recognise unchanged pages by identity.

The result equals a full `build_views` (tests/unit/test_views_patch.py compares them on random
edits). Pure.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Iterable, Mapping, Sequence

from digest import urls
from digest.model import Page, SiteConfig, Story, Topic
from digest.views import (SiteViews, StoryView, TagRef, excerpt_outlets, link_entry, local_time, make_view, ordered_pages,
                          sort_key)

PATCH_SHARE = 50  # patch when at most one story in this many changed (and at most PATCH_MAX)
PATCH_MAX = 200


def patch_views(config: SiteConfig, stories: Sequence[Story], topics: Sequence[Topic], pages: Sequence[Page],
                story_topics: Mapping[str, tuple[str, ...]], related: Mapping[str, Sequence[Any]],
                groups: Mapping[str, tuple[str, ...]], status: Mapping[str, tuple[str, ...]],
                previous: SiteViews) -> SiteViews | None:
    """`build_views(...)` made by patching `previous` (built by this process with the same config and
    `remember`), or None when the topics changed or too many stories did for patching to pay."""
    topic_by_slug = {t.slug: t for t in topics}
    if len(topic_by_slug) != len(previous.topics) or any(topic_by_slug.get(t.slug) is not t for t in previous.topics):
        return None  # a topic file changed: every view may change
    before, chosen_before = previous.by_slug, previous.chosen
    excerpt_sources = excerpt_outlets(config)
    made: dict[str, StoryView] = {}
    limit = min(PATCH_MAX, max(1, len(stories) // PATCH_SHARE))
    for story in stories:
        slug = story.slug
        mine = story_topics.get(slug, ())
        old = before.get(slug)
        if old is not None and old.story is story and old.status == status.get(slug, ()):
            was = chosen_before.get(slug)
            if mine is was or mine == was:
                continue
        made[slug] = make_view(config, story, excerpt_sources, topic_by_slug, mine, status.get(slug, ()))
        if len(made) > limit:
            return None
    added = sum(1 for slug in made if slug not in before)
    gone = set(before) - {story.slug for story in stories} if len(before) + added != len(stories) else set()
    if len(made) + len(gone) > limit:
        return None  # e.g. a checkout that removed many stories: built in full
    changed = set(made) | gone

    by_slug = dict(before)
    for slug in gone:
        del by_slug[slug]
    by_slug.update(made)
    chosen = dict(chosen_before)
    for slug in gone:
        del chosen[slug]
    chosen.update((slug, story_topics.get(slug, ())) for slug in made)

    stories_tuple = previous.stories if not changed else _patched(previous.stories, changed, made.values())
    joins = {slug: _memberships(view, config.timezone) for slug, view in made.items()}  # the listings each new view is in
    buckets = _affected_buckets(changed, before, joins, config.timezone)
    topic_stories = dict(previous.topic_stories)
    tag_stories = dict(previous.tag_stories)
    source_stories = dict(previous.source_stories)
    months = {(y, m): members for y, m, members in previous.months}
    undated = previous.undated
    for kind, key in buckets:
        new_members = [view for slug, view in made.items() for _ in range(joins[slug].count((kind, key)))]
        if kind == "topic":
            topic_stories[key] = _patched(topic_stories.get(key, ()), changed, new_members)
        elif kind == "tag":
            _put(tag_stories, key, _patched(tag_stories.get(key, ()), changed, new_members))
        elif kind == "source":
            _put(source_stories, key, _patched(source_stories.get(key, ()), changed, new_members))
        elif kind == "month":
            _put(months, key, _patched(months.get(key, ()), changed, new_members))
        else:
            undated = _patched(undated, changed, new_members)

    positions = dict(previous.positions)
    topic_keys = [key for kind, key in buckets if kind == "topic"]
    for key in topic_keys:
        positions[key] = {v.slug: i for i, v in enumerate(topic_stories[key])}
    same_groups = previous.groups is groups or previous.groups == groups
    check = _links_to_check(changed, gone, made, topic_keys, previous, topic_stories, positions, related, groups,
                            same_groups)
    links = dict(previous.links)
    link_inputs = dict(previous.link_inputs)
    named_by = dict(previous.named_by)
    for slug in gone:
        links.pop(slug, None)
        old = link_inputs.pop(slug, None)
        if old is not None:
            _rename(named_by, slug, old[4], frozenset())
    for slug in sorted(check):
        old = link_inputs.get(slug)
        entry = link_entry(by_slug[slug], by_slug, related, groups, topic_stories, positions, old, changed,
                           same_groups)
        if entry is not old:
            _rename(named_by, slug, old[4] if old is not None else frozenset(), entry[4])
            link_inputs[slug] = entry
            links[slug] = entry[1]

    tags = _refs(previous.tags, tag_stories, {key for kind, key in buckets if kind == "tag"}, "tag")
    sources = _refs(previous.sources, source_stories, {key for kind, key in buckets if kind == "source"}, "source")
    return SiteViews(
        stories=stories_tuple,
        by_slug=by_slug,
        links=links,
        topics=previous.topics,
        topic_stories=topic_stories,
        tags=tags,
        tag_stories=tag_stories,
        sources=sources,
        source_stories=source_stories,
        months=tuple((y, m, months[(y, m)]) for (y, m) in sorted(months, reverse=True)),
        undated=undated,
        pages=ordered_pages(pages),
        groups=previous.groups if same_groups else groups,
        link_inputs=link_inputs,
        earlier=previous.derived,
        chosen=chosen,
        positions=positions,
        named_by=named_by,
    )


def _view_key(view: StoryView) -> tuple:
    return sort_key(view.story)


def _patched(members: Sequence[StoryView], changed: set[str], new: Iterable[StoryView]) -> tuple[StoryView, ...]:
    """`members` (in listing order) without the changed stories' old views, with `new` put in order."""
    out = [v for v in members if v.slug not in changed]
    for view in sorted(new, key=_view_key):
        out.insert(bisect_left(out, _view_key(view), key=_view_key), view)
    return tuple(out)


def _put(table: dict, key: Any, members: tuple[StoryView, ...]) -> None:
    if members:
        table[key] = members
    else:
        table.pop(key, None)  # a tag, outlet or month with no story left has no listing


def _memberships(view: StoryView, timezone: str) -> list[tuple[str, Any]]:
    """The listings a view is in, once per time it appears there (as `build_views` appends it)."""
    out: list[tuple[str, Any]] = [("topic", t.slug) for t in view.topics]
    out += [("tag", urls.tag_slug(tag)) for tag in view.story.tags]
    if view.story.source:
        out.append(("source", urls.tag_slug(view.story.source)))
    if view.story.date is None:
        out.append(("undated", None))
    else:
        local = local_time(view.story.date, timezone)
        out.append(("month", (local.year, local.month)))
    return out


def _affected_buckets(changed: set[str], before: Mapping[str, StoryView], joins: Mapping[str, list[tuple[str, Any]]],
                      timezone: str) -> list[tuple[str, Any]]:
    """The listings a changed story leaves (its old view's) or joins (`joins`: its new view's)."""
    found: dict[tuple[str, Any], None] = {}
    for slug in sorted(changed):
        if slug in before:
            found.update(dict.fromkeys(_memberships(before[slug], timezone)))
        found.update(dict.fromkeys(joins.get(slug, ())))
    return list(found)


def _links_to_check(changed: set[str], gone: set[str], made: Mapping[str, StoryView], topic_keys: list[str],
                    previous: SiteViews, topic_stories: Mapping[str, tuple[StoryView, ...]],
                    positions: Mapping[str, Mapping[str, int]], related: Mapping[str, Sequence[Any]],
                    groups: Mapping[str, tuple[str, ...]], same_groups: bool) -> set[str]:
    """The stories whose links may differ from the last build's: the changed ones, those whose
    links name a changed story, their old and new neighbours in each topic, and those whose related
    entry or group changed."""
    check = set(made)
    for slug in changed:
        check.update(previous.named_by.get(slug, ()))
    for key in topic_keys:
        old_members, old_at = previous.topic_stories.get(key, ()), previous.positions.get(key, {})
        new_members, new_at = topic_stories[key], positions[key]
        for slug in changed:
            for members, at in ((old_members, old_at), (new_members, new_at)):
                i = at.get(slug)
                if i is not None:
                    check.update(members[j].slug for j in (i - 1, i + 1) if 0 <= j < len(members))
    for slug, old in previous.link_inputs.items():
        if related.get(slug, ()) is not old[2] or (not same_groups and groups.get(slug, ()) != old[3]):
            check.add(slug)
    return check - gone


def _rename(named_by: dict[str, frozenset[str]], slug: str, old: frozenset[str], new: frozenset[str]) -> None:
    """Record that `slug`'s links now name `new` instead of `old`."""
    for other in old - new:
        left = named_by.get(other, frozenset()) - {slug}
        if left:
            named_by[other] = left
        else:
            named_by.pop(other, None)
    for other in new - old:
        named_by[other] = named_by.get(other, frozenset()) | {slug}


def _refs(before: tuple[TagRef, ...], table: Mapping[str, tuple[StoryView, ...]], affected: set[str],
          kind: str) -> tuple[TagRef, ...]:
    """The tag (or outlet) list after the `affected` listings changed: each listing's name as its
    first story spells it, and its size (the last build's entries for the others)."""
    if not affected:
        return before
    make = urls.tag if kind == "tag" else urls.source
    refs = [ref for ref in before if urls.tag_slug(ref.name) not in affected]
    for key in affected:
        members = table.get(key)
        if members:
            name = _first_name(members[0], key, kind)
            refs.append(TagRef(name, make(name), len(members)))
    return tuple(sorted(refs, key=lambda t: (t.name.casefold(), t.name)))


def _first_name(view: StoryView, key: str, kind: str) -> str:
    if kind == "source":
        return view.story.source or ""
    return next(tag for tag in view.story.tags if urls.tag_slug(tag) == key)

