"""Rendering: the Jinja2 environment (autoescape, StrictUndefined) and every page of the site
as `{output file: bytes}`. Templates are looked up in the site's `templates/` first, then in
the default theme, file by file."""

from __future__ import annotations

import math
import os
import traceback
import weakref
from contextvars import ContextVar
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import jinja2
import jinja2.compiler
from markupsafe import Markup

from digest import jsonld, urls
from digest.errors import Problem, TemplateError
from digest.escape import _escape_inner, output_escape  # noqa: F401  (compiled templates import output_escape from here)
from digest.inputs import theme_dir  # noqa: F401  (kept importable from here)
from digest.markdown import rebase_links, renderer
from digest.meta import page_meta
from digest.model import SiteConfig
from digest.timefmt import format_date, iso_date
from digest.views import SiteViews, collapse, frequent_tags, overlapping_topics, topics_of


@dataclass(frozen=True)
class PageSpec:
    """One page to render: its site-relative URL, template and context."""

    url: str
    template: str
    context: Mapping[str, Any]


@lru_cache(maxsize=8)
def _environment(template_dirs: tuple[str, ...], compiled_dir: str | None = None) -> jinja2.Environment:
    """One environment per template folders for the life of the process: templates compile once,
    and `_drop_changed` recompiles a template whose file changed (`digest serve`). With
    `compiled_dir`, compiled templates are kept there for the next process (Jinja checks each
    against its source)."""
    env = make_environment([Path(d) for d in template_dirs])
    env.auto_reload = False  # checked once per render_pages call, not at every extends, include and import
    if compiled_dir is not None:
        try:
            os.makedirs(compiled_dir, exist_ok=True)
        except OSError:
            return env  # a read-only site folder: templates compile in each process
        env.bytecode_cache = _CompiledVersionCache(compiled_dir)
    return env


class _CompiledVersionCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept on disk under a key that also names the code generator, so that a
    template compiled by another generator (an older digest) is compiled again."""

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(f"{_CodeGenerator.VERSION}|{name}", filename)


def environment(config: SiteConfig, template_dirs: Sequence[Path]) -> jinja2.Environment:
    """The process's environment for the site's templates (compiled templates kept in `.digest/templates/`)."""
    return _environment(tuple(str(d) for d in template_dirs), str(Path(config.root) / ".digest" / "templates"))


def _drop_changed(env: jinja2.Environment) -> None:
    """Forget the compiled templates whose files changed or went away since they were loaded."""
    cache = env.cache
    if cache is None:
        return
    for key, template in list(cache.items()):
        if not template.is_up_to_date:
            del cache[key]


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, with printed expressions escaped by `output_escape` (the same text;
    measured: a tenth of the cost of `escape` per call, ~1.5 million calls at 10,000 stories)."""

    VERSION = "output_escape-1"

    def visit_Template(self, node: jinja2.nodes.Template, frame: Any = None) -> None:
        self.writeline("from digest.render import output_escape as _digest_escape")
        super().visit_Template(node, frame)

    def _output_child_pre(self, node: jinja2.nodes.Expr, frame: Any, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape or finalize.src is not None:
            super()._output_child_pre(node, frame, finalize)
        else:
            self.write("_digest_escape(")


class _Environment(jinja2.Environment):
    """Jinja's environment, with each template's globals a plain dict (the environment's globals
    as they are when it is loaded, overlaid by its own) instead of a ChainMap: every render and
    include copies the globals into a new context, and a ChainMap is walked in Python (measured:
    ~10% of a story page's template time). `make_environment` sets every global before any
    template loads, and nothing changes them after."""

    def make_globals(self, d: Any = None) -> dict[str, Any]:
        return {**self.globals, **(d or {})}


def make_environment(template_dirs: Sequence[Path]) -> jinja2.Environment:
    """A Jinja2 environment over `template_dirs` (first wins), autoescaping, StrictUndefined."""
    env = _Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    if _escape_inner is not None:
        env.code_generator_class = _CodeGenerator
    env.filters["date"] = format_date
    env.filters["isodate"] = iso_date
    env.filters["rebase"] = rebase
    env.filters["markdown"] = lambda text: Markup(renderer(True)(text))
    env.globals["url"] = _url
    env.globals["cached"] = cached
    env.globals["cached_items"] = cached_items
    env.globals["page_meta"] = page_meta  # partials/meta.html
    jsonld.register(env)  # `jsonld` filter; absolute_url, news_article, collection_page (for a theme's own meta partial)
    return env


def rebase(html: str, root: str) -> Markup:
    """The `rebase` filter: root-relative links of rendered HTML pointed at `root`."""
    text = str(html)
    if '="/' not in text:  # no root-relative link (the common case): skip the regular expression
        return Markup(text)
    return Markup(rebase_links(text, root))


@jinja2.pass_context
def _url(context: Any, target: str) -> str:
    """A link from the current page to a site-relative URL (relative, so the site works under any path)."""
    if "://" in target or target.startswith(("#", "mailto:")):
        return target
    return context["root"] + target.lstrip("/")


# Macro outputs by arguments, for the views being rendered (see `cached`); one memo per SiteViews,
# dropped with it, so a render worker reuses it across its chunks of pages.
_MEMO: ContextVar[dict[tuple, str] | None] = ContextVar("digest_macro_memo", default=None)
_MEMOS: dict[int, dict[tuple, str]] = {}
_FILLED = object()  # in a memo key: an argument that is filled in per call


def _memo_for(views: SiteViews) -> dict[tuple, str]:
    memo = _MEMOS.get(id(views))
    if memo is None:
        memo = _MEMOS[id(views)] = {}
        weakref.finalize(views, _MEMOS.pop, id(views), None)
    return memo


def cached(macro: Any, *args: Any, **kwargs: Any) -> Markup:
    """`{{ cached(story_item, item, others, root, ...) }}`: the macro's output for these arguments,
    rendered once per build and reused on every page that calls it with the same arguments
    (a story's list item shows on its index, topic, tag, outlet and archive pages).

    Imported macros see only their arguments, so their output is a function of them. Arguments
    that the macro only prints as they are (`{{ root }}`, `<h{{ level }}>`) are filled in per call
    instead, so such a macro renders once for all page depths and heading levels."""
    memo = _MEMO.get()
    if memo is None or kwargs or type(macro) is not jinja2.runtime.Macro:
        return macro(*args, **kwargs)
    return Markup(_remembered(memo, macro, args))


def cached_items(macro: Any, entries: Sequence[tuple[Any, Any]], *args: Any) -> Markup:
    """`{{ cached_items(story_item, entries, root, ...) }}`: `cached(story_item, item, others, root, ...)`
    for each `(item, others)` of `entries`, one a line (the template's line break ends the last):
    what a template loop over `cached` prints, without the loop's cost per entry (a listing page
    has twenty)."""
    memo = _MEMO.get()
    if memo is None or type(macro) is not jinja2.runtime.Macro:
        return Markup("\n".join([str(macro(item, others, *args)) for item, others in entries]))
    return Markup("\n".join([_remembered(memo, macro, (item, others, *args)) for item, others in entries]))


def _remembered(memo: dict[tuple, str], macro: jinja2.runtime.Macro, args: tuple) -> str:
    """The output of `macro(*args)` (see `cached`), from `memo` when it has it."""
    count = len(args)
    filled = [(i, text) for i, text in _placeholders(macro) if i < count and type(args[i]) in (str, int)]
    key: tuple = (macro, count, *args)
    if filled:
        parts = list(args)
        for i, _ in filled:
            parts[i] = _FILLED
        key = (macro, count, *parts)
    try:
        html = memo.get(key)
    except TypeError:  # an unhashable argument (a list, a dict): not remembered
        return str(macro(*args))
    if html is None:
        parts = list(args)
        for i, text in filled:
            parts[i] = Markup(text)
        html = memo[key] = str(macro(*parts))
    for i, text in filled:
        html = html.replace(text, output_escape(args[i]))
    return html


@lru_cache(maxsize=64)
def _placeholders(macro: jinja2.runtime.Macro) -> tuple[tuple[int, str], ...]:
    """(position, placeholder) of each argument that `macro` only prints as it is: the placeholder
    holds a "<", which no escaped text does, so nothing else in the output looks like it."""
    return tuple((i, f"<\x00{i}>") for i in _printed_arguments(macro))


@lru_cache(maxsize=64)
def _printed_arguments(macro: jinja2.runtime.Macro) -> tuple[int, ...]:
    """The positions of the arguments that `macro`'s body only prints as they are (`{{ name }}`)."""
    name = getattr(getattr(macro, "_func", None), "__globals__", {}).get("name")  # its template (Jinja's module)
    env = macro._environment
    try:
        source = env.loader.get_source(env, name)[0] if isinstance(name, str) and env.loader else None
        current = source is not None and env.get_template(name).is_up_to_date  # the source is what was compiled
    except jinja2.TemplateError:
        return ()
    if not current:
        return ()
    tree = env.parse(source)
    if tree.find(jinja2.nodes.EvalContextModifier) is not None:  # `{% autoescape false %}` prints differently
        return ()
    for node in tree.find_all(jinja2.nodes.Macro):
        if node.name != macro.name:
            continue
        printed = {id(child) for output in node.find_all(jinja2.nodes.Output) for child in output.nodes}
        params = {id(arg) for arg in node.args}
        names = [n for n in node.find_all(jinja2.nodes.Name) if id(n) not in params]
        return tuple(position for position, argument in enumerate(macro.arguments)
                     if all(id(n) in printed for n in names if n.name == argument))
    return ()


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
    items += [("Archive", "archive/")] if config.archive_enabled else []
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


def _listing(views: SiteViews, base: str, stories: tuple, per_page: int, template: str,
             groups: Mapping[str, tuple[str, ...]], also: Any, extra: Callable[[], dict[str, Any]]) -> list[PageSpec]:
    """The pages of one listing: the last build's when made from the same objects (`stories` and
    `groups` the same objects, `also` (what `extra` reads besides them) equal), else new ones."""
    return views.reuse((template, base), stories, (groups, per_page, also),
                       lambda: list(_paginated(base, stories, per_page, template, extra(), groups)))


def page_specs(config: SiteConfig, views: SiteViews) -> Iterator[PageSpec]:
    """Every page of the site, in a fixed order.

    A listing's pages are made again only when its stories are not the very tuple of views the
    last build's listing had (`views.reuse`; see `build_views(previous=...)`): otherwise they
    are the last build's specs, whose contexts the build recognises without walking them."""
    per = config.stories_per_page
    groups = views.groups
    recent = tuple((t, views.topic_stories[t.slug]) for t in views.topics if views.topic_stories[t.slug])
    yield from _listing(views, "", views.stories, per, "index.html", groups, recent, lambda: {
        "by_topic": [(t, collapse(stories, groups, limit=3).entries) for t, stories in recent]})
    for view in views.stories:
        yield PageSpec(view.url, "story.html", {"entry": view, "links": views.links[view.slug]})
    yield PageSpec("topics/", "topics.html", {
        "topics": [(t, len(views.topic_stories[t.slug])) for t in views.topics]})
    for topic in views.topics:
        stories = views.topic_stories[topic.slug]
        # overlapping_topics reads only these stories' own topics (a view is made again whenever one
        # of its topics changes), so the same tuple of views gives the same overlaps
        yield from _listing(views, f"topics/{topic.slug}/", stories, per, "topic.html", groups, topic,
                            lambda topic=topic, stories=stories: {"topic": topic, "overlaps": overlapping_topics(topic, views),
                                                                  "top_tags": frequent_tags(stories)})
    yield PageSpec("tags/", "tags.html", {"tags": views.tags})
    for tag in views.tags:
        stories = views.tag_stories[urls.tag_slug(tag.name)]
        yield from _listing(views, tag.url, stories, per, "tag.html", groups, tag,
                            lambda tag=tag, stories=stories: {"tag": tag, "tag_topics": topics_of(stories)})
    if config.outlets_enabled:
        yield from _outlet_specs(views, per, groups)
    if config.archive_enabled:
        yield from _archive_specs(views, groups)
    for page in views.pages:
        yield PageSpec(urls.page(page.slug), "page.html", {
            "page": page, "body_html": renderer(config.markdown_html)(page.body)})
    if config.search_enabled:
        yield PageSpec("search/", "search.html", {})
    yield PageSpec("404.html", "404.html", {})


def _outlet_specs(views: SiteViews, per: int, groups: Any) -> Iterator[PageSpec]:
    """The outlets' index and each outlet's listing (`[outlets] enabled`)."""
    yield PageSpec("sources/", "sources.html", {"sources": views.sources})
    for source in views.sources:
        stories = views.source_stories[urls.tag_slug(source.name)]
        yield from _listing(views, source.url, stories, per, "source.html", groups, source,
                            lambda source=source: {"source": source})


def _archive_specs(views: SiteViews, groups: Any) -> Iterator[PageSpec]:
    """The archive's index of months and each month's listing (`[archive] enabled`)."""
    yield PageSpec("archive/", "archive.html", {
        "months": [(y, m, urls.month(y, m), len(s)) for y, m, s in views.months], "undated": views.undated})
    for year, month, stories in views.months:
        yield from views.reuse(("archive_month.html", year, month), stories, (groups,), lambda year=year, month=month, stories=stories: [
            PageSpec(urls.month(year, month), "archive_month.html", {
                "year": year, "month": month, "month_name": datetime(year, month, 1).strftime("%B"),
                "entries": collapse(stories, groups).entries})])


def render_pages(config: SiteConfig, views: SiteViews, specs: Sequence[PageSpec],
                 template_dirs: Sequence[Path]) -> dict[str, bytes]:
    """Render `specs` to `{output file: bytes}`; raise TemplateError listing every failing template."""
    env = environment(config, template_dirs)
    _drop_changed(env)
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
    token = _MEMO.set(_memo_for(views))
    try:
        _render_specs(env, specs, common, base, template_dirs, out, problems, templates)
    finally:
        _MEMO.reset(token)
    if problems:
        raise TemplateError(list(problems.values()))
    return out


def _render_specs(env: jinja2.Environment, specs: Sequence[PageSpec], common: Mapping[str, Any], base: str,
                  template_dirs: Sequence[Path], out: dict[str, bytes],
                  problems: dict[tuple[str, int | None, str], Problem], templates: dict[str, jinja2.Template]) -> None:
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
            where = str(template_dirs[0]) if template_dirs else "templates"  # none at all: a broken install
            problem = Problem(where, None, f"template not found: {exc.name}")
            problems.setdefault((problem.path, problem.line, problem.message), problem)
            continue
        except Exception as exc:  # any error raised while rendering a template is reported at its line
            problem = _runtime_problem(exc, template_dirs)
            problems.setdefault((problem.path, problem.line, problem.message), problem)
            continue
        out[urls.file_for(spec.url)] = html.encode("utf-8")


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
