"""What `{{ value }}` prints under autoescape, without the cost of a Markup object per value."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

try:  # markupsafe 3: the C function behind `escape`, which returns text without making a Markup of it
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - another markupsafe
    _escape_inner = None


def output_escape(value: Any) -> str:
    """What `{{ value }}` prints under autoescape: `escape(value)`, but text comes back as a plain
    string (the same characters) rather than a Markup object, which costs more to make than the
    escaping itself. Only printed output uses it: it is joined into the page as it is."""
    kind = type(value)
    if kind is str and _escape_inner is not None:
        return _escape_inner(value)
    if kind is Markup:  # safe already: `escape` would only copy it (its __html__ is itself)
        return value
    return escape(value)
