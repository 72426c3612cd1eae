"""A quick rebuild in a new process after a few stories were edited (`digest build` after a save).

The full engine (`build.py`) loads every story, builds every view and fingerprints every page:
about three seconds at 10,000 stories even when one story changed. When only story files were
edited, and none of them changed its *shape* (`pagestore.story_shape`: date, tags, outlet,
topics...), every listing keeps its stories in the same order: only the pages that show an
edited story, the story pages whose related list changed, and the feeds that show an edited
story can differ. This path reads the page store of the last build (`pagestore.py`), reads only
those stories (each record of the content cache is pickled on its own), renders those pages and
feeds, and saves the cache as the full engine would. Anything else (a new, removed, renamed or
re-dated story, a topic, page, template, static file or config edit, a changed same-story group,
a damaged or missing cache, a missing output file) returns None, and the full engine builds:
both give the same bytes (tests/unit/test_quick.py compares them with clean builds).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from digest import urls
from digest.cache import BuildCache, Manifest, StoredRecords, code_version, content_stamp, delta_fits, load_manifest, \
    load_state, save_delta, save_state
from digest.content import Loaded, decode, file_time, listing_from_scan, parse_story, shown_prefix
from digest.errors import ContentError
from digest.fingerprint import page_fingerprint, stamp_of_story
from digest.inputs import RACY_NS, BuildOptions, other_inputs_since, racy_inputs
from digest.model import SiteConfig, Story
from digest.output import WriteReport, write_site
from digest import related_ahead
from digest.pagestore import PageStore, load_store, save_store, story_shape, unpack_context
from digest.progress import Stages
from digest.related_ahead import Ahead, RelatedRequest
from digest.views import SiteViews, excerpt_outlets, make_view, ordered_pages

QUICK_LIMIT = 16  # edited story files a quick rebuild takes on
DRIFT_LIMIT = 64  # stories the saved related index has not read since their last edit (see `_relate`)


@dataclass(frozen=True)
class Quick:
    """What a quick rebuild did."""

    pages: int
    report: WriteReport
    rendered: int
    warnings: tuple[str, ...]
    deferred: Callable[[], object] | None


@dataclass(frozen=True)
class _Edit:
    """An edited story file: its record (new parse, or the old one under a new stat key)."""

    shown: str
    slug: str
    loaded: Loaded
    changed: bool  # its bytes changed (not only its modification time)


@dataclass(frozen=True)
class _Plan:
    """What the checks of a quick rebuild read: the last build's cache and the edited stories."""

    last: Manifest
    state: BuildCache
    store: PageStore
    records: StoredRecords
    site: "_Site"
    edits: list[_Edit]
    chosen: Mapping[str, tuple[str, ...]]  # each edited story's topics
    outputs_present: Callable[[], bool]  # whether every output file is still there (checked meanwhile)


def quick_build(root: Path, config: SiteConfig, options: BuildOptions, now: datetime, out_dir: Path,
                template_dirs: list[Path], cache_path: Path, inputs: tuple, stages: Stages,
                static: Callable[[], dict[str, bytes]], ahead: Ahead | None = None) -> Quick | None:
    """Rebuild after story edits that keep every story's shape, or None (the full engine builds then).

    `static` gives the static files and theme assets (rewritten where they differ, as always);
    `ahead`: a process started to update the related index (`related_ahead.started`)."""
    if not options.persist or not options.use_cache or options.drafts or options.future:
        return None
    plan = _plan(root, config, now, out_dir, cache_path, inputs, stages)
    if plan is None:
        return None
    try:
        return _build(plan, config, options, now, out_dir, template_dirs, cache_path, inputs, stages, static, ahead)
    finally:
        plan.outputs_present()  # the check's process is waited for, whatever happened


def _build(plan: _Plan, config: SiteConfig, options: BuildOptions, now: datetime, out_dir: Path,
           template_dirs: list[Path], cache_path: Path, inputs: tuple, stages: Stages,
           static: Callable[[], dict[str, bytes]], ahead: Ahead | None) -> Quick | None:
    store, state = plan.store, plan.state
    if not any(e.changed for e in plan.edits):  # touched, or too recent to trust, but the same bytes
        if not plan.outputs_present():
            return None
        with stages.stage("cache save"):
            _save(cache_path, plan, inputs, None, dict(state.fingerprints), dict(state.search_records))
        return Quick(pages=plan.last.files, report=WriteReport(0, plan.last.files, 0), rendered=0,
                     warnings=plan.last.warnings, deferred=None)
    edit_stamps = {e.slug: e.loaded.stamp for e in plan.edits}
    file_stamps = {**store.file_stamps, **edit_stamps}
    stories = _Stories(config, store, plan.records, plan.site, {e.slug: e.loaded.item for e in plan.edits})
    with stages.stage("related stories"):
        relating = _relate(config, cache_path, store, stories, file_stamps, edit_stamps, ahead)
    edited = {e.slug for e in plan.edits if e.changed}
    stamps = _Stamps(store, plan.site, plan.records, file_stamps)
    fingerprints = dict(state.fingerprints)
    from digest.render import render_pages

    # the listing pages and feeds first: they do not show related lists, which are under way meanwhile
    with stages.stage("fingerprints"):
        todo = _changed_pages(_listing_specs(stories, store, plan.site, edited), store.salt, stamps, fingerprints)
    with stages.stage("render pages"):
        files: dict[str, Any] = dict(render_pages(config, _shell(plan.site), todo, template_dirs))
    with stages.stage("feeds"):
        rendered = len(todo) + _feeds(config, now, store, stories, stamps, edited, fingerprints, files)
    with stages.stage("related stories"):
        related = relating()
        if related is None:
            return None
        links, groups, entries, relisted, since, related_files, related_read = related
    with stages.stage("fingerprints"):
        todo = _changed_pages(_story_specs(stories, store, links, groups, entries, relisted, edited), store.salt,
                              stamps, fingerprints)
    with stages.stage("render pages"):
        files.update(render_pages(config, _shell(plan.site), todo, template_dirs))
    rendered += len(todo)
    files.update(related_files)
    files.update(static())
    if not plan.outputs_present():
        return None  # a page or file of the output was removed: the full engine writes it again
    with stages.stage("write"):
        from digest import search

        protected = frozenset({search.BUNDLE_DIR}) if config.search_enabled else frozenset()
        report = write_site(out_dir, files, expected=set(state.outputs), protected=protected, previous=state.outputs)
    search_records, deferred = dict(state.search_records), None
    if config.search_enabled:
        with stages.stage("search index"):
            deferred = _search(config, options, out_dir, store, stories, stamps, search_records)
    with stages.stage("cache save"):
        store = replace(store, token=secrets.token_hex(8), file_stamps=file_stamps, related_since=since,
                        related_read=related_read,
                        related=entries if entries is not None else store.related)
        _save(cache_path, plan, inputs, store, fingerprints, search_records)
    return Quick(pages=plan.last.files, report=report, rendered=rendered, warnings=plan.last.warnings,
                 deferred=deferred)


def _plan(root: Path, config: SiteConfig, now: datetime, out_dir: Path, cache_path: Path, inputs: tuple,
          stages: Stages) -> _Plan | None:
    """The edited stories and the cache they apply to, when a quick rebuild can take them on."""
    with stages.stage("cache load"):
        last = load_manifest(cache_path)
        edited_files = _edited_files(root, config, last, inputs, now)
        if edited_files is None or not edited_files[0]:
            return None
        names, unsure = edited_files
        state = load_state(cache_path)
        if not state.store_token or state.manifest.saved_ns != last.saved_ns:
            return None
        store = load_store(cache_path)
        records = StoredRecords.open(cache_path, state.records_base[0])
        if store is None or store.token != state.store_token or records is None:
            return None
        if not delta_fits(len(records.changed) + len(records.removed) + len(names), len(store.paths)):
            return None  # the full engine rewrites the content cache's base file
    with stages.stage("parse content"):
        site = _Site.read(root, config, inputs, records)
        edits = _read_edits(root, config, names, records, site)
        if edits is None or not _unchanged(root, config, unsure, records):
            return None
    with stages.stage("topics"):
        chosen = _topics_of(edits, site, state)
        if not _same_shapes(config, edits, chosen, store, site, now):
            return None
    return _Plan(last, state, store, records, site, edits, chosen, _checking(out_dir, state.outputs))


def _changed_pages(specs: list, salt: str, stamps: Mapping[str, str], fingerprints: dict[str, str]) -> list:
    """The specs whose fingerprint differs from the last build's (`fingerprints` is brought up to date)."""
    todo = []
    for spec in specs:
        name = urls.file_for(spec.url)
        fingerprint = page_fingerprint(salt, spec.context, stamps)
        if fingerprints.get(name) != fingerprint:
            todo.append(spec)
        fingerprints[name] = fingerprint
    return todo


def _search(config: SiteConfig, options: BuildOptions, out_dir: Path, store: PageStore, stories: "_Stories",
            stamps: "_Stamps", search_records: dict) -> Callable[[], object] | None:
    """Index the site's text again (Pagefind), with the edited stories' new records; returns the
    indexing when `defer_search` asks to run it later."""
    from digest import search

    ordered = []
    for slug in store.order:
        key = stamps.of(slug)
        record = search_records.get(key)
        if record is None:
            record = search_records[key] = search.story_record(stories[slug], config.language)
        ordered.append(record)
    index = search.site_index(config, out_dir, ordered)
    if options.defer_search:
        return index
    index()
    return None


def _save(cache_path: Path, plan: _Plan, inputs: tuple, store: PageStore | None, fingerprints: dict[str, str],
          search_records: dict) -> None:
    """Save the cache as the full engine would have left it: the edited records (delta), the store's
    stamps (`store`, None when unchanged), then the state and the manifest that vouches for them
    (the related index is not saved: the next build brings it up to date with what it has not
    read, see `_relate`)."""
    records = plan.records
    save_delta(cache_path, records.token, {**records.changed, **{e.shown: e.loaded for e in plan.edits}},
               sorted(records.removed))
    if store is None:
        store = plan.store
    else:
        save_store(cache_path, store, layout=False)
    assignments = {**plan.state.topic_assignments, **{e.loaded.stamp: plan.chosen[e.slug] for e in plan.edits}}
    last, saved_ns = plan.last, time.time_ns()
    prefix, edited = shown_prefix(plan.site.root, plan.site.content), {e.shown: e.loaded.stamp for e in plan.edits}

    def stamp_of(name: str) -> str | None:
        shown = prefix + name.replace(os.sep, "/")
        ids = records.ids(shown)
        return edited.get(shown) or (ids[1] if ids is not None else None)

    manifest = Manifest(version=code_version(), inputs=inputs, saved_ns=saved_ns, not_before_ns=last.not_before_ns,
                        warnings=last.warnings, files=last.files, racy=racy_inputs(inputs, saved_ns, stamp_of))
    save_state(cache_path, replace(plan.state, manifest=manifest, fingerprints=fingerprints,
                                   search_records=search_records, topic_assignments=assignments,
                                   store_token=store.token))


def _edited_files(root: Path, config: SiteConfig, last: Manifest, inputs: tuple, now: datetime
                  ) -> tuple[list[str], list[str]] | None:
    """(the story files edited since the last build or modified too close to its save to trust,
    the other content files modified that close), as scanned (relative to the content folder),
    when every file edited is an existing story file, no more than QUICK_LIMIT, and nothing else
    changed; else None."""
    if not last.inputs or len(last.inputs) != len(inputs) or int(now.timestamp() * 1_000_000_000) >= last.not_before_ns:
        return None
    if any(last.inputs[i] != inputs[i] for i in (0, 1, 2, 3, 4, 6)):
        return None  # version, config, options, templates or static files
    racy = last.saved_ns - RACY_NS
    if other_inputs_since(inputs, racy):
        return None
    if len(last.inputs[5]) != len(inputs[5]):
        return None  # a file came or went
    edited, unsure = [], []
    for before, row in zip(last.inputs[5], inputs[5]):  # both sorted by name
        if before == row:
            if row[1] >= racy:
                unsure.append(row)  # perhaps edited again within the same tick as the last build read it
            else:
                continue
        elif before[0] != row[0]:
            return None  # a file came and another went
        else:
            edited.append(row)
        if len(edited) + len(unsure) > QUICK_LIMIT:
            return None
    content = root / config.content_dir
    base = str(content) + os.sep
    rows = sorted(edited + unsure)  # the listing looks a folder's run up by bisection
    stories = {path[len(base):] for path, _, _ in listing_from_scan(rows, content / "stories", root, content)}
    if any(row[0] not in stories for row in edited):
        return None  # a topic, a page, or a file that is not a story
    return [row[0] for row in edited + unsure if row[0] in stories], [row[0] for row in unsure if row[0] not in stories]


def _checking(out_dir: Path, outputs: frozenset[str]) -> Callable[[], bool]:
    """`_outputs_present(out_dir, outputs)`, found by a forked process while this one goes on (it
    costs ten thousand `stat` calls); returns how to wait for the answer (any number of times)."""
    import threading

    if not hasattr(os, "fork") or threading.active_count() != 1:  # a fork of a threaded process can hang
        present = _outputs_present(out_dir, outputs)
        return lambda: present
    pid = os.fork()
    if pid == 0:  # the child: answers with its exit status, runs nothing else of this process
        try:
            code = 0 if _outputs_present(out_dir, outputs) else 1
        except BaseException:
            code = 2
        os._exit(code)
    answer: list[bool] = []

    def wait() -> bool:
        if not answer:
            _, status = os.waitpid(pid, 0)
            answer.append(os.waitstatus_to_exitcode(status) == 0)
        return answer[0]
    return wait


def _outputs_present(out_dir: Path, outputs: frozenset[str]) -> bool:
    """Whether every file the last build left is still there (the full engine writes missing ones again)."""
    base = str(out_dir) + os.sep
    return bool(outputs) and all(os.path.isfile(base + name) for name in outputs)


class _Site:
    """The content files as the last build knew them: story paths, topics and pages (read from the cache)."""

    def __init__(self, root: Path, content: Path, keys: dict[str, tuple[int, int]], topics: list, pages: list,
                 zone: ZoneInfo, stamps: dict[str, str]):
        self.root, self.content = root, content
        self.keys = keys  # shown path -> (mtime_ns, size), from this build's scan
        self.stamps = stamps  # topic and page file -> hash of its bytes
        self.topics = topics
        self.topic_by_slug = {t.slug: t for t in topics}
        self.pages = pages
        self.page_by_slug = {p.slug: p for p in pages}
        self.zone = zone

    @classmethod
    def read(cls, root: Path, config: SiteConfig, inputs: tuple, records: StoredRecords) -> "_Site":
        content = root / config.content_dir
        found = {folder: [shown for _, shown, _ in listing_from_scan(inputs[5], content / folder, root, content)]
                 for folder in ("topics", "pages")}
        prefix = shown_prefix(root, content)
        keys = {prefix + name.replace(os.sep, "/"): (mtime, size) for name, mtime, size in inputs[5]}
        topics = [records.get(shown).item for shown in found["topics"]]
        pages = [records.get(shown).item for shown in found["pages"]]
        stamps = {shown: records.get(shown).stamp for shown in found["topics"] + found["pages"]}
        return cls(root, content, keys, topics, pages, ZoneInfo(config.timezone), stamps)


def _read_edits(root: Path, config: SiteConfig, names: list[str], records: StoredRecords, site: _Site
                ) -> list[_Edit] | None:
    """Each edited story file read (and parsed when its bytes changed); None when one cannot be
    parsed (the full engine reports it) or was not a built story."""
    content = root / config.content_dir
    edits = []
    for name in names:
        path = content / name
        shown = path.relative_to(root).as_posix()
        ids = records.ids(shown)
        if ids is None:
            return None
        data = path.read_bytes()
        stamp = content_stamp(data)
        key = site.keys[shown]
        if stamp == ids[1]:
            old = records.get(shown)
            edits.append(_Edit(shown, old.item.slug, Loaded(key, stamp, old.item), False))
            continue
        try:
            story = parse_story(decode(data, shown), shown, site.zone)
        except ContentError:
            return None
        edits.append(_Edit(shown, story.slug, Loaded(key, stamp, story), True))
    return edits


def _unchanged(root: Path, config: SiteConfig, names: list[str], records: StoredRecords) -> bool:
    """Whether these content files (not stories) still hold the bytes the last build read."""
    content = root / config.content_dir
    for name in names:
        ids = records.ids((content / name).relative_to(root).as_posix())
        if ids is not None and content_stamp((content / name).read_bytes()) != ids[1]:
            return False
    return True


def _topics_of(edits: list[_Edit], site: _Site, state: BuildCache) -> dict[str, tuple[str, ...]]:
    """Each edited story's topics, as `build._assign_topics` gives them."""
    from digest import topics as topics_mod

    rules_key = topics_mod.rules_key(site.topics, site.stamps.__getitem__)
    known = state.topic_assignments if state.topic_rules_key == rules_key else {}
    out = {}
    todo = [e.loaded.item for e in edits if e.loaded.stamp not in known]
    fresh = topics_mod.assign_topics(todo, site.topics) if todo else {}
    for e in edits:
        out[e.slug] = known[e.loaded.stamp] if e.loaded.stamp in known else fresh[e.slug]
    return out


def _same_shapes(config: SiteConfig, edits: list[_Edit], chosen: Mapping[str, tuple[str, ...]], store: PageStore,
                 site: _Site, now: datetime) -> bool:
    """Whether every edited story is still built, under its slug, with its old shape, and every
    undated story's entry time (its file's modification time, clamped to the clock) is unchanged."""
    for e in edits:
        story = e.loaded.item
        if store.paths.get(e.slug) != e.shown or story.draft or (story.date is not None and story.date > now):
            return False
        if story_shape(story, chosen[e.slug], (), _entry_mtime(story, e.loaded.key, now)) != store.shapes[e.slug]:
            return False
    for slug, when in store.mtimes.items():
        key = site.keys.get(store.paths[slug])
        if key is None or file_time(key, now) != when:
            return False
    return True


def _entry_mtime(story: Story, key: tuple[int, int], now: datetime) -> datetime | None:
    """The entry time the full engine gives a story in feeds (`build._entry_mtimes`), or None."""
    return file_time(key, now) if story.date is None and story.ingested is None else None


class _Stories(Mapping):
    """Story views by slug, made on first use from the content cache (only the stories a page shows are read)."""

    def __init__(self, config: SiteConfig, store: PageStore, records: StoredRecords, site: _Site,
                 edited: Mapping[str, Story]):
        self._config, self._store, self._records, self._site, self._edited = config, store, records, site, edited
        self._excerpt_sources = excerpt_outlets(config)
        self._made: dict[str, Any] = {}

    def story(self, slug: str) -> Story:
        story = self._edited.get(slug)
        return story if story is not None else self._records.get(self._store.paths[slug]).item

    def __getitem__(self, slug: str) -> Any:
        view = self._made.get(slug)
        if view is None:
            view = self._made[slug] = make_view(self._config, self.story(slug), self._excerpt_sources,
                                                self._site.topic_by_slug, self._store.topics[slug], ())
        return view

    def __contains__(self, slug: object) -> bool:
        return slug in self._store.paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.order)

    def __len__(self) -> int:
        return len(self._store.order)


class _Stamps(Mapping):
    """Content path -> stamp, as the full engine fingerprints with (`fingerprint.story_stamp` for stories)."""

    def __init__(self, store: PageStore, site: _Site, records: StoredRecords, file_stamps: Mapping[str, str]):
        self._store, self._site, self._records, self._file_stamps = store, site, records, file_stamps
        self._slug_of = {path: slug for slug, path in store.paths.items()}

    def of(self, slug: str) -> str:
        """`story_stamp(file stamp, view)` of a built story, without making its view."""
        topics = [s for s in self._store.topics[slug] if s in self._site.topic_by_slug]
        return stamp_of_story(slug, self._file_stamps[slug], topics, ())

    def __getitem__(self, path: str) -> str:
        slug = self._slug_of.get(path)
        if slug is not None:
            return self.of(slug)
        ids = self._records.ids(path)
        if ids is None:
            raise KeyError(path)
        return ids[1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._slug_of)

    def __len__(self) -> int:
        return len(self._slug_of)


def _relate(config: SiteConfig, cache_path: Path, store: PageStore, stories: _Stories,
            file_stamps: Mapping[str, str], edit_stamps: Mapping[str, str], ahead: Ahead | None
            ) -> Callable[[], tuple | None]:
    """How to wait for (links, groups, related entries or None, the stories whose entry changed, the
    stories whose entry quick rebuilds changed since the index was saved, {"related.json": bytes},
    what the entries were made from: `PageStore.related_read`) after the edits, from the saved
    related index brought up to date with the stories it has not read since their last edit (the
    index is saved by full builds only; the update runs in the process `ahead` when there is one);
    the wait gives None when the same-story groups changed or the index cannot be used.
    `file_stamps`: every story's file hash now; `edit_stamps`: those of the stories this build read."""
    if not (config.related_enabled and config.related_count > 0):
        return lambda: ({}, {}, None, set(), frozenset(), {}, {})
    # the stories the index has not read since it was saved (it checks that these are all), and
    # those whose file differs from what the stored lists were made from
    saved, read = store.related_stamps, store.related_read
    unread = [slug for slug, stamp in file_stamps.items() if saved.get(slug) != stamp]
    drifted = [slug for slug in unread if slug not in read]
    drifted += [slug for slug, (stamp, _) in read.items() if slug in file_stamps and stamp != file_stamps[slug]]
    if _related_inputs_unchanged(store, stories, drifted):
        # the stories give the engine what the stored lists were made from: those lists stand
        # (no index to load, no numpy)
        if ahead is not None:
            ahead.close()
        return lambda: (store.related, store.groups, store.related, set(), store.related_since, {}, store.related_read)
    if len(unread) > DRIFT_LIMIT:
        return lambda: None
    edited = {slug: stamp for slug, stamp in edit_stamps.items() if store.file_stamps.get(slug) != stamp}
    waiting = related_ahead.ask(ahead, cache_path, RelatedRequest(
        config.related_count, store.token, edited, {slug: stories.story(slug) for slug in unread},
        {slug: store.topics[slug] for slug in unread}, store.related_since), store.file_stamps)

    def finish() -> tuple | None:
        update = waiting()
        if update is None or update.groups != store.groups:
            return None
        # A list the index did not make again is the one it saved, which the store holds unless a
        # quick rebuild since changed it (`related_since`): only those are compared.
        changed = {slug: entry for slug, entry in update.entries.items() if store.related.get(slug) != entry}
        entries = {**store.related, **changed}
        # related.json lists each story's group and related slugs: the same bytes unless a list changed
        files = {"related.json": update.json} if changed else {}
        # the entries as (slug, reasons) pairs are the links (views._link_key reads either)
        return (entries, update.groups, entries, set(changed), store.related_since | frozenset(changed), files,
                update.read)
    return finish


def _related_inputs_unchanged(store: PageStore, stories: "_Stories", drifted: Sequence[str]) -> bool:
    """Whether every story whose file changed since the stored related lists were made (`drifted`)
    still gives the engine what they were made from (an edit past the start of the body, a note,
    an image...)."""
    from digest.related_input import input_key

    if not store.related_keys:
        return False
    read = store.related_read

    def made_from(slug: str) -> str | None:
        return read[slug][1] if slug in read else store.related_keys.get(slug)
    return len(drifted) <= DRIFT_LIMIT and all(
        input_key(stories.story(slug), store.topics[slug]) == made_from(slug) for slug in drifted)


class _Order(Sequence):
    """A topic's stories in order, as views made on use."""

    def __init__(self, slugs: tuple[str, ...], stories: _Stories):
        self._slugs, self._stories = slugs, stories

    def __getitem__(self, index: Any) -> Any:
        return self._stories[self._slugs[index]]

    def __len__(self) -> int:
        return len(self._slugs)


class _Positions(Mapping):
    """Topic slug -> {story slug: its position}, made for a topic on first use."""

    def __init__(self, orders: Mapping[str, tuple[str, ...]]):
        self._orders, self._made = orders, {}

    def __getitem__(self, topic: str) -> Mapping[str, int]:
        made = self._made.get(topic)
        if made is None:
            made = self._made[topic] = {slug: i for i, slug in enumerate(self._orders[topic])}
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._orders)

    def __len__(self) -> int:
        return len(self._orders)


def _story_specs(stories: _Stories, store: PageStore, links: Mapping, groups: Mapping[str, tuple[str, ...]],
                 entries: Mapping[str, tuple] | None, relisted: set[str], edited: set[str]) -> list:
    """The story pages that can differ: the edited stories', those whose related list changed, and
    those that show an edited story (as related, same story elsewhere, or topic neighbour)."""
    from digest.render import PageSpec
    from digest.views import _link_key, _links

    pages = edited | relisted
    if entries is not None:
        pages.update(slug for slug, entry in entries.items() if any(other in edited for other, _ in entry))
    pages.update(slug for slug, members in groups.items() if not edited.isdisjoint(members))
    positions = _Positions(store.topic_order)
    for slug in edited:
        for topic in store.topics[slug]:
            order = store.topic_order.get(topic)
            if order is None:
                continue
            at = positions[topic][slug]
            pages.update(order[i] for i in (at - 1, at + 1) if 0 <= i < len(order))
    topic_stories = {topic: _Order(order, stories) for topic, order in store.topic_order.items()}
    specs = []
    for slug in sorted(pages):
        view = stories[slug]
        made = _links(*_link_key(view, stories, links, groups, topic_stories, positions))
        specs.append(PageSpec(view.url, "story.html", {"entry": view, "links": made}))
    return specs


def _listing_specs(stories: _Stories, store: PageStore, site: _Site, edited: set[str]) -> list:
    """The stored listing pages that show an edited story, with their stories' views made again."""
    from digest.render import PageSpec

    def resolve(kind: str, slug: str) -> Any:
        if kind == "s":
            return stories[slug]
        return site.topic_by_slug[slug] if kind == "t" else site.page_by_slug[slug]

    shown = sorted({i for slug in edited for i in store.showing.get(slug, ())})
    return [PageSpec(store.pages[i][1], store.pages[i][2], unpack_context(store.pages[i][3], resolve)) for i in shown]


def _shell(site: _Site) -> SiteViews:
    """Views with only what every page reads besides its context: the menu's topics and pages."""
    return SiteViews(stories=(), by_slug={}, links={}, topics=tuple(sorted(site.topics, key=lambda t: t.title.casefold())),
                     topic_stories={}, tags=(), tag_stories={}, sources=(), source_stories={}, months=(), undated=(),
                     pages=ordered_pages(site.pages))


def _feeds(config: SiteConfig, now: datetime, store: PageStore, stories: _Stories, stamps: _Stamps,
           edited: set[str], fingerprints: dict[str, str], files: dict[str, Any]) -> int:
    """Write again the feeds that show an edited story; returns how many."""
    from digest.feeds import FeedJob, FeedWriter
    from digest.publish import feed_fingerprint

    writer, made = FeedWriter(config, now, store.mtimes), 0
    for path, feed in store.feeds.items():
        if edited.isdisjoint(feed.chosen):
            continue
        job = FeedJob(path, (), feed.page, feed.title, feed.subtitle, feed.summaries_only, feed.limit)
        chosen = [stories[slug] for slug in feed.chosen]
        fingerprint = feed_fingerprint(store.salt, job, chosen, stamps, store.mtimes)
        if fingerprints.get(path) != fingerprint:
            files[path] = writer.render(job, chosen)
            made += 1
        fingerprints[path] = fingerprint
    return made
