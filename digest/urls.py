"""The URL layout of a built site. Paths are site-relative, without a leading slash, and end
with `/` for pages (pretty URLs: `<path>index.html` on disk)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from slugify import slugify


@lru_cache(maxsize=65536)
def tag_slug(name: str) -> str:
    """The URL slug of a tag or outlet name."""
    return slugify(name) or "tag"


def story(slug: str) -> str:
    return f"stories/{slug}/"


def topic(slug: str, page: int = 1) -> str:
    return paginated(f"topics/{slug}/", page)


def tag(name: str, page: int = 1) -> str:
    return paginated(f"tags/{tag_slug(name)}/", page)


def source(name: str, page: int = 1) -> str:
    return paginated(f"sources/{tag_slug(name)}/", page)


def month(year: int, month_number: int) -> str:
    return f"archive/{year:04d}/{month_number:02d}/"


def page(slug: str) -> str:
    return f"{slug}/"


def paginated(base: str, number: int) -> str:
    """`base` for page 1, `base/page/<n>/` after it."""
    return base if number <= 1 else f"{base}page/{number}/"


def file_for(url: str) -> str:
    """The output file of a site-relative URL (`stories/x/` -> `stories/x/index.html`)."""
    return url + "index.html" if url == "" or url.endswith("/") else url


def relative_root(url: str) -> str:
    """The prefix that leads from the page at `url` back to the site root (`stories/x/` -> `../../`)."""
    depth = url.count("/")
    return "../" * depth if depth else "./"


def base_path(base_url: str) -> str:
    """The path part of `base_url`, always ending with `/` (`https://x.org/digest` -> `/digest/`)."""
    path = urlsplit(base_url).path or "/"
    return path if path.endswith("/") else path + "/"


def absolute(base_url: str, url: str) -> str:
    """An absolute URL for a site-relative `url` (for feeds, sitemaps, canonical links)."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return base + url
