"""The HTML path of ingest: decoding, metadata, main content, Markdown, hostile input."""

from __future__ import annotations

import codecs
import gzip
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from digest.errors import IngestError
from digest.ingest.decode import decode_html
from digest.ingest.html import extract_for_eval, extract_html
from digest.ingest.names import clean_authors
from digest.ingest.tomarkdown import fragment_to_markdown, Options

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "html"

ARTICLE = """<html><head>{head}<title>{title}</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>{title}</h1>
<p>{p1}</p>
<p>The regional council said on Monday that the new timetable would add three services a day on
the coastal line, and that the older trains would be replaced by the end of next year at the latest.</p>
<p>Passenger groups welcomed the plan but said that the fares, which rose twice last year, were still
too high for many of the people who depend on the line to get to work in the city every morning.</p>
</article></body></html>"""


def page(title="Line gets more trains", head="", p1="Café owners along the line said trains had been late all winter."):
    return ARTICLE.format(title=title, head=head, p1=p1)


def render(md: str) -> str:
    """What a reader's browser would get from the body (CommonMark, raw HTML allowed)."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


# --------------------------------------------------------------------------- fixture pairs
@pytest.mark.parametrize("name,url", [
    ("graph_article", "https://news.example.org/2024/03/05/harbour-reopens?utm_source=x"),
    ("opengraph_only", None),
    ("hostile", "https://town.example/news/library"),
    ("truncated", None),
])
def test_fixture_bodies_match_expected_markdown(name, url):
    ex = extract_html((FIXTURES / f"{name}.html").read_bytes(), url)
    expected = (FIXTURES / f"{name}.md").read_text("utf-8")
    assert ex.body == expected


def test_jsonld_graph_metadata_wins_and_resolves_references():
    ex = extract_html((FIXTURES / "graph_article.html").read_bytes(),
                      "https://news.example.org/2024/03/05/harbour-reopens?utm_source=x")
    assert ex.title == "Harbour reopens after storm"
    # JSON-LD (+01:00) is preferred over the OpenGraph time (Z); the zone is kept
    assert ex.date == "2024-03-05T10:30:00+01:00"
    assert ex.updated == "2024-03-06T08:00:00+01:00"
    assert ex.authors == ("Mara Quist", "Olav Brekke")  # an @id reference and a "By ..." name
    assert ex.source == "The Coastal Times"
    assert ex.source_url == "https://news.example.org/2024/03/05/harbour-reopens"  # rel=canonical
    assert ex.image.src == "https://news.example.org/images/harbour.jpg"
    assert (ex.image.caption, ex.image.credit) == ("Boats return to the harbour", "Lena Voss")
    assert ex.lang == "en-GB"
    assert ex.tags == ("harbour", "storms", "shipping")
    assert ex.summary == "The harbour reopened on Tuesday after a week of repairs."
    # no navigation, footer, repeated title or byline in the body
    for junk in ("Home", "Copyright", "Privacy", "Harbour reopens after storm", "By Mara"):
        assert junk not in ex.body


def test_body_keeps_structure_links_absolute_tables_and_captioned_images():
    body = extract_html((FIXTURES / "graph_article.html").read_bytes(),
                        "https://news.example.org/2024/03/05/harbour-reopens").body
    assert "[new wall](https://news.example.org/topics/harbour-wall)" in body
    assert "**more than expected**" in body and "*often in heavy rain*" in body
    assert "## What changes for visitors" in body
    assert "- The ticket office moves to the north quay." in body
    assert "| Route | Departures |\n|---|---|\n| North island | 6 a day |" in body
    assert "> We are grateful" in body
    assert ('![The repaired wall](https://news.example.org/images/wall.jpg '
            '"The repaired outer wall on Monday. — Lena Voss")') in body
    html = render(body)
    assert "<table>" in html and "<blockquote>" in html and 'href="https://news.example.org/topics/harbour-wall"' in html


def test_opengraph_fallback_and_author_cleanup():
    ex = extract_html((FIXTURES / "opengraph_only.html").read_bytes())
    assert ex.title == "Rail strike called off at the last minute"
    assert ex.authors == ("Jane Doe", "John Roe")  # "By ... and ... | Reuters"
    assert ex.source == "Metro Wire"
    assert ex.source_url == "https://metro.example.com/rail-strike"
    assert ex.date == "2023-11-14T06:45:00-05:00"  # <time datetime> with its zone
    assert ex.image.alt == "A commuter train at a platform"
    assert ex.lang == "en-US"
    assert ex.tags == ("Transport", "Labour")


@pytest.mark.parametrize("raw,outlets,expected", [
    ("By Jane Doe and John Roe | Reuters", ("Reuters",), ("Jane Doe", "John Roe")),
    ("By JANE DOE, Reuters", ("Reuters",), ("JANE DOE",)),
    ("Von Moritz Pappert", (), ("Moritz Pappert",)),
    ("Jane Doe, Senior Reporter", (), ("Jane Doe",)),
    ("Autor: Max Mustermann & Erika Musterfrau", (), ("Max Mustermann", "Erika Musterfrau")),
    ("jane@example.com", (), ()),
    (["Staff", "Jane Doe", "jane doe"], (), ("Jane Doe",)),
])
def test_clean_authors(raw, outlets, expected):
    assert clean_authors(raw, outlets) == expected


def test_dates_keep_time_zone_or_stay_absent():
    ex = extract_html(page(head='<meta property="article:published_time" content="2021-06-01T22:15:00+02:00">'))
    assert ex.date == "2021-06-01T22:15:00+02:00"
    assert extract_html(page()).date is None  # never invented


# --------------------------------------------------------------------------- hostile input
def test_hostile_markup_never_survives():
    body = extract_html((FIXTURES / "hostile.html").read_bytes(), "https://town.example/news/library").body
    html = render(body)
    for bad in ("<script", "<style", "<iframe", "<form", "<object", "<embed", "<svg", "onclick",
                "onload", "onerror", "onmouseover", "javascript:", "vbscript:", "data:", "alert("):
        assert bad not in body.lower() or bad == "alert(" and "alert(" not in html.lower()
        assert bad not in html.lower()
    # the links' text stays, their dangerous targets do not
    assert "Read the motion, the annex and the minutes" in body
    assert "<sup>1</sup>" in html  # harmless formatting kept as (sanitised) raw HTML


def test_markup_and_template_looking_text_shows_as_text():
    body = extract_html((FIXTURES / "hostile.html").read_bytes()).body
    assert "{{" not in body and "{%" not in body and "}}" not in body and "%}" not in body
    html = render(body)
    assert "{{ user.name }}" in html and "{% include &quot;x&quot; %}" in html
    assert "&lt;b&gt;Books not buses&lt;/b&gt;" in html and "<b>Books" not in html
    assert "<code>{{ config.SECRET }}</code>" in html  # shown as written, from entity references


def test_fragment_escaping_round_trips_through_commonmark():
    md = fragment_to_markdown("<p>5 * 3 and a_b, *not em*, [x](y), &amp;amp; 1. and # and x|y</p>"
                              "<p>1. not a list</p><p># not a heading</p><p>> not a quote</p>")
    html = render(md)
    assert "<em>" not in html and "<a " not in html and "<ol>" not in html and "<h1>" not in html
    assert "<blockquote>" not in html
    assert "*not em*" in html and "[x](y)" in html and "&amp;amp;" in html


def test_complex_table_stays_sanitised_html():
    md = fragment_to_markdown('<table onclick="x"><tr><td colspan="2" style="color:red">a <script>alert(1)</script>'
                              '</td></tr><tr><td>b</td><td><a href="javascript:x">c</a></td></tr></table>')
    assert md.startswith("<table>") and 'colspan="2"' in md
    assert "script" not in md and "onclick" not in md and "style" not in md and "javascript" not in md


def test_unsafe_and_relative_urls():
    md = fragment_to_markdown('<p><a href="../a b">rel</a> <a href="//cdn.example/x">proto</a> '
                              '<a href=" JaVaScRiPt:alert(1)">js</a> <a href="#top">frag</a> '
                              '<img src="data:image/png;base64,xx" data-src="/lazy.jpg" alt="lazy"></p>',
                              Options(base_url="https://site.example/news/item.html"))
    assert "[rel](https://site.example/a%20b)" in md
    assert "[proto](https://cdn.example/x)" in md
    assert "js" in md and "javascript" not in md.lower() and "(#top)" not in md
    assert "![lazy](https://site.example/lazy.jpg)" in md


# --------------------------------------------------------------------------- encodings
TEXT = "Zoë’s café — “naïve” façade"


@pytest.mark.parametrize("charset,meta", [
    ("windows-1252", '<meta charset="windows-1252">'),
    ("shift_jis", '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'),
])
def test_declared_encodings(charset, meta):
    p1 = TEXT if charset == "windows-1252" else "東京の駅で新しい電車が走り始めました。"
    data = page(head=meta, p1=p1).encode(charset)
    ex = extract_html(data)
    assert p1 in ex.body
    assert ex.body.encode("utf-8").decode("utf-8") == ex.body


def test_utf8_bom_and_undeclared_encodings():
    with_bom = codecs.BOM_UTF8 + page(p1=TEXT).encode("utf-8")
    assert TEXT in extract_html(with_bom).body
    undeclared_utf8 = page(p1=TEXT).encode("utf-8")
    assert TEXT in extract_html(undeclared_utf8).body
    undeclared_1252 = page(p1=TEXT).encode("windows-1252")
    assert TEXT in extract_html(undeclared_1252).body


def test_decode_html_prefers_headers_then_meta_and_overrules_wrong_declarations():
    assert decode_html("é".encode("latin-1"), "text/html; charset=ISO-8859-1") == "é"
    assert decode_html('<meta charset="utf-8">é'.encode("cp1252")).endswith("é")  # lie overruled
    assert decode_html(codecs.BOM_UTF16_LE + "<p>ü</p>".encode("utf-16-le")) == "<p>ü</p>"
    assert decode_html("€".encode("cp1252"), "text/html; charset=iso-8859-1") == "€"  # WHATWG


# --------------------------------------------------------------------------- broken pages
@pytest.mark.parametrize("data,message", [
    (b"", "empty page"),
    (b"   \n\t  ", "empty page"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "binary"),
    (gzip.compress(b"<html></html>"), "binary"),
    (bytes(range(32)) * 200, "binary"),
])
def test_empty_and_binary_pages_are_clear_errors(data, message):
    with pytest.raises(IngestError) as exc:
        extract_html(data, where="page.html")
    assert str(exc.value).startswith("page.html: ") and message in str(exc.value)


def test_no_article_is_an_error():
    with pytest.raises(IngestError, match="no article"):
        extract_html((FIXTURES / "no_article.html").read_bytes(), where="no_article.html")


def test_huge_page_is_refused_without_parsing():
    data = b"<html><body><p>" + b"word " * (21 * 1024 * 1024 // 5) + b"</p></body></html>"
    with pytest.raises(IngestError, match="too large"):
        extract_html(data)


def test_deeply_nested_and_truncated_markup_does_not_crash():
    ex = extract_html("<div>" * 600 + page() + "</div>" * 10)
    assert "regional council" in ex.body
    with pytest.raises(IngestError, match="nested too deeply"):
        extract_html("<div>" * 5000 + page())
    ex = extract_html((FIXTURES / "truncated.html").read_bytes())
    assert "Flood warnings were lifted" in ex.body and ex.title == "Flood warnings lifted"


def test_nesting_limit_is_exact():
    from digest.ingest.html import MAX_DEPTH, parse_html, too_deep

    # html > body > div * k: k + 2 levels
    assert not too_deep(parse_html("<div>" * (MAX_DEPTH - 2) + "x"))
    assert too_deep(parse_html("<div>" * (MAX_DEPTH - 1) + "x"))


def test_date_search_languages_follow_the_page():
    from digest.ingest.pagedate import date_languages

    assert date_languages("de-AT") == ("de", "en")
    assert date_languages("es_ES") == ("en", "es")
    assert date_languages("en") == ("en",)
    assert date_languages(None) is None and date_languages("xx-unknown") is None


def test_textual_date_found_whatever_the_page_language():
    body = "<p>" + "Der Gemeinderat hat am Montag den neuen Fahrplan beschlossen. " * 6 + "</p>"
    for lang in ("es", "de", ""):
        html = (f'<html lang="{lang}"><head><title>Fahrplan</title></head><body><article><h1>Fahrplan</h1>'
                f'<div class="info">miércoles, 4 de mayo de 2022</div>{body}</article></body></html>')
        assert extract_html(html).date == "2022-05-04", lang


def test_deterministic_output():
    data = (FIXTURES / "graph_article.html").read_bytes()
    assert extract_html(data, "https://news.example.org/x") == extract_html(data, "https://news.example.org/x")


def test_extract_for_eval_shape():
    out = extract_for_eval((FIXTURES / "graph_article.html").read_text("utf-8"), None)
    assert out["title"] == "Harbour reopens after storm"
    assert out["author"] == ["Mara Quist", "Olav Brekke"]
    assert out["date"].startswith("2024-03-05")
    assert re.search(r"harbour reopened on Tuesday", out["body"])
    assert extract_for_eval("", None)["body"] == ""


def test_furniture_blocks_are_removed_from_the_body():
    furniture = """<p>Share this article</p><p>Read more: <a href="/x">Ferries cancelled again</a></p>
<p>Photo: Lena Voss</p><h2>Related</h2><ul><li><a href="/a">Storm hits coast</a></li><li><a href="/b">New pier</a></li></ul>
<p>Sign up for our newsletter</p>"""
    html = page().replace("</article>", furniture + "</article>")
    body = extract_html(html).body
    assert "regional council" in body
    for junk in ("Share this", "Read more", "Ferries cancelled", "Lena Voss", "Related", "Storm hits", "newsletter"):
        assert junk not in body


def test_data_lists_with_labels_are_kept():
    from lxml import html as lxml_html
    from digest.ingest.boilerplate import is_furniture
    assert not is_furniture(lxml_html.fromstring(
        "<ul><li>Kategorie: Erste Versuche</li><li>Art der Aufnahme: Digitalfoto</li><li>Optik: Teleobjektiv</li>"
        "<li>Brennweite in mm: 180</li><li>Kameramodell: Canon EOS 60 Da</li></ul>"))
    assert is_furniture(lxml_html.fromstring("<p>Kategorie: News</p>"))
    assert is_furniture(lxml_html.fromstring("<p>Lesen Sie auch: Der lange Weg zum neuen Hafen der Stadt</p>"))
