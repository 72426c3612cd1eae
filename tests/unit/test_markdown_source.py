"""Markdown from other tools: front matter kept and mapped, hostile bodies made harmless."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import yaml
from markdown_it import MarkdownIt

from digest.errors import IngestError
from digest.ingest.markdown_source import parse_markdown_source, sanitize_markdown
from digest.ingest.storyfile import StoryOptions, render_story
from tests.conftest import REPO, SHARED

HOSTILE = REPO / "tests" / "fixtures" / "ingest" / "markdown" / "hostile.md"
FORBIDDEN = re.compile(r"<\s*/?\s*(script|style|iframe|form|input|button)\b|\bon\w+\s*=|javascript|vbscript|data:",
                       re.IGNORECASE)


def test_hostile_body_is_cut_down() -> None:
    source = parse_markdown_source(HOSTILE.read_text(encoding="utf-8"), str(HOSTILE))
    body = source.extracted.body
    assert FORBIDDEN.search(body) is None, FORBIDDEN.search(body)
    assert "evil.example" not in body and "document.cookie" not in body
    assert '<span style="text-decoration:underline">joint plan</span>' in body
    assert "<sup>1</sup>" in body and "<u>underline</u>" in body and "<s>strike</s>" in body
    assert '[safe](https://example.gov/more "More")' in body and "Click here or there or" in body
    assert '<img src="https://example.gov/seal.png" alt="Seal">' in body
    assert "<a>bad anchor</a>" in body and "<https://example.gov/ok>" in body
    assert "| Japan | $20 billion |" in body
    html = MarkdownIt("commonmark").enable("table").render(body)
    assert FORBIDDEN.search(html) is None


def test_front_matter_is_kept_and_kind_becomes_a_tag() -> None:
    source = parse_markdown_source(HOSTILE.read_text(encoding="utf-8"), str(HOSTILE))
    article = source.extracted
    assert source.license == "Public domain"
    assert (article.date, article.source) == ("2024-02-03", "Some Tool Export")
    assert article.source_url == "https://example.gov/statements/2024/02/03/regional-security/"
    assert article.authors == ("Jane Doe", "John Roe") and article.tags == ("statements-releases",)
    assert article.title == "Statement on <b>regional</b> security"
    story = render_story(article, StoryOptions(now=datetime(2026, 1, 1, tzinfo=timezone.utc), license=source.license))
    head = yaml.safe_load(story.text.split("\n---\n", 1)[0][4:])
    assert head["license"] == "Public domain" and head["tags"] == ["statements-releases"]
    assert head["summary"].startswith("The ministers met today and agreed on a joint plan")


def test_whitehouse_corpus_sample() -> None:
    path = SHARED / "corpus" / "whitehouse" / "2021-03-11-joint-message-on-the-passing-of-10-years-since-the-great-east-japan-earthquake.md"
    source = parse_markdown_source(path.read_text(encoding="utf-8"), str(path))
    assert source.extracted.tags == ("statements-releases",)
    assert source.license.startswith("US Government work (public domain)")
    assert "<table>" in source.extracted.body and "class=" not in source.extracted.body


@pytest.mark.parametrize(("text", "message"), [
    ("no front matter here\n", "x.md:1: no front matter"),
    ("---\ntitle: [unclosed\n---\nBody\n", "x.md:3: invalid YAML"),
    ("---\n- a list\n---\nBody\n", "x.md:1: front matter is not a mapping"),
])
def test_bad_front_matter(text: str, message: str) -> None:
    with pytest.raises(IngestError) as caught:
        parse_markdown_source(text, "x.md")
    assert str(caught.value).startswith(message)


def test_unclosed_script_and_nesting() -> None:
    assert "alert" not in sanitize_markdown("Before\n\n<script>alert(1)\nmore\n\nAfter\n")
    assert "After" in sanitize_markdown("Before\n\n<script>alert(1)\nmore\n\nAfter\n")
    cleaned = sanitize_markdown("<scr<script>x</script>ipt>alert(1)</script>\n")
    assert "<script" not in cleaned.lower()
