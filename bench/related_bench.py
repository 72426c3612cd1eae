"""Cost of related stories: full computation, one-edit updates in-process and in a new process.

    python3 bench/related_bench.py --stories 10000                  # 2 workers, 3 edits, cross-process edit
    python3 bench/related_bench.py --stories 10000 --workers 1      # tokenising in this process only
    python3 bench/related_bench.py --stories 10000 --check          # also: every update == full computation

Stories come from bench/generate.py (seeded; ~900-word bodies, tags, dates over years; the
generator's topics are used as the stories' topics). Reports wall and CPU time of
`RelatedIndex(...)` (tokenising + the sparse similarity + candidate lists), of `result()`, of
`RelatedIndex.update` after editing one story (a sentence with new words put before its body,
and a title edit), and the "next `digest build`" path: the index pickled (as the build cache
does), then a new Python process (another PYTHONHASHSEED) unpickles it, edits one story and
updates. CPU is given for this process and, separately, for the forked workers (children).
The load average is printed before and after: the machine may be shared.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from digest.model import Story  # noqa: E402
from digest.related import RelatedIndex  # noqa: E402
from digest.related_result import related_json  # noqa: E402


def stories(n: int, seed: int) -> list[Story]:
    import generate

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
    wall, cpu, kids = time.perf_counter(), time.process_time(), os.times()
    value = fn()
    after = os.times()
    child = (after.children_user + after.children_system) - (kids.children_user + kids.children_system)
    print(f"{label}: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU"
          + (f" + {child:.2f} s CPU in workers" if child > 0.005 else "")
          + f", peak RSS {peak_mb():.0f} MB (workers {children_peak_mb():.0f} MB)", flush=True)
    return value


PHASES: dict[str, list[float]] = {}


def phase_timer(name: str, fn):
    """Wrap `fn` to add its wall, CPU (this process) and workers' CPU to PHASES[name]."""
    def wrapped(*args, **kwargs):
        wall, cpu, kids = time.perf_counter(), time.process_time(), os.times()
        try:
            return fn(*args, **kwargs)
        finally:
            after = os.times()
            child = (after.children_user + after.children_system) - (kids.children_user + kids.children_system)
            total = PHASES.setdefault(name, [0.0, 0.0, 0.0])
            for i, value in enumerate((time.perf_counter() - wall, time.process_time() - cpu, child)):
                total[i] += value
    return wrapped


def print_phases() -> None:
    for name, (wall, cpu, child) in PHASES.items():
        print(f"  {name}: {wall:.2f} s wall, {cpu:.2f} s CPU + {child:.2f} s CPU in workers")
    PHASES.clear()


def edited(corpus: list[Story], e: int) -> tuple[int, Story]:
    k = (e * 7919) % len(corpus)
    s = corpus[k]
    if e % 2:
        return k, dataclasses.replace(s, title=s.title + f" (updated {e})")
    return k, dataclasses.replace(s, body=f"Correction {e}: the minister visited Zanzibar{e} port.\n\n" + s.body)


def check(index: RelatedIndex, corpus: list[Story], topics: dict) -> None:
    full = RelatedIndex(corpus, topics, index.count)
    same = related_json(index.result()) == related_json(full.result()) and all(
        index.cands[s].items == full.cands[s].items for s in full.slugs)
    print(f"  equals a full recomputation: {same}")
    if not same:
        raise SystemExit(1)


def next_process(index_path: str, corpus_path: str, e: int, do_check: bool) -> None:
    """The second half of the cross-process scenario (run in a new interpreter)."""
    with open(corpus_path, "rb") as f:
        corpus = pickle.load(f)
    topics = {s.slug: s.topics for s in corpus}
    with open(index_path, "rb") as f:
        data = f.read()
    index = timed(f"[new process] unpickle the index ({len(data) / 1e6:.0f} MB)", lambda: pickle.loads(data))
    k, corpus[k] = edited(corpus, e)
    recomputed = timed(f"[new process] update after editing {corpus[k].slug}", lambda: index.update(corpus, topics))
    print(f"  rows recomputed: {len(recomputed)} of {len(corpus)}")
    timed("[new process] result()", index.result)
    if do_check:
        check(index, corpus, topics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--procs", type=int, default=0, help="pin to this many cores (0: leave as is)")
    parser.add_argument("--workers", type=int, default=2, help="processes reading the texts (RelatedIndex workers)")
    parser.add_argument("--no-cross-process", action="store_true", help="skip the pickle + new process edit")
    parser.add_argument("--check", action="store_true", help="compare every update with a full computation")
    parser.add_argument("--next-process", nargs=3, metavar=("INDEX", "CORPUS", "EDIT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.procs:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.procs]))
    if args.next_process:
        next_process(args.next_process[0], args.next_process[1], int(args.next_process[2]), args.check)
        return
    corpus = stories(args.stories, args.seed)
    topics = {s.slug: s.topics for s in corpus}
    words = sum(len(s.body.split()) for s in corpus)
    print(f"{len(corpus)} stories, {words / len(corpus):.0f} body words on average; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; peak RSS before {peak_mb():.0f} MB", flush=True)
    import digest.related as related

    related._all_features = phase_timer("reading the texts (terms, names)", related._all_features)
    RelatedIndex._compute_rows = phase_timer("similarity rows + candidates", RelatedIndex._compute_rows)
    index = timed(f"full computation (RelatedIndex, workers={args.workers})",
                  lambda: RelatedIndex(corpus, topics, 5, workers=args.workers))
    print_phases()
    timed("result()", index.result)
    for e in range(args.edits):
        k, corpus[k] = edited(corpus, e)
        recomputed = timed(f"update after editing {corpus[k].slug} ({'title' if e % 2 else 'body'})",
                           lambda: index.update(corpus, topics))
        print(f"  rows recomputed: {len(recomputed)} of {len(corpus)}")
        if args.check:
            check(index, corpus, topics)
    if not args.no_cross_process:
        with tempfile.TemporaryDirectory() as tmp:
            index_path, corpus_path = os.path.join(tmp, "index.pickle"), os.path.join(tmp, "corpus.pickle")
            data = timed("pickle the index (as the build cache does)", lambda: pickle.dumps(index, protocol=5))
            with open(index_path, "wb") as f:
                f.write(data)
            with open(corpus_path, "wb") as f:
                pickle.dump(corpus, f, protocol=5)
            del data
            cmd = [sys.executable, __file__, "--next-process", index_path, corpus_path, str(args.edits)]
            subprocess.run(cmd + (["--check"] if args.check else []), check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
