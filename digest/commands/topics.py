"""`digest topics`: topics with story counts; `--explain STORY`: how each topic's rules score one story."""

from __future__ import annotations

import argparse
from pathlib import Path

from digest import clock
from digest.config import load_config
from digest.content import load_site
from digest.errors import UsageError
from digest.model import Site, Story
from digest.topics import TopicExplanation, assign_topics, explain


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "topics", help="list topics with story counts, or explain one story's topics",
        description="List the topics with the number of stories in each (as the build assigns them), "
                    "or, with --explain, show the score of every rule of every topic for one story.")
    parser.add_argument("--site", type=Path, default=Path("."), help="the site folder (default: .)")
    parser.add_argument("--explain", metavar="STORY", help="a story's slug or file path")
    parser.add_argument("--drafts", action="store_true", help="count stories marked draft: true too")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    site = load_site(load_config(args.site))
    if args.explain:
        story = find_story(site, args.explain, args.site)
        print(format_explanation(story, explain(story, site.topics)), end="")
        return 0
    now = clock.now()
    stories = [s for s in site.stories
               if (args.drafts or not s.draft) and (s.date is None or s.date <= now)]
    print(format_counts(site, stories), end="")
    return 0


def find_story(site: Site, wanted: str, root: Path) -> Story:
    """The story whose slug is `wanted`, or whose file is `wanted` (relative to the site or cwd)."""
    for story in site.stories:
        if story.slug == wanted:
            return story
    candidates = {Path(wanted).as_posix()}
    try:
        candidates.add(Path(wanted).resolve().relative_to(root.resolve()).as_posix())
    except ValueError:
        pass
    for story in site.stories:
        if story.path in candidates:
            return story
    raise UsageError(f"no story with slug or path {wanted!r}")


def format_counts(site: Site, stories: list[Story]) -> str:
    """One line per topic (slug order): slug, story count, title; then stories without a topic."""
    assigned = assign_topics(stories, site.topics)
    counts = {t.slug: 0 for t in site.topics}
    automatic = {t.slug: 0 for t in site.topics}
    for story in stories:
        for slug in assigned[story.slug]:
            counts[slug] = counts.get(slug, 0) + 1
            if story.topics is None:
                automatic[slug] = automatic.get(slug, 0) + 1
    titles = {t.slug: t.title for t in site.topics}
    width = max([len(s) for s in counts] + [len("(no topic)"), len("topic")])
    lines = [f"{'topic':<{width}}  stories  (by rules)  title"]
    for slug in sorted(counts):
        rules = "" if any(t.slug == slug and t.rules for t in site.topics) else "  [no rules]"
        lines.append(f"{slug:<{width}}  {counts[slug]:>7}  {automatic.get(slug, 0):>10}  {titles.get(slug, '?')}{rules}")
    none = sum(1 for s in stories if not assigned[s.slug])
    lines.append(f"{'(no topic)':<{width}}  {none:>7}")
    lines.append(f"{len(stories)} stories, {len(site.topics)} topics")
    return "\n".join(lines) + "\n"


def format_explanation(story: Story, explanations: list[TopicExplanation]) -> str:
    """A readable per-topic, per-rule score breakdown for one story."""
    assigned = [e.topic for e in explanations if e.assigned]
    source = "front matter `topics`" if story.topics is not None else "topic rules"
    lines = [f"story: {story.slug} ({story.path})",
             f"topics: {', '.join(assigned) if assigned else '(none)'}  [from {source}]", ""]
    for e in explanations:
        mark = "yes" if e.assigned else "no "
        if e.min_score is None and e.reason == "no rules":
            lines.append(f"{mark} {e.topic} ({e.title}): no rules")
        elif e.min_score is None:
            lines.append(f"{mark} {e.topic} ({e.title}): {e.reason}")
        else:
            lines.append(f"{mark} {e.topic} ({e.title}): score {e.score:g}, minimum {e.min_score:g}; {e.reason}")
        for r in e.rules:
            found = ", ".join(f"{s} x{n}" for s, n in r.spellings) or "not found"
            if r.kind == "phrase":
                lines.append(f"      phrase   {r.phrase!r} weight {r.weight:g}: {r.count} -> {r.points:g} points  ({found})")
            else:
                lines.append(f"      {r.kind:<8} {r.phrase!r}: {found}")
    return "\n".join(lines) + "\n"
