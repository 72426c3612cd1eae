"""Template errors name the template file and line; undefined variables are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import parse_config
from digest.errors import TemplateError
from digest.render import PageSpec, render_pages, theme_dir
from digest.timefmt import format_date
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


def test_a_missing_template_is_an_error_even_with_no_template_folder_at_all(tmp_path: Path) -> None:
    """No template folder (a site without templates/ and an install without its theme): the
    build names the template it could not find (it failed with an IndexError)."""
    config = parse_config("", "digest.toml", root=tmp_path)
    views = build_views(config, [], [], [], {}, {}, {})
    for folders in ([tmp_path], []):
        with pytest.raises(TemplateError) as info:
            render_pages(config, views, [PageSpec("x/", "story.html", {})], folders)
        [problem] = info.value.problems
        assert problem.message == "template not found: story.html" and problem.line is None


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


def _list_site(tmp_path: Path, item_macro: str) -> tuple[object, object, list[PageSpec], list[Path]]:
    """Three stories and pages at three depths that list them with `cached(item, ...)`."""
    from datetime import datetime, timezone

    from digest.model import Story

    (tmp_path / "partials").mkdir(exist_ok=True)
    (tmp_path / "partials" / "item.html").write_text(item_macro, encoding="utf-8")
    (tmp_path / "list.html").write_text(
        '{% from "partials/item.html" import item %}'
        "{% for entry in entries %}{{ cached(item, entry, root, level) }}|{% endfor %}", encoding="utf-8")
    config = parse_config("", "digest.toml", root=tmp_path)
    stories = [Story(path=f"content/stories/s{i}.md", slug=f"s{i}", title=f"Story <{i}>", body="Text.\n",
                     date=datetime(2024, 1, i + 1, tzinfo=timezone.utc)) for i in range(3)]
    views = build_views(config, stories, [], [], {}, {}, {})
    specs = [PageSpec(url, "list.html", {"entries": views.stories, "level": 3 if url.startswith("tags/a/page") else 2})
             for url in ("", "tags/a/", "tags/a/page/2/", "404.html")]
    return config, views, specs, [tmp_path, theme_dir()]


def test_cached_macro_output_is_the_macros_at_every_depth_and_rendered_once_per_story(tmp_path: Path) -> None:
    from digest.render import environment

    config, views, specs, dirs = _list_site(
        tmp_path, '{% macro item(view, root, level) %}{{ tick() }}<h{{ level }}><a href="{{ root }}{{ view.url }}">'
                  "{{ view.title }}</a></h{{ level }}>{% endmacro %}")
    calls: list[int] = []
    environment(config, dirs).globals["tick"] = lambda: calls.append(1) or ""
    files = render_pages(config, views, specs, dirs)
    item = '<h{level}><a href="{root}stories/s{n}/">Story &lt;{n}&gt;</a></h{level}>|'
    for name, root, level in (("index.html", "./", 2), ("tags/a/index.html", "../../", 2),
                              ("tags/a/page/2/index.html", "../../../../", 3), ("404.html", "/", 2)):
        assert files[name].decode() == "".join(item.format(root=root, n=n, level=level) for n in (2, 1, 0))
    assert len(calls) == 3  # one rendering per story for the four pages, whatever their depth and heading level


def test_cached_macro_that_does_more_with_root_than_print_it_is_rendered_per_root(tmp_path: Path) -> None:
    from digest.render import environment

    config, views, specs, dirs = _list_site(
        tmp_path, "{% macro item(view, root, level) %}{{ tick() }}{% if root == './' %}front {% endif %}"
                  "{{ root ~ view.url }}{% set level = level + 1 %}{{ level }}{% endmacro %}")
    calls: list[int] = []
    environment(config, dirs).globals["tick"] = lambda: calls.append(1) or ""
    files = render_pages(config, views, specs, dirs)
    assert files["index.html"] == b"front ./stories/s2/3|front ./stories/s1/3|front ./stories/s0/3|"
    assert files["tags/a/page/2/index.html"] == b"../../../../stories/s2/4|../../../../stories/s1/4|../../../../stories/s0/4|"
    assert len(calls) == 3 * 4  # per story, root and level


def test_cached_items_prints_what_a_loop_over_cached_prints(tmp_path: Path) -> None:
    from digest.render import environment

    config, views, specs, dirs = _list_site(
        tmp_path, '{% macro item(view, others, root, level) %}{{ tick() }}<h{{ level }}><a href="{{ root }}{{ view.url }}">'
                  "{{ view.title }}</a></h{{ level }}>{{ others | length }}{% endmacro %}")
    (tmp_path / "loop.html").write_text(
        '{% from "partials/item.html" import item %}<div>\n{% for view in entries %}{{ cached(item, view, (), root, level) }}\n'
        '{% endfor %}</div>', encoding="utf-8")
    (tmp_path / "items.html").write_text(
        '{% from "partials/item.html" import item %}<div>\n{{ cached_items(item, pairs, root, level) }}\n</div>', encoding="utf-8")
    calls: list[int] = []
    environment(config, dirs).globals["tick"] = lambda: calls.append(1) or ""
    pairs = [(view, ()) for view in views.stories]
    loops = render_pages(config, views, [PageSpec(s.url, "loop.html", s.context) for s in specs], dirs)
    items = render_pages(config, views, [PageSpec(s.url, "items.html", {**s.context, "pairs": pairs}) for s in specs], dirs)
    assert loops == items and b'<a href="../../stories/s2/">Story &lt;2&gt;</a></h2>0\n<h2>' in items["tags/a/index.html"]
    assert len(calls) == 3  # once per story, in either form
    env = environment(config, dirs)  # outside a build (no memo): the same text, rendered per call
    template = env.from_string('{% from "partials/item.html" import item %}{{ cached_items(item, pairs, "/", 2) }}')
    assert template.render(pairs=pairs) == "\n".join(
        env.from_string('{% from "partials/item.html" import item %}{{ item(v, (), "/", 2) }}').render(v=v) for v, _ in pairs)


def test_a_template_edited_between_renders_is_recompiled(tmp_path: Path) -> None:
    import os

    config, views, specs, dirs = _list_site(
        tmp_path, '{% macro item(view, root, level) %}{{ root }}{{ view.slug }}{% endmacro %}')
    assert render_pages(config, views, specs[:1], dirs)["index.html"] == b"./s2|./s1|./s0|"
    item = tmp_path / "partials" / "item.html"
    item.write_text('{% macro item(view, root, level) %}[{{ view.slug }}]{% endmacro %}', encoding="utf-8")
    os.utime(item, (1, 1))  # a different modification time, however coarse the file system's clock
    assert render_pages(config, views, specs[:1], dirs)["index.html"] == b"[s2]|[s1]|[s0]|"


def test_rebase_points_root_relative_links_at_root_and_leaves_other_html_alone(tmp_path: Path) -> None:
    from markupsafe import Markup

    html = Markup('<p><a href="/topics/x/">x</a> <img src="/a.png"> <a href="//cdn.example/y">y</a> '
                  '<a href="https://example.org/">z</a></p>')
    files = _render(tmp_path, "{{ html | rebase(root) }}\n{{ plain | rebase(root) }}",
                    {"html": html, "plain": Markup("<p>No links, a=\"/ \"</p>")})
    assert files["x/index.html"].decode() == (
        '<p><a href="../topics/x/">x</a> <img src="../a.png"> <a href="//cdn.example/y">y</a> '
        '<a href="https://example.org/">z</a></p>\n<p>No links, a="/ "</p>')


def test_the_memo_of_a_build_goes_with_its_views(tmp_path: Path) -> None:
    import gc

    from digest import render

    config, views, specs, dirs = _list_site(
        tmp_path, '{% macro item(view, root, level) %}{{ view.slug }}{% endmacro %}')
    render_pages(config, views, specs, dirs)
    key = id(views)
    assert render._MEMOS[key]  # the three items, kept for the next chunk of pages of this build
    del views, specs
    gc.collect()
    assert key not in render._MEMOS


def test_a_topic_listing_is_made_again_only_when_its_own_stories_change(tmp_path: Path) -> None:
    """serve rebuilds after each save: the listing of a topic whose stories are the same views
    keeps its page specs (another topic's edit does not remake it); the edited topic's does not."""
    from dataclasses import replace

    from digest.model import Story, Topic
    from digest.render import page_specs

    config = parse_config("", "digest.toml", root=tmp_path)
    topics = [Topic("a", "A", "content/topics/a.md", ""), Topic("b", "B", "content/topics/b.md", "")]
    stories = [Story(slug=f"s{n}", title=f"S{n}", path=f"content/stories/s{n}.md", body="Text.") for n in range(4)]
    chosen = {"s0": ("a",), "s1": ("a",), "s2": ("b",), "s3": ("b",)}

    def specs_by_url(views) -> dict:
        return {spec.url: spec for spec in page_specs(config, views)}

    first = build_views(config, stories, topics, [], chosen, {}, {}, remember=True)
    before = specs_by_url(first)
    stories[2] = replace(stories[2], title="Edited")
    second = build_views(config, stories, topics, [], chosen, {}, {}, previous=first, remember=True)
    after = specs_by_url(second)
    assert after["topics/a/"] is before["topics/a/"]
    assert after["topics/b/"] is not before["topics/b/"]
    assert [view.title for view, _ in after["topics/b/"].context["entries"]] == ["Edited", "S3"]  # undated: by slug


def test_compiled_templates_are_kept_for_the_next_process_and_follow_their_source(tmp_path: Path) -> None:
    """`.digest/templates/` holds compiled templates; a process that finds one compiled from an
    older source compiles the template again (Jinja checks the source's checksum)."""
    from digest.render import _environment

    config, views, specs, dirs = _list_site(tmp_path, '{% macro item(view, root, level) %}{{ view.slug }}{% endmacro %}')
    assert render_pages(config, views, specs[:1], dirs)["index.html"] == b"s2|s1|s0|"
    assert list((tmp_path / ".digest" / "templates").iterdir())
    _environment.cache_clear()  # as a new process would start
    assert render_pages(config, views, specs[:1], dirs)["index.html"] == b"s2|s1|s0|"
    (tmp_path / "partials" / "item.html").write_text('{% macro item(view, root, level) %}<{{ view.slug }}>{% endmacro %}',
                                                   encoding="utf-8")
    _environment.cache_clear()
    assert render_pages(config, views, specs[:1], dirs)["index.html"] == b"<s2>|<s1>|<s0>|"


def test_printed_values_are_escaped_as_stock_jinja_escapes_them(tmp_path: Path) -> None:
    """The environment's code generator prints through `output_escape` (plain text, not Markup);
    every kind of output (text, Markup, numbers, macros, set and filter blocks, loops, includes)
    gives the bytes a stock Jinja environment gives."""
    import jinja2

    from digest.render import make_environment

    (tmp_path / "inc.html").write_text("[{{ value }}]", encoding="utf-8")
    template = ("{% macro m(x) %}<{{ x }}>{% endmacro %}{{ value }}|{{ safe }}|{{ number }}|{{ m(value) }}|"
                "{{ m(value) | length }}|{% set block %}{{ value }}{% endset %}{{ block }}|{{ block | length }}|"
                "{% filter upper %}{{ value }}{% endfilter %}|{% for v in [value, safe, 3] %}{{ v }};{% endfor %}|"
                "{{ value ~ safe }}|{% include 'inc.html' %}|{% autoescape false %}{{ value }}{% endautoescape %}")
    (tmp_path / "t.html").write_text(template, encoding="utf-8")
    context = {"value": "a<b & 'c' \"d\"", "safe": jinja2.utils.markupsafe.Markup("<i>x</i>"), "number": 3}
    ours = make_environment([tmp_path])
    stock = make_environment([tmp_path])
    stock.code_generator_class = jinja2.compiler.CodeGenerator
    assert ours.code_generator_class is not jinja2.compiler.CodeGenerator
    expected = stock.get_template("t.html").render(context)
    assert "a&lt;b &amp; &#39;c&#39; &#34;d&#34;" in expected and "<i>x</i>" in expected
    assert ours.get_template("t.html").render(context) == expected
    with pytest.raises(jinja2.UndefinedError):
        ours.from_string("{{ nope }}").render()
