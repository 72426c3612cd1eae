"""Cost of related stories: full computation and one-edit update on a generated corpus.

    python3 bench/related_bench.py --stories 10000                          # 2 workers, then 5 edits
    python3 bench/related_bench.py --stories 10000 --workers 1 --procs 1    # one process, one core

Stories come from bench/generate.py (seeded; ~900-word bodies, tags, dates over years; the
generator's topics are used as the stories' topics). Reports wall and CPU time of
`RelatedIndex(...)` (tokenising + the sparse similarity + candidate lists), of `result()`, of
`RelatedIndex.update` after editing one story (a sentence with new words put before its body),
and the peak resident memory of this process and (separately) of the forked workers.
Generation time is not counted; CPU time counts this process only (workers: see wall time).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import time
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from digest.model import Story  # noqa: E402
from digest.related import RelatedIndex  # noqa: E402
import generate  # noqa: E402


def stories(n: int, seed: int) -> list[Story]:
    out = []
    for i in range(n):
        g = generate.make_story(seed, i)
        date = g.date if g.date is None or g.date.tzinfo else g.date.replace(tzinfo=timezone.utc)
        out.append(Story(slug=g.slug, title=g.title, path=g.digest_path, body=g.body, date=date,
                         source=g.source, summary=g.summary, tags=g.tags, topics=g.topics))
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def timed(label: str, fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    print(f"{label}: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU, "
          f"peak RSS {peak_mb():.0f} MB (workers {children_peak_mb():.0f} MB)")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--procs", type=int, default=0, help="pin to this many cores (0: leave as is)")
    parser.add_argument("--workers", type=int, default=2, help="processes reading the texts (RelatedIndex workers)")
    args = parser.parse_args()
    if args.procs:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.procs]))
    corpus = stories(args.stories, args.seed)
    topics = {s.slug: s.topics for s in corpus}
    words = sum(len(s.body.split()) for s in corpus)
    print(f"{len(corpus)} stories, {words / len(corpus):.0f} body words on average; "
          f"load average {os.getloadavg()[0]:.2f}; peak RSS before {peak_mb():.0f} MB")
    index = timed(f"full computation (RelatedIndex, workers={args.workers})",
                  lambda: RelatedIndex(corpus, topics, 5, workers=args.workers))
    timed("result()", index.result)
    for e in range(args.edits):
        k = (e * 7919) % len(corpus)
        s = corpus[k]
        corpus[k] = dataclasses.replace(s, body=f"Correction {e}: the minister visited Zanzibar{e} port.\n\n" + s.body)
        recomputed = timed(f"update after editing {s.slug}", lambda: index.update(corpus, topics))
        print(f"  rows recomputed: {len(recomputed)}")


if __name__ == "__main__":
    main()
