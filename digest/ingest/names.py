"""Author strings as pages write them ("By Jane Doe and John Roe | Reuters") -> clean names."""

from __future__ import annotations

import re

_PREFIX = re.compile(
    r"^\s*(?:"
    r"(?:(?:written|posted|reported|story|words|text|photos?|geschrieben|verfasst|ein beitrag|gepostet)"
    r"(?:\s+and\s+photos?)?\s+)?(?:by|von|par|por|door)\b\s*:?"
    r"|(?:autor(?:in)?|authors?|auteur|text|texte|reporter|redakteur(?:in)?|interview|fotos?|photos?)\s*:"
    r"|(?-i:di|da|de|av|af)\s"
    r")\s*",
    re.I)
_SEPARATORS = re.compile(r"\s*(?:;|,|\||/|\band\b|\bund\b|&|\bsowie\b|\+|\bet\b(?=\s+[A-ZÀ-Þ]))\s*", re.I)
_ROLE_WORDS = re.compile(
    r"\b(?:staff|editor|editors|editorial|redaktion|redakteur|redakteurin|correspondent|reporter|"
    r"writer|contributor|columnist|journalist|journalistin|autor|autorin|author|team|desk|"
    r"newsroom|agency|agenturen|agentur|press|presse|news|nachrichten|online|gastautor|"
    r"gastbeitrag|photographer|fotograf|fotografin|administrator|admin|moderator|redaktor|"
    r"updated|published|posted|aktualisiert|veröffentlicht|min read|read more|view all|"
    r"more from|follow|twitter|email|e-mail|profile|articles|posts|contact|kommentar|comments)\b",
    re.I)
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+|@\w+|\(.*?\)|\[.*?\]", re.I)
_DATEISH = re.compile(r"\d")


def _looks_like_name(part: str) -> bool:
    words = part.split()
    if not words or len(words) > 5 or len(part) < 3 or len(part) > 60:
        return False
    if _DATEISH.search(part):
        return False
    if _ROLE_WORDS.search(part):
        return False
    if not any(ch.isalpha() for ch in part):
        return False
    return True


def clean_authors(raw: list[str] | tuple[str, ...] | str | None,
                  outlets: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Clean author names: no "By", no outlet, no roles, e-mail or dates; split on and/&/,/;."""
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else list(raw)
    outlet_keys = {_key(o) for o in outlets if o}
    names: list[str] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            continue
        text = re.sub(r"\s+", " ", item).strip()
        # "Jane Doe | Reuters", "Jane Doe | Staff writer": what follows a bar is no author
        if "|" in text and text.split("|")[0].strip():
            text = text.split("|")[0]
        text = _NOISE.sub(" ", text)
        # "Jane Doe - 6 October 2020", "Jane Doe, Reuters": cut trailing dates/roles first
        text = re.split(r"\s+[-–—|·•]\s+|\s*\n", text)[0] if re.search(r"\d", text) else text
        for part in _SEPARATORS.split(text):
            part = _PREFIX.sub("", part).strip(" .:-–—·•'\"“”‘’")
            part = re.sub(r"\s+", " ", part)
            if not part or not _looks_like_name(part):
                continue
            k = _key(part)
            if k in outlet_keys or k in seen:
                continue
            if any(k and k in ok and len(k) > 3 for ok in outlet_keys):
                continue
            seen.add(k)
            names.append(part)
            if len(names) >= 10:
                return tuple(names)
    return tuple(names)


def _key(s: str) -> str:
    return re.sub(r"[^\w]+", "", s.casefold())
