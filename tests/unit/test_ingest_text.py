"""Plain-text scrapes: the seed file and realistic whole-page copies (tests/fixtures/ingest/text/).

Each `NAME.txt` fixture has `NAME.expected.md`, the story file ingest writes for it with the clock
at 2026-01-01T00:00:00Z. Regenerate after a deliberate change with
`DIGEST_REGEN_FIXTURES=1 python3 -m pytest tests/unit/test_ingest_text.py` and review the diff.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from digest.ingest.storyfile import StoryOptions, render_story
from digest.ingest.text import extract_text
from digest.ingest.text_meta import find_date, parse_byline, parse_credit, parse_dateline
from tests.conftest import REPO, SHARED

FIXTURES = REPO / "tests" / "fixtures" / "ingest" / "text"
SEED = SHARED / "corpus" / "000_5cf80c246afc7654.txt"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
TEASERS = ("China and India closer", "Central bank to shun", "PM lauded in Covid-19 fight",
           "Workers return, hope", "Women detained for forcing", "Vietnamese tents baffle")


def _story(path: Path) -> str:
    return render_story(extract_text(path.read_text(encoding="utf-8")), StoryOptions(now=NOW), str(path)).text


def test_seed_scrape() -> None:
    article = extract_text(SEED.read_text(encoding="utf-8"))
    assert article.title == "Japan push ‘won’t hurt China ties’"
    assert article.source == "Phnom Penh Post"
    assert article.image is not None and article.image.src is None
    assert article.image.caption == ("Prime Minister Hun Sen and Japanese Prime Minister Shinzo Abe inspect "
                                     "an honour guard at the Peace Palace in Phnom Penh in November")
    assert article.image.credit == "Vireak Mai"
    assert article.date is None and article.updated is None and article.authors == ()
    assert article.body.startswith("Prime Minister Hun Sen returned triumphantly")
    assert article.body.rstrip().endswith("the move was in line with ASEAN policy.")
    for teaser in TEASERS + ("Logo of", "Vireak Mai", "inspect an honour guard"):
        assert teaser not in article.body
    assert "Japan push" not in article.body
    assert article.body.count("\n\n") == 20  # 21 paragraphs, kept apart


def test_seed_story_file_round_trips() -> None:
    text = _story(SEED)
    head = yaml.safe_load(text.split("---\n")[1])
    assert list(head) == ["title", "source", "image", "summary", "ingested", "content_hash", "file_hash"]
    assert head["image"] == {"caption": "Prime Minister Hun Sen and Japanese Prime Minister Shinzo Abe inspect "
                                        "an honour guard at the Peace Palace in Phnom Penh in November",
                             "credit": "Vireak Mai"}
    assert "date" not in head and head["ingested"] == "2026-01-01T00:00:00Z"


def test_seed_layout_is_not_special_cased() -> None:
    """The same layout with another outlet, title, caption and teasers."""
    text = (
        "Logo of Mekong Herald newspaper Mekong Herald - Dams leave lake without fish\n\n"
        "Dams leave lake without fish\n\n"
        "A fisherman casts his net on the Tonle Sap lake at dawn\n"
        "A fisherman casts his net on the Tonle Sap lake at dawn. Photo: Chan Dara\n\n"
        "Dams leave lake without fish\n\n\n"
        + "\n\n".join(f"Paragraph {n} of the story says something long enough to count as prose, "
                      f"with a full sentence and an ending." for n in range(1, 7))
        + "\n\n\n  • Other story one\n\n    A teaser of an unrelated story that stops in the middle of\n\n"
        "  • Other story two\n\n    Another teaser about something else entirely, cut off before the end of"
    )
    article = extract_text(text)
    assert article.title == "Dams leave lake without fish"
    assert article.source == "Mekong Herald"
    assert article.image.caption == "A fisherman casts his net on the Tonle Sap lake at dawn"
    assert article.image.credit == "Chan Dara"
    assert article.body.startswith("Paragraph 1 ") and article.body.rstrip().endswith("with a full sentence and an ending.")
    assert "teaser" not in article.body and "Other story" not in article.body


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.txt")))
def test_fixture_matches_expected(name: str) -> None:
    actual = _story(FIXTURES / f"{name}.txt")
    expected_path = FIXTURES / f"{name}.expected.md"
    if os.environ.get("DIGEST_REGEN_FIXTURES"):
        expected_path.write_text(actual, encoding="utf-8")
    assert actual == expected_path.read_text(encoding="utf-8")


def test_whole_page_wire_copy() -> None:
    article = extract_text((FIXTURES / "wire_whole_page.txt").read_text(encoding="utf-8"))
    assert article.title == "Cambodia's Hun Sen says Japan partnership no threat to Beijing"
    assert article.authors == ("Prak Chan Thul", "Martin Petty")
    assert article.date == "2013-12-17T10:32:00+07:00"
    assert article.source == "Reuters"
    assert article.body.startswith("PHNOM PENH, Dec 17 (Reuters) - Cambodian Prime Minister")
    for noise in ("Sign In", "Facebook", "Advertisement", "Scroll to continue", "Read Next", "Thai protesters",
                  "cookies", "All rights reserved", "Site Index", "Our Standards"):
        assert noise not in article.body


def test_pipe_title_caption_byline_dates() -> None:
    article = extract_text((FIXTURES / "pipe_title_caption.txt").read_text(encoding="utf-8"))
    assert article.title == "Rice exporters count the cost of the floods"
    assert article.source == "The Mekong Times"
    assert article.authors == ("Sam Rith", "Lisa Tran")
    assert (article.date, article.updated) == ("2022-06-05", "2022-06-06")
    assert article.image.caption == "Farmers wade through a flooded paddy field in Battambang province last month"
    assert article.image.credit == "Heng Chivoan"
    assert article.body.rstrip().endswith("delay loan repayments for affected farmers.")
    for noise in ("Advertisement", "Read more", "Share this", "Follow us", "You may also like", "Garment orders",
                  "Photo:", "By Sam"):
        assert noise not in article.body


def test_wrapped_blog_with_comments() -> None:
    article = extract_text((FIXTURES / "blog_wrapped.txt").read_text(encoding="utf-8"))
    assert article.title == "Why the Mekong's fish are disappearing"
    assert article.authors == ("Sokha Chea",) and article.date == "2021-03-03"
    assert "## What the surveys show" in article.body
    assert "- hydropower dams that block migration routes\n- sand dredging" in article.body
    assert "fell from 31,000 tonnes in 2011 to 14,000 tonnes in 2020." in article.body  # unwrapped
    for noise in ("Great article", "Leave a Reply", "Share this", "WordPress", "Home | About"):
        assert noise not in article.body


def test_german_page() -> None:
    article = extract_text((FIXTURES / "german_news.txt").read_text(encoding="utf-8"))
    assert article.title == "Japan und Kambodscha vertiefen ihre Partnerschaft"
    assert article.authors == ("Anna Müller",) and article.date == "2013-12-17"
    assert article.body.rstrip().endswith("Wasserwerke finanziert.")
    assert "Mehr zum Thema" not in article.body and "Cookies" not in article.body


def test_markup_lookalikes_are_escaped() -> None:
    article = extract_text((FIXTURES / "markup_lookalike.txt").read_text(encoding="utf-8"))
    assert article.source == "Tech Weekly" and article.title == "Why <script> tags still break the web"
    assert "<script>" not in article.body and "\\<script\\>" in article.body
    rendered = MarkdownIt("commonmark").render(article.body)
    assert "<script" not in rendered and "href" not in rendered  # shown as text, never a link
    assert "\\*stars\\*" in article.body and "\n\\# Not a heading" in article.body


def test_no_article() -> None:
    assert extract_text("Home\nNews\nSport\n\nLog in\n").body == ""
    assert extract_text("").title is None


@pytest.mark.parametrize(("text", "expected"), [
    ("Published: 5 June 2022", "2022-06-05"),
    ("December 17, 2013 10:32 AM GMT+7", "2013-12-17T10:32:00+07:00"),
    ("Posted 2021-03-03T09:15:00Z", "2021-03-03T09:15:00+00:00"),
    ("17.12.2013", "2013-12-17"),
    ("Dec. 3, 2020 at 4:05 p.m. EST", "2020-12-03T16:05:00-05:00"),
    ("25/12/2020", "2020-12-25"),
])
def test_find_date(text: str, expected: str) -> None:
    assert find_date(text).value == expected


def test_dates_never_guessed() -> None:
    assert find_date("03/04/2020") is None  # day/month order unknown
    assert find_date("Dec 17") is None  # no year
    assert find_date("Updated: 6 June 2022").updated


def test_bylines_datelines_credits() -> None:
    assert parse_byline("By Jane Doe and John Roe, Reuters") == ("Jane Doe", "John Roe")
    assert parse_byline("BY KIM LEE | 3 min read") == ("KIM LEE",)
    assert parse_byline("Bypass road opens") is None
    assert parse_byline("By Staff Writer") is None
    line = parse_dateline("PHNOM PENH, Dec 17 (Reuters) - Cambodian Prime Minister")
    assert line is not None and (line.place, line.agency, line.date) == ("PHNOM PENH", "Reuters", None)
    assert parse_credit("Troops parade in the capital. Photo: AFP") == ("Troops parade in the capital", "AFP")


def test_huge_page_copy_stays_fast() -> None:
    import time

    seed = SEED.read_text(encoding="utf-8")
    page = "Home\nNews\nShare\nA short line here\n" * 3000 + seed + "\nMore news headline that goes on\n" * 3000
    started = time.monotonic()
    article = extract_text(page)
    assert time.monotonic() - started < 3
    assert article.title == "Japan push ‘won’t hurt China ties’" and article.source == "Phnom Penh Post"
