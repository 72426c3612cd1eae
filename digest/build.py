"""The build: load -> classify (topics) -> relate -> views -> render -> write.

One engine for clean and incremental builds: content parses, page fingerprints and the input
manifest are cached outside the output folder, so a rebuild re-parses only changed files and
re-renders only pages whose inputs changed; a rebuild after no change does no work. Every
problem is gathered before anything is written, so a failed build leaves the previous output
as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from digest import __version__, prerender
from digest.cache import (BuildCache, Manifest, RecordsWriter, cache_file, code_version, load_cache, pending_related,
                          remove_cache, remove_stale_temporaries, save_cache)
from digest.inputs import RACY_NS, BuildOptions, input_manifest, output_dir, racy_inputs, template_dirs, up_to_date
from digest.config import load_config, with_base_url
from digest.content import file_time, load_site_cached, shown_prefix
from digest.fingerprint import page_fingerprint, story_stamp
from digest.model import Site, SiteConfig, Story
from digest.output import PendingFile, Staged, WriteReport, write_fresh, write_site
from digest.pagestore import PageStore, load_store, make_store, pending_store
from digest.progress import Report, Stages, silent
from digest import urls
from digest.urls import file_for
from digest.views import build_views

if TYPE_CHECKING:
    from digest.parallel import TreeMaker
    from digest.related_ahead import Ahead
    from digest.related_result import Related

NEVER = 2**63 - 1
_REMEMBERED: dict[Path, BuildCache] = {}  # cache_path -> state kept in memory (persist=False)


@dataclass(frozen=True)
class BuildResult:
    pages: int  # output files the site consists of
    report: WriteReport
    rendered: int = 0  # pages rendered by this build (the rest were unchanged)
    warnings: tuple[str, ...] = field(default=())
    skipped: bool = False  # nothing changed since the last build: no work done
    deferred: Callable[[], object] | None = None  # the search index, when `defer_search` asked to run it later
    timings: tuple[tuple[str, float], ...] = ()  # (stage, seconds) in the order the stages ran
    quick: bool = False  # built by the quick path (a few story edits; quick.py)


@dataclass(frozen=True)
class _AlongSide:
    """What a full build makes in its own process while the workers render (`render_all(meanwhile=...)`)."""

    fingerprints: dict[str, str]  # output file -> fingerprint (the feeds' added after rendering)
    contexts: dict[str, tuple]
    feed_jobs: list
    feeds: dict[str, bytes]  # the feeds that changed
    extra: dict[str, bytes]  # sitemap, robots.txt, static files, related.json
    store: PageStore | None  # for the quick path (persisting builds only)
    store_files: tuple[PendingFile, ...]  # that store, written meanwhile, for `_keep` to move into place
    related_file: PendingFile | None  # the related index, written meanwhile (persisting builds)
    seconds: float  # time spent (counted in its own stages)


def select_stories(site: Site, options: BuildOptions, now: datetime) -> tuple[list[Story], dict[str, tuple[str, ...]], list[Story]]:
    """(built stories, their preview status marks, stories left out) for the given options."""
    built, status, left_out = [], {}, []
    for story in site.stories:
        marks = []
        if story.draft:
            marks.append("draft")
        if story.date is not None and story.date > now:
            marks.append("future")
        if ("draft" in marks and not options.drafts) or ("future" in marks and not options.future):
            left_out.append(story)
            continue
        built.append(story)
        if marks:
            status[story.slug] = tuple(marks)
    return built, status, left_out


def site_config(root: Path, options: BuildOptions) -> SiteConfig:
    """digest.toml with the command line's overrides."""
    config = load_config(root)
    return config if options.base_url is None else with_base_url(config, options.base_url)


def skipped_result(last: Manifest) -> BuildResult:
    """The result of a build that found nothing changed."""
    return BuildResult(pages=last.files, report=WriteReport(0, last.files, 0), warnings=last.warnings, skipped=True)


def build_site(root: Path, *, options: BuildOptions = BuildOptions(), now: datetime,
               inputs: tuple | None = None, progress: Report = silent, ahead: Ahead | None = None,
               leftovers: list | None = None) -> BuildResult:
    """Build the site at `root` into its output folder; raise DigestError on any problem.

    `inputs` is the input manifest when the caller has just taken it (it is taken otherwise);
    `progress` is told `(stage, done, total)` while stories are parsed and pages rendered;
    `ahead`: a process updating the related index for a quick rebuild (`related_ahead.started`),
    ended here when the full engine builds. `leftovers`: given by a process that ends after this
    build (the command line), which keeps what the build made there for its exit to drop at
    once, rather than have it freed object by object as the build returns (~0.1 s at 10,000
    stories)."""
    stages = Stages()
    with stages.stage("config and inputs"):
        config, out_dir, dirs, cache_path, inputs, last = _prepare(root, options, now, inputs)
    if last is not None:
        return skipped_result(last)
    from digest.quick import quick_build  # a few story edits: only the pages that show them

    tried = Stages()
    quick = quick_build(root, config, options, now, out_dir, dirs, cache_path, inputs, tried,
                        lambda: static_files(root / config.static_dir, [d / "assets" for d in reversed(dirs)]), ahead)
    if ahead is not None:
        ahead.close()  # the full engine updates the index itself (or the quick rebuild is done with it)
    if quick is not None:
        return BuildResult(pages=quick.pages, report=quick.report, rendered=quick.rendered, warnings=quick.warnings,
                           deferred=quick.deferred, timings=stages.spent() + tried.spent(), quick=True)
    stages.add("quick rebuild check", sum(seconds for _, seconds in tried.spent()))
    # the full engine's own modules (the quick path does without them)
    from digest.parallel import TreeMaker, can_fork, fresh_tree, staging_for, workers

    with stages.stage("cache load"):
        if options.persist:  # the large files a killed build was writing (see PendingFile) go first
            remove_stale_temporaries(cache_path.parent, _wall_ns())
        cache = _cache_for(cache_path, options)
    with contextlib.ExitStack() as scope:
        written = None
        if options.persist and not cache.records_base[0]:  # no records file to add a delta to: write one as stories are parsed
            written = RecordsWriter(cache_path)
            scope.callback(written.abort)
        with stages.stage("parse content"):
            from digest.topics import topic_assigner  # each story's topics found by the process that parsed it

            site, records, parsed_topics = load_site_cached(
                config, cache.records, cache.manifest.saved_ns - RACY_NS, progress, options.parallel,
                scanned=inputs[5], topics_for=topic_assigner,  # the manifest's scan of content/
                written=written.add if written is not None else None)
        stories, status, left_out = select_stories(site, options, now)
        warnings = _pin_warnings(stories, left_out)
        staging = scope.enter_context(staging_for(out_dir))  # pages that render workers wrote, until they are moved into place
        maker = None
        if options.parallel and workers() > 1 and can_fork() and _is_empty(out_dir):
            # a first build: the story pages' folders and files are made meanwhile (see TreeMaker)
            maker = TreeMaker(fresh_tree(staging))
            scope.callback(maker.abort)
            maker.add([file_for(urls.story(story.slug)) for story in stories])
        bodies = _bodies_ahead(config, options, cache, stories, staging)
        if bodies is not None:
            scope.enter_context(prerender.using(bodies))
            bodies.start()
        job = _Job(root, config, options, now, out_dir, dirs, cache_path, inputs, progress, stages, leftovers)
        parsed = _Parsed(cache, site, records, parsed_topics, stories, status, left_out, warnings)
        return _build_rest(job, parsed, staging, maker, written, bodies, scope.callback)


@dataclass(frozen=True)
class _Job:
    """What a full build is asked to do, and where (see `build_site`)."""

    root: Path
    config: SiteConfig
    options: BuildOptions
    now: datetime
    out_dir: Path
    dirs: list[Path]  # template folders, the site's first
    cache_path: Path
    inputs: tuple  # the input manifest
    progress: Report
    stages: Stages
    leftovers: list | None  # see `build_site`


@dataclass(frozen=True)
class _Parsed:
    """What a full build has read: the last build's cache and the content."""

    cache: BuildCache
    site: Site
    records: dict  # content path -> its parsed record (`content.Loaded`)
    parsed_topics: dict  # file stamp -> topics, found while the stories were parsed
    stories: list[Story]  # the stories built
    status: dict  # slug -> preview marks ("draft", "future")
    left_out: list[Story]  # drafts and future stories not built
    warnings: list[str]  # added to as the build goes on


def _build_rest(job: _Job, parsed: _Parsed, staging: Path, maker: TreeMaker | None,
                written: RecordsWriter | None, bodies: prerender.Bodies | None,
                on_exit: Callable[[Callable[[], object]], object]) -> BuildResult:
    """The build from topics on (see `build_site`), with the staging folder at hand; `bodies`:
    the story bodies being rendered ahead meanwhile, stopped when the pages render; `on_exit`
    registers what to undo when the build ends (the cache files written ahead, if not kept)."""
    from digest import publish, search
    from digest.parallel import fresh_tree, render_all, workers
    from digest.render import menu_items, page_specs

    root, config, options, now, out_dir, dirs = job.root, job.config, job.options, job.now, job.out_dir, job.dirs
    cache_path, inputs, progress, stages, leftovers = job.cache_path, job.inputs, job.progress, job.stages, job.leftovers
    cache, site, records, parsed_topics = parsed.cache, parsed.site, parsed.records, parsed.parsed_topics
    stories, status, left_out, warnings = parsed.stories, parsed.status, parsed.left_out, parsed.warnings
    with stages.stage("topics"):
        rules_key, story_topics, topic_memo = _assign_topics(stories, site.topics, records, cache, options.parallel,
                                                             parsed_topics)
    with stages.stage("related stories"):
        links, groups, related_state, relations = _relate(
            config, stories, story_topics, cache.related_state, workers() if options.parallel else 1,
            {s.slug: records[s.path].stamp for s in stories})
    with stages.stage("views"):
        same_config = cache.views is not None and cache.config == config
        views = build_views(config, stories, site.topics, site.pages, story_topics, links, groups, status,
                            previous=cache.views if same_config else None, remember=not options.persist)
    undated = [s for s in stories if s.date is None]
    if undated:
        warnings.append(_undated_warning(undated, config.archive_enabled))

    with stages.stage("page list"):
        specs = list(page_specs(config, views))
    with stages.stage("fingerprints"):
        stamps = {path: record.stamp for path, record in records.items()}
        for view in views.stories:
            stamps[view.story.path] = story_stamp(stamps[view.story.path], view)
        salt = _salt(config, dirs, menu_items(config, views), [t.slug + "|" + stamps[t.path] for t in views.topics])
        names = [file_for(spec.url) for spec in specs]
        if maker is not None:
            maker.add(names)  # the other pages' folders (the story pages' are under way)
        later = not cache.fingerprints  # no last build to compare with: every page renders, fingerprinted meanwhile
        if later:
            stale = specs
        else:
            fingerprints, contexts = _fingerprints(salt, names, specs, stamps, cache, keep=not options.persist)
            stale = _stale(out_dir, names, specs, fingerprints, cache,
                           trust=not options.persist and cache.views is not None and (out_dir / "404.html").is_file())
    fresh = _is_empty(out_dir)  # a first build: pages are laid out beside it and moved in with one rename

    def meanwhile() -> _AlongSide:  # pure work on the views, in this process while the workers render
        started = time.perf_counter()
        if later:
            with stages.stage("fingerprints"):
                prints, kept = _fingerprints(salt, names, specs, stamps, cache, keep=not options.persist)
        else:
            prints, kept = fingerprints, contexts
        with stages.stage("feeds"):
            mtimes = _entry_mtimes(stories, records, now)
            feed_jobs = publish.feed_files(config, views, now, mtimes, salt, stamps)
            feeds = {job.path: job.make() for job in feed_jobs
                     if cache.fingerprints.get(job.path) != job.fingerprint or not (out_dir / job.path).is_file()}
        with stages.stage("sitemap and static"):
            extra = publish.sitemap_files(config, views, [spec.url for spec in specs], mtimes)
            extra.update(static_files(root / config.static_dir, [d / "assets" for d in reversed(dirs)]))
            if relations is not None:  # related.json
                extra.update(related_files(relations))
        store, store_files, related_file = None, (), None
        if options.persist:  # what a quick rebuild in a new process needs (quick.py); saved once the site is written
            with stages.stage("page store"):
                previous = load_store(cache_path) if cache.store_token else None
                if previous is not None and (previous.token != cache.store_token or previous.salt != salt):
                    previous = None
                store = make_store(secrets.token_hex(8), salt, views, specs, names, {file_for(s.url) for s in stale},
                                   {path: record.stamp for path, record in records.items()}, story_topics, links,
                                   groups, feed_jobs, mtimes, previous,
                                   related_keys=related_state.input_keys() if related_state is not None else None)
            # the cache's two large files, written now while the workers render, and moved into
            # place by _keep: the process no longer spends ~0.2 s on them alone at the end
            # (10,000 stories). Nothing changes the store or the related index after this.
            with stages.stage("cache save"):
                store_files = tuple(pending_store(cache_path, store))
                related_file = pending_related(cache_path, related_state) if related_state is not None else None
            for pending in (*store_files, related_file):
                if pending is not None:
                    on_exit(pending.discard)  # a no-op once moved into place
        return _AlongSide(prints, kept, feed_jobs, feeds, extra, store, store_files, related_file,
                          time.perf_counter() - started)

    if bodies is not None:
        bodies.stop()  # what it rendered is read from now on (the rest renders as before)
    started = time.perf_counter()
    pages = render_all(config, views, stale, dirs, parallel=options.parallel, progress=progress,
                       out_dir=out_dir, staging=staging, fresh=fresh, meanwhile=meanwhile)
    along: _AlongSide = pages.meanwhile
    stages.add("render pages", time.perf_counter() - started - along.seconds)  # the rest is counted above
    if maker is not None:
        maker.abort()  # every page is written by now: what it has still to make is there already
    fingerprints, contexts, extra = along.fingerprints, along.contexts, along.extra
    for feed in along.feed_jobs:
        fingerprints[feed.path] = feed.fingerprint
    files = {**pages.files, **along.feeds, **extra}
    rendered = len(stale) + len(along.feeds)
    with stages.stage("write"):
        outputs = frozenset(fingerprints) | frozenset(extra)
        report = write_fresh(fresh_tree(staging), out_dir, files) if fresh else None
        if report is None:
            if fresh:  # the output folder filled up meanwhile: move the laid-out files in one by one
                files = {name: Staged(str(fresh_tree(staging) / name)) for name in files}
            report = write_site(out_dir, files, expected=outputs,
                                protected=frozenset({search.BUNDLE_DIR}) if config.search_enabled else frozenset(),
                                previous=cache.outputs or None)
        report = replace(report, unchanged=report.unchanged + pages.unchanged)
    records_by_stamp: dict[str, search.SearchRecord] = {}
    deferred = None
    if config.search_enabled:  # Pagefind runs only when the indexed text changed
        with stages.stage("search index"):
            for view in views.stories:
                key = stamps[view.story.path]
                records_by_stamp[key] = (cache.search_records.get(key)
                                         or search.story_record(view, config.language))
            ordered = [records_by_stamp[stamps[v.story.path]] for v in views.stories]
            index = search.site_index(config, out_dir, ordered)
            if options.defer_search:
                deferred = index
            else:
                index()

    future = [s.date for s in left_out if s.date is not None and s.date > now and not s.draft]
    not_before = int(min(future).timestamp() * 1_000_000_000) if future else NEVER
    total = len(fingerprints) + len(extra)
    saved_ns = _wall_ns()
    prefix = shown_prefix(root, root / config.content_dir)
    manifest = Manifest(version=code_version(), inputs=inputs, saved_ns=saved_ns, not_before_ns=not_before,
                        warnings=tuple(warnings), files=total, racy=racy_inputs(
                            inputs, saved_ns, lambda name: getattr(records.get(prefix + name.replace(os.sep, "/")),
                                                                   "stamp", None)))
    _REMEMBERED.pop(cache_path, None)
    store = along.store
    with stages.stage("cache save"):
        _keep(cache_path, options, BuildCache(
            manifest=manifest, records=records, fingerprints=fingerprints, related_state=related_state,
            search_records=records_by_stamp, topic_rules_key=rules_key, topic_assignments=topic_memo,
            outputs=outputs, records_base=cache.records_base, config=config, salt=salt,
            views=None if options.persist else views, contexts=contexts,
            store_token=store.token if store is not None else ""), written, along.store_files, along.related_file)
    if leftovers is not None:
        leftovers.append(locals())  # every large structure of the build is reachable from here
    return BuildResult(pages=total, report=report, rendered=rendered,
                       warnings=tuple(warnings), deferred=deferred, timings=stages.spent())


def _bodies_ahead(config: SiteConfig, options: BuildOptions, cache: BuildCache, stories: list[Story],
                  staging: Path) -> prerender.Bodies | None:
    """The story bodies to render ahead (see `prerender`), not started: on a first build (or
    --clean) of a large site that computes related stories, whose one-core part leaves a core idle."""
    from digest.parallel import MIN_PAGES, workers
    from digest.views import excerpt_outlets, shown_markdown

    if (cache.fingerprints or not options.parallel or workers() < 2 or len(stories) < MIN_PAGES
            or not (config.related_enabled and config.related_count > 0)):
        return None
    excerpt_sources = excerpt_outlets(config)
    os.makedirs(staging, exist_ok=True)
    return prerender.Bodies(staging / "bodies.html", [shown_markdown(s, excerpt_sources)[0] for s in stories],
                           config.markdown_html)


def _prepare(root: Path, options: BuildOptions, now: datetime, inputs: tuple | None) -> tuple:
    """(config, output folder, template folders, cache file, input manifest, last manifest if up to date)."""
    config = site_config(root, options)
    out_dir = output_dir(root, config, options)
    dirs = template_dirs(root, config)
    cache_path = cache_file(root, out_dir)
    inputs = inputs if inputs is not None else input_manifest(root, config, options)
    return config, out_dir, dirs, cache_path, inputs, up_to_date(root, config, options, now, inputs)


def _cache_for(cache_path: Path, options: BuildOptions) -> BuildCache:
    """What the last build left: in this process's memory (serve), on disk, or nothing (--clean)."""
    if not options.use_cache:
        return BuildCache()
    remembered = _REMEMBERED.get(cache_path)
    return remembered if remembered is not None else load_cache(cache_path)


def _keep(cache_path: Path, options: BuildOptions, state: BuildCache, written: RecordsWriter | None = None,
          store_files: tuple[PendingFile, ...] = (), related_file: PendingFile | None = None) -> None:
    """Save the state for the next build: on disk (with the page store first), or in memory only
    for a long-running process (serve). `written`: the records as the parse wrote them;
    `store_files`, `related_file`: the page store and `state.related_state`, written already
    (`pending_store`, `pending_related`) and moved into place here."""
    if options.persist:
        for pending in store_files:
            pending.commit()
        save_cache(cache_path, state, written, related=related_file)
    else:
        remove_cache(cache_path)
        _REMEMBERED[cache_path] = state


def _undated_warning(undated: list[Story], archive: bool = True, shown: int = 10) -> str:
    """One line about undated stories, naming the first few (a big import can have hundreds);
    with `archive`, where the site lists them all."""
    names = ", ".join(s.path for s in undated[:shown])
    where = " (listed at /archive/)" if archive else ""
    more = f" and {len(undated) - shown} more{where}" if len(undated) > shown else ""
    return (f"{len(undated)} undated stor{'y' if len(undated) == 1 else 'ies'} "
            f"(shown without a date, after dated ones): {names}{more}")


def _entry_mtimes(stories: list[Story], records: dict, now: datetime) -> dict[str, datetime]:
    """When undated stories without `ingested` entered the digest: their files' modification times,
    clamped to the build's clock (so SOURCE_DATE_EPOCH makes them reproducible)."""
    return {s.slug: file_time(records[s.path].key, now)
            for s in stories if s.date is None and s.ingested is None}


def _fingerprints(salt: str, names: list[str], specs: list, stamps: dict[str, str], cache: BuildCache,
                  keep: bool) -> tuple[dict[str, str], dict[str, tuple]]:
    """Every page's fingerprint, and (with `keep`, for the next build in this process) its context.

    A page whose context equals the last build's, under the same salt, keeps its fingerprint
    without walking it: story views compare by identity (a view is rebuilt whenever its story,
    topics or marks change), everything else by value."""
    fingerprints: dict[str, str] = {}
    contexts: dict[str, tuple] = {}
    kept = cache.contexts if cache.salt == salt else {}
    shared: dict[int, str] = {}  # what several pages' contexts hold, fingerprinted once (specs keep it alive)
    for name, spec in zip(names, specs):
        old = kept.get(name)
        if old is not None and old[0] == spec.context:
            fingerprint = old[1]
        else:
            fingerprint = page_fingerprint(salt, spec.context, stamps, shared)
        fingerprints[name] = fingerprint
        if keep:
            contexts[name] = (spec.context, fingerprint)
    return fingerprints, contexts


def _stale(out_dir: Path, names: list[str], specs: list, fingerprints: dict[str, str], cache: BuildCache,
           trust: bool) -> list:
    """The pages to render: those whose fingerprint changed, or whose file is gone from the
    output. With `trust` (serve's preview folder, written only by this process since its last
    build, and still there) the files are not checked one by one."""
    last = cache.fingerprints
    if trust:
        return [spec for name, spec in zip(names, specs) if last.get(name) != fingerprints[name]]
    base = str(out_dir) + os.sep
    return [spec for name, spec in zip(names, specs)
            if last.get(name) != fingerprints[name] or not os.path.isfile(base + name)]


def _is_empty(folder: Path) -> bool:
    """Whether `folder` is missing or has nothing in it."""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except FileNotFoundError:
        return True


def _wall_ns() -> int:
    """The wall clock, for comparing with file mtimes (not the build's clock, which may be fixed)."""
    return time.time_ns()


def _pin_warnings(stories: list[Story], left_out: list[Story]) -> list[str]:
    dropped = {s.slug for s in left_out}
    return [f"{story.path}: related story '{pin}' is not built (draft or future); left out"
            for story in stories for pin in story.related if pin in dropped]


def _assign_topics(stories: list[Story], topics: tuple, records: dict, cache: BuildCache, parallel: bool = True,
                   parsed: dict[str, tuple[str, ...]] | None = None
                   ) -> tuple[str, dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Topics per story, reusing the last build's assignment of every unchanged story file while
    the topics' rules are unchanged, and `parsed` (file stamp -> topics under these topics, found
    while the files were parsed). Returns (rules key, slug -> topics, file stamp -> topics)."""
    from digest import topics as topics_mod
    from digest.parallel import fork_map

    rules_key = topics_mod.rules_key(topics, lambda path: records[path].stamp)
    known = cache.topic_assignments if cache.topic_rules_key == rules_key else {}
    if parsed:
        known = {**known, **parsed}
    stamps = [records[s.path].stamp for s in stories]
    todo = [s for s, stamp in zip(stories, stamps) if stamp not in known]
    fresh = dict(fork_map(lambda chunk: list(topics_mod.assign_topics(chunk, topics).items()), todo,
                          processes=None if parallel else 1)) if todo else {}
    assigned, memo = {}, {}  # memo: only the stamps of this build's stories
    for story, stamp in zip(stories, stamps):
        chosen = known[stamp] if stamp in known else memo.get(stamp) or fresh[story.slug]
        memo[stamp] = assigned[story.slug] = chosen
    return rules_key, assigned, memo


def _relate(config: SiteConfig, stories: list[Story], story_topics: dict[str, tuple[str, ...]],
            previous: object, processes: int, stamps: dict[str, str]) -> tuple[dict, dict, object, Related | None]:
    """(links, groups, index to keep, its `Related` result, for `related_files` while the pages
    render); the kept index makes an edit cheap.
    `stamps`: each story's file hash (its title, summary and body are parsed from those bytes alone),
    so the index skips re-reading a story whose file did not change."""
    if not (config.related_enabled and config.related_count > 0):
        return {}, {}, None, None
    from digest import related as related_mod

    if isinstance(previous, related_mod.RelatedIndex) and previous.count == config.related_count:
        index = previous
        index.update(stories, story_topics, stamps)
    else:
        index = related_mod.RelatedIndex(stories, story_topics, config.related_count, processes, stamps)
    relations = index.result()
    # relations.links: a story's entry is the same object as long as the engine kept it (build_views relies on that)
    return relations.links, dict(relations.groups), index, relations


def related_files(relations: Related) -> dict[str, bytes]:
    """{"related.json": bytes} of the related index's result."""
    from digest.related_result import related_json_bytes

    return {"related.json": related_json_bytes(relations)}


def _salt(config: SiteConfig, template_dirs: list[Path], menu: list, topic_stamps: Iterable[str]) -> str:
    """What every page depends on: the package, the config, the templates, the menu and the topics."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(__version__.encode())
    digest.update(repr(config).encode())
    for folder in template_dirs:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    digest.update(repr(menu).encode())
    digest.update(repr(list(topic_stamps)).encode())
    return digest.hexdigest()


def static_files(static_dir: Path, asset_dirs: list[Path]) -> dict[str, bytes]:
    """Theme assets under `assets/` (the site's own templates/assets win), then `static/` as is."""
    files: dict[str, bytes] = {}
    for folder in asset_dirs:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    files["assets/" + path.relative_to(folder).as_posix()] = path.read_bytes()
    if static_dir.is_dir():
        for path in sorted(static_dir.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                files[path.relative_to(static_dir).as_posix()] = path.read_bytes()
    return files
