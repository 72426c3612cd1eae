"""`digest check`: validate config and content, build into a temporary folder, check the result."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from digest import clock
from digest.check import check_site
from digest.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="check content, links, anchors, assets, feeds and sitemap",
        description="Validate digest.toml and content (path:line), build the site into a temporary folder "
                    "and check it: internal links and #anchors resolve, images, scripts, stylesheets and "
                    "assets exist, no page is orphaned, no duplicate ids, feeds and sitemap are well-formed. "
                    "Link problems are reported as 'page → target'. Exit 1 on any problem.")
    parser.add_argument("--site", type=Path, default=Path("."), help="the site folder (default: .)")
    parser.add_argument("--external", action="store_true",
                        help="also check external links (HEAD, then GET; off by default)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S",
                        help="timeout in seconds per external request (default: 10)")
    parser.add_argument("--workers", type=int, default=8, metavar="N",
                        help="external requests at a time (default: 8)")
    parser.add_argument("--base-url", help="check the site as built for this base_url")
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    started = time.perf_counter()
    report = check_site(args.site, now=clock.now(), external=args.external, timeout=args.timeout,
                        workers=args.workers, base_url=args.base_url)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for finding in report.findings:
        print(str(finding), file=sys.stderr)
    if not args.quiet:
        external = f", {report.external} external links" if args.external else ""
        verdict = f"{len(report.findings)} problem{'s' if len(report.findings) != 1 else ''}" if report.findings else "no problems"
        print(f"checked {report.pages} pages, {report.files} files{external} in "
              f"{time.perf_counter() - started:.2f}s: {verdict}")
    return 1 if report.findings else 0
