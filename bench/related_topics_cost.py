"""Cost of topic assignment: the proposed topic rules over a generated corpus.

    python3 bench/related_topics_cost.py --stories 10000

Uses bench/proposed_topics/*.md (7 topics) plus 3 copies with other slugs (10 topics) and the
seeded corpus of bench/generate.py (~900-word bodies, no front-matter topics). Prints CPU and
wall time of digest.topics.assign_topics.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from digest.content import parse_topic  # noqa: E402
from digest.topics import assign_topics, parse_rules  # noqa: E402
import related_bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    args = parser.parse_args()
    topics = [parse_topic(p.read_text(encoding="utf-8"), p.name, parse_rules)
              for p in sorted((ROOT / "bench" / "proposed_topics").glob("*.md"))]
    topics += [dataclasses.replace(t, slug=t.slug + "-copy") for t in topics[:3]]
    stories = [dataclasses.replace(s, topics=None) for s in related_bench.stories(args.stories, 7)]
    wall, cpu = time.perf_counter(), time.process_time()
    got = assign_topics(stories, topics)
    print(f"{len(stories)} stories x {len(topics)} topics: {time.process_time() - cpu:.2f} s CPU, "
          f"{time.perf_counter() - wall:.2f} s wall (load average {os.getloadavg()[0]:.1f}); "
          f"{sum(1 for v in got.values() if v)} stories got a topic")


if __name__ == "__main__":
    main()
