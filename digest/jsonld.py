"""JSON-LD for story and topic pages, and the `jsonld` Jinja filter that embeds it safely.

Pure: views and config in, plain dicts out. `dumps` escapes `<`, `>`, `&` (and U+2028/U+2029) as
`\\u003c`-style escapes, so no value (a title with `</script>` in it, say) can end the
`<script type="application/ld+json">` element or start a comment.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from markupsafe import Markup

from digest import urls
from digest.model import SiteConfig
from digest.timefmt import iso_date

_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def dumps(data: Any) -> str:
    """JSON text safe inside a `<script>` element: keys in a fixed order, `<>&` escaped."""
    text = _ENCODER.encode(data)
    for char, escape in _ESCAPES:  # str.replace per character: several times faster than str.translate
        if char in text:
            text = text.replace(char, escape)
    return text


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)  # made once: json.dumps makes one a call


def jsonld_filter(data: Any) -> Markup:
    """Jinja filter: `{{ data | jsonld }}` inside `<script type="application/ld+json">`."""
    return Markup(dumps(data))


def _absolute(config: SiteConfig, url: str) -> str:
    return url if "://" in url else urls.absolute(config.base_url, url.lstrip("/"))


def news_article(entry: Any, config: SiteConfig) -> dict[str, Any]:
    """schema.org NewsArticle for a story page (`entry` is a StoryView).

    `datePublished` only when the story has a date (never invented); publisher is the outlet;
    `isBasedOn` is the original article.
    """
    story = entry.story
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.title,
        "url": _absolute(config, entry.url),
        "mainEntityOfPage": _absolute(config, entry.url),
    }
    if story.summary:
        data["description"] = story.summary
    if story.date is not None:
        data["datePublished"] = iso_date(story.date, not story.date_has_time)
    if story.updated is not None:
        data["dateModified"] = iso_date(story.updated)
    if story.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in story.authors]
    if story.source:
        data["publisher"] = {"@type": "Organization", "name": story.source}
    if story.image is not None and story.image.src:
        image: dict[str, Any] = {"@type": "ImageObject", "url": _absolute(config, story.image.src)}
        if story.image.caption:
            image["caption"] = story.image.caption
        if story.image.credit:
            image["creditText"] = story.image.credit
        data["image"] = image
    if story.source_url:
        data["isBasedOn"] = story.source_url
    if story.lang:
        data["inLanguage"] = story.lang
    if entry.topics:
        data["about"] = [t.title for t in entry.topics]
    if story.tags:
        data["keywords"] = list(story.tags)
    return data


def collection_page(config: SiteConfig, page_url: str, name: str, description: str | None,
                    entries: Iterable[Any]) -> dict[str, Any]:
    """schema.org CollectionPage with an ItemList of the stories listed on a topic (or tag) page.

    `entries` are StoryViews or the `(StoryView, others)` pairs of a paginated listing.
    """
    items = []
    for position, item in enumerate(entries, start=1):
        view = item[0] if isinstance(item, tuple) else item
        items.append({"@type": "ListItem", "position": position,
                      "url": _absolute(config, view.url), "name": view.title})
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": name,
        "url": _absolute(config, page_url),
        "mainEntity": {"@type": "ItemList", "numberOfItems": len(items), "itemListElement": items},
    }
    if description:
        data["description"] = description
    return data


def register(env: Any) -> None:
    """Add the `jsonld` filter and the `news_article`, `collection_page`, `absolute_url` globals to a Jinja env."""
    env.filters["jsonld"] = jsonld_filter
    env.globals["news_article"] = news_article
    env.globals["collection_page"] = collection_page
    env.globals["absolute_url"] = absolute_url


def absolute_url(config: SiteConfig, url: str) -> str:
    """An absolute URL (for canonical / og:url / og:image) of a site-relative URL or an absolute one."""
    return _absolute(config, url)


__all__ = ["dumps", "jsonld_filter", "news_article", "collection_page", "register", "absolute_url"]
