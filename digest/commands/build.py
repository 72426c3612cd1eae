"""`digest build`: render the site into its output folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from digest import clock
from digest.config import load_config, with_base_url
from digest.inputs import BuildOptions, up_to_date


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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    now = clock.now()
    options = BuildOptions(drafts=args.drafts, future=args.future, base_url=args.base_url, out_dir=args.output,
                           use_cache=not args.clean)
    config = load_config(args.site)
    if args.base_url is not None:
        config = with_base_url(config, args.base_url)
    last = up_to_date(args.site, config, options, now)
    if last is not None:  # nothing changed: the rendering pipeline is not even imported
        for warning in last.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if not args.quiet:
            print(f"nothing changed since the last build ({time.perf_counter() - started:.2f}s)")
        return 0

    from digest.build import build_site

    result = build_site(args.site, options=options, now=now)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        report = result.report
        print(f"built {result.pages} files in {time.perf_counter() - started:.2f}s "
              f"({result.rendered} pages rendered; {report.written} files written, {report.removed} removed)")
    return 0
