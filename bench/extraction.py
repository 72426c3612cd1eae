#!/usr/bin/env python3
"""Throughput of the HTML extractor, in one process, on the extraction dev set.

Scores come from the shared harness (see bench/EXTRACTION.md); this script measures speed
both as wall-clock and as CPU time of this process, since a busy machine (other jobs on the
same cores) slows the wall clock but not the CPU time an extraction needs.

    python3 bench/extraction.py [--dataset all|scrapinghub|trafilatura] [--limit N] [--repeat N]
    python3 bench/extraction.py --compare OLD_TREE [--repeat N]

--compare times this tree against another checkout (e.g. `git archive REV | tar -x -C /tmp/old`)
in the same process, page by page alternately (the order swapped on every page), by CPU time:
on a shared machine whose speed drifts, separate runs of old and new code say little.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import re
import shutil
import tempfile
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


def load_old(tree: Path):
    """`extract_for_eval` of another checkout's `digest`, imported as the package `digest_old`."""
    tmp = Path(tempfile.mkdtemp(prefix="digest-old-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    shutil.copytree(tree / "digest", tmp / "digest_old")
    for f in (tmp / "digest_old").rglob("*.py"):
        f.write_text(re.sub(r"\b(from|import) digest(\.|\b)", r"\1 digest_old\2", f.read_text()))
    sys.path.insert(0, str(tmp))
    return importlib.import_module("digest_old.ingest.html").extract_for_eval


def compare(old, docs, repeat: int) -> tuple[float, float]:
    """CPU seconds of old and new over the pages, each page run by both, order alternating."""
    t_old = t_new = 0.0
    for f in (old, extract_for_eval):  # one-time costs (lazy imports, date locales) paid untimed
        f(*docs[0])
    for k in range(repeat):
        for i, (html, url) in enumerate(docs):
            for f in ((old, extract_for_eval) if (i + k) % 2 == 0 else (extract_for_eval, old)):
                c0 = time.process_time()
                f(html, url)
                if f is old:
                    t_old += time.process_time() - c0
                else:
                    t_new += time.process_time() - c0
    return t_old, t_new


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=["scrapinghub", "trafilatura", "all"], default="all")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--compare", type=Path, metavar="OLD_TREE", help="another checkout to time against")
    args = ap.parse_args(argv)
    old = load_old(args.compare) if args.compare else None
    root = harness.DEFAULT_DATA
    names = ["scrapinghub", "trafilatura"] if args.dataset == "all" else [args.dataset]
    for name in names:
        pages = harness.LOADERS[name](root)
        if args.limit:
            pages = pages[: args.limit]
        docs = [(harness.decode_html(p.read_bytes(root)), p.url) for p in pages]
        if old is not None:
            t_old, t_new = compare(old, docs, args.repeat)
            n = len(docs) * args.repeat
            print(f"{name:12} {len(docs):4d} pages x{args.repeat}  old cpu {n / t_old:6.1f} pages/s  "
                  f"new cpu {n / t_new:6.1f} pages/s  speed-up x{t_old / t_new:.3f}")
            continue
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
