"""Atom feeds: valid in feedparser, stable ids, honest dates, absolute links, topic and tag feeds."""

from __future__ import annotations

from datetime import datetime, timezone

import feedparser
import pytest

from digest.feeds import render_feeds
from digest.model import Image, SiteConfig, Story, Topic
from digest.views import build_views

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CONFIG = SiteConfig(title="Test Digest", description="News & views", base_url="https://example.org/digest/")


def story(slug: str, **fields) -> Story:
    fields.setdefault("title", slug.replace("-", " ").title())
    fields.setdefault("body", f"Body of {slug}.\n")
    return Story(slug=slug, path=f"content/stories/{slug}.md", **fields)


def site_views(config=CONFIG, stories=None):
    stories = stories if stories is not None else [
        story("japan-aid", date=datetime(2013, 12, 17, 5, 0, tzinfo=UTC), source="Phnom Penh Post",
              source_url="https://www.phnompenhpost.com/national/japan-push", authors=("Vong Sokheng", "May Kunmakara"),
              tags=("Japan", "ODA"), summary="Japan’s push <won’t> hurt ties.",
              body="See [the topic](/topics/japan-aid/) and ![map](/images/map.png).\n\nSecond para.\n",
              image=Image(src="/images/lead.jpg", alt="Lead", caption="A caption", credit="Vireak Mai")),
        story("later-news", date=datetime(2014, 1, 2, tzinfo=UTC), updated=datetime(2014, 1, 5, tzinfo=UTC),
              tags=("ODA",)),
        story("undated-ingested", ingested=datetime(2020, 3, 4, 10, 0, tzinfo=UTC)),
        story("undated-file"),
    ]
    topics = [Topic(slug="japan-aid", title="Japan aid", path="content/topics/japan-aid.md", body="",
                    description="Aid from Japan")]
    story_topics = {"japan-aid": ("japan-aid",), "undated-file": ("japan-aid",)}
    return build_views(config, stories, topics, [], story_topics, {}, {})


MTIMES = {"undated-file": datetime(2021, 6, 7, 8, 9, 10, tzinfo=UTC)}


def parse(data: bytes):
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def test_feeds_parse_cleanly_and_cover_digest_topics_and_tags():
    feeds = render_feeds(CONFIG, site_views(), NOW, mtimes=MTIMES)
    assert set(feeds) == {"feed.xml", "topics/japan-aid/feed.xml", "tags/japan/feed.xml", "tags/oda/feed.xml"}
    for data in feeds.values():
        parse(data)
    topic = parse(feeds["topics/japan-aid/feed.xml"])
    assert [e.link for e in topic.entries] == ["https://example.org/digest/stories/undated-file/",
                                              "https://example.org/digest/stories/japan-aid/"]
    assert topic.feed.title == "Japan aid · Test Digest"
    oda = parse(feeds["tags/oda/feed.xml"])
    assert [e.title for e in oda.entries] == ["Later News", "Japan Aid"]


def test_whole_feed_is_newest_first_with_feed_updated_from_entries_not_clock():
    parsed = parse(render_feeds(CONFIG, site_views(), NOW, mtimes=MTIMES)["feed.xml"])
    assert [e.id for e in parsed.entries] == [
        "https://example.org/digest/stories/undated-file/",      # mtime 2021
        "https://example.org/digest/stories/undated-ingested/",  # ingested 2020
        "https://example.org/digest/stories/later-news/",
        "https://example.org/digest/stories/japan-aid/",
    ]
    assert parsed.feed.updated == "2021-06-07T08:09:10Z"
    links = {l.rel: l.href for l in parsed.feed.links}
    assert links == {"self": "https://example.org/digest/feed.xml", "alternate": "https://example.org/digest/"}


def test_undated_entries_use_ingested_or_mtime_and_have_no_published():
    parsed = parse(render_feeds(CONFIG, site_views(), NOW, mtimes=MTIMES)["feed.xml"])
    by_id = {e.id.rsplit("/", 2)[-2]: e for e in parsed.entries}
    assert by_id["undated-ingested"].updated == "2020-03-04T10:00:00Z"
    assert by_id["undated-file"].updated == "2021-06-07T08:09:10Z"
    assert "published" not in by_id["undated-ingested"]
    assert "published" not in by_id["undated-file"]
    assert by_id["japan-aid"].published == "2013-12-17T05:00:00Z"
    assert by_id["later-news"].updated == "2014-01-05T00:00:00Z"  # `updated` wins over `date`
    assert by_id["later-news"].published == "2014-01-02T00:00:00Z"


def test_ids_and_bytes_stable_across_renders_and_clock():
    first = render_feeds(CONFIG, site_views(), NOW, mtimes=MTIMES)
    second = render_feeds(CONFIG, site_views(), datetime(2030, 1, 1, tzinfo=UTC), mtimes=MTIMES)
    assert first == second


def test_entry_content_authors_outlet_and_absolute_links():
    parsed = parse(render_feeds(CONFIG, site_views(), NOW, mtimes=MTIMES)["feed.xml"])
    entry = next(e for e in parsed.entries if e.id.endswith("/japan-aid/"))
    assert [a.name for a in entry.authors] == ["Vong Sokheng", "May Kunmakara"]
    assert entry.source.title == "Phnom Penh Post"
    assert entry.summary == "Japan’s push <won’t> hurt ties."
    html = entry.content[0].value
    assert 'href="https://example.org/digest/topics/japan-aid/"' in html
    assert 'src="https://example.org/digest/images/map.png"' in html
    assert 'src="https://example.org/digest/images/lead.jpg"' in html
    assert "Vireak Mai" in html
    assert 'href="https://www.phnompenhpost.com/national/japan-push"' in html
    assert 'href="/' not in html and 'src="/' not in html
    assert {t.term for t in entry.tags} == {"japan-aid", "Japan", "ODA"}
    related = [l.href for l in entry.links if l.rel == "related"]
    assert related == ["https://www.phnompenhpost.com/national/japan-push"]


def test_summary_only_when_full_content_is_off():
    from dataclasses import replace

    config = replace(CONFIG, feed_full_content=False)
    parsed = parse(render_feeds(config, site_views(config), NOW, mtimes=MTIMES)["feed.xml"])
    for entry in parsed.entries:
        assert "content" not in entry
    plain = next(e for e in parsed.entries if e.id.endswith("/later-news/"))
    assert plain.summary == "Body of later-news."


def test_limit_and_control_characters():
    from datetime import timedelta

    many = [story(f"s{i:03d}", date=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=(i * 37) % 80),
                  title=f"Title {i}\x0b") for i in range(80)]
    parsed = parse(render_feeds(CONFIG, site_views(stories=many), NOW)["feed.xml"])
    assert len(parsed.entries) == 50
    newest = max(range(80), key=lambda i: (i * 37) % 80)
    assert parsed.entries[0].title == f"Title {newest}"
    assert parsed.entries[1].updated < parsed.entries[0].updated
    assert "\x0b" not in parsed.entries[0].title


def test_path_only_base_url_gives_urn_ids():
    from dataclasses import replace

    config = replace(CONFIG, base_url="/")
    parsed = parse(render_feeds(config, site_views(config), NOW, mtimes=MTIMES)["feed.xml"])
    assert {e.id for e in parsed.entries} >= {"urn:digest:stories/japan-aid"}


@pytest.mark.parametrize("lang", ["zh", "km"])
def test_entry_language(lang):
    views = site_views(stories=[story("x", lang=lang, title="中国 ជំនួយ", date=datetime(2020, 1, 1, tzinfo=UTC))])
    data = render_feeds(CONFIG, views, NOW)["feed.xml"]
    assert f'xml:lang="{lang}"'.encode() in data
    assert parse(data).entries[0].title == "中国 ជំនួយ"


def test_feeds_keep_the_atom_default_namespace_after_a_sitemap() -> None:
    """ElementTree's namespace registry is global: a sitemap rendered first must not change feeds."""
    from digest import feeds, sitemap
    from digest.config import parse_config
    from digest.views import build_views

    config = parse_config('base_url = "https://example.org/"', "digest.toml")
    views = build_views(config, [], [], [], {}, {}, {})
    sitemap.render_sitemap(config, [("", None)])
    feed = feeds.render_feeds(config, views, datetime(2026, 1, 1, tzinfo=timezone.utc))["feed.xml"]
    assert b'<feed xmlns="http://www.w3.org/2005/Atom"' in feed and b"ns0:" not in feed
