"""Template errors name the template file and line; undefined variables are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import parse_config
from digest.errors import TemplateError
from digest.render import PageSpec, format_date, render_pages, theme_dir
from digest.views import build_views


def _render(tmp_path: Path, template: str, context: dict | None = None) -> dict[str, bytes]:
    (tmp_path / "t.html").write_text(template, encoding="utf-8")
    config = parse_config("", "digest.toml", root=tmp_path)
    views = build_views(config, [], [], [], {}, {}, {})
    return render_pages(config, views, [PageSpec("x/", "t.html", context or {})], [tmp_path, theme_dir()])


def test_undefined_variable_is_an_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as info:
        _render(tmp_path, "line one\n{{ nope }}\n")
    [problem] = info.value.problems
    assert problem.path.endswith("t.html") and problem.line == 2 and "undefined variable" in problem.message


def test_syntax_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as info:
        _render(tmp_path, "a\nb\n{% for %}\n")
    [problem] = info.value.problems
    assert problem.path.endswith("t.html") and problem.line == 3


def test_autoescape_and_relative_links(tmp_path: Path) -> None:
    files = _render(tmp_path, "{{ value }} {{ url('topics/') }}", {"value": "<script>alert(1)</script>"})
    assert files["x/index.html"] == b"&lt;script&gt;alert(1)&lt;/script&gt; ../topics/"


def test_format_date_in_site_timezone() -> None:
    from datetime import datetime, timezone

    when = datetime(2013, 12, 16, 20, 0, tzinfo=timezone.utc)
    assert format_date(when, "Asia/Phnom_Penh") == "17 December 2013"
