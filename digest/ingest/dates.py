"""Dates as pages write them -> ISO 8601 (keeping the time zone when one is given)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

MIN_YEAR, MAX_YEAR = 1990, 2100

MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
    # de
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "mai": 5, "juni": 6,
    "juli": 7, "oktober": 10, "dezember": 12, "okt": 10, "dez": 12, "mär": 3,
    # fr
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
    # es / pt / it
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "janeiro": 1, "fevereiro": 2, "março": 3, "maio": 5, "junho": 6,
    "julho": 7, "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12,
    "gennaio": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
    "settembre": 9, "ottobre": 10, "dicembre": 12,
    # nl
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8,
}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))

_ISO = re.compile(
    r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2}(?!\d)|UTC|GMT)?)?",
    re.I)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?$")
_DMY_NUM = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})(?!\d)")
_SLASH_YMD = re.compile(r"(?<!\d)(\d{4})/(\d{1,2})/(\d{1,2})(?!\d)")
_DMY_NAME = re.compile(rf"(?<!\w)(\d{{1,2}})\.?\s*(?:de\s+)?({_MONTH_RE})\.?,?\s*(?:de\s+)?(\d{{4}})(?!\d)", re.I)
_MDY_NAME = re.compile(rf"(?<!\w)({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.I)


def _valid(y: int, m: int, d: int) -> date | None:
    if not (MIN_YEAR <= y <= MAX_YEAR):
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _tz(text: str | None) -> timezone | None:
    if not text:
        return None
    t = text.upper()
    if t in ("Z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if t[0] == "-" else 1
    digits = t[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _fmt(d: date, hh: int | None = None, mm: int | None = None, ss: int | None = None,
         tz: timezone | None = None) -> str | None:
    if hh is None:
        return d.isoformat()
    if hh > 23 or (mm or 0) > 59 or (ss or 0) > 59:
        return d.isoformat()
    dt = datetime(d.year, d.month, d.day, hh, mm or 0, ss or 0, tzinfo=tz)
    return dt.isoformat()


def parse_machine_date(text: str | None) -> str | None:
    """A machine-readable date (ISO 8601, RFC 2822, compact digits) -> ISO 8601, or None."""
    if not text:
        return None
    text = text.strip()
    m = _ISO.search(text)
    if m:
        d = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            if m.group(4) is None:
                return d.isoformat()
            ss = int(m.group(6)) if m.group(6) else 0
            return _fmt(d, int(m.group(4)), int(m.group(5)), ss, _tz(m.group(7)))
    m = _COMPACT.match(text)
    if m:
        d = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            return d.isoformat() if m.group(4) is None else _fmt(d, int(m.group(4)), int(m.group(5)))
    if re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d", text):
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is not None and _valid(dt.year, dt.month, dt.day):
            return dt.isoformat()
    return parse_text_date(text)


def parse_text_date(text: str | None) -> str | None:
    """The first date written for people in `text` ("6. Oktober 2020", "Oct 6, 2020", "06.10.2020")."""
    if not text:
        return None
    best: tuple[int, date] | None = None
    for rx, order in ((_DMY_NAME, "dmy"), (_MDY_NAME, "mdy"), (_DMY_NUM, "dmyn"), (_SLASH_YMD, "ymd")):
        m = rx.search(text)
        if not m:
            continue
        if order == "dmy":
            y, mo, d = int(m.group(3)), MONTHS.get(m.group(2).lower().rstrip(".")), int(m.group(1))
        elif order == "mdy":
            y, mo, d = int(m.group(3)), MONTHS.get(m.group(1).lower().rstrip(".")), int(m.group(2))
        elif order == "dmyn":
            y, mo, d = int(m.group(3)), int(m.group(2)), int(m.group(1))
        else:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not mo:
            continue
        found = _valid(y, mo, d)
        if found and (best is None or m.start() < best[0]):
            best = (m.start(), found)
    return best[1].isoformat() if best else None


_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|-|$|\D)")


def date_from_url(url: str | None) -> str | None:
    """A date written into a URL path (/2020/10/06/...), or None."""
    if not url:
        return None
    m = _URL_DATE.search(url)
    if not m:
        return None
    d = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return d.isoformat() if d else None
