"""Removing what is left of a page's furniture from an extracted article.

Main-content detection keeps blocks; some of them are still furniture: share prompts,
"read more" and "related" teasers, newsletter and comment boxes, photo credits, cookie and
advertising notices. They are short and worded alike across sites, in many languages.
"""

from __future__ import annotations

import re

_FURNITURE = re.compile(
    r"^\W*(?:"
    # sharing / following
    r"share|share this|share on|teilen|jetzt teilen|teilen mit|teilen sie dies mit|diesen artikel teilen|"
    r"partager|partagez|compartir|comparte|condividi|udostępnij|delen|dela|del|jaa|"
    r"follow us|folgen sie uns|suivez-nous|síguenos|"
    # teasers
    r"read more|read next|more from|more on this|related(?: articles| stories| posts| content)?|"
    r"see also|you (?:may|might) also like|recommended|most read|most popular|top stories|"
    r"weiterlesen|mehr lesen|mehr zum thema|zum thema|auch interessant|das könnte sie auch interessieren|"
    r"lesen sie auch|lesen sie mehr|empfohlene beiträge|ähnliche beiträge|weitere themen|weitere artikel|"
    r"meistgelesen|mehr dazu|lire aussi|lire la suite|à lire aussi|voir aussi|sur le même sujet|"
    r"pour lire la suite|leer más|lee también|te puede interesar|más noticias|leia também|leia mais|"
    r"leggi anche|potrebbe interessarti|czytaj też|czytaj także|czytaj więcej|zobacz też|"
    r"dowiedz się więcej|lees ook|lue myös|läs också|schon gelesen|auch lesen|mehr themen|top-themen|"
    r"auch auf|le puede interesar|puedes ver|mira|mire|lea también|te recomendamos|temas|"
    r"síguenos|siguenos|unterstütze|hazte miembro|for the latest stories|"
    # newsletters, subscriptions, accounts
    r"newsletter|sign up|subscribe|subscribe now|abonnieren|jetzt abonnieren|zum newsletter|"
    r"s'abonner|abonnez-vous|suscríbete|never miss|"
    # comments
    r"comments?|leave a comment|no comments|kommentare?|keine kommentare|kommentar schreiben|"
    r"commentaires?|comentarios?|kommentit|"
    # ads, cookies, loading
    r"advertisement|anzeige|werbung|publicité|publicidad|reklama|mainos|sponsored|"
    r"cookies?|we use cookies|wir verwenden cookies|wird geladen|loading|"
    # credits and labels
    r"tags?|schlagwörter|schlagworte|kategorie|kategorien|category|categories|themen|topics|"
    r"print|drucken|imprimer|back to top|nach oben|zurück|zurück zur übersicht|zurück zur listenansicht"
    r")\b",
    re.I)
_CREDIT = re.compile(
    r"^\W*(?:photo|photos|foto|fotos|bild|bilder|image|images|picture|credit|credits|crédits? photos?|"
    r"kuva|zdjęcie|fot\.|quelle|source|©|\(c\)|copyright)\s*(?::|©|by\b)", re.I)

MAX_FURNITURE_WORDS = 12
# labels that may also head a block of real data ("Kategorie: ..., Optik: ..."): only short blocks go
_TAXONOMY = frozenset({"tag", "tags", "schlagwörter", "schlagworte", "kategorie", "kategorien", "category",
                       "categories", "themen", "topics", "temas"})


def _text(el) -> str:
    return " ".join("".join(t for t in el.itertext() if isinstance(t, str)).split())


def _link_chars(el) -> int:
    return sum(len(_text(a)) for a in el.iter("a"))


def is_furniture(el) -> bool:
    """True for a short block that reads like page furniture rather than article text."""
    text = _text(el)
    if not text:
        return False
    words = len(text.split())
    m = _FURNITURE.match(text)
    if m and words <= 40:
        # "Lesen Sie auch: <teaser>", "Share: Twitter Facebook ...": a label, then links or a teaser
        rest = text[m.end():]
        label = text[: m.end()].strip(" :").casefold()
        if label not in _TAXONOMY and (rest[:2].strip().startswith(":") or _link_chars(el) > 0.5 * len(text)):
            return True
    if words > MAX_FURNITURE_WORDS:
        return False
    if _CREDIT.match(text) and words <= 8:
        return True
    return bool(m)


def _is_heading(el) -> bool:
    return el.tag in ("h1", "h2", "h3", "h4", "h5", "h6")


def remove_furniture(body) -> None:
    """Drop furniture blocks from an extracted article body (in place).

    A furniture heading ("Related", "Auch interessant") takes with it the link lists and short
    teasers that follow it, up to the next real paragraph or heading.
    """
    children = list(body)
    i = 0
    while i < len(children):
        el = children[i]
        if not isinstance(el.tag, str) or not is_furniture(el):
            i += 1
            continue
        drop = [el]
        if _is_heading(el) or el.tag in ("p", "div") and len(_text(el).split()) <= 4:
            j = i + 1
            while j < len(children):
                nxt = children[j]
                text = _text(nxt)
                if _is_heading(nxt):
                    break
                dense = text and _link_chars(nxt) > 0.6 * len(text)
                if nxt.tag in ("ul", "ol") and dense or dense and len(text.split()) <= 25:
                    drop.append(nxt)
                    j += 1
                    continue
                break
        for d in drop:
            _remove_keep_tail(d)
        i += len(drop)


def _remove_keep_tail(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
