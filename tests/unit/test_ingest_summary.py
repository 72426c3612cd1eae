"""Summaries are plain text: no Markdown markup, and none of the markers Markdown left as text."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import yaml

from digest.ingest.markdown_source import parse_markdown_source
from digest.ingest.storyfile import StoryOptions, render_story

RESIDUE = re.compile(r"\*|__|~~|\]\(|\[[^\]]*\]\(")


def _source(body: str, front: str = "") -> str:
    return f"---\ntitle: Trade agreement\ndate: '2025-10-26'\n{front}---\n\n{body}"


def _summary_in_file(text: str) -> str:
    story = render_story(parse_markdown_source(text).extracted,
                         StoryOptions(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    return yaml.safe_load(story.text.split("---\n")[1])["summary"]


def test_lede_with_bold_around_spaces_gives_plain_summary():
    # a numbered clause whose bold marks hold only no-break spaces: Markdown keeps them as text
    body = ("**Article 1.1: Tariffs**\n\n"
            "1.**\u00a0\u00a0\u00a0\u00a0** Cambodia shall apply a rate of customs duty on originating\n"
            "goods of the United States as set out in Schedule 1 to Annex I.\n")
    summary = _summary_in_file(_source(body))
    assert summary == ("1. Cambodia shall apply a rate of customs duty on originating goods of the "
                       "United States as set out in Schedule 1 to Annex I.")


def test_lede_markup_and_unclosed_markers_become_text():
    body = ("**Washington** — The [council](https://example.gov/council) said _today_ that the **new "
            "timetable would add three services a day on the coastal line from next spring.\n")
    summary = _summary_in_file(_source(body))
    assert RESIDUE.search(summary) is None, summary
    assert summary.startswith("Washington — The council said today that the new timetable")


def test_summary_from_front_matter_is_plain_text():
    front = "summary: 'A **joint** plan, see [the text](javascript:alert(1)) and __notes'\n"
    body = "The two governments agreed on a plan that covers trade, investment and the customs rules.\n"
    summary = _summary_in_file(_source(body, front))
    assert summary == "A joint plan, see the text and notes"


def test_plain_text_keeps_what_is_text():
    from digest.ingest.markdown_source import plain_text

    assert plain_text("snake_case and C++ and \\*escaped\\* and [a note]") == \
        "snake_case and C++ and *escaped* and [a note]"
