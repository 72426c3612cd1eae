"""`digest serve`: build a preview, serve it with live reload, rebuild when sources change.

The preview goes into `<site>/.digest/preview/` (never the output folder, so nothing
preview-only can be deployed by accident) and is served under the path of `base_url`, like
production. Drafts and future stories are built (marked as such) unless `--no-drafts`.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import signal
import sys
import threading
import time
import webbrowser
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from digest import clock
from digest.build import BuildOptions, build_site
from digest.commands.build import GC_THRESHOLDS
from digest.inputs import input_manifest, newest_mtime
from digest.config import CONFIG_NAME, load_config
from digest.errors import ConfigError, DigestError, UsageError
from digest.model import SiteConfig
from digest.serve import PortInUse, PreviewServer, base_path_of
from digest.watch import Change, ChangeKind, SiteLayout, Watcher

PREVIEW_DIR = ".digest/preview"  # beside the build cache in .digest/; never the output folder


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="preview the site with live reload",
        description="Build the site into .digest/preview/, serve it and rebuild and reload the browser on every change.",
    )
    parser.add_argument("--site", type=Path, default=Path("."), help="the site folder (default: .)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; the next free one if taken)")
    parser.add_argument("--open", action="store_true", help="open the preview in a web browser")
    parser.add_argument("--no-drafts", action="store_true", help="leave out drafts and future stories")
    parser.add_argument("--timings", action="store_true", help="print the milliseconds of each stage of every rebuild")
    parser.set_defaults(func=run)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def layout_of(root: Path, config: SiteConfig) -> SiteLayout:
    """What to watch and what to ignore for a site with this config."""
    return SiteLayout(
        root=root,
        content_dir=config.content_dir,
        templates_dir=config.templates_dir,
        static_dir=config.static_dir,
        config_name=CONFIG_NAME,
        ignored_dirs=(config.output_dir, ".digest", ".preview", ".digest-cache", ".git"),
    )


def _startup_config(root: Path) -> SiteConfig:
    """The config to start with: a missing digest.toml is an error, a broken one is shown later."""
    try:
        return load_config(root)
    except ConfigError:
        if not (root / CONFIG_NAME).is_file():
            raise
        return SiteConfig(root=root)  # the first build reports the problems in the overlay


class Preview:
    """The rebuild callable of the server: builds into the preview folder, tracks the config."""

    def __init__(self, root: Path, config: SiteConfig, *, drafts: bool, timings: bool = False) -> None:
        self.root = root
        self.timings = timings
        self.config = config
        self.drafts = drafts
        self.out_dir = root / PREVIEW_DIR
        self._warnings: tuple[str, ...] = ()
        self._accepts_changes = "changes" in inspect.signature(build_site).parameters
        self._index_lock = threading.Lock()  # one search-index refresh at a time

    @property
    def base_path(self) -> str:
        return base_path_of(self.config.base_url)

    def __call__(self, changes: frozenset[Change]) -> None:
        """Build the preview; raises DigestError (with `.problems`) and leaves it as it was on failure."""
        if any(change.kind is ChangeKind.CONFIG for change in changes):
            self.config = load_config(self.root)
        options = BuildOptions(drafts=self.drafts, future=self.drafts, base_url=self.base_path, out_dir=self.out_dir,
                               defer_search=True, persist=False)
        extra = {"changes": changes} if self._accepts_changes else {}
        with _survivors_frozen():
            result = build_site(self.root, options=options, now=clock.now(), **extra)
        if self.timings and not result.skipped:
            _log("stages: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in result.timings))
        if result.deferred is not None:  # the search index is refreshed after the page reloads
            threading.Thread(target=self._index, args=(result.deferred,), name="digest-search-index",
                             daemon=True).start()
        if result.warnings != self._warnings:
            for warning in result.warnings:
                _log(f"warning: {warning}")
            self._warnings = result.warnings


    def _index(self, job: Callable[[], object]) -> None:
        with self._index_lock:
            try:
                job()
            except DigestError as exc:  # a failed index leaves the previous one; say why
                for problem in exc.problems:
                    _log(f"search index: {problem}")


FULL_COLLECTION_EVERY = 50  # rebuilds between two full garbage collections (one slower rebuild in fifty)
_rebuilds = 0


@contextmanager
def _survivors_frozen() -> Iterator[None]:
    """Rebuild without the cyclic garbage collector, then freeze what survives (gc.freeze): serve
    keeps the whole site's objects alive between rebuilds, and a collection that walks them all
    takes ~0.3 s at 10,000 stories, a quarter of a rebuild. A rebuild makes little cyclic garbage
    (a cold build of 10,000 stories, a few hundred objects): the rebuild's own is collected right
    after it (young generations only: cheap), and what was frozen before it became garbage is
    reclaimed by a full collection every FULL_COLLECTION_EVERY rebuilds."""
    global _rebuilds
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        _rebuilds += 1
        if _rebuilds % FULL_COLLECTION_EVERY == 0:
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)  # this rebuild's young garbage, before it would be frozen
        gc.freeze()


def _changed_since(root: Path, config: SiteConfig, since_ns: int) -> bool:
    """True when a source file was modified at or after `since_ns` (wall clock, nanoseconds)."""
    try:
        return newest_mtime(input_manifest(root, config, BuildOptions())) >= since_ns
    except OSError:
        return True


def _describe(changes: frozenset[Change], root: Path) -> str:
    shown = sorted(changes)[:3]
    names = ", ".join(f"{_rel(c.path, root)} ({c.kind.value})" for c in shown)
    more = f" and {len(changes) - len(shown)} more" if len(changes) > len(shown) else ""
    return f"changed: {names}{more}"


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def run(args: argparse.Namespace) -> int:
    root = args.site.absolute()
    if not root.is_dir():
        raise UsageError(f"{args.site}: no such folder")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    config = _startup_config(root)
    gc.set_threshold(*GC_THRESHOLDS)
    preview = Preview(root, config, drafts=not args.no_drafts, timings=args.timings)
    try:
        server = PreviewServer(preview.out_dir, rebuild=preview, base_path=preview.base_path,
                               host=args.host, port=args.port, log=_log)
    except PortInUse as exc:
        raise UsageError(exc.strerror) from None
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None

    def on_changes(changes: frozenset[Change]) -> None:
        _log(_describe(changes, root))
        server.rebuild(changes)
        if server.base_path != preview.base_path:
            server.base_path = preview.base_path
            _log(f"base path is now {preview.base_path}: {server.url}")
        watcher.set_layout(layout_of(root, preview.config))

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    watcher = None
    try:
        # The first (largest) build runs before any thread starts, so it may fork workers on every
        # core; later rebuilds run beside the server's threads and stay in this process.
        _log(f"building {_rel(preview.out_dir, root)}/ ...")
        started_ns = time.time_ns()
        server.rebuild(frozenset())
        watcher = Watcher(layout_of(root, preview.config), on_changes, log=_log).start()
        server.start()
        _log(f"serving {_rel(preview.out_dir, root)}/ at {server.url} (Ctrl-C to stop)")
        if _changed_since(root, preview.config, started_ns):  # saved during the first build, before watching
            _log("sources changed during the first build: rebuilding")
            server.rebuild(frozenset())
        if args.open:
            webbrowser.open(server.url)
        while not stop.wait(1.0):
            continue
    except KeyboardInterrupt:
        _log("")
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            if server.busy:
                _log("stopping after the running build (Ctrl-C again to stop at once)")
            if watcher is not None:
                watcher.stop()
        except KeyboardInterrupt:
            _log("stopping without waiting for the build (the preview may be incomplete)")
        server.close()
        _log("stopped")
    return 0
