"""Check the proposed topic rules (bench/proposed_topics/*.md) on the White House texts and the seed.

    python3 bench/related_topics.py            # counts, agreement with title labels, seed check
    python3 bench/related_topics.py --list     # also every text's topics, for spot checks

Each proposed topic file is parsed as the build parses it (digest.content.parse_topic with
digest.topics.parse_rules). Texts: ../shared/corpus/whitehouse/*.md and the seed story as
written in content/stories/ (the seed must get both china-asean and japan-aid). Where a topic
has an obvious title label (bench/related_quality.py LABELS), we report how many texts whose
title names it get the topic (recall) and how many texts given the topic have it in the title.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from digest.content import parse_story, parse_topic  # noqa: E402
from digest.model import Story  # noqa: E402
from digest.topics import assign_topics, explain, parse_rules  # noqa: E402
import related_quality as Q  # noqa: E402

TOPIC_LABEL = {"quad": "quad", "us-china": "china", "us-asean": "asean", "japan-korea": "korea"}
SEED = ROOT / "content" / "stories" / "japan-push-wont-hurt-china-ties.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    topics = [parse_topic(p.read_text(encoding="utf-8"), f"bench/proposed_topics/{p.name}", parse_rules)
              for p in sorted((ROOT / "bench" / "proposed_topics").glob("*.md"))]
    stories = [Story(slug=slug, title=meta["title"], path=slug, body=body,
                     date=datetime.fromisoformat(str(meta["date"])).replace(tzinfo=timezone.utc))
               for slug, meta, body in Q.load_whitehouse()]
    seed = parse_story(SEED.read_text(encoding="utf-8"), "content/stories/" + SEED.name)
    seed = Story(**{**seed.__dict__, "topics": None})  # judge the rules, not the front matter
    got = assign_topics(stories + [seed], topics)
    print(f"seed {seed.slug}: {got[seed.slug]}")
    ok = {"china-asean", "japan-aid"} <= set(got[seed.slug])
    print("  seed in china-asean and japan-aid:", "yes" if ok else "NO")
    labels = {s.slug: Q.labels_of(s.title) for s in stories}
    for t in topics:
        members = [s for s in stories if t.slug in got[s.slug]]
        line = f"{t.slug:<16} {len(members):>3} of {len(stories)} texts"
        label = TOPIC_LABEL.get(t.slug)
        if label:
            named = [s for s in stories if label in labels[s.slug]]
            hit = [s for s in named if t.slug in got[s.slug]]
            inside = [s for s in members if label in labels[s.slug]]
            line += f"; {len(hit)} of the {len(named)} titled '{label}' are in; {len(inside)} of the {len(members)} in are titled so"
        print(line)
        if args.list:
            for s in members:
                print(f"    {s.slug[:90]}")
    none = [s for s in stories if not got[s.slug]]
    print(f"no topic: {len(none)}")
    if args.list:
        for s in none:
            print(f"    {s.slug[:90]}")
        print()
        for e in explain(seed, topics):
            print(f"seed / {e.topic}: {e.score:g} (min {e.min_score:g}) {e.reason}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
