"""The build's clock, read once at the edge: `SOURCE_DATE_EPOCH` when set, else now (UTC)."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from digest.errors import UsageError


def now() -> datetime:
    """The current time as an aware UTC datetime, honouring SOURCE_DATE_EPOCH."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        except ValueError:
            raise UsageError(f"SOURCE_DATE_EPOCH must be an integer, not {epoch!r}") from None
    return datetime.now(timezone.utc)
