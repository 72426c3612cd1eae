"""Story files from extracted articles: front matter order, omissions, hashes, slugs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from digest.errors import IngestError
from digest.ingest.extracted import Extracted, ExtractedImage
from digest.ingest.storyfile import (StoryOptions, content_hash, file_hash, recorded_file_hash, render_story,
                                     title_slug)

NOW = datetime(2026, 1, 1, 12, 30, tzinfo=timezone.utc)
FULL = Extracted(
    title="  A full   story ",
    body="First paragraph.\n\nSecond paragraph.\n",
    date="2024-03-01T10:00:00+07:00",
    updated="2024-03-02",
    authors=("Jane Doe", "John Roe", "Jane Doe"),
    source="The Outlet",
    source_url="https://example.org/a",
    image=ExtractedImage(src="https://example.org/a.jpg", alt="Alt", caption="Cap", credit="Cred"),
    summary="Summary: with a colon, and 'quotes' and “curly” ones",
    lang="en",
    tags=("ASEAN", "Japan"),
)


def _head(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


def test_full_front_matter_in_fixed_order() -> None:
    story = render_story(FULL, StoryOptions(now=NOW, topics=("asean", "asean"), tags=("Japan", "aid"),
                                            license="CC0"))
    head = _head(story.text)
    assert list(head) == ["title", "date", "updated", "author", "source", "source_url", "image", "summary", "lang",
                          "topics", "tags", "license", "ingested", "content_hash", "file_hash"]
    assert head["title"] == "A full story"
    assert head["author"] == ["Jane Doe", "John Roe"]
    assert head["image"] == {"src": "https://example.org/a.jpg", "alt": "Alt", "caption": "Cap", "credit": "Cred"}
    assert head["topics"] == ["asean"] and head["tags"] == ["ASEAN", "Japan", "aid"]
    assert head["ingested"] == "2026-01-01T12:30:00Z" and head["license"] == "CC0"
    assert head["summary"] == FULL.summary
    assert story.text.endswith("\n\nFirst paragraph.\n\nSecond paragraph.\n")


def test_absent_values_are_omitted_never_invented() -> None:
    story = render_story(Extracted(title="Bare", body="Text."), StoryOptions(now=NOW))
    assert list(_head(story.text)) == ["title", "ingested", "content_hash", "file_hash"]
    assert story.date is None


def test_one_author_is_a_string_and_options_override() -> None:
    article = Extracted(title="T", body="B.", authors=("Jane Doe",), date="2020-01-01", source="X")
    head = _head(render_story(article, StoryOptions(now=NOW, date="2021-05-06", source="Y",
                                                    url="https://y.example/1")).text)
    assert head["author"] == "Jane Doe"
    assert (head["date"], head["source"], head["source_url"]) == ("2021-05-06", "Y", "https://y.example/1")


def test_clock_is_passed_in_and_output_deterministic() -> None:
    a = render_story(FULL, StoryOptions(now=NOW)).text
    assert a == render_story(FULL, StoryOptions(now=NOW)).text
    later = render_story(FULL, StoryOptions(now=NOW + timedelta(hours=1))).text
    assert later != a and _head(later)["content_hash"] == _head(a)["content_hash"]
    local = datetime(2026, 1, 1, 19, 30, tzinfo=timezone(timedelta(hours=7)))
    assert _head(render_story(FULL, StoryOptions(now=local)).text)["ingested"] == "2026-01-01T12:30:00Z"


def test_file_hash_detects_edits() -> None:
    text = render_story(FULL, StoryOptions(now=NOW)).text
    assert recorded_file_hash(text) == file_hash(text)
    assert file_hash(text.replace("\n", "\r\n")) == file_hash(text)  # line endings are no edit
    edited = text.replace("Second paragraph.", "Second paragraph, edited.")
    assert recorded_file_hash(edited) != file_hash(edited)
    retagged = text.replace("title: A full story", "title: A fuller story")
    assert recorded_file_hash(retagged) != file_hash(retagged)


def test_content_hash_ignores_layout_not_words() -> None:
    assert content_hash("Title", "A  b\n\nc") == content_hash("title", "A b c")
    assert content_hash("Title", "a \\*b\\*") == content_hash("Title", "a *b*")
    assert content_hash("Title", "A b c") != content_hash("Title", "A b d")


def test_awkward_values_round_trip() -> None:
    article = Extracted(title="yes", body="---\n\nnot front matter", summary="null", tags=("2024", "on", "#x"),
                        source="- dash: colon")
    story = render_story(article, StoryOptions(now=NOW))
    head = _head(story.text)
    assert head["title"] == "yes" and head["summary"] == "null" and head["tags"] == ["2024", "on", "#x"]
    assert head["source"] == "- dash: colon"


def test_no_body_or_no_title_is_an_error() -> None:
    with pytest.raises(IngestError, match="no article text"):
        render_story(Extracted(title="T", body="  \n"), StoryOptions(now=NOW), "page.html")
    with pytest.raises(IngestError, match="page.html: no title"):
        render_story(Extracted(title=None, body="Text."), StoryOptions(now=NOW), "page.html")


@pytest.mark.parametrize(("title", "slug"), [
    ("Japan push ‘won’t hurt China ties’", "japan-push-wont-hurt-china-ties"),
    ("Readout of President Biden’s Meeting with Prime Minister Kishida of Japan",
     "readout-of-president-bidens-meeting-with-prime-minister-kishida-of-japan"),
    ("Café déjà vu: l’été à Phnom Penh", "cafe-deja-vu-lete-a-phnom-penh"),
    ("习近平会见日本首相", "xi-jin-ping-hui-jian-ri-ben-shou-xiang"),
    ("Путин встретился с Ким Чен Ыном", "putin-vstretilsia-s-kim-chen-ynom"),
])
def test_title_slug(title: str, slug: str) -> None:
    assert title_slug(title) == slug


def test_slug_limits_and_fallback() -> None:
    long = title_slug("word " * 40)
    assert len(long) <= 80 and not long.endswith("-") and long.startswith("word-word")
    fallback = title_slug("!!! ???")
    assert fallback.startswith("story-") and fallback == title_slug("!!! ???")
    assert title_slug("!!! ???") != title_slug("*** ---")
