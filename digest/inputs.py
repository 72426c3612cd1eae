"""A build's inputs and the check that they are unchanged since the last good build.

Light on purpose: `digest build` asks this module first and imports the rendering pipeline only
when something changed, so a rebuild after no change costs little more than Python's start-up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from digest import __version__
from digest.cache import Manifest, cache_file, content_stamp, load_manifest, scan
from digest.model import SiteConfig

RACY_NS = 2_000_000_000  # files modified this close to the last save are re-hashed, never trusted


@dataclass(frozen=True)
class BuildOptions:
    drafts: bool = False  # include draft stories
    future: bool = False  # include stories dated after `now`
    base_url: str | None = None  # overrides digest.toml
    out_dir: Path | None = None  # overrides [paths] output
    use_cache: bool = True  # False: a clean build that ignores (and then replaces) the cache
    parallel: bool = True  # render on every core (forked processes) when there are many pages
    persist: bool = True  # save the cache to disk; False keeps it in this process's memory (serve)
    defer_search: bool = False  # return the search indexing as `BuildResult.deferred` (serve runs it after the reload)


def theme_dir() -> Path:
    """The default theme: `digest/theme/` when installed, else `templates/` of the source checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "theme"
    return installed if installed.is_dir() else package.parent / "templates"


def template_dirs(root: Path, config: SiteConfig) -> list[Path]:
    """The site's own templates (first) and the default theme."""
    return [d for d in (root / config.templates_dir, theme_dir()) if d.is_dir()]


def output_dir(root: Path, config: SiteConfig, options: BuildOptions) -> Path:
    return options.out_dir or (root / config.output_dir)


def input_manifest(root: Path, config: SiteConfig, options: BuildOptions) -> tuple:
    """Everything a build reads, by name, size and mtime (no file is read but digest.toml)."""
    config_bytes = (root / "digest.toml").read_bytes()
    return (
        __version__,
        hashlib.blake2b(config_bytes, digest_size=16).hexdigest(),
        repr(config),
        (options.drafts, options.future, options.base_url, str(output_dir(root, config, options).resolve())),
        tuple((str(d), tuple(scan(d))) for d in template_dirs(root, config)),
        tuple(scan(root / config.content_dir, ".md")),
        tuple(scan(root / config.static_dir)),
    )


def newest_mtime(inputs: tuple) -> int:
    """The newest mtime among the files of a manifest."""
    newest = 0
    for group in (inputs[5], inputs[6], *(files for _, files in inputs[4])):
        for _, mtime, _size in group:
            newest = max(newest, mtime)
    return newest


def up_to_date(root: Path, config: SiteConfig, options: BuildOptions, now: datetime,
               inputs: tuple | None = None) -> Manifest | None:
    """The last build's manifest when nothing it depends on changed (and no future story came due).

    A file modified within RACY_NS of the last save may have changed again without a new size or
    modification time: a content file's bytes are hashed and compared with those the build read
    (`Manifest.racy`); any other such file means a build."""
    if not options.use_cache:
        return None
    out = output_dir(root, config, options)
    last = load_manifest(cache_file(root, out))
    inputs = inputs if inputs is not None else input_manifest(root, config, options)
    now_ns = int(now.timestamp() * 1_000_000_000)
    if not (last.inputs == inputs and now_ns < last.not_before_ns and out.is_dir()):
        return None
    if newest_mtime(inputs) < last.saved_ns - RACY_NS:
        return last
    return last if _racy_unchanged(root / config.content_dir, inputs, last) else None


def other_inputs_since(inputs: tuple, since_ns: int) -> bool:
    """Whether a template or static file of the manifest was modified at or after `since_ns`."""
    return any(mtime >= since_ns for group in (inputs[6], *(files for _, files in inputs[4])) for _, mtime, _ in group)


def _racy_unchanged(content: Path, inputs: tuple, last: Manifest) -> bool:
    """Whether every input modified too close to the last save is a content file that still holds
    the bytes that build read."""
    racy = last.saved_ns - RACY_NS
    if last.racy is None or other_inputs_since(inputs, racy):
        return False
    read = dict(last.racy)
    for name, mtime, _size in inputs[5]:
        if mtime >= racy:
            stamp = read.get(name)
            if stamp is None or content_stamp((content / name).read_bytes()) != stamp:
                return False
    return True


def racy_inputs(inputs: tuple, saved_ns: int, stamp_of: Callable[[str], str | None]
                ) -> tuple[tuple[str, str], ...] | None:
    """`Manifest.racy` for a save at `saved_ns`: each content file modified within RACY_NS of it,
    with `stamp_of(name)`, the hash of the bytes the build read (None when that is not known, or
    when a template or static file is that recent)."""
    racy = saved_ns - RACY_NS
    if other_inputs_since(inputs, racy):
        return None
    out = []
    for name, mtime, _size in inputs[5]:
        if mtime >= racy:
            stamp = stamp_of(name)
            if stamp is None:
                return None
            out.append((name, stamp))
    return tuple(out)
