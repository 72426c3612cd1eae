"""Fingerprints of what a page shows, so an incremental build re-renders exactly the pages
whose inputs changed. Pure.

A story view is fingerprinted by its stamp (the hash of its file, its topics and its preview
marks) rather than by its rendered body, which keeps fingerprinting cheap; everything else in
a page's context (pagers, tag lists, counts) is fingerprinted by value.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Mapping

from digest.model import Page, Topic
from digest.views import Listing, RelatedRef, StoryLinks, StoryView, TagRef


def story_stamp(file_stamp: str, view: StoryView) -> str:
    """The stamp of a story view: its slug, its file's hash, its topics and its preview marks."""
    topics = ",".join(t.slug for t in view.topics)
    return f"{view.slug}|{file_stamp}|{topics}|{','.join(view.status)}"


def page_fingerprint(salt: str, context: Mapping[str, Any], stamps: Mapping[str, str]) -> str:
    """A short hash of a page's context; `salt` covers config, templates and the package version."""
    parts: list[str] = [salt]
    _walk(context, parts, stamps)
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


def _walk(value: Any, out: list[str], stamps: Mapping[str, str]) -> None:
    if value is None or isinstance(value, (str, int, float, bool)):
        out.append(repr(value))
    elif isinstance(value, StoryView):
        out.append("S" + stamps[value.story.path])
    elif isinstance(value, (Topic, Page)):
        out.append(("T" if isinstance(value, Topic) else "P") + value.slug + "|" + stamps[value.path])
    elif isinstance(value, Mapping):
        for key in sorted(value):
            out.append(f"k:{key}")
            _walk(value[key], out, stamps)
    elif isinstance(value, (list, tuple)):
        out.append(f"[{len(value)}")
        for item in value:
            _walk(item, out, stamps)
        out.append("]")
    elif isinstance(value, (TagRef, RelatedRef, StoryLinks, Listing)):
        out.append(type(value).__name__)
        for name in value.__dataclass_fields__:
            _walk(getattr(value, name), out, stamps)
    elif isinstance(value, datetime):
        out.append(value.isoformat())
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__} in a page context")
