"""What a story gives the related-stories engine, as two comparable values: `text_key` (a digest of
the texts its terms and names are read from: the title, the summary and the start of the body)
and `story_meta` (everything else it contributes). Two versions of a story with equal keys give
the engine the same input. Pure; no numpy, so a quick rebuild can tell whether the engine has
anything to do before loading it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Sequence

from digest.model import Story

BODY_CHARS = 3000  # the start of the body that terms are read from
NAME_CHARS = 1500  # names (for the "shares: ..." reasons) come from the title, summary and body start


def day(date: datetime | None) -> int | None:
    """A story's day as the engine compares dates (None when undated)."""
    return None if date is None else date.date().toordinal()


def text_key(story: Story) -> bytes:
    """A digest of the texts terms and names are read from (the index keeps no copy of them);
    0xFF bytes (never in UTF-8) keep the parts from running into each other."""
    end = max(BODY_CHARS, NAME_CHARS)
    return hashlib.blake2b(b"\xff".join((story.title.encode("utf-8", "surrogatepass"),
                                         (story.summary or "").encode("utf-8", "surrogatepass"),
                                         story.body[:end].encode("utf-8", "surrogatepass"))), digest_size=16).digest()


def story_meta(story: Story, topics: Sequence[str]) -> str:
    """Everything but the texts that the story contributes, as one comparable string."""
    return repr((day(story.date), story.source, tuple(topics), tuple(story.tags), tuple(story.related),
                 tuple(story.unrelated)))


def input_key(story: Story, topics: Sequence[str]) -> str:
    """`text_key` and `story_meta` as one short string."""
    return joined_key(text_key(story), story_meta(story, topics))


def joined_key(text: bytes, meta: str) -> str:
    """`input_key` from a story's `text_key` and `story_meta` (as the related index keeps them)."""
    return hashlib.blake2b(text + b"\xff" + meta.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
