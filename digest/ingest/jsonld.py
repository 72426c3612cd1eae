"""schema.org JSON-LD in a page: the article object(s) and the people/organisations they name."""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

# Most specific first: a page may carry a WebPage, an Article and a NewsArticle at once.
ARTICLE_TYPES = (
    ("reportagenewsarticle", 5), ("analysisnewsarticle", 5), ("opinionnewsarticle", 5),
    ("backgroundnewsarticle", 5), ("reviewnewsarticle", 5), ("askpublicnewsarticle", 5),
    ("newsarticle", 4), ("liveblogposting", 4),
    ("blogposting", 3), ("article", 3), ("scholarlyarticle", 3), ("techarticle", 3),
    ("report", 3), ("socialmediaposting", 2), ("discussionforumposting", 2), ("posting", 2),
    ("review", 2), ("creativework", 1), ("webpage", 1), ("itempage", 1), ("aboutpage", 1),
)
_RANK = dict(ARTICLE_TYPES)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _types(obj: dict) -> list[str]:
    t = obj.get("@type", [])
    if isinstance(t, str):
        t = [t]
    return [str(x).rsplit("/", 1)[-1].lower() for x in t if isinstance(x, str)]


def rank(obj: dict) -> int:
    """How specific an object is as "the article" of a page (0: not an article at all)."""
    return max((_RANK.get(t, 0) for t in _types(obj)), default=0)


def parse_blocks(texts: list[str]) -> list[Any]:
    """Parse the text of each <script type="application/ld+json">; broken blocks are skipped."""
    out = []
    for text in texts:
        text = _CONTROL.sub(" ", text).strip()
        if text.startswith("<!--"):
            text = text[4:]
        if text.endswith("-->"):
            text = text[:-3]
        text = text.strip().rstrip(";")
        if not text:
            continue
        try:
            out.append(json.loads(text, strict=False))
        except ValueError:
            # some sites concatenate objects or leave a trailing comma: take what parses
            try:
                obj, _ = json.JSONDecoder(strict=False).raw_decode(text)
                out.append(obj)
            except ValueError:
                continue
    return out


def walk(data: Any, depth: int = 0) -> Iterator[dict]:
    """Every JSON object in the data, through lists and @graph, to a bounded depth."""
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from walk(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key, value in data.items():
            if isinstance(value, (list, dict)) and key not in ("author", "publisher", "creator"):
                yield from walk(value, depth + 1)


def index_ids(objects: list[dict]) -> dict[str, dict]:
    """Objects by their @id, to resolve references such as {"@id": "#/schema/person/1"}."""
    out: dict[str, dict] = {}
    for obj in objects:
        oid = obj.get("@id")
        if isinstance(oid, str) and len(obj) > 1 and oid not in out:
            out[oid] = obj
    return out


def resolve(value: Any, ids: dict[str, dict]) -> Any:
    """Follow an {"@id": ...} reference, once."""
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and isinstance(value.get("@id"), str):
        return ids.get(value["@id"], value)
    return value


def text_value(value: Any) -> str | None:
    """A plain string out of a JSON-LD value (string, {"@value"}, first of a list)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return text_value(value.get("@value") or value.get("name"))
    if isinstance(value, list) and value:
        return text_value(value[0])
    return None


def person_names(value: Any, ids: dict[str, dict]) -> tuple[list[str], list[str]]:
    """(people, organisations) named by an author/creator value."""
    people: list[str] = []
    orgs: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items[:20]:
        item = resolve(item, ids)
        if isinstance(item, str):
            if item.strip():
                people.append(item.strip())
        elif isinstance(item, dict):
            name = text_value(item.get("name"))
            if not name and (item.get("givenName") or item.get("familyName")):
                name = " ".join(str(x) for x in (item.get("givenName"), item.get("familyName")) if x)
            if not name:
                continue
            if "organization" in _types(item) or "newsmediaorganization" in _types(item):
                orgs.append(name)
            else:
                people.append(name)
    return people, orgs


def image_value(value: Any, ids: dict[str, dict]) -> tuple[str | None, str | None, str | None]:
    """(url, caption, credit) of a JSON-LD image value."""
    value = resolve(value, ids)
    if isinstance(value, list):
        value = resolve(value[0], ids) if value else None
    if isinstance(value, str):
        return value, None, None
    if isinstance(value, dict):
        url = text_value(value.get("url") or value.get("contentUrl"))
        caption = text_value(value.get("caption") or value.get("description"))
        credit = text_value(value.get("creditText") or value.get("copyrightHolder"))
        if not credit and value.get("author"):
            people, orgs = person_names(value.get("author"), ids)
            credit = ", ".join(people or orgs) or None
        return url, caption, credit
    return None, None, None
