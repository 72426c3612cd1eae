"""Front matter: split a Markdown file into its YAML block and body, parse it, dump it.

Pure functions over text; `path` is only used in error messages.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from digest.errors import ContentError, Problem

try:  # the C loader is several times faster; the pure-Python one is the fallback
    _Loader: type = yaml.CSafeLoader
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper

_FENCE = re.compile(r"^---[ \t]*$")
_TOP_KEY = re.compile(r"^([^\s#:'\"][^:]*?|'[^']*'|\"[^\"]*\")[ \t]*:(?:[ \t]|$)")


def split(text: str, path: str) -> tuple[str, int, str, int]:
    """Split `text` into (yaml_text, yaml_first_line, body, body_first_line).

    Raises ContentError for an empty file, a missing opening fence, or a missing closing `---`.
    """
    if not text.strip():
        raise ContentError(Problem(path, 1, "empty file"))
    lines = text.splitlines(keepends=True)
    first = lines[0].lstrip("\ufeff")
    if not _FENCE.match(first.rstrip("\r\n")):
        raise ContentError(Problem(path, 1, "no front matter: the file must start with a '---' line"))
    for index in range(1, len(lines)):
        if _FENCE.match(lines[index].rstrip("\r\n")):
            yaml_text = "".join(lines[1:index])
            body = "".join(lines[index + 1:])
            return yaml_text, 2, body, index + 2
    raise ContentError(Problem(path, 1, "front matter opened with '---' on line 1 is never closed"))


def parse(yaml_text: str, path: str, first_line: int) -> dict[str, Any]:
    """Parse a YAML front-matter block into a dict (safe loader); errors carry the file's line."""
    try:
        data = yaml.load(yaml_text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(Problem(path, line, f"invalid YAML in front matter: {reason}")) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ContentError(Problem(path, first_line,
                                   f"front matter must be a mapping of keys to values, not {_kind(data)}"))
    bad = [key for key in data if not isinstance(key, str)]
    if bad:
        raise ContentError(Problem(path, first_line, f"front-matter keys must be strings, not {bad[0]!r}"))
    return data


def key_lines(yaml_text: str, first_line: int) -> dict[str, int]:
    """The file line of each top-level key of a block-style YAML mapping (and `parent.child` for nested keys)."""
    lines: dict[str, int] = {}
    parent = None
    for offset, line in enumerate(yaml_text.splitlines()):
        match = _TOP_KEY.match(line)
        if match:
            parent = match.group(1).strip("'\"")
            lines.setdefault(parent, first_line + offset)
            continue
        nested = _TOP_KEY.match(line.lstrip()) if parent and line[:1] in (" ", "\t") else None
        if nested:
            lines.setdefault(f"{parent}.{nested.group(1).strip(chr(39) + chr(34))}", first_line + offset)
    return lines


def dump(meta: dict[str, Any], body: str) -> str:
    """Serialise front matter and body back into a story file's text."""
    block = yaml.dump(meta, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{block}---\n\n{body.lstrip(chr(10))}"


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__
