"""Front matter is parsed by PyYAML's safe loader: the quick construction of plain mappings,
lists and strings gives what `yaml.load` gives, and leaves everything else to PyYAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from digest import frontmatter
from digest.errors import ContentError

ROOT = Path(__file__).resolve().parents[2]

DOCUMENTS = [
    "title: T\ntags: [a, b]\nimage: {src: /x.png, alt: ''}\n",
    "a: 2020-01-01\nb: 2020-01-01T10:00:00+08:00\nc: 1.5\nd: yes\ne: null\nf: ~\ng: 0x1f\nh: .inf\ni: '1'\n",
    "a: &x [1, 2]\nb: *x\n",  # an alias: one shared object
    "a: &r [*r]\n",  # a list that holds itself
    "<<: {a: 1}\nb: 2\n",  # a merge key
    "1: a\n",  # a number as key
    "? [1]\n: x\n",  # an unhashable key
    "=: a\n",
    "a: =\n",
    "a: !!set {x, y}\n",
    "a: !!binary aGVsbG8=\n",
    "a: !!str 1\n",
    "a: !foo x\n",
    "a: {b: [c, {d: e}]}\n",
    "",
    "# only a comment\n",
    "- a\n- b\n",
    "just text",
    "a: [b\n",  # a syntax error
    "a: 1\n---\nb: 2\n",  # two documents
]


def _outcome(load, text: str) -> tuple:
    try:
        return ("ok", repr(load(text)))
    except yaml.YAMLError as exc:
        return ("error", type(exc).__name__, str(exc))


@pytest.mark.parametrize("text", DOCUMENTS)
def test_quick_construction_equals_pyyaml(text: str) -> None:
    assert _outcome(frontmatter._load, text) == _outcome(lambda t: yaml.load(t, Loader=frontmatter._Loader), text)


def test_an_alias_is_one_shared_object_as_pyyaml_makes_it() -> None:
    data = frontmatter._load("a: &x [1, 2]\nb: *x\n")
    assert data == {"a": [1, 2], "b": [1, 2]} and data["a"] is data["b"]


def test_every_fixture_file_parses_as_pyyaml_parses_it() -> None:
    files = sorted((ROOT / "tests").rglob("*.md"))
    assert len(files) > 20
    compared = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if not text.startswith("---"):
            continue
        try:
            yaml_text = frontmatter.split(text, str(path))[0]
        except ContentError:
            continue
        assert _outcome(frontmatter._load, yaml_text) == _outcome(
            lambda t: yaml.load(t, Loader=frontmatter._Loader), yaml_text), path
        compared += 1
    assert compared >= 20


def test_parse_reports_yaml_errors_at_their_line() -> None:
    with pytest.raises(ContentError) as info:
        frontmatter.parse("title: a\ntags: [b\n", "x.md", 2)
    assert info.value.problems[0].path == "x.md" and info.value.problems[0].line >= 3
