"""Search index timings for bench/SEARCH.md: Pagefind fed per-story record documents (digest.search.index_site),
the same records through one add_custom_record call each, and the Pagefind CLI
over the built HTML pages.

    python3 bench/generate.py --stories 1000 --seed 7 --out /tmp/bench1k/digest
    python3 -m digest build --site /tmp/bench1k/digest --output /tmp/bench1k/out
    python3 bench/search_bench.py /tmp/bench1k/digest /tmp/bench1k/out [--one-by-one N]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest import topics as topics_mod  # noqa: E402
from digest.build import BuildOptions, select_stories  # noqa: E402
from digest.config import load_config  # noqa: E402
from digest.content import load_site  # noqa: E402
from digest.search import index_records_one_by_one, index_site, search_records  # noqa: E402
from digest.views import build_views  # noqa: E402


def cpu() -> float:
    """CPU seconds of this process and its finished children (Pagefind runs as a child)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("site", type=Path)
    parser.add_argument("built", type=Path, help="a built copy of the site (for the CLI run)")
    parser.add_argument("--one-by-one", type=int, default=200, help="records to time through add_custom_record")
    args = parser.parse_args()

    config = load_config(args.site)
    site = load_site(config)
    stories, _, _ = select_stories(site, BuildOptions(), datetime(2100, 1, 1, tzinfo=timezone.utc))
    story_topics = topics_mod.assign_topics(stories, site.topics)
    views = build_views(config, stories, site.topics, site.pages, story_topics, {}, {})
    started = time.perf_counter()
    records = search_records(views, config.language)
    prepare = time.perf_counter() - started
    html_pages = sum(1 for _ in args.built.rglob("*.html"))
    print(f"{len(records)} records, {sum(len(r.content) for r in records) / 1e6:.1f} MB of text "
          f"(search_records {prepare:.2f} s); built site: {html_pages} HTML pages")

    with tempfile.TemporaryDirectory() as tmp:
        runs, cpus = [], []
        for name in ("a", "b"):
            started, cpu_started = time.perf_counter(), cpu()
            index_site(Path(tmp) / name, records)
            runs.append(time.perf_counter() - started)
            cpus.append(cpu() - cpu_started)
        same = files(Path(tmp) / "a") == files(Path(tmp) / "b")
        size = sum(len(v) for v in files(Path(tmp) / "a").values())
        print(f"index_site (record documents -> Pagefind binary): {min(runs):.2f} s wall, {min(cpus):.2f} s CPU "
              f"({1000 * min(runs) / len(records):.2f} ms/story wall, {1000 * min(cpus) / len(records):.2f} ms CPU), "
              f"bundle {size / 1e6:.1f} MB, identical bytes across two runs: {same}")

        started, cpu_started = time.perf_counter(), cpu()
        result = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(args.built),
                                 "--output-path", str(Path(tmp) / "cli" / "pagefind")],
                                capture_output=True, text=True, check=True)
        cli, cli_cpu = time.perf_counter() - started, cpu() - cpu_started
        indexed = [line for line in result.stdout.splitlines() if "Indexed" in line]
        print(f"CLI over built HTML: {cli:.2f} s wall, {cli_cpu:.2f} s CPU ({1000 * cli / html_pages:.2f} ms/page wall, "
              f"{1000 * cli_cpu / html_pages:.2f} ms CPU); " + "; ".join(i.strip() for i in indexed))

        if args.one_by_one:
            subset = records[: args.one_by_one]
            started, cpu_started = time.perf_counter(), cpu()
            index_records_one_by_one(Path(tmp) / "one", subset)
            one, one_cpu = time.perf_counter() - started, cpu() - cpu_started
            print(f"add_custom_record one by one: {one:.2f} s for {len(subset)} records "
                  f"({one_cpu:.2f} s CPU; {1000 * one / len(subset):.1f} ms/record wall; x{len(records)} = {one / len(subset) * len(records):.0f} s)")


if __name__ == "__main__":
    main()
