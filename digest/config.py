"""`digest.toml`: parsed into a frozen `SiteConfig`; unknown keys and wrong types are errors.

Layout of the file (every key optional; an empty file builds):

    title = "Cambodia Abroad"
    description = "..."
    language = "en"
    base_url = "https://example.org/digest/"
    timezone = "Asia/Phnom_Penh"
    stories_per_page = 20
    related_count = 5

    [paths]      content, templates, output, static
    [markdown]   html = true
    [related]    enabled = true
    [feeds]      full_content = true, topics = true, tags = true
    [search]     enabled = true, stories_per_part = 1250
    [outlets]    enabled = true       (and [archive], [sitemap]: outputs a site may do without)
    [excerpt]    sources = ["Phnom Penh Post"]
    [[menu]]     title = "About", page = "about"   (or url = "https://...")
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.errors import ConfigError, Problem
from digest.model import MenuItem, SiteConfig

CONFIG_NAME = "digest.toml"

# key -> (SiteConfig field, expected type)
_TOP: dict[str, tuple[str, type]] = {
    "title": ("title", str),
    "description": ("description", str),
    "language": ("language", str),
    "base_url": ("base_url", str),
    "timezone": ("timezone", str),
    "stories_per_page": ("stories_per_page", int),
    "related_count": ("related_count", int),
}
_TABLES: dict[str, dict[str, tuple[str, type]]] = {
    "paths": {
        "content": ("content_dir", str),
        "templates": ("templates_dir", str),
        "output": ("output_dir", str),
        "static": ("static_dir", str),
    },
    "markdown": {"html": ("markdown_html", bool)},
    "related": {"enabled": ("related_enabled", bool), "count": ("related_count", int)},
    "feeds": {"full_content": ("feed_full_content", bool), "topics": ("topic_feeds", bool), "tags": ("tag_feeds", bool)},
    "search": {"enabled": ("search_enabled", bool), "stories_per_part": ("search_part_stories", int)},
    "outlets": {"enabled": ("outlets_enabled", bool)},
    "archive": {"enabled": ("archive_enabled", bool)},
    "sitemap": {"enabled": ("sitemap_enabled", bool)},
    "excerpt": {"sources": ("excerpt_sources", list)},
}
_MENU_KEYS = {"title": str, "url": str, "page": str}
_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list of strings"}


def _line_of(text: str, table: str | None, key: str, index: int | None = None) -> int | None:
    """The line of `key` (inside `[table]`, or the `index`-th `[[table]]`) in TOML text."""
    current: str | None = None
    seen = -1
    key_re = re.compile(rf'^\s*(?:"{re.escape(key)}"|{re.escape(key)})\s*=')
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?", line)
        if header:
            current = header.group(1)
            if current == table and line.lstrip().startswith("[["):
                seen += 1
            if table is not None and current == table and key == "" and (index is None or seen == index):
                return number
            continue
        if current == table and (index is None or seen == index) and key_re.match(line):
            return number
    return None


def _check_type(value: Any, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, expected)


def parse_config(text: str, path: str, root: Path = Path(".")) -> SiteConfig:
    """Parse the text of `digest.toml` into a SiteConfig; raise ConfigError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else max(1, len(text.splitlines()))
        raise ConfigError(Problem(path, line, f"invalid TOML: {exc}")) from None

    problems: list[Problem] = []
    values: dict[str, Any] = {}

    def take(table: str | None, key: str, value: Any, spec: tuple[str, type]) -> None:
        field_name, expected = spec
        shown = f"{table}.{key}" if table else key
        if not _check_type(value, expected):
            problems.append(Problem(path, _line_of(text, table, key),
                                    f"'{shown}' must be {_TYPE_NAMES[expected]}, not {type(value).__name__}"))
            return
        values[field_name] = tuple(value) if expected is list else value

    for key, value in data.items():
        if key in _TOP:
            take(None, key, value, _TOP[key])
        elif key in _TABLES and isinstance(value, dict):
            for sub, subvalue in value.items():
                if sub in _TABLES[key]:
                    take(key, sub, subvalue, _TABLES[key][sub])
                else:
                    problems.append(Problem(path, _line_of(text, key, sub), f"unknown key '{key}.{sub}'"))
        elif key == "menu" and isinstance(value, list):
            items = _parse_menu(value, text, path, problems)
            values["menu"] = items
        else:
            line = _line_of(text, None, key) or _line_of(text, key, "")
            expected = "a table" if key in _TABLES else ("a list of tables ([[menu]])" if key == "menu" else None)
            message = f"'{key}' must be {expected}" if expected else f"unknown key '{key}'"
            problems.append(Problem(path, line, message))

    config = replace(SiteConfig(), root=root, **values)
    problems.extend(_validate(config, text, path))
    if problems:
        raise ConfigError(problems)
    return config


def _parse_menu(value: list[Any], text: str, path: str, problems: list[Problem]) -> tuple[MenuItem, ...]:
    items = []
    for index, entry in enumerate(value):
        line = _line_of(text, "menu", "", index)
        if not isinstance(entry, dict):
            problems.append(Problem(path, line, "each [[menu]] entry must be a table"))
            continue
        for key, item in entry.items():
            if key not in _MENU_KEYS:
                problems.append(Problem(path, _line_of(text, "menu", key, index) or line, f"unknown key 'menu.{key}'"))
            elif not isinstance(item, str):
                problems.append(Problem(path, _line_of(text, "menu", key, index) or line,
                                        f"'menu.{key}' must be a string"))
        title, url, page = entry.get("title"), entry.get("url"), entry.get("page")
        if not isinstance(title, str) or not title:
            problems.append(Problem(path, line, "a [[menu]] entry needs a 'title'"))
            continue
        if (url is None) == (page is None):
            problems.append(Problem(path, line, f"menu entry '{title}' needs exactly one of 'url' or 'page'"))
            continue
        items.append(MenuItem(title=title, url=url if isinstance(url, str) else None,
                              page=page if isinstance(page, str) else None))
    return tuple(items)


def _validate(config: SiteConfig, text: str, path: str) -> list[Problem]:
    problems = []
    if config.stories_per_page < 1:
        problems.append(Problem(path, _line_of(text, None, "stories_per_page"), "'stories_per_page' must be at least 1"))
    if config.search_part_stories < 1:
        problems.append(Problem(path, _line_of(text, "search", "stories_per_part"),
                                "'search.stories_per_part' must be at least 1"))
    if config.related_count < 0:
        problems.append(Problem(path, _line_of(text, None, "related_count") or _line_of(text, "related", "count"),
                                "'related_count' must not be negative"))
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(path, _line_of(text, None, "timezone"), f"unknown timezone '{config.timezone}'"))
    error = base_url_problem(config.base_url)
    if error:
        problems.append(Problem(path, _line_of(text, None, "base_url"), error))
    return problems


def base_url_problem(base_url: str) -> str | None:
    """Why `base_url` is unusable, or None: it must be an absolute http(s) URL or a path starting with '/'."""
    parts = urlsplit(base_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    if not parts.scheme and not parts.netloc and base_url.startswith("/"):
        return None
    return f"'base_url' must be an http(s) URL or a path starting with '/', not '{base_url}'"


def with_base_url(config: SiteConfig, base_url: str) -> SiteConfig:
    """The config with `base_url` overridden (e.g. `digest build --base-url`)."""
    error = base_url_problem(base_url)
    if error:
        raise ConfigError(Problem("--base-url", None, error))
    return replace(config, base_url=base_url)


def load_config(root: Path) -> SiteConfig:
    """Read `<root>/digest.toml` (required) into a SiteConfig."""
    path = root / CONFIG_NAME
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Problem(shown, None, "no digest.toml here (run `digest init` to make a site)")) from None
    except UnicodeDecodeError:
        raise ConfigError(Problem(shown, None, "not valid UTF-8")) from None
    return parse_config(text, shown, root=root)
