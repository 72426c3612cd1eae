"""htmldate's whole-page date search, its slow last resort limited to the page's language.

htmldate hands the date-like strings its own patterns cannot read to dateparser, which, told
no language, tries each of its 200 locales in turn: a string no locale reads loads them all,
seconds of CPU time once per process. When the page says its language (and dateparser knows
it), dateparser is told that language and English instead; pages that say nothing keep the
full search. The result is the same wherever the page's declared language is its own.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache

from digest.ingest.dates import parse_machine_date

# the languages of the page whose date htmldate is looking for (None: every language)
_LANGS: ContextVar[tuple[str, ...] | None] = ContextVar("digest_pagedate_langs", default=None)
_INSTALLED: list[bool] = []

# htmldate's own settings for its external parser (htmldate.extractors.get_external_parser)
_SETTINGS = {
    "NORMALIZE": True,
    "PARSERS": ["custom-formats", "absolute-time"],
    "PREFER_DATES_FROM": "past",
    "PREFER_LOCALE_DATE_ORDER": True,
    "RETURN_AS_TIMEZONE_AWARE": False,
    "STRICT_PARSING": True,
}


@lru_cache(maxsize=64)
def _parser(langs: tuple[str, ...]):
    from dateparser import DateDataParser

    return DateDataParser(languages=list(langs), locales=None, region=None, settings=dict(_SETTINGS))


@lru_cache(maxsize=1)
def _known_languages() -> frozenset[str]:
    from dateparser.data import languages_info

    return frozenset(languages_info.language_order)


def _install() -> None:
    """Route htmldate's external parser through `_parser` while a page language is set."""
    if _INSTALLED:
        return
    _INSTALLED.append(True)
    from htmldate import extractors

    original = getattr(extractors, "get_external_parser", None)
    if original is None:  # another htmldate: leave it as it is
        return

    def limited():
        langs = _LANGS.get()
        return _parser(langs) if langs else original()

    extractors.get_external_parser = limited


def date_languages(lang: str | None) -> tuple[str, ...] | None:
    """'de-AT' -> ('de', 'en'); None when the language is unknown to dateparser (search all)."""
    primary = (lang or "").strip().replace("_", "-").split("-")[0].lower()
    if not primary or primary not in _known_languages():
        return None
    return tuple(sorted({primary, "en"}))


def find_page_date(tree, url: str | None, lang: str | None) -> str | None:
    """htmldate's original-date search over the whole page (extensive), as an ISO date or None."""
    try:
        from htmldate import find_date
    except ImportError:  # pragma: no cover - htmldate comes with trafilatura
        return None
    _install()
    token = _LANGS.set(date_languages(lang))
    try:
        found = find_date(tree, url=url, original_date=True, extensive_search=True)
    except (ValueError, TypeError):
        return None
    finally:
        _LANGS.reset(token)
    return parse_machine_date(found) if found else None
