"""sitemap.xml and robots.txt."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from lxml import etree

from digest.model import SiteConfig, Story
from digest.sitemap import render_sitemap, sitemap_entries
from digest.views import build_views

UTC = timezone.utc
CONFIG = SiteConfig(base_url="https://example.org/digest/")
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def parse(data: bytes):
    root = etree.fromstring(data)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return {u.findtext("s:loc", namespaces=NS): u.findtext("s:lastmod", namespaces=NS)
            for u in root.findall("s:url", NS)}


def test_absolute_locs_lastmod_sorted_and_404_left_out():
    when = datetime(2013, 12, 17, 12, 0, tzinfo=timezone(timedelta(hours=7)))
    files = render_sitemap(CONFIG, [("stories/b/", when), ("", None), ("404.html", None), ("stories/a/", None),
                                    ("stories/b/", when - timedelta(days=1))])
    locs = parse(files["sitemap.xml"])
    assert list(locs) == ["https://example.org/digest/", "https://example.org/digest/stories/a/",
                          "https://example.org/digest/stories/b/"]
    assert locs["https://example.org/digest/stories/b/"] == "2013-12-17T05:00:00Z"
    assert locs["https://example.org/digest/"] is None


def test_robots_points_at_absolute_sitemap():
    robots = render_sitemap(CONFIG, [])["robots.txt"].decode()
    assert "User-agent: *" in robots
    assert "Sitemap: https://example.org/digest/sitemap.xml" in robots.splitlines()


def test_robots_without_host_has_no_sitemap_line():
    robots = render_sitemap(replace(CONFIG, base_url="/"), [])["robots.txt"].decode()
    assert not any(line.startswith("Sitemap:") for line in robots.splitlines())


def test_deterministic():
    entries = [("stories/a/", datetime(2020, 1, 1, tzinfo=UTC)), ("tags/x/", None)]
    assert render_sitemap(CONFIG, entries) == render_sitemap(CONFIG, list(reversed(entries)))


def test_entries_from_views():
    stories = [Story(slug="a", title="A", path="a.md", body="", date=datetime(2020, 1, 1, tzinfo=UTC), tags=("T",)),
               Story(slug="b", title="B", path="b.md", body="", ingested=datetime(2021, 1, 1, tzinfo=UTC), tags=("T",)),
               Story(slug="c", title="C", path="c.md", body="")]
    views = build_views(CONFIG, stories, [], [], {}, {}, {})
    mtimes = {"c": datetime(2022, 2, 2, tzinfo=UTC)}
    entries = dict(sitemap_entries(views, ["", "stories/a/", "stories/b/", "stories/c/", "tags/t/", "about/"], mtimes))
    assert entries == {"": datetime(2022, 2, 2, tzinfo=UTC), "stories/a/": datetime(2020, 1, 1, tzinfo=UTC),
                       "stories/b/": datetime(2021, 1, 1, tzinfo=UTC), "stories/c/": datetime(2022, 2, 2, tzinfo=UTC),
                       "tags/t/": datetime(2021, 1, 1, tzinfo=UTC), "about/": None}


def test_a_listings_lastmod_is_its_newest_story_across_time_zones():
    """Newest by the instant, whatever the offsets it was written with (a later local clock time
    in a zone ahead of UTC can be the earlier instant); undated stories without a time do not count."""
    plus7 = timezone(timedelta(hours=7))
    stories = [Story(slug="a", title="A", path="a.md", body="", date=datetime(2024, 5, 1, 12, 0, tzinfo=plus7), tags=("T",)),
               Story(slug="b", title="B", path="b.md", body="", date=datetime(2024, 5, 1, 6, 0, tzinfo=UTC), tags=("T",)),
               Story(slug="c", title="C", path="c.md", body="", tags=("T",))]
    views = build_views(CONFIG, stories, [], [], {}, {}, {})
    entries = dict(sitemap_entries(views, ["tags/t/"], {}))
    assert entries["tags/t/"] == datetime(2024, 5, 1, 6, 0, tzinfo=UTC)  # 12:00 at +7 is 05:00 UTC
    assert dict(sitemap_entries(build_views(CONFIG, stories[2:], [], [], {}, {}, {}), ["tags/t/"], {})) == {"tags/t/": None}
