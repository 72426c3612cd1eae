"""The page store: what a `digest build` in a new process needs to re-render the few pages that a
story edit touches without loading every story (see `quick.py`).

It holds, from the last build: each listing page's context (index, topic, tag, outlet and archive
pages...) pickled with its stories, topics and pages by slug; each story's *shape* (everything of
it that other pages read besides its view: date, tags, outlet, topics...); each topic's order of
stories; the related entries and same-story groups; and which stories each feed shows. Story pages
are not stored: they are made again from a story's view and links.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import pickle
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from digest.cache import load_pickled, pickled
from digest.model import Page, Story, Topic
from digest.output import PendingFile

STORE_FORMAT = 4  # 4: references by reducers (`_RefPickler`)


# A listing page as stored: (output file, URL, template, context pickled with stories by slug).
# Plain tuples: four thousand of them unpickle in a few milliseconds.
StoredPage = tuple[str, str, str, bytes]


@dataclass(frozen=True)
class StoredFeed:
    """A feed: where, its titles, and the stories it shows (newest first)."""

    path: str
    page: str
    title: str
    subtitle: str
    summaries_only: bool
    limit: int
    chosen: tuple[str, ...]


@dataclass(frozen=True)
class PageStore:
    """See the module's docstring. Saved beside the build cache; `token` ties it to the state saved with it."""

    token: str = ""  # changes at every save
    layout: str = ""  # changes when a full build saves what the quick path never changes (all but the stamps)
    salt: str = ""
    order: tuple[str, ...] = ()  # every built story, as the site lists them (newest first)
    paths: Mapping[str, str] = field(default_factory=dict)  # slug -> content file
    file_stamps: Mapping[str, str] = field(default_factory=dict)  # slug -> hash of its file
    shapes: Mapping[str, str] = field(default_factory=dict)  # slug -> story_shape(...)
    topics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # slug -> its topics' slugs
    topic_order: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # topic slug -> its stories, in order
    related: Mapping[str, tuple] = field(default_factory=dict)  # slug -> ((related slug, reasons), ...)
    # the stories whose related list quick rebuilds changed since the related index was saved (full builds)
    related_since: frozenset[str] = frozenset()
    # what the saved related index read of each story (`related_input.input_key`) and from which file bytes
    related_keys: Mapping[str, str] = field(default_factory=dict)
    related_stamps: Mapping[str, str] = field(default_factory=dict)
    # slug -> (file stamp, input key) of each story that quick rebuilds read anew since the index was
    # saved: the related lists stored are made from these (and, for the others, from related_keys)
    related_read: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    mtimes: Mapping[str, datetime] = field(default_factory=dict)  # undated stories' entry times (feeds)
    feeds: Mapping[str, StoredFeed] = field(default_factory=dict)
    pages: tuple[StoredPage, ...] = ()  # the listing pages
    showing: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # slug -> the listing pages that show it


def story_shape(story: Story, chosen: tuple[str, ...], status: tuple[str, ...], mtime: datetime | None) -> str:
    """What pages other than the story's own read from it besides its view: where it is listed
    and in which order (date, tags, outlet, topics, preview marks), its dates in feeds and the
    sitemap, and what the related-stories engine is told to pin or leave out. Two stories of the
    same shape can be swapped in every listing by swapping their views. A hash of those (short:
    ten thousand of them load in a few milliseconds)."""
    shape = (story.path, _iso(story.date), _iso(story.updated), _iso(story.ingested), story.draft, story.source,
             story.tags, story.topics, chosen, status, story.related, story.unrelated, _iso(mtime))
    return hashlib.blake2b(repr(shape).encode("utf-8"), digest_size=12).hexdigest()


def _iso(when: datetime | None) -> str | None:
    """A time as text (pickles fast; equal text means the same instant and offset)."""
    return None if when is None else when.isoformat()


def related_entries(links: Mapping[str, Sequence[Any]]) -> dict[str, tuple]:
    """The related-stories engine's lists as plain (slug, reasons) pairs."""
    return {slug: related_entry(items) for slug, items in links.items()}


def related_entry(items: Sequence[Any]) -> tuple:
    """One story's related list as plain (slug, reasons) pairs."""
    return tuple((item.slug, tuple(item.reasons)) for item in items)


class _RefPickler(pickle.Pickler):
    """Pickles a page context with story views, topics and pages by slug, noting the stories.

    By reducers in its own dispatch table, which pickle consults only for objects of those types:
    a `persistent_id` would be called for every string and number of the context too (~200 calls
    a listing page, 40 % of the store's time)."""

    def __init__(self, file: io.BytesIO):
        from digest.views import StoryView  # here: reading the store's file hashes needs no views (related_ahead)

        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.slugs: set[str] = set()
        table = copyreg.dispatch_table.copy()
        table[StoryView] = self._view
        table[Topic] = _topic
        table[Page] = _page
        table[Story] = _no_story
        self.dispatch_table = table

    def _view(self, view: Any) -> tuple:
        self.slugs.add(view.slug)
        return _ref, ("s", view.slug)


def _ref(kind: str, slug: str) -> Any:
    """What a stored context's reference unpickles to: `unpack_context` supplies its own."""
    raise pickle.UnpicklingError("a page context's references are resolved by unpack_context")


def _topic(topic: Topic) -> tuple:
    return _ref, ("t", topic.slug)


def _page(page: Page) -> tuple:
    return _ref, ("p", page.slug)


def _no_story(story: Story) -> tuple:
    raise TypeError("a page context holds a Story, not its StoryView")  # by value, it would go stale


def pack_context(context: Mapping[str, Any]) -> tuple[bytes, tuple[str, ...]]:
    """(the context pickled with views, topics and pages by slug, the slugs of the stories it shows)."""
    buffer = io.BytesIO()
    pickler = _RefPickler(buffer)
    pickler.dump(dict(context))
    return buffer.getvalue(), tuple(sorted(pickler.slugs))


class _RefUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, resolve: Callable[[str, str], Any]):
        super().__init__(io.BytesIO(data))
        self._resolve = resolve

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_ref":
            return self._resolve
        return super().find_class(module, name)


def unpack_context(blob: bytes, resolve: Callable[[str, str], Any]) -> dict[str, Any]:
    """A stored context, `resolve(kind, slug)` giving each story view ("s"), topic ("t") and page ("p")."""
    return _RefUnpickler(blob, resolve).load()


def stored_pages(specs: Iterable[Any], names: Sequence[str], fresh: set[str], previous: PageStore | None
                 ) -> tuple[tuple[StoredPage, ...], dict[str, tuple[int, ...]]]:
    """The listing pages of a build (every page but story pages), and for each story the ones that
    show it: pages in `fresh` (rendered by this build) are pickled again, the others kept from
    `previous` when it has them."""
    kept = {page[0]: page for page in previous.pages} if previous is not None else {}
    kept_slugs = _slugs_by_page(previous) if previous is not None else {}
    pages: list[StoredPage] = []
    showing: dict[str, list[int]] = {}
    for name, spec in zip(names, specs):
        if spec.template == "story.html":
            continue
        old = kept.get(name)
        if old is not None and name not in fresh and old[1] == spec.url and old[2] == spec.template:
            page, slugs = old, kept_slugs.get(name, ())
        else:
            blob, slugs = pack_context(spec.context)
            page = (name, spec.url, spec.template, blob)
        for slug in slugs:
            showing.setdefault(slug, []).append(len(pages))
        pages.append(page)
    return tuple(pages), {slug: tuple(at) for slug, at in showing.items()}


def _slugs_by_page(store: PageStore) -> dict[str, list[str]]:
    """Output file -> the slugs of the stories it shows (the store's index turned around)."""
    out: dict[str, list[str]] = {}
    for slug, at in store.showing.items():
        for i in at:
            out.setdefault(store.pages[i][0], []).append(slug)
    return out


def save_store(path: Path, store: PageStore, layout: bool = True) -> None:
    """Write the store (atomically) beside the cache file `path`: the stamps and related lists
    (`.stamps`, small) and, with `layout`, the rest (`.pages`)."""
    for pending in pending_store(path, store, layout):
        pending.commit()


def pending_store(path: Path, store: PageStore, layout: bool = True) -> list[PendingFile]:
    """`save_store`'s files written, not yet in place: commit them in order (`.pages` first)."""
    files: list[PendingFile] = []
    try:
        if layout:
            files.append(PendingFile(path.with_suffix(".pages"), [pickled(
                replace(store, token="", file_stamps={}, related={}, related_since=frozenset(), related_read={}),
                STORE_FORMAT)]))
        files.append(PendingFile(path.with_suffix(".stamps"), [pickled(
            (store.token, store.layout, store.file_stamps, store.related, store.related_since, store.related_read),
            STORE_FORMAT)]))
    except BaseException:
        for pending in files:
            pending.discard()
        raise
    return files


def stored_stamps(path: Path) -> tuple[str, Mapping[str, str]] | None:
    """(token, file hash by slug) of the store saved beside the cache file `path` (see `load_store`),
    read without the rest; None when missing or damaged."""
    stamps = load_pickled(path.with_suffix(".stamps"), tuple, STORE_FORMAT)
    return (stamps[0], stamps[2]) if len(stamps) == 6 else None


def load_store(path: Path) -> PageStore | None:
    """The store saved beside the cache file `path`, or None (missing, damaged, another format)."""
    layout = load_pickled(path.with_suffix(".pages"), PageStore, STORE_FORMAT)
    stamps = load_pickled(path.with_suffix(".stamps"), tuple, STORE_FORMAT)
    if not layout.layout or len(stamps) != 6:
        return None
    token, layout_token, file_stamps, related, since, read = stamps
    if layout_token != layout.layout:
        return None  # the two files were not saved together
    return replace(layout, token=token, file_stamps=file_stamps, related=related, related_since=since, related_read=read)


def make_store(token: str, salt: str, views: Any, specs: Sequence[Any], names: Sequence[str], fresh: set[str],
               file_stamps: Mapping[str, str], story_topics: Mapping[str, tuple[str, ...]],
               links: Mapping[str, Sequence[Any]], groups: Mapping[str, tuple[str, ...]],
               feed_jobs: Iterable[Any], mtimes: Mapping[str, datetime], previous: PageStore | None,
               related_keys: Mapping[str, str] | None = None) -> PageStore:
    """The store of a build: `views` its SiteViews, `specs`/`names` its pages and their files,
    `fresh` the pages it rendered, `file_stamps` each content path's hash, `feed_jobs` its
    `publish.FileJob`s, `previous` the last build's store when it belongs to the cache loaded;
    `related_keys`: when the related index is saved with it, what the index read of each story
    (slug -> `related_input.input_key`, as `RelatedIndex.input_keys` gives them)."""
    stories = views.stories
    pages, showing = stored_pages(specs, names, fresh, previous)
    stamps = {v.slug: file_stamps[v.story.path] for v in stories}
    topics = {v.slug: story_topics.get(v.slug, ()) for v in stories}
    # a story whose file and topics are those of the last store's has the same shape and engine
    # input (the shape's entry time and preview marks aside): taken from there, not hashed again
    before = previous if previous is not None else PageStore()
    same = {v.slug for v in stories if before.file_stamps.get(v.slug) == stamps[v.slug]
            and before.topics.get(v.slug) == topics[v.slug]}
    shapes = {v.slug: before.shapes[v.slug] if v.slug in same and not v.status and v.slug not in mtimes
              and v.slug not in before.mtimes else story_shape(v.story, topics[v.slug], v.status, mtimes.get(v.slug))
              for v in stories}
    return PageStore(
        token=token, layout=token, salt=salt,
        order=tuple(v.slug for v in stories),
        paths={v.slug: v.story.path for v in stories},
        file_stamps=stamps,
        shapes=shapes,
        topics=topics,
        topic_order={slug: tuple(v.slug for v in members) for slug, members in views.topic_stories.items()},
        related=related_entries(links),
        groups=dict(groups),
        mtimes=dict(mtimes),
        feeds={job.path: StoredFeed(job.path, job.feed.page, job.feed.title, job.feed.subtitle, job.feed.summaries_only,
                                    job.feed.limit, tuple(v.slug for v in job.chosen))
               for job in feed_jobs if job.feed is not None},
        pages=pages, showing=showing,
        related_keys=dict(related_keys) if related_keys is not None else {},
        related_stamps=stamps if related_keys is not None else {},
    )
