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
        data = _load(yaml_text)
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


_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


class _Unusual(Exception):
    """A node the quick construction leaves to PyYAML's constructor (an alias, a tag of its own, a merge)."""


def _load(yaml_text: str) -> Any:
    """`yaml.load(yaml_text, Loader=_Loader)`, with the same result: PyYAML parses and composes
    the nodes; plain mappings, sequences and strings (nearly all of front matter) are built here
    without PyYAML's generic construction machinery (~40% of the YAML time), and every other
    scalar (dates, numbers, booleans, null) by PyYAML's own constructors. A document with
    anything else (aliases, merge keys, explicit tags, keys that are not strings) is constructed
    by PyYAML as a whole, as before."""
    loader = _Loader(yaml_text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _construct(loader, node, set())
        except _Unusual:  # built by PyYAML as a whole (what the quick construction made of it is dropped)
            return loader.construct_document(node)
    finally:
        loader.dispose()


def _construct(loader: Any, node: yaml.Node, seen: set[int]) -> Any:
    kind = type(node)
    if kind is yaml.ScalarNode:
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    if id(node) in seen:  # the same node twice: an alias (PyYAML shares the object, maybe recursively)
        raise _Unusual
    seen.add(id(node))
    if kind is yaml.SequenceNode and node.tag == _SEQ:
        return [_construct(loader, item, seen) for item in node.value]
    if kind is yaml.MappingNode and node.tag == _MAP:
        mapping = {}
        for key, value in node.value:
            if type(key) is not yaml.ScalarNode or key.tag != _STR:  # merge keys (<<), '=', numbers, ...
                raise _Unusual
            mapping[key.value] = _construct(loader, value, seen)
        return mapping
    raise _Unusual


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
