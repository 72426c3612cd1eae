"""Quality of related stories: precision of the top 5 on labelled corpora built from public texts.

    python3 bench/related_quality.py            # both checks, in-process (digest.related)
    python3 bench/related_quality.py --build    # the country check through `digest build` + related.json

1. Country check: the 200 White House texts of ../shared/corpus/whitehouse/, each labelled by the
   counterparts its title names (Japan, China, ASEAN, Quad, Korea, Philippines, ...). A query is
   a labelled text; a related story counts as right when it shares a label; precision@5 counts
   all five slots (an empty slot is a miss). Unlabelled texts stay in as distractors.
2. Same-event check (synthetic): every text is split into three "outlet versions" (each keeps a
   different random half of the sentences, a reworded title, another outlet, a date up to two
   days off). A version's right answers are the two other versions of its text: we report the
   share of them found in the top 5 (recall@5; P@5 is at most 0.4 here) and how many events end
   up as exactly one same-story group.
Stories carry no topics or tags (as in the hidden test), so only text and dates count.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.model import Story  # noqa: E402
from digest.related import compute_related  # noqa: E402
from digest.related_result import related_json  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "whitehouse"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus/whitehouse")

LABELS = {
    "japan": r"japan|kishida|suga|ishiba",
    "china": r"china|\bprc\b|xi jinping|people.?s republic|synthetic opioid",
    "asean": r"asean|east asia summit",
    "quad": r"\bquad\b",
    "korea": r"korea|\brok\b|yoon",
    "philippines": r"philippine|marcos",
    "indonesia": r"indonesia|widodo",
    "vietnam": r"vietnam|hanoi|to lam",
    "singapore": r"singapore",
    "cambodia": r"cambodia|hun sen",
    "malaysia": r"malaysia",
}


def load_whitehouse() -> list[tuple[str, dict, str]]:
    """(slug, front matter, body) of every White House text, slug = file name."""
    out = []
    for path in sorted(CORPUS.glob("*.md")):
        _, meta, body = path.read_text(encoding="utf-8").split("---\n", 2)
        out.append((path.stem, yaml.safe_load(meta), body))
    return out


def labels_of(title: str) -> frozenset[str]:
    return frozenset(k for k, pattern in LABELS.items() if re.search(pattern, title, re.I))


def day(value: str) -> datetime:
    return datetime.fromisoformat(str(value)).replace(tzinfo=timezone.utc)


def precision_at_5(rel: dict[str, list[str]], truth: dict[str, set[str]]) -> float:
    scores = [len([s for s in rel.get(q, [])[:5] if s in right]) / 5 for q, right in truth.items()]
    return sum(scores) / len(scores)


def country_check(build: bool = False) -> dict:
    texts = load_whitehouse()
    labels = {slug: labels_of(meta["title"]) for slug, meta, _ in texts}
    truth = {q: {s for s in labels if s != q and labels[s] & labels[q]} for q in labels if labels[q]}
    if build:
        rel = via_build([(slug, meta["title"], str(meta["date"]), meta.get("source"), body) for slug, meta, body in texts])
    else:
        stories = [Story(slug=slug, title=meta["title"], path=f"{slug}.md", body=body, date=day(meta["date"]),
                         source=meta.get("source")) for slug, meta, body in texts]
        rel = related_json(compute_related(stories, {}, 5))
    return {"texts": len(texts), "queries": len(truth), "p@5": precision_at_5(rel, truth),
            "empty_slots": sum(5 - min(5, len(rel.get(q, []))) for q in truth)}


def event_versions(seed: int = 1) -> tuple[list[Story], dict[str, set[str]]]:
    rng = random.Random(seed)
    stories, events = [], {}
    for n, (slug, meta, body) in enumerate(load_whitehouse()):
        sentences = re.split(r"(?<=[.!?])\s+", " ".join(body.split()))
        title_words = meta["title"].split()
        members = []
        for k in range(3):
            keep = [s for s in sentences if rng.random() < 0.5] or sentences[:1]
            words = [w for w in title_words if rng.random() < 0.8] or title_words
            vslug = f"{n:03d}{k}"
            members.append(vslug)
            stories.append(Story(slug=vslug, title=" ".join(words), path=f"{vslug}.md", body=" ".join(keep),
                                 date=day(meta["date"]) + timedelta(days=rng.randint(-2, 2)), source=f"Outlet {k}"))
        for m in members:
            events[m] = set(members) - {m}
    return stories, events


def event_check() -> dict:
    stories, events = event_versions()
    related = compute_related(stories, {}, 5)
    rel = related_json(related)
    found = sum(len([s for s in rel[q][:5] if s in right]) for q, right in events.items())
    exact_groups = sum(1 for q, right in events.items() if set(related.groups.get(q, ())) == right)
    return {"stories": len(stories), "recall@5": found / sum(len(r) for r in events.values()),
            "p@5": precision_at_5(rel, events), "stories_in_exact_group": exact_groups / len(events)}


def via_build(items: list[tuple[str, str, str, str | None, str]]) -> dict[str, list[str]]:
    """Write a site in the hidden test's layout, run `digest build`, read output/related.json."""
    import json

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        (site / "digest.toml").write_text("")
        stories = site / "content" / "stories"
        stories.mkdir(parents=True)
        ids = {}
        for i, (slug, title, date, source, body) in enumerate(items):
            hexid = f"{i:08x}"
            ids[hexid] = slug
            meta = {"title": title, "date": date[:10], "source": source or "Unknown"}
            (stories / f"{hexid}.md").write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body)
        run = subprocess.run([sys.executable, "-m", "digest", "build"], cwd=site, capture_output=True, text=True,
                             env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        if run.returncode != 0:
            raise SystemExit(f"digest build failed:\n{run.stderr}")
        rel = json.loads((site / "output" / "related.json").read_text())
    return {ids[k]: [ids[s] for s in v] for k, v in rel.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", action="store_true", help="country check through `digest build`")
    args = parser.parse_args()
    start = time.perf_counter()
    print("country check:", country_check(build=args.build))
    if not args.build:
        print("same-event check:", event_check())
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
