"""`digest build`: render the site into its output folder."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

from digest import clock
from digest.cache import cache_file
from digest.config import load_config, with_base_url
from digest.inputs import BuildOptions, input_manifest, output_dir, up_to_date


# A build allocates millions of small objects that live to its end; collecting the young generation
# every 700 allocations mostly re-scans them (measured: ~15% of a one-story rebuild at 10,000 stories).
# `digest serve` uses these thresholds between rebuilds (its rebuilds run without the collector).
GC_THRESHOLDS = (50_000, 20, 100)

# What the last build made, left for the process's exit to drop at once (see `build_site`); the
# command line ends the process after one build (`cli.console`), without freeing object by object.
_LEFT_FOR_EXIT: list = []


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build", help="build the site into output/",
                                   description="Build the site into its output folder.")
    parser.add_argument("--site", type=Path, default=Path("."), help="the site folder (default: .)")
    parser.add_argument("--drafts", action="store_true", help="include stories marked draft: true")
    parser.add_argument("--future", action="store_true", help="include stories dated after now")
    parser.add_argument("--base-url", help="override base_url of digest.toml (e.g. for previews)")
    parser.add_argument("--output", type=Path, help="write into this folder instead of [paths] output")
    parser.add_argument("--clean", action="store_true", help="ignore the build cache and render every page")
    parser.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
    parser.add_argument("--timings", action="store_true", help="print where the time went, per stage")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    # A build makes almost no cyclic garbage (a cold build of 10,000 stories: ~300 objects, the
    # same peak memory with the collector on or off), while every collection re-walks the cache it
    # loaded: ~0.25 s of a one-story rebuild at 10,000 stories. The process ends with the build.
    gc.disable()
    _LEFT_FOR_EXIT.clear()  # a caller that runs several builds in one process (tests) frees the last one's here
    now = clock.now()
    options = BuildOptions(drafts=args.drafts, future=args.future, base_url=args.base_url, out_dir=args.output,
                           use_cache=not args.clean)
    config = load_config(args.site)
    if args.base_url is not None:
        config = with_base_url(config, args.base_url)
    inputs = input_manifest(args.site, config, options)
    last = up_to_date(args.site, config, options, now, inputs)
    if last is not None:  # nothing changed: the rendering pipeline is not even imported
        for warning in last.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if not args.quiet:
            print(f"nothing changed since the last build ({time.perf_counter() - started:.2f}s)")
        if args.timings:
            print(f"timings:\n  checking inputs  {time.perf_counter() - started:7.3f}s (nothing else to do)")
        return 0

    # an edited story's related lists: the engine is imported and its index mapped in a process of
    # its own while this one imports the build and loads the rest of the cache (see related_ahead)
    from digest import related_ahead

    cache_path = cache_file(args.site, output_dir(args.site, config, options))
    # (only where a quick rebuild may follow: not with --clean, --drafts or --future)
    relating = (config.related_enabled and config.related_count > 0 and options.use_cache
                and not options.drafts and not options.future)
    with related_ahead.started(cache_path, relating) as ahead:
        from digest.build import build_site
        from digest.progress import ProgressBar, format_timings, silent

        bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
        try:
            result = build_site(args.site, options=options, now=now, inputs=inputs, progress=bar or silent,
                                ahead=ahead, leftovers=_LEFT_FOR_EXIT)
        finally:
            if bar is not None:
                bar.close()
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        report = result.report
        print(f"built {result.pages} files in {time.perf_counter() - started:.2f}s "
              f"({result.rendered} pages rendered; {report.written} files written, {report.removed} removed)")
    if args.timings:
        print(format_timings(result.timings, time.perf_counter() - started))
    return 0
