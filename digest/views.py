"""Page views: what each template gets, derived from the site model and the build's
classification (topics per story) and relations (related stories, same-story groups).

Pure: the model in, frozen views out. Root-relative links in rendered bodies are rebased per
page at render time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo
from typing import AbstractSet, Any, Callable, Mapping, Sequence, TypeVar

from markupsafe import Markup

from digest import prerender, urls
from digest.markdown import opening, renderer
from digest.model import Page, SiteConfig, Story, Topic


T = TypeVar("T")


@dataclass(frozen=True)
class TagRef:
    """A link to a tag's (or outlet's) page; `count`: its stories, where a list shows it."""

    name: str
    url: str
    count: int = 0


@dataclass(frozen=True)
class RelatedRef:
    """A link to a related story, with why it is related."""

    story: "StoryView"
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class StoryView:
    """A story as templates see it."""

    story: Story
    url: str
    body_md: str  # the Markdown shown: the whole body, or its opening for an excerpt
    markdown_html: bool
    excerpt: bool
    topics: tuple[Topic, ...]
    tags: tuple[TagRef, ...]
    source_page: str | None  # URL of the outlet's page on this site
    status: tuple[str, ...] = ()  # "draft", "future" (only in previews)
    slug: str = ""  # the story's slug (a field, not a property: listings read it for every entry)

    @property
    def title(self) -> str:
        return self.story.title

    @property
    def body_html(self) -> str:
        """The body rendered to HTML (root-relative links as written); computed once per text."""
        return _html(self.body_md, self.markdown_html)

    @property
    def note_html(self) -> str:
        return _html(self.story.note, True) if self.story.note else ""

    @cached_property  # a template asks twice (`if` and then the value)
    def standfirst(self) -> str | None:
        """The summary, unless it only repeats the opening of the body (then it is not shown twice)."""
        summary = self.story.summary
        if not summary or text_start(self.body_html, 60) == Markup(summary).striptags()[:60]:
            return None
        return summary


@dataclass(frozen=True)
class StoryLinks:
    """What a story page links to beyond itself."""

    related: tuple[RelatedRef, ...] = ()
    group: tuple[StoryView, ...] = ()  # the same story from other outlets
    neighbours: tuple[tuple[Topic, StoryView | None, StoryView | None], ...] = ()  # (topic, newer, older)


@dataclass(frozen=True)
class Listing:
    """A list of stories where each same-story group appears once (its first member)."""

    entries: tuple[tuple[StoryView, tuple[StoryView, ...]], ...]  # (story, other outlets' versions)


@dataclass(frozen=True)
class SiteViews:
    """Everything the templates of one build see: story views, their links, and every listing."""

    stories: tuple[StoryView, ...]  # newest first, undated last
    by_slug: Mapping[str, StoryView]
    links: Mapping[str, StoryLinks]
    topics: tuple[Topic, ...]
    topic_stories: Mapping[str, tuple[StoryView, ...]]
    tags: tuple[TagRef, ...]  # sorted by name
    tag_stories: Mapping[str, tuple[StoryView, ...]]  # tag slug -> stories
    sources: tuple[TagRef, ...]
    source_stories: Mapping[str, tuple[StoryView, ...]]
    months: tuple[tuple[int, int, tuple[StoryView, ...]], ...]  # newest month first
    undated: tuple[StoryView, ...]
    pages: tuple[Page, ...]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # what each story's links were made from (`build_views` reuses them when a later build has the same)
    link_inputs: Mapping[str, tuple] = field(default_factory=dict, compare=False, repr=False)
    # what is made from a listing's stories (page specs, sitemap dates, feed choices): this build's,
    # and the last build's to reuse (see `reuse`)
    derived: dict = field(default_factory=dict, compare=False, repr=False)
    earlier: Mapping = field(default_factory=dict, compare=False, repr=False)
    # kept only for a later build in the same process (`remember`), so that it can patch these views
    # (digest/views_patch.py): each story's topic assignment, each topic's positions, and which
    # stories' links name each story
    chosen: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    positions: Mapping[str, Mapping[str, int]] = field(default_factory=dict, compare=False, repr=False)
    named_by: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def reuse(self, key: Any, stories: tuple, inputs: tuple, make: Callable[[], T]) -> T:
        """`make()`, or what the last build made under `key` when its stories were this very tuple
        of views (see `build_views(previous=...)`) and its other `inputs` are equal (compared
        element by element, identity first, so a reused object is not walked)."""
        old = self.earlier.get(key)
        value = old[2] if old is not None and old[0] is stories and old[1] == inputs else make()
        self.derived[key] = (stories, inputs, value)
        return value


def text_start(html: str, length: int) -> str:
    """The first `length` characters of the text of `html` (as Jinja's `striptags` gives them),
    reading only as many elements as that takes."""
    end = 0
    while True:
        close = html.find("</", end)
        end = len(html) if close < 0 else html.find(">", close) + 1 or len(html)
        text = Markup(html[:end]).striptags()
        if len(text) > length or end >= len(html):
            return text[:length]


@lru_cache(maxsize=None)
def _html(text: str, html: bool) -> str:
    done = prerender.rendered(text, html)  # a large first build may have rendered it ahead
    return done if done is not None else renderer(html)(text)


def sort_key(story: Story) -> tuple:
    """Newest first; undated stories after dated ones; ties by slug."""
    stamp = -story.date.timestamp() if story.date else 0.0
    return (story.date is None, stamp, story.slug)


def build_views(
    config: SiteConfig,
    stories: Sequence[Story],
    topics: Sequence[Topic],
    pages: Sequence[Page],
    story_topics: Mapping[str, tuple[str, ...]],
    related: Mapping[str, Sequence[tuple[str, tuple[str, ...]]]],
    groups: Mapping[str, tuple[str, ...]],
    status: Mapping[str, tuple[str, ...]] | None = None,
    previous: SiteViews | None = None,
    remember: bool = True,
) -> SiteViews:
    """Derive every page's data from the loaded content and the build's relations.

    `previous`: the views of the last build with the same config (in a long-running process):
    a story view, or a story's links, made from the same objects again is that same object, so
    a rebuild after one edit makes few new ones and the objects left unchanged can be recognised
    (`page_fingerprint` callers compare contexts). `remember=False`: no later build in this
    process will pass these views as `previous`, so what reuse needs is not kept. A small edit
    is patched into `previous` (`views_patch.patch_views`), with the same result."""
    status = status or {}
    if previous is not None and remember and previous.chosen:
        from digest.views_patch import patch_views  # the patching module builds on this one

        patched = patch_views(config, stories, topics, pages, story_topics, related, groups, status, previous)
        if patched is not None:
            return patched
    topic_by_slug = {t.slug: t for t in topics}
    excerpt_sources = excerpt_outlets(config)
    ordered = sorted(stories, key=sort_key)
    before = previous.by_slug if previous is not None else {}

    views: list[StoryView] = []
    for story in ordered:
        old = before.get(story.slug)
        if old is not None and old.story is story and old.status == status.get(story.slug, ()):
            chosen = story_topics.get(story.slug, ())
            if len(chosen) == len(old.topics) and all(
                    t.slug == slug and topic_by_slug.get(slug) is t for t, slug in zip(old.topics, chosen)):
                views.append(old)
                continue
        views.append(make_view(config, story, excerpt_sources, topic_by_slug, story_topics.get(story.slug, ()),
                               status.get(story.slug, ())))
    by_slug = {v.slug: v for v in views}

    topic_stories: dict[str, list[StoryView]] = {t.slug: [] for t in topics}
    tag_stories: dict[str, list[StoryView]] = defaultdict(list)
    tag_names: dict[str, str] = {}
    source_stories: dict[str, list[StoryView]] = defaultdict(list)
    source_names: dict[str, str] = {}
    month_stories: dict[tuple[int, int], list[StoryView]] = defaultdict(list)
    undated: list[StoryView] = []
    tz_config = config.timezone
    for view in views:
        for topic in view.topics:
            topic_stories[topic.slug].append(view)
        for tag in view.story.tags:
            key = urls.tag_slug(tag)
            tag_names.setdefault(key, tag)
            tag_stories[key].append(view)
        if view.story.source:
            key = urls.tag_slug(view.story.source)
            source_names.setdefault(key, view.story.source)
            source_stories[key].append(view)
        if view.story.date is None:
            undated.append(view)
        else:
            local = local_time(view.story.date, tz_config)
            month_stories[(local.year, local.month)].append(view)

    last = previous
    topic_tuples = _same_tuples(topic_stories, last.topic_stories if last else {})
    positions = {slug: {v.slug: i for i, v in enumerate(members)} for slug, members in topic_stories.items()}
    kept = previous.link_inputs if previous is not None else {}
    new_views = {v.slug for v in views if before.get(v.slug) is not v}  # made (again) by this build
    new_views.update(slug for slug in before if slug not in by_slug)  # and gone
    same_groups = last is not None and last.groups == groups
    link_inputs: dict[str, tuple] = {}
    links: dict[str, StoryLinks] = {}
    named_by: dict[str, set[str]] = defaultdict(set)
    for v in views:
        if not remember:  # nothing to keep for a next build in this process: links made directly
            links[v.slug] = _links(*_link_key(v, by_slug, related, groups, topic_stories, positions))
            continue
        link_inputs[v.slug] = link_entry(v, by_slug, related, groups, topic_stories, positions,
                                         kept.get(v.slug), new_views, same_groups)
        links[v.slug] = link_inputs[v.slug][1]
        for named in link_inputs[v.slug][4]:
            named_by[named].add(v.slug)
    last = previous
    last_months = {(y, m): items for y, m, items in last.months} if last is not None else {}
    return SiteViews(
        stories=_same_tuple(views, last.stories if last else None),
        by_slug=by_slug,
        links=links,
        topics=tuple(sorted(topics, key=lambda t: t.title.casefold())),
        topic_stories=topic_tuples,
        tags=tuple(sorted((TagRef(tag_names[k], urls.tag(tag_names[k]), len(v)) for k, v in tag_stories.items()),
                          key=lambda t: (t.name.casefold(), t.name))),
        tag_stories=_same_tuples(tag_stories, last.tag_stories if last else {}),
        sources=tuple(sorted((TagRef(source_names[k], urls.source(source_names[k]), len(v))
                              for k, v in source_stories.items()), key=lambda t: (t.name.casefold(), t.name))),
        source_stories=_same_tuples(source_stories, last.source_stories if last else {}),
        months=tuple((y, m, _same_tuple(month_stories[(y, m)], last_months.get((y, m))))
                     for (y, m) in sorted(month_stories, reverse=True)),
        undated=_same_tuple(undated, last.undated if last else None),
        pages=ordered_pages(pages),
        groups=last.groups if same_groups else groups,
        link_inputs=link_inputs,
        earlier=last.derived if last is not None else {},
        chosen={v.slug: story_topics.get(v.slug, ()) for v in views} if remember else {},
        positions=positions if remember else {},
        named_by={slug: frozenset(names) for slug, names in named_by.items()},
    )


def ordered_pages(pages: Sequence[Page]) -> tuple[Page, ...]:
    """Free-standing pages in menu order: by their integer `weight` (0 when absent), then title."""
    def key(page: Page) -> tuple[int, str]:
        weight = page.extra.get("weight", 0)
        return (weight if isinstance(weight, int) else 0, page.title.casefold())
    return tuple(sorted(pages, key=key))


def make_view(config: SiteConfig, story: Story, excerpt_sources: AbstractSet[str], topic_by_slug: Mapping[str, Topic],
              chosen: tuple[str, ...], status: tuple[str, ...]) -> StoryView:
    """A story's view: `chosen` are its topics' slugs, `status` its preview marks."""
    body_md, excerpt = shown_markdown(story, excerpt_sources)
    return StoryView(
        story=story,
        url=urls.story(story.slug),
        body_md=body_md,
        markdown_html=config.markdown_html,
        excerpt=excerpt,
        topics=tuple(topic_by_slug[s] for s in chosen if s in topic_by_slug),
        tags=tuple(map(_tag_ref, story.tags)),
        source_page=urls.source(story.source) if story.source else None,
        status=status,
        slug=story.slug,
    )


def excerpt_outlets(config: SiteConfig) -> frozenset[str]:
    """The outlets whose stories show as excerpts (`[excerpt] sources`), casefolded: what
    `shown_markdown` and `make_view` take as `excerpt_sources`."""
    return frozenset(s.casefold() for s in config.excerpt_sources)


def shown_markdown(story: Story, excerpt_sources: AbstractSet[str]) -> tuple[str, bool]:
    """(the Markdown a story's page shows, whether that is an excerpt: its opening only), with
    `excerpt_sources` the casefolded outlets shown as excerpts (`[excerpt] sources`)."""
    excerpt = story.excerpt if story.excerpt is not None else (story.source or "").casefold() in excerpt_sources
    return (opening(story.body) if excerpt else story.body), excerpt


@lru_cache(maxsize=65536)
def _tag_ref(name: str) -> TagRef:
    """A story's link to a tag: one (immutable) object per tag name, shared by every story."""
    return TagRef(name, urls.tag(name))


def link_entry(v: StoryView, by_slug: Mapping[str, StoryView], related: Mapping[str, Sequence[Any]],
               groups: Mapping[str, tuple[str, ...]], topic_stories: Mapping[str, Sequence[StoryView]],
               positions: Mapping[str, Mapping[str, int]], old: tuple | None, new_views: set[str],
               same_groups: bool) -> tuple:
    """(link key, links, related entry, group, slugs named) of a story: `old` (the last build's) when
    nothing it is made from changed (no view it names is in `new_views`), else made again."""
    entry, group_entry = related.get(v.slug, ()), groups.get(v.slug, ())
    if (old is not None and old[0][0] is v and old[2] is entry and (same_groups or old[3] == group_entry)
            and new_views.isdisjoint(old[4]) and _same_neighbours(v, old[0][3], topic_stories, positions)):
        return old  # nothing it is made from changed: not even looked at again
    key = _link_key(v, by_slug, related, groups, topic_stories, positions)
    made = old[1] if old is not None and _same(old[0], key) else _links(*key)
    # every slug it could show, present or not: a story added later under that slug changes its links
    named = frozenset(group_entry) | frozenset(_pair(item)[0] for item in entry) | frozenset(
        x.slug for _, newer, older in key[3] for x in (newer, older) if x is not None)
    return key, made, entry, group_entry, named


def _same_tuple(items: list[StoryView], before: tuple[StoryView, ...] | None) -> tuple[StoryView, ...]:
    """`tuple(items)`, or the last build's tuple when it holds the same views (so listings can be
    recognised by identity)."""
    new = tuple(items)
    return before if before is not None and before == new else new  # views compare by identity


def _same_tuples(lists: Mapping[str, list[StoryView]], before: Mapping[str, tuple[StoryView, ...]]
                 ) -> dict[str, tuple[StoryView, ...]]:
    return {k: _same_tuple(v, before.get(k)) for k, v in lists.items()}


def local_time(when: datetime, timezone: str) -> datetime:
    """`when` on the site's clock (`timezone`): what decides a story's archive month."""
    return when.astimezone(ZoneInfo(timezone))


def _link_key(view: StoryView, by_slug: Mapping[str, StoryView],
              related: Mapping[str, Sequence[tuple[str, tuple[str, ...]]]],
              groups: Mapping[str, tuple[str, ...]],
              topic_stories: Mapping[str, list[StoryView]],
              positions: Mapping[str, Mapping[str, int]]) -> tuple:
    """What a story's links are made from: (its view, the group's views, the related views with the
    reasons the engine gave, each topic with its newer and older neighbour)."""
    group = tuple(by_slug[s] for s in groups.get(view.slug, ()) if s in by_slug)
    in_group = {g.slug for g in group}
    refs = tuple((by_slug[slug], tuple(reasons)) for slug, reasons in map(_pair, related.get(view.slug, ()))
                 if slug in by_slug and slug not in in_group)
    neighbours = []
    for topic in view.topics:
        members = topic_stories[topic.slug]
        index = positions[topic.slug][view.slug]
        newer = members[index - 1] if index > 0 else None
        older = members[index + 1] if index + 1 < len(members) else None
        neighbours.append((topic, newer, older))
    return view, group, refs, tuple(neighbours)


def _same_neighbours(view: StoryView, before: tuple, topic_stories: Mapping[str, list[StoryView]],
                     positions: Mapping[str, Mapping[str, int]]) -> bool:
    """Whether the story's newer and older neighbour in each of its topics are the views `before` names."""
    for topic, newer, older in before:
        members = topic_stories[topic.slug]
        index = positions[topic.slug][view.slug]
        if (members[index - 1] if index > 0 else None) is not newer:
            return False
        if (members[index + 1] if index + 1 < len(members) else None) is not older:
            return False
    return True


def _pair(item: Any) -> tuple[str, Sequence[str]]:
    """A related entry as (slug, reasons): a pair already, or a `related_result.RelatedLink`."""
    return item if isinstance(item, tuple) else (item.slug, item.reasons)


def _same(a: tuple, b: tuple) -> bool:
    """Whether two link keys hold the same objects (views are compared by identity: eq=False)."""
    return a[0] is b[0] and a[1] == b[1] and a[2] == b[2] and len(a[3]) == len(b[3]) and all(
        x[0] is y[0] and x[1] is y[1] and x[2] is y[2] for x, y in zip(a[3], b[3]))


def _links(view: StoryView, group: tuple[StoryView, ...], refs: tuple[tuple[StoryView, tuple[str, ...]], ...],
           neighbours: tuple[tuple[Topic, StoryView | None, StoryView | None], ...]) -> StoryLinks:
    return StoryLinks(related=tuple(RelatedRef(other, _why(view, other, reasons)) for other, reasons in refs),
                      group=group, neighbours=neighbours)


def _why(view: StoryView, other: StoryView, reasons: Sequence[str]) -> tuple[str, ...]:
    """What two related stories share: their common topics first, then names and tags (at most four)."""
    if view.topics and other.topics:
        theirs = {t.slug for t in other.topics}
        shared = [t.title for t in view.topics if t.slug in theirs]
    else:
        shared = []
    for reason in reasons:
        if reason not in shared:
            shared.append(reason)
    return tuple(shared[:4])


def collapse(stories: Sequence[StoryView], groups: Mapping[str, tuple[str, ...]], limit: int | None = None) -> Listing:
    """Show each same-story group once, at its newest member, with the others as 'also reported by'
    (the first `limit` entries only, when given)."""
    shown: set[str] = set()
    entries = []
    present: dict[str, StoryView] | None = None  # made only when the listing has a group
    for view in stories:
        if len(entries) == limit:
            break
        if view.slug in shown:
            continue
        members = groups.get(view.slug)
        if not members:
            entries.append((view, ()))
            continue
        if present is None:
            present = {v.slug: v for v in stories}
        others = tuple(present[s] for s in members if s in present and s not in shown)
        shown.add(view.slug)
        shown.update(o.slug for o in others)
        entries.append((view, others))
    return Listing(entries=tuple(entries))


def overlapping_topics(topic: Topic, views: SiteViews, limit: int = 5) -> list[tuple[Topic, int]]:
    """The topics sharing the most stories with `topic`."""
    counts: Counter[str] = Counter()
    for view in views.topic_stories.get(topic.slug, ()):
        for other in view.topics:
            if other.slug != topic.slug:
                counts[other.slug] += 1
    by_slug = {t.slug: t for t in views.topics}
    return [(by_slug[s], n) for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def frequent_tags(stories: Sequence[StoryView], limit: int = 10) -> list[TagRef]:
    """The most frequent tags among `stories`."""
    counts: Counter[str] = Counter()
    names: dict[str, TagRef] = {}
    for view in stories:
        for tag in view.tags:
            counts[tag.url] += 1
            names.setdefault(tag.url, tag)
    return [TagRef(names[u].name, u, n) for u, n in sorted(counts.items(), key=lambda kv: (-kv[1], names[kv[0]].name))[:limit]]


def topics_of(stories: Sequence[StoryView]) -> list[tuple[Topic, int]]:
    """The topics that `stories` fall in, most frequent first."""
    counts: Counter[str] = Counter()
    by_slug: dict[str, Topic] = {}
    for view in stories:
        for topic in view.topics:
            counts[topic.slug] += 1
            by_slug[topic.slug] = topic
    return [(by_slug[s], n) for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
