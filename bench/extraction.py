#!/usr/bin/env python3
"""Throughput of the HTML extractor, in one process, on the extraction dev set.

Scores come from the shared harness (see bench/EXTRACTION.md); this script measures speed
both as wall-clock and as CPU time of this process, since a busy machine (other jobs on the
same cores) slows the wall clock but not the CPU time an extraction needs.

    python3 bench/extraction.py [--dataset all|scrapinghub|trafilatura] [--limit N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HARNESS = Path(os.environ.get("EXTRACTION_DEV", Path(__file__).resolve().parents[2] / "shared" / "extraction-dev"))
if not HARNESS.exists():
    HARNESS = Path("/work/shared/extraction-dev")
sys.path.insert(0, str(HARNESS))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval as harness  # noqa: E402

from digest.ingest.html import extract_for_eval  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=["scrapinghub", "trafilatura", "all"], default="all")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    root = harness.DEFAULT_DATA
    names = ["scrapinghub", "trafilatura"] if args.dataset == "all" else [args.dataset]
    for name in names:
        pages = harness.LOADERS[name](root)
        if args.limit:
            pages = pages[: args.limit]
        docs = [(harness.decode_html(p.read_bytes(root)), p.url) for p in pages]
        walls, cpus = [], []
        for _ in range(args.repeat):
            w0, c0 = time.perf_counter(), time.process_time()
            for html, url in docs:
                extract_for_eval(html, url)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(f"{name:12} {len(docs):4d} pages  wall {len(docs) / wall:6.1f} pages/s  "
              f"cpu {len(docs) / cpu:6.1f} pages/s  ({1000 * cpu / len(docs):.1f} ms CPU/page)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
