"""Metadata written as plain text: bylines, datelines, dates and photo credits (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
    # German
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7,
    "oktober": 10, "okt": 10, "dezember": 12, "dez": 12,
    # French
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7,
    "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
    # Spanish / Italian / Portuguese / Dutch
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "gennaio": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
    "settembre": 9, "ottobre": 10, "dicembre": 12, "janeiro": 1, "fevereiro": 2, "março": 3,
    "maio": 5, "junho": 6, "julho": 7, "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12,
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8,
}
_TZ = {
    "utc": "+00:00", "gmt": "+00:00", "z": "+00:00", "est": "-05:00", "edt": "-04:00",
    "cst": "-06:00", "cdt": "-05:00", "mst": "-07:00", "mdt": "-06:00", "pst": "-08:00",
    "pdt": "-07:00", "bst": "+01:00", "cet": "+01:00", "cest": "+02:00", "mez": "+01:00",
    "mesz": "+02:00", "ict": "+07:00", "jst": "+09:00", "kst": "+09:00", "sgt": "+08:00",
    "hkt": "+08:00", "wib": "+07:00", "aest": "+10:00", "aedt": "+11:00", "et": None,
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = (
    r"(?:\s*(?:at|um|à|,|-|–|—|\|)?\s*(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::(?P<s>\d{2}))?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?(?:\s*(?P<tz>(?:UTC|GMT)\s*[+-]\s*\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}|"
    r"[A-Z]{1,4}\b|Z\b))?)?"
)
_DATE_PATTERNS = [
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
               r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?\b"),
    re.compile(r"\b(?P<mn>" + _MONTH_RE + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})\b" + _TIME,
               re.IGNORECASE),
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?P<mn>" + _MONTH_RE + r")\.?,?\s+(?P<y>\d{4})\b"
               + _TIME, re.IGNORECASE),
    re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\b" + _TIME),
    re.compile(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})\b" + _TIME),
]
_UPDATED_RE = re.compile(r"\b(updated|last updated|modified|aktualisiert|mis à jour|actualizado)\b", re.I)
_BYLINE_RE = re.compile(
    r"^(?:(?:posted|published|written|filed)\b[^|]{0,60}?\s)?"
    r"(?:by|written by|words by|text by|author:|authors:|reporting by|von|par|por|di)\s+(?P<names>.+)$",
    re.IGNORECASE,
)
_DATELINE_RE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’ -]{1,40}(?:,\s*[A-Z][A-Za-z.]+)?)\s*,?\s*"
    r"(?P<when>(?i:" + _MONTH_RE + r")\.?\s+\d{1,2}(?:,\s*\d{4})?)?\s*"
    r"\((?P<agency>[A-Za-z][A-Za-z .&-]{1,30})\)\s*[-–—]+\s*"
)
_NOT_NAMES = re.compile(
    r"^(?:the\s+)?(?:staff|staff writers?|reporters?|correspondents?|editors?|editorial|news desk|desk|"
    r"agencies|wire services?|reuters|ap|afp|associated press|dpa|efe|ansa|xinhua|bloomberg|"
    r"senior .*|chief .*|.*correspondent|.*editor|.*reporter|.*writer|contributor|updated.*|published.*)$",
    re.IGNORECASE,
)
_COPYRIGHT_RE = re.compile(
    r"^(?:copyright\s*)?(?:©|\(c\)|copyright)\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?)?\s*,?\s*"
    r"(?P<name>[^.|©]{2,60}?)\s*(?:[.,|]|all rights reserved|$)",
    re.IGNORECASE,
)
_CREDIT_RE = re.compile(
    r"^(?P<caption>.+?)[\s.,;:]*[(\[]?\s*(?:photo|photograph|picture|image|foto|bild|credit|photo credit)"
    r"(?:\s+by)?\s*[:/©]\s*(?P<credit>[^)\]]{2,80})[)\]]?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundDate:
    """A date found in text: ISO 8601 value and whether the text called it an update."""

    value: str
    updated: bool


def _tz_offset(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = raw.strip()
    m = re.fullmatch(r"(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", raw, re.IGNORECASE)
    if m:
        return f"{m.group(1)}{int(m.group(2)):02d}:{m.group(3) or '00'}"
    return _TZ.get(raw.lower())


def _build(y: int, m: int, d: int, gd: dict) -> str | None:
    if not (1 <= m <= 12 and 1 <= d <= 31 and 1900 <= y <= 2100):
        return None
    date = f"{y:04d}-{m:02d}-{d:02d}"
    if gd.get("h") is None:
        return date
    hour, minute = int(gd["h"]), int(gd["mi"])
    ampm = (gd.get("ampm") or "").replace(".", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return date
    second = int(gd.get("s") or 0)
    stamp = f"{date}T{hour:02d}:{minute:02d}:{second:02d}"
    tz = gd.get("tz")
    if tz:
        offset = _tz_offset(tz)
        if offset is None:
            return stamp
        return stamp + offset
    return stamp


def find_date(text: str) -> FoundDate | None:
    """The first complete date (with a year) in `text`, as ISO 8601 with time and zone when given."""
    best: tuple[int, str] | None = None
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            gd = m.groupdict()
            y = int(gd["y"])
            if gd.get("mn"):
                month = _MONTHS.get(gd["mn"].lower().rstrip("."))
                if month is None:
                    continue
                d = int(gd["d"])
            elif gd.get("a"):
                a, b = int(gd["a"]), int(gd["b"])
                if a > 12 >= b:
                    month, d = b, a
                elif b > 12 >= a:
                    month, d = a, b
                else:
                    continue  # 03/04/2020 is ambiguous: never guess
            else:
                month, d = int(gd["m"]), int(gd["d"])
            value = _build(y, month, d, gd)
            if value and (best is None or m.start() < best[0]):
                best = (m.start(), value)
            break
    if best is None:
        return None
    before = text[: best[0]]
    return FoundDate(best[1], bool(_UPDATED_RE.search(before)))


def _clean_name(raw: str, outlets: set[str]) -> str | None:
    name = re.sub(r"\s+", " ", raw).strip(" .,;:-–—|/")
    name = re.sub(r"^(?:and|und|et|y)\s+", "", name, flags=re.I)
    if not name or any(ch.isdigit() for ch in name) or name.lower() in outlets:
        return None
    if _NOT_NAMES.match(name) or "@" in name or "http" in name.lower():
        return None
    words = name.split()
    if not 1 <= len(words) <= 5 or not words[0][0].isupper():
        return None
    return name


def parse_byline(line: str, outlets: set[str] = frozenset()) -> tuple[str, ...] | None:
    """Names from a byline such as "By Jane Doe and John Roe, Reuters"; None when it is no byline."""
    line = line.strip()
    if len(line) > 160:
        return None
    m = _BYLINE_RE.match(line)
    if not m:
        return None
    names_part = re.split(r"\s+[|·•—–]\s+|\s+-\s+|\bupdated\b|\bpublished\b|\bposted\b", m.group("names"),
                          flags=re.I)[0]
    names_part = re.split(r"\s+(?:for|in|at|from)\s+(?:the\s+)?[A-Z]", names_part)[0]
    pieces = re.split(r",|;|\s+and\s+|\s+&\s+|\s+und\s+|\s+et\s+|\s+y\s+", names_part)
    lowered = {o.lower() for o in outlets}
    names: list[str] = []
    for piece in pieces:
        name = _clean_name(piece, lowered)
        if name and name not in names:
            names.append(name)
    return tuple(names) if names else None


@dataclass(frozen=True)
class Dateline:
    """A news dateline at the start of a paragraph, e.g. "PHNOM PENH, Dec 17 (Reuters) -"."""

    place: str
    agency: str
    date: str | None  # only when the dateline gives a year


def parse_dateline(paragraph: str) -> Dateline | None:
    """The dateline opening `paragraph`, if any."""
    m = _DATELINE_RE.match(paragraph)
    if not m:
        return None
    when = m.group("when")
    found = find_date(when) if when and re.search(r"\d{4}", when) else None
    return Dateline(m.group("place").strip(), m.group("agency").strip(), found.value if found else None)


def parse_credit(line: str) -> tuple[str, str] | None:
    """(caption, credit) from a caption line with an explicit credit ("... Photo: Jane Doe")."""
    if len(line) > 400:
        return None
    m = _CREDIT_RE.match(line.strip())
    if not m:
        return None
    caption = m.group("caption").strip(" .,;:-–—")
    credit = m.group("credit").strip(" .,;:-–—")
    if not credit:
        return None
    return caption, credit


def parse_copyright(line: str) -> str | None:
    """The owner named in a copyright line ("© 2022 The Mekong Times. All rights reserved.")."""
    if len(line) > 160:
        return None
    m = _COPYRIGHT_RE.match(line.strip())
    if not m:
        return None
    name = m.group("name").strip(" .,")
    if not name or name.lower().startswith("all rights") or len(name.split()) > 6 or any(c.isdigit() for c in name):
        return None
    return name
