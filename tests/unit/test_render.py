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


def test_text_start_equals_the_opening_of_the_whole_text_on_every_story_of_the_digest() -> None:
    """The standfirst check reads only the opening elements; it must agree with striptags on the whole body."""
    from markupsafe import Markup

    from digest.content import load_site
    from digest.config import load_config
    from digest.markdown import renderer
    from digest.views import text_start

    repo = Path(__file__).resolve().parents[2]
    site = load_site(load_config(repo))
    html_cases = [renderer(False)(story.body) for story in site.stories]
    html_cases += ["<p>Short.</p>\n<p>More text that goes on for long enough to pass sixty characters.</p>",
                   "<h2>T</h2><p>a &amp; b <em>c</em></p>", "", "no tags at all", "<p>a</p>" * 40]
    for html in html_cases:
        for length in (10, 60, 200):
            assert text_start(html, length) == Markup(html).striptags()[:length]
