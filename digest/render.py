"""Rendering: the Jinja2 environment (autoescape, StrictUndefined) and every page of the site
as `{output file: bytes}`. Templates are looked up in the site's `templates/` first, then in
the default theme, file by file."""

from __future__ import annotations

import math
from functools import lru_cache
import sys
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from digest import jsonld, urls
from digest.errors import Problem, TemplateError
from digest.inputs import theme_dir  # noqa: F401  (kept importable from here)
from digest.markdown import rebase_links, renderer
from digest.model import MenuItem, SiteConfig
from digest.views import SiteViews, collapse, frequent_tags, overlapping_topics, topics_of


@dataclass(frozen=True)
class PageSpec:
    """One page to render: its site-relative URL, template and context."""

    url: str
    template: str
    context: Mapping[str, Any]


@lru_cache(maxsize=8)
def _environment(template_dirs: tuple[str, ...]) -> jinja2.Environment:
    """One environment per template folders for the life of the process: templates compile once,
    and Jinja's auto-reload recompiles a template whose file changed (`digest serve`)."""
    return make_environment([Path(d) for d in template_dirs])


def make_environment(template_dirs: Sequence[Path]) -> jinja2.Environment:
    """A Jinja2 environment over `template_dirs` (first wins), autoescaping, StrictUndefined."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    env.filters["isodate"] = iso_date
    env.filters["rebase"] = lambda html, root: Markup(rebase_links(str(html), root))
    env.filters["markdown"] = lambda text: Markup(renderer(True)(text))
    env.globals["url"] = _url
    jsonld.register(env)  # `jsonld` filter; absolute_url, news_article, collection_page (partials/meta.html)
    return env


@jinja2.pass_context
def _url(context: Any, target: str) -> str:
    """A link from the current page to a site-relative URL (relative, so the site works under any path)."""
    if "://" in target or target.startswith(("#", "mailto:")):
        return target
    return context["root"] + target.lstrip("/")


def format_date(when: datetime | None, timezone: str = "UTC", with_time: bool = False) -> str:
    """A reader's date: "17 December 2013" (and ", 14:05" with `with_time`)."""
    if when is None:
        return ""
    local = when.astimezone(ZoneInfo(timezone))
    text = f"{local.day} {local.strftime('%B %Y')}"
    return text + local.strftime(", %H:%M") if with_time else text


def iso_date(when: datetime | None, date_only: bool = False) -> str:
    """ISO 8601 for `<time datetime>` and metadata."""
    if when is None:
        return ""
    return when.date().isoformat() if date_only else when.isoformat()


def menu_items(config: SiteConfig, views: SiteViews) -> list[tuple[str, str]]:
    """(title, site-relative URL) of the navigation: `[[menu]]` or, by default, topics and pages."""
    if config.menu is not None:
        pages = {p.slug for p in views.pages}
        items = []
        for item in config.menu:
            items.append((item.title, item.url if item.url is not None else urls.page(item.page or "")))
            if item.page is not None and item.page not in pages:
                raise TemplateError(Problem("digest.toml", None, f"[[menu]] '{item.title}' names the page "
                                                                 f"'{item.page}', which does not exist"))
        return items
    items = [("Topics", "topics/")] if views.topics else []
    items += [("Archive", "archive/")]
    if config.search_enabled:
        items.append(("Search", "search/"))
    items += [(p.title, urls.page(p.slug)) for p in views.pages]
    return items


def _pages_of(items: Sequence[Any], per_page: int) -> list[Sequence[Any]]:
    count = max(1, math.ceil(len(items) / per_page))
    return [items[i * per_page:(i + 1) * per_page] for i in range(count)]


def _paginated(base: str, items: Sequence[Any], per_page: int, template: str,
               extra: Mapping[str, Any], groups: Mapping[str, tuple[str, ...]]) -> Iterator[PageSpec]:
    chunks = _pages_of(collapse(items, groups).entries, per_page)
    for number, chunk in enumerate(chunks, start=1):
        pager = {
            "number": number,
            "count": len(chunks),
            "newer": urls.paginated(base, number - 1) if number > 1 else None,
            "older": urls.paginated(base, number + 1) if number < len(chunks) else None,
        }
        yield PageSpec(urls.paginated(base, number), template, {**extra, "entries": chunk, "pager": pager})


def page_specs(config: SiteConfig, views: SiteViews) -> Iterator[PageSpec]:
    """Every page of the site, in a fixed order."""
    per = config.stories_per_page
    groups = views.groups
    recent_by_topic = [(t, collapse(views.topic_stories[t.slug], groups).entries[:3])
                       for t in views.topics if views.topic_stories[t.slug]]
    yield from _paginated("", views.stories, per, "index.html", {"by_topic": recent_by_topic}, groups)
    for view in views.stories:
        yield PageSpec(view.url, "story.html", {"entry": view, "links": views.links[view.slug]})
    yield PageSpec("topics/", "topics.html", {
        "topics": [(t, len(views.topic_stories[t.slug])) for t in views.topics]})
    for topic in views.topics:
        stories = views.topic_stories[topic.slug]
        yield from _paginated(f"topics/{topic.slug}/", stories, per, "topic.html", {
            "topic": topic,
            "overlaps": overlapping_topics(topic, views),
            "top_tags": frequent_tags(stories),
        }, groups)
    yield PageSpec("tags/", "tags.html", {"tags": views.tags})
    for tag in views.tags:
        stories = views.tag_stories[urls.tag_slug(tag.name)]
        yield from _paginated(tag.url, stories, per, "tag.html", {"tag": tag, "tag_topics": topics_of(stories)}, groups)
    yield PageSpec("sources/", "sources.html", {"sources": views.sources})
    for source in views.sources:
        stories = views.source_stories[urls.tag_slug(source.name)]
        yield from _paginated(source.url, stories, per, "source.html", {"source": source}, groups)
    yield PageSpec("archive/", "archive.html", {
        "months": [(y, m, urls.month(y, m), len(s)) for y, m, s in views.months], "undated": views.undated})
    for year, month, stories in views.months:
        yield PageSpec(urls.month(year, month), "archive_month.html", {
            "year": year, "month": month, "month_name": datetime(year, month, 1).strftime("%B"),
            "entries": collapse(stories, groups).entries})
    for page in views.pages:
        yield PageSpec(urls.page(page.slug), "page.html", {
            "page": page, "body_html": renderer(config.markdown_html)(page.body)})
    if config.search_enabled:
        yield PageSpec("search/", "search.html", {})
    yield PageSpec("404.html", "404.html", {})


def render_pages(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec],
                 template_dirs: Sequence[Path]) -> dict[str, bytes]:
    """Render `specs` to `{output file: bytes}`; raise TemplateError listing every failing template."""
    env = _environment(tuple(str(d) for d in template_dirs))
    base = urls.base_path(config.base_url)
    common = {
        "site": config,
        "menu": menu_items(config, views),
        "all_topics": views.topics,
        "base_path": base,
    }
    out: dict[str, bytes] = {}
    problems: dict[tuple[str, int | None, str], Problem] = {}
    templates: dict[str, jinja2.Template] = {}
    for spec in specs:
        root = base if spec.url == "404.html" else urls.relative_root(spec.url)
        try:
            template = templates.get(spec.template)
            if template is None:
                template = templates[spec.template] = env.get_template(spec.template)
            html = template.render({**common, **spec.context, "page_url": spec.url, "root": root})
        except jinja2.TemplateSyntaxError as exc:
            problem = Problem(_template_path(exc.filename, exc.name, template_dirs), exc.lineno, exc.message or "syntax error")
            problems.setdefault((problem.path, problem.line, problem.message), problem)
            continue
        except jinja2.TemplateNotFound as exc:
            problem = Problem(str(template_dirs[0]), None, f"template not found: {exc.name}")
            problems.setdefault((problem.path, problem.line, problem.message), problem)
            continue
        except Exception as exc:  # any error raised while rendering a template is reported at its line
            problem = _runtime_problem(exc, template_dirs)
            problems.setdefault((problem.path, problem.line, problem.message), problem)
            continue
        out[urls.file_for(spec.url)] = html.encode("utf-8")
    if problems:
        raise TemplateError(list(problems.values()))
    return out


def _template_path(filename: str | None, name: str | None, template_dirs: Sequence[Path]) -> str:
    if filename:
        return _shorten(filename)
    return name or "<template>"


def _shorten(filename: str) -> str:
    try:
        return Path(filename).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return filename


def _runtime_problem(exc: Exception, template_dirs: Sequence[Path]) -> Problem:
    """The template file and line of an error raised while rendering (Jinja rewrites tracebacks)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".xml", ".txt", ".j2"))]
    message = str(exc) if not isinstance(exc, jinja2.UndefinedError) else f"undefined: {exc}"
    if isinstance(exc, jinja2.UndefinedError):
        message = f"undefined variable: {exc.message}"
    if frames:
        frame = frames[-1]
        return Problem(_shorten(frame.filename), frame.lineno, message)
    return Problem("<template>", None, f"{type(exc).__name__}: {message}")
