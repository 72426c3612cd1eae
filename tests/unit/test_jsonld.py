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


# ------------------------------------------------------------------------------------------------
# The meta partial (patches/meta.html, a copy under tests/fixtures/publish/ until the theme has it)
# rendered on every page of a small site with the real theme and StrictUndefined.

from pathlib import Path  # noqa: E402

from lxml import html as lxml_html  # noqa: E402

from digest.render import page_specs, render_pages, theme_dir  # noqa: E402

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "publish"
INCLUDE = '{% include "partials/meta.html" %}'


def templates_with_meta(tmp_path: Path) -> list[Path]:
    """The theme, with base.html including the partial (as the lead's integration will do)."""
    theme = theme_dir()
    override = tmp_path / "templates"
    (override / "partials").mkdir(parents=True)
    base = (theme / "base.html").read_text(encoding="utf-8")
    if INCLUDE not in base:
        marker = "{% block head %}"
        assert marker in base
        base = base.replace(marker, INCLUDE + "\n" + marker)
    (override / "base.html").write_text(base, encoding="utf-8")
    if not (theme / "partials" / "meta.html").exists():
        (override / "partials" / "meta.html").write_text((FIXTURE / "partials" / "meta.html").read_text(encoding="utf-8"))
    return [override, theme]


def test_meta_partial_on_every_page(tmp_path, monkeypatch):
    import digest.render as render_mod

    original = render_mod.make_environment

    def env_with_jsonld(dirs):
        env = original(dirs)
        jsonld.register(env)
        return env

    monkeypatch.setattr(render_mod, "make_environment", env_with_jsonld)
    story = Story(slug="japan", title="Japan <push>", path="content/stories/japan.md", body="x",
                  date=datetime(2013, 12, 17, tzinfo=UTC), source="Phnom Penh Post", source_url="https://ppp.example/a",
                  authors=("Vong Sokheng",), tags=("ODA",), summary="Summary & more",
                  image=Image(src="/img/a.jpg", alt="Alt", caption="Cap", credit="Vireak Mai"))
    undated = Story(slug="undated", title="Undated", path="content/stories/undated.md", body="y")
    topic = Topic(slug="japan-aid", title="Japan aid", path="t.md", body="", description="Aid")
    v = build_views(CONFIG, [story, undated], [topic], [], {"japan": ("japan-aid",)}, {}, {})
    pages = render_pages(CONFIG, v, list(page_specs(CONFIG, v)), templates_with_meta(tmp_path))

    def head(name):
        return lxml_html.fromstring(pages[name])

    doc = head("stories/japan/index.html")
    assert doc.xpath('//link[@rel="canonical"]/@href') == ["https://example.org/digest/stories/japan/"]
    og = {m.get("property"): m.get("content") for m in doc.xpath("//meta[@property]")}
    assert og["og:type"] == "article" and og["og:title"] == "Japan <push>"
    assert og["og:image"] == "https://example.org/digest/img/a.jpg"
    assert og["article:published_time"] == "2013-12-17"
    assert doc.xpath('//meta[@name="twitter:card"]/@content') == ["summary_large_image"]
    data = json.loads(doc.xpath('//script[@type="application/ld+json"]/text()')[0])
    assert data["@type"] == "NewsArticle" and data["isBasedOn"] == "https://ppp.example/a"
    assert b"Japan \\u003cpush\\u003e" in pages["stories/japan/index.html"]

    undated_doc = head("stories/undated/index.html")
    assert not undated_doc.xpath('//meta[@property="article:published_time"]')
    assert "datePublished" not in json.loads(undated_doc.xpath('//script[@type="application/ld+json"]/text()')[0])

    topic_doc = head("topics/japan-aid/index.html")
    data = json.loads(topic_doc.xpath('//script[@type="application/ld+json"]/text()')[0])
    assert data["@type"] == "CollectionPage"
    assert [i["url"] for i in data["mainEntity"]["itemListElement"]] == ["https://example.org/digest/stories/japan/"]

    missing = head("404.html")
    assert not missing.xpath('//link[@rel="canonical"]') and missing.xpath('//meta[@name="robots"]')
    assert head("index.html").xpath('//link[@rel="canonical"]/@href') == ["https://example.org/digest/"]
