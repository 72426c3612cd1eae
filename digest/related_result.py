"""What the related-stories engine gives the build: each story's related links and same-story
groups (`Related`), and `output/related.json` made from them. Plain data and pure functions;
`digest.related` computes them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping


@dataclass(frozen=True)
class RelatedLink:
    """One related story: its slug, the pair's score and what the two stories share."""

    slug: str
    score: float
    reasons: tuple[str, ...] = ()  # shared names and tags, e.g. ("ASEAN", "South China Sea")
    pinned: bool = False


@dataclass(frozen=True)
class Related:
    """Related stories and same-story groups of every story (keyed by slug)."""

    links: Mapping[str, tuple[RelatedLink, ...]]
    groups: Mapping[str, tuple[str, ...]]  # the other members of the story's group, by date then slug
    warnings: tuple[str, ...] = ()
    made: frozenset[str] = frozenset()  # the stories whose list this result made again (the others kept theirs)
    # the related.json entries in slug order, made on demand by the index that made this result (kept between builds)
    json_entries: Callable[[], list[str]] | None = field(default=None, compare=False, repr=False)


def related_json_bytes(related: Related) -> bytes:
    """`output/related.json` as `json.dumps(related_json(related), ensure_ascii=False,
    sort_keys=True, indent=1)` writes it, plus a newline; each story's entry is made once per
    process, or kept with the index between builds (a rebuild after an edit writes almost every
    entry again)."""
    if related.json_entries is not None:
        entries = related.json_entries()
    else:
        data = related_json(related)
        entries = [json_entry(slug, tuple(data[slug])) for slug in sorted(data)]
    if not entries:
        return b"{}\n"
    return ("{\n" + ",\n".join(entries) + "\n}\n").encode("utf-8")


@lru_cache(maxsize=1 << 18)
def json_entry(slug: str, items: tuple[str, ...]) -> str:
    # _quoted(s) is json.dumps(s, ensure_ascii=False) for a str, without making an encoder per
    # call (30,000 strings at 10,000 stories)
    key = " " + _quoted(slug) + ": "
    if not items:
        return key + "[]"
    return key + "[\n" + ",\n".join(["  " + _quoted(item) for item in items]) + "\n ]"


_quoted = json.encoder.encode_basestring


def related_json(related: Related) -> dict[str, list[str]]:
    """`output/related.json`: slug -> [group members..., then the other related stories], best first."""
    out: dict[str, list[str]] = {}
    for slug in sorted(related.links):
        group = list(related.groups.get(slug, ()))
        seen = set(group)
        out[slug] = group + [link.slug for link in related.links[slug] if link.slug not in seen]
    return out
