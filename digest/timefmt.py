"""How times are written on pages: for readers ("17 December 2013") and for machines (ISO 8601 in
`<time datetime>`, OpenGraph and JSON-LD). Pure."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=65536)
def format_date(when: datetime | None, timezone: str = "UTC", with_time: bool = False) -> str:
    """A reader's date: "17 December 2013" (and ", 14:05" with `with_time`). Remembered, as a
    story's date shows on every list and rail that names it (equal instants give equal text)."""
    if when is None:
        return ""
    local = when.astimezone(ZoneInfo(timezone))
    text = f"{local.day} {local.strftime('%B %Y')}"
    return text + local.strftime(", %H:%M") if with_time else text


def iso_date(when: datetime | None, date_only: bool = False) -> str:
    """ISO 8601 of `when` ("" for None), or of its date alone with `date_only` (a story dated
    without a time: `iso_date(story.date, not story.date_has_time)`)."""
    if when is None:
        return ""
    return when.date().isoformat() if date_only else when.isoformat()
