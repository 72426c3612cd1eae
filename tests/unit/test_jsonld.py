"""JSON-LD: safe embedding and the NewsArticle / CollectionPage data."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import jinja2

from digest import jsonld
from digest.model import Image, SiteConfig, Story, Topic
from digest.views import build_views

UTC = timezone.utc
CONFIG = SiteConfig(base_url="https://example.org/digest/")


def test_dumps_escapes_script_breakers_and_round_trips():
    data = {"headline": "</script><script>alert(1)</script> & <!-- \u2028", "n": 1}
    text = jsonld.dumps(data)
    for bad in ("<", ">", "&", "\u2028"):
        assert bad not in text
    assert json.loads(text) == data


def test_filter_in_autoescaping_environment_is_not_double_escaped():
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    jsonld.register(env)
    html = env.from_string('<script type="application/ld+json">{{ data | jsonld }}</script>').render(
        data={"name": "A \"quoted\" <b>"})
    body = html.split(">", 1)[1].rsplit("<", 1)[0]
    assert json.loads(body) == {"name": "A \"quoted\" <b>"}
    assert "&#34;" not in html and "&quot;" not in html


def views(**fields):
    story = Story(slug="japan", title="Japan push", path="content/stories/japan.md", body="x", **fields)
    topic = Topic(slug="japan-aid", title="Japan aid", path="t.md", body="")
    return build_views(CONFIG, [story], [topic], [], {"japan": ("japan-aid",)}, {}, {})


def test_news_article_with_date_authors_outlet_image_and_original():
    v = views(date=datetime(2013, 12, 17, tzinfo=UTC), source="Phnom Penh Post", source_url="https://ppp.example/a",
              authors=("Vong Sokheng",), image=Image(src="/img/a.jpg", caption="Cap", credit="Vireak Mai"))
    data = jsonld.news_article(v.stories[0], CONFIG)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Japan push"
    assert data["datePublished"] == "2013-12-17"
    assert data["author"] == [{"@type": "Person", "name": "Vong Sokheng"}]
    assert data["publisher"] == {"@type": "Organization", "name": "Phnom Penh Post"}
    assert data["image"]["url"] == "https://example.org/digest/img/a.jpg"
    assert data["isBasedOn"] == "https://ppp.example/a"
    assert data["url"] == "https://example.org/digest/stories/japan/"
    assert data["about"] == ["Japan aid"]


def test_news_article_undated_has_no_date_published():
    data = jsonld.news_article(views().stories[0], CONFIG)
    assert "datePublished" not in data and "publisher" not in data and "image" not in data


def test_collection_page_item_list():
    v = views()
    entries = [(v.stories[0], ())]
    data = jsonld.collection_page(CONFIG, "topics/japan-aid/", "Japan aid", "Aid", entries)
    assert data["@type"] == "CollectionPage"
    assert data["url"] == "https://example.org/digest/topics/japan-aid/"
    assert data["mainEntity"]["itemListElement"] == [
        {"@type": "ListItem", "position": 1, "url": "https://example.org/digest/stories/japan/", "name": "Japan push"}]
