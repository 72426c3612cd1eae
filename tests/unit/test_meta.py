"""`page_meta()` (digest/meta.py) makes the <head> metadata that the theme's former Jinja partial
made (kept as tests/fixtures/meta/meta_template.html, the reference): byte for byte, on every
page of a site with stories of every shape."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from digest.model import Image, Page, SiteConfig, Story, Topic
from digest.render import page_specs, render_pages, theme_dir
from digest.views import build_views

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "meta" / "meta_template.html"
UTC = timezone.utc


def _site() -> tuple[SiteConfig, object]:
    config = SiteConfig(base_url="https://example.org/digest/?a=1&b=2", title='The "Mekong" & <Digest>',
                        description="Stories & notes")
    stories = [
        Story(slug="full", title='Japan <push> & "aid"', path="content/stories/full.md", body="Body.",
              date=datetime(2013, 12, 17, 9, 30, tzinfo=UTC), date_has_time=True,
              updated=datetime(2014, 1, 2, tzinfo=UTC), source="Phnom Penh Post", source_url="https://ppp.example/a?x=1&y=2",
              authors=("Vong Sokheng", "A. O'Neil"), tags=("ODA", "Japan & Cambodia"), summary="Summary & <more>",
              image=Image(src="/img/a.jpg", alt="Alt \"text\"", caption="Cap", credit="Vireak Mai"), lang="km"),
        Story(slug="caption-only", title="Caption only", path="content/stories/caption-only.md", body="x",
              date=datetime(2020, 5, 1, tzinfo=UTC), image=Image(src="https://cdn.example/b.png", caption="A caption")),
        Story(slug="no-src", title="Image without src", path="content/stories/no-src.md", body="x",
              image=Image(caption="Only words")),
        Story(slug="undated", title="Undated", path="content/stories/undated.md", body="y"),
        Story(slug="draft", title="A draft", path="content/stories/draft.md", body="z", draft=True,
              date=datetime(2021, 1, 1, tzinfo=UTC)),
    ]
    topic = Topic(slug="japan-aid", title="Japan <aid>", path="t.md", body="", description="Aid & loans")
    bare = Topic(slug="bare", title="Bare", path="b.md", body="")
    pages = [Page(slug="about", title="About us", path="content/pages/about.md", body="About.", description="Who & why"),
             Page(slug="plain", title="Plain", path="content/pages/plain.md", body="Plain.")]
    views = build_views(config, stories, [topic, bare], pages, {"full": ("japan-aid",), "caption-only": ("japan-aid", "bare")},
                        {}, {}, {"draft": ("draft",)})
    return config, views


def test_page_meta_equals_the_template_it_replaced(tmp_path: Path) -> None:
    config, views = _site()
    reference = tmp_path / "reference"
    (reference / "partials").mkdir(parents=True)
    (reference / "partials" / "meta.html").write_text(REFERENCE.read_text(encoding="utf-8"), encoding="utf-8")
    specs = list(page_specs(config, views))
    made = render_pages(config, views, specs, [theme_dir()])
    expected = render_pages(config, views, specs, [reference, theme_dir()])
    assert len(made) > 15 and sorted(made) == sorted(expected)
    assert [name for name in made if made[name] != expected[name]] == []
    story = made["stories/full/index.html"].decode()
    assert '<meta property="og:title" content="Japan &lt;push&gt; &amp; &#34;aid&#34;">' in story
    assert '<meta name="robots" content="noindex">' in made["stories/draft/index.html"].decode()
