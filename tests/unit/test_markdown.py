"""The configured Markdown renderer."""

from __future__ import annotations

from digest.markdown import heading_id, opening, rebase_links, render_markdown


def test_tables_footnotes_smart_punctuation_and_ascii_anchors() -> None:
    html = render_markdown('## Japan’s "ODA" -- explained\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nNote.[^1]\n\n[^1]: Source.\n')
    assert '<h2 id="japans-oda-explained">Japan’s “ODA” – explained</h2>' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert 'class="footnote-ref"' in html and 'id="fn1"' in html


def test_raw_html_passes_or_is_escaped_by_config() -> None:
    assert "<em>x</em>" in render_markdown("<em>x</em>\n", html=True)
    assert "&lt;em&gt;x&lt;/em&gt;" in render_markdown("<em>x</em>\n", html=False)


def test_bodies_are_not_templates() -> None:
    assert "{{ site.title }}" in render_markdown("{{ site.title }} {% raw %}\n")


def test_non_latin_heading_ids_are_ascii() -> None:
    assert heading_id("中国与东盟") == "zhong-guo-yu-dong-meng"
    assert heading_id("???") == "section"


def test_rebase_root_relative_links_only() -> None:
    html = '<a href="/archive/">a</a> <a href="//cdn.example/x">b</a> <a href="https://x.org/">c</a> <img src="/i.png">'
    assert rebase_links(html, "../../") == (
        '<a href="../../archive/">a</a> <a href="//cdn.example/x">b</a> <a href="https://x.org/">c</a> <img src="../../i.png">')


def test_rebase_escapes_a_base_url_for_the_attribute_and_leaves_other_html_alone() -> None:
    html = '<p>See <a href="/topics/x/">x</a>.</p>'
    assert rebase_links(html, 'https://example.org/?site=a&b="c"/') == (
        '<p>See <a href="https://example.org/?site=a&amp;b=&quot;c&quot;/topics/x/">x</a>.</p>')
    plain = '<p>No links here; "quotes" and a = sign.</p>'
    assert rebase_links(plain, "../") is plain


def test_opening_paragraphs_for_excerpts() -> None:
    text = "# Heading\n\nOne.\n\nTwo.\n\n| t |\n|---|\n\nThree.\n\nFour.\n"
    assert opening(text) == "One.\n\nTwo.\n\nThree.\n"


def test_fast_backend_equals_reference_on_the_corpus(monkeypatch) -> None:
    """The Rust port renders only where it is byte-identical to markdown-it-py."""
    from pathlib import Path

    from digest import markdown
    from digest.content import parse_story
    from tests.conftest import REPO, SHARED

    files = sorted((SHARED / "corpus" / "whitehouse").glob("*.md")) + sorted(
        (REPO / "tests" / "golden" / "site" / "content" / "stories").glob("*.md"))
    texts = [parse_story(p.read_text(encoding="utf-8"), p.name).body for p in files]
    texts += ["# A\n\n## A\n\n### <em>B</em> &amp; c\n", "| a |\n|---|\n| *b* |\n", "\"Quoted\" -- (c) ...\n"]
    fast = [markdown.render_markdown(t) for t in texts]
    markdown._fast.cache_clear()
    monkeypatch.setenv("DIGEST_MARKDOWN", "reference")
    try:
        reference = [markdown.render_markdown(t) for t in texts]
    finally:
        markdown._fast.cache_clear()
    assert fast == reference
    assert '<h2 id="a-1">A</h2>' in reference[-3] and '<h3 id="b-c"><em>B</em> &amp; c</h3>' in reference[-3]


def test_lone_titled_image_becomes_a_captioned_figure() -> None:
    html = render_markdown('![Leaders](https://x.org/a.jpg "Hun Sen and Abe — Vireak Mai")\n\nInline ![a](b.png "t") too.\n')
    assert ('<figure><img src="https://x.org/a.jpg" alt="Leaders"><figcaption>Hun Sen and Abe — Vireak Mai'
            '</figcaption></figure>') in html
    assert '<p>Inline <img src="b.png" alt="a" title="t" /> too.</p>' in html
