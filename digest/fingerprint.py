"""Fingerprints of what a page shows, so an incremental build re-renders exactly the pages
whose inputs changed. Pure.

A story view is fingerprinted by its stamp (the hash of its file, its topics and its preview
marks) rather than by its rendered body, which keeps fingerprinting cheap; everything else in
a page's context (pagers, tag lists, counts) is fingerprinted by value.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Iterable, Mapping

from digest.model import Page, Topic
from digest.views import Listing, RelatedRef, StoryLinks, StoryView, TagRef


def story_stamp(file_stamp: str, view: StoryView) -> str:
    """The stamp of a story view: its slug, its file's hash, its topics and its preview marks."""
    return stamp_of_story(view.slug, file_stamp, [t.slug for t in view.topics], view.status)


def stamp_of_story(slug: str, file_stamp: str, topics: Iterable[str], status: Iterable[str]) -> str:
    """`story_stamp` from its parts (a quick rebuild stamps stories without making their views)."""
    return f"{slug}|{file_stamp}|{','.join(topics)}|{','.join(status)}"


def page_fingerprint(salt: str, context: Mapping[str, Any], stamps: Mapping[str, str],
                     shared: dict[int, str] | None = None) -> str:
    """A short hash of a page's context; `salt` covers config, templates and the package version.

    `shared`: a memo for fingerprinting many pages in a row, while their contexts are alive: a
    list or tuple that several contexts hold (a listing's topic counts, the index's per-topic
    heads) is walked once (by id), and a listing entry of a story without other versions is
    written out once per story (by ~id of its view: no list's id); the fingerprint is the same as
    without the memo."""
    parts: list[str] = [salt]
    _walk(context, parts, stamps, {} if shared is None else shared)
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


def _walk(value: Any, out: list[str], stamps: Mapping[str, str], shared: dict[int, str]) -> None:
    kind = type(value)
    if kind is StoryView:
        out.append("S" + stamps[value.story.path])
    elif kind is dict:
        for key in sorted(value):
            out.append(f"k:{key}")
            item = value[key]
            item_kind = type(item)
            if item_kind is str or item_kind is int or item is None:  # pager numbers and links inline
                out.append(repr(item))
            elif item_kind is list or item_kind is tuple:  # perhaps held by many pages: walked once
                known = shared.get(id(item))
                if known is None:
                    inner: list[str] = []
                    _walk(item, inner, stamps, shared)
                    known = shared[id(item)] = "\x1f".join(inner)  # the same string as walking it here
                out.append(known)
            else:
                _walk(item, out, stamps, shared)
    elif kind is tuple or kind is list:
        out.append(f"[{len(value)}")
        for item in value:  # the common leaves inline: this runs for every entry of every listing
            item_kind = type(item)
            if item_kind is StoryView:
                out.append("S" + stamps[item.story.path])
            elif item_kind is str or item_kind is int:
                out.append(repr(item))
            elif item_kind is Topic:
                out.append("T" + item.slug + "|" + stamps[item.path])
            elif item_kind is tuple and len(item) == 2 and type(item[0]) is StoryView and type(item[1]) is tuple:
                # a listing entry (story, other outlets' versions): the tokens walking it would give
                others = item[1]
                if not others:  # most entries: the tokens joined once per story, under ~id (no list's id)
                    view = item[0]
                    chunk = shared.get(~id(view))
                    if chunk is None:
                        chunk = shared[~id(view)] = f"[2\x1fS{stamps[view.story.path]}\x1f[0\x1f]\x1f]"
                    out.append(chunk)
                    continue
                out.append("[2")
                out.append("S" + stamps[item[0].story.path])
                out.append(f"[{len(others)}")
                for other in others:
                    out.append("S" + stamps[other.story.path] if type(other) is StoryView else _walked(other, stamps, shared))
                out.append("]")
                out.append("]")
            else:
                _walk(item, out, stamps, shared)
        out.append("]")
    elif kind in _SCALARS:
        out.append(repr(value))
    elif kind is Listing:
        out.append(f"L{len(value.entries)}")
        for view, others in value.entries:
            out.append("S" + stamps[view.story.path])
            out.append(f"[{len(others)}")
            out.extend(["S" + stamps[other.story.path] for other in others])
    elif kind is StoryLinks:  # on every story page: written out rather than walked
        out.append(f"SL{len(value.related)}")
        out.extend(["R" + stamps[ref.story.story.path] + repr(ref.reasons) for ref in value.related])
        out.append(f"G{len(value.group)}")
        out.extend(["S" + stamps[other.story.path] for other in value.group])
        out.append(f"N{len(value.neighbours)}")
        for topic, newer, older in value.neighbours:
            out.append("T" + topic.slug + "|" + stamps[topic.path])
            out.append("S" + stamps[newer.story.path] if newer is not None else "-")
            out.append("S" + stamps[older.story.path] if older is not None else "-")
    elif kind is RelatedRef:
        out.append("R" + stamps[value.story.story.path] + repr(value.reasons))
    elif kind is TagRef:
        out.append(f"G{value.name!r}{value.url!r}{value.count}")
    elif kind is Topic or kind is Page:
        out.append(("T" if kind is Topic else "P") + value.slug + "|" + stamps[value.path])
    elif isinstance(value, Mapping):
        for key in sorted(value):
            out.append(f"k:{key}")
            _walk(value[key], out, stamps, shared)
    elif isinstance(value, datetime):
        out.append(value.isoformat())
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__} in a page context")


def _walked(value: Any, stamps: Mapping[str, str], shared: dict[int, str]) -> str:
    out: list[str] = []
    _walk(value, out, stamps, shared)
    return "\x1f".join(out)


_SCALARS = {str, int, float, bool, type(None)}
