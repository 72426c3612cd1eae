"""Search: records from views, the Pagefind bundle, and real queries in Chromium (English, Chinese,
Japanese, Khmer) against the bundle served by http.server on 127.0.0.1 under a subpath."""

from __future__ import annotations

import functools
import http.server
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from digest.model import SiteConfig, Story, Topic
from digest.render import PageSpec, render_pages, theme_dir
from digest.search import (html_text, index_site, pagefind_language, part_count, part_of, plan_parts, record_document,
                           search_records)
from digest.urls import file_for
from digest.views import build_views

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FIXTURE_TEMPLATES = Path(__file__).resolve().parent.parent / "fixtures" / "search"
UTC = timezone.utc
CONFIG = SiteConfig(title="Test", base_url="https://example.org/digest/")

STORIES = [
    Story(slug="japan-aid", title="Japan push won't hurt China ties", path="a.md",
          body="Japan pledged **new aid** for roads.\n\n<script>alert(1)</script>\n",
          date=datetime(2013, 12, 17, tzinfo=UTC), source="Phnom Penh Post", authors=("Vong Sokheng",),
          tags=("ODA",)),
    Story(slug="zh-story", title="中国与东盟关系", path="b.md", lang="zh-CN",
          body="中国政府表示将继续支持柬埔寨的基础设施建设。\n", source="新华社"),
    Story(slug="ja-story", title="日本の援助", path="c.md", lang="ja",
          body="日本政府はカンボジアへの新しい援助を発表しました。\n", source="共同通信"),
    Story(slug="km-story", title="ជំនួយពីប្រទេសជប៉ុន", path="d.md", lang="km",
          body="រដ្ឋាភិបាលជប៉ុនបានប្រកាស ជំនួយថ្មី សម្រាប់ផ្លូវថ្នល់ ។\n", source="Khmer Times"),
]
TOPICS = [Topic(slug="japan-aid", title="Japan aid", path="t.md", body="")]


def views():
    return build_views(CONFIG, STORIES, TOPICS, [], {"japan-aid": ("japan-aid",)}, {}, {})


def test_records_hold_title_body_outlet_author_topic_tag_and_language():
    records = {r.url: r for r in search_records(views())}
    japan = records["stories/japan-aid/"]
    assert japan.title == "Japan push won't hurt China ties"
    for text in ("Japan pledged new aid for roads.", "Phnom Penh Post", "Vong Sokheng", "Japan aid", "ODA"):
        assert text in japan.content
    assert "alert" not in japan.content and "<" not in japan.content
    assert japan.language == "en"
    assert japan.filters == {"topic": ("Japan aid",), "tag": ("ODA",), "outlet": ("Phnom Penh Post",)}
    assert japan.meta["date"] == "2013-12-17"
    assert records["stories/zh-story/"].language == "zh"
    assert "date" not in records["stories/zh-story/"].meta  # undated: no date shown, none invented


def test_helpers():
    assert html_text("<p>a &amp; <em>b</em></p><p>c</p><style>x{}</style>") == "a & b\nc"
    assert pagefind_language("zh-Hant-TW") == "zh" and pagefind_language("") == "unknown"
    doc = record_document(search_records(views())[0])
    assert "data-pagefind-filter" not in doc
    assert 'data-pagefind-filter="tag" data-pagefind-ignore="index">ODA<' in record_document(search_records(views())[0], filters=True)
    assert "<script" not in doc


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served folder holding the site under /digest/: the search page and the Pagefind bundle."""
    served = tmp_path_factory.mktemp("served")
    out = served / "digest"
    v = views()
    report = index_site(out, search_records(v))
    assert report.written > 0
    pages = render_pages(CONFIG, v, [PageSpec("search/", "search.html", {})], [theme_dir(), FIXTURE_TEMPLATES])
    (out / "search").mkdir()
    (out / "search" / "index.html").write_bytes(pages["search/index.html"])
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}/digest/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_each_language_has_a_bundle_of_its_own_listed_for_the_search_page(site):
    import json

    out, _ = site
    listing = json.loads((out / "pagefind" / "digest-bundles.json").read_text())
    assert [(b["path"], sorted(b["languages"])) for b in listing["bundles"]] == [
        ("", ["en"]), ("part-ja-0/", ["ja"]), ("part-km-0/", ["km"]), ("part-zh-0/", ["zh"])]
    entry = json.loads((out / "pagefind" / "part-zh-0" / "pagefind-entry.json").read_text())
    assert entry["languages"] == listing["bundles"][3]["languages"]


def test_bundle_is_deterministic_and_rewrites_nothing_unchanged(tmp_path):
    records = [r for r in search_records(views()) if r.language != "ja"]  # Japanese loads a 4 s dictionary
    first, second = tmp_path / "first", tmp_path / "second"
    index_site(first, records)
    index_site(second, records)

    files = _bundle_files
    assert files(first) == files(second)
    unchanged = index_site(first, records)  # same documents: Pagefind is not run again
    assert unchanged.written == 0 and unchanged.unchanged == len(files(first))
    (first / "pagefind" / "stale.pf_fragment").write_bytes(b"old")
    (first / "pagefind" / "digest-index.sha256").write_text("other\n")
    report = index_site(first, records)
    assert (report.written, report.removed) == (1, 1)  # the stamp rewritten, the stale file removed


def _bundle_files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "pagefind").rglob("*") if p.is_file()}


def test_parts_are_stable_powers_of_two_and_never_empty():
    names = [f"stories/s{i}/index.html" for i in range(5000)]
    assert part_count(names[:1250]) == 1 and part_count(names[:1251]) == 2 and part_count(names) == 4
    assert part_count(names, part_stories=1) == 16  # at most 16: past that, parts grow
    assert part_count(names[:3], part_stories=1) in (1, 2)  # four parts would leave one empty
    assert [part_of(name, 4) for name in names[:50]] == [part_of(name, 4) for name in names[:50]]


def test_each_language_is_planned_apart_and_the_site_language_first():
    stories = [(f"stories/s{i}/index.html", "ja" if i % 5 == 0 else "en") for i in range(40)]
    plan = plan_parts(stories, "en", part_stories=8)
    assert plan[0][0] == "" and sorted(i for _, indices in plan for i in indices) == list(range(40))
    for folder, indices in plan:  # one language a part: Japanese's dictionary is loaded for its parts only
        assert len({stories[i][1] for i in indices}) == 1 and indices
        assert folder == "" or folder.startswith(f"part-{stories[indices[0]][1]}-")
    assert [folder for folder, _ in plan] == ["", "part-en-1/", "part-en-2/", "part-en-3/", "part-ja-0/"]
    assert plan_parts(stories, "fr", part_stories=8)[0][0] == "" and stories[plan_parts(stories, "fr", 8)[0][1][0]][1] == "en"


def test_a_large_index_is_in_parts_and_an_edit_reindexes_only_its_part(tmp_path):
    import json
    from dataclasses import replace

    english = [replace(search_records(views())[0], url=f"/stories/en-{i}/", title=f"Roads {i}") for i in range(6)]
    chinese = [r for r in search_records(views()) if r.language == "zh"]
    records = english + chinese
    out = tmp_path / "out"
    index_site(out, records, part_stories=2)
    listing = json.loads((out / "pagefind" / "digest-bundles.json").read_text())
    plan = plan_parts([(file_for(r.url.lstrip("/")), r.language) for r in records], "en", part_stories=2)
    assert [bundle["path"] for bundle in listing["bundles"]] == [folder for folder, _ in plan]
    assert len(plan) > 2 and plan[-1][0] == "part-zh-0/"
    for bundle in listing["bundles"]:  # each part is a bundle of its own, with its language listed
        entry = json.loads((out / "pagefind" / bundle["path"] / "pagefind-entry.json").read_text())
        assert entry["languages"] == bundle["languages"]
    assert sum(lang["page_count"] for b in listing["bundles"] for lang in b["languages"].values()) == len(records)
    edited_at = 5
    edited_part = next(folder for folder, indices in plan if edited_at in indices)
    other = out / "pagefind" / next(folder for folder, indices in plan if edited_at not in indices) / "pagefind.js"
    other.write_bytes(b"// not indexed again")  # a part whose documents did not change is left as it is
    before = _bundle_files(out)
    edited = replace(records[edited_at], content=records[edited_at].content + "\nA correction to the story.")
    index_site(out, [*records[:edited_at], edited, *records[edited_at + 1:]], part_stories=2)
    after = _bundle_files(out)
    changed = {name.removeprefix("pagefind/") for name in set(before) | set(after) if before.get(name) != after.get(name)}
    changed.discard("digest-bundles.json")  # the listing names each part's index by its hash
    folders = {folder for folder, _ in plan if folder}
    assert changed and all(name.startswith(edited_part) if edited_part else name.split("/", 1)[0] + "/" not in folders
                           for name in changed)
    assert other.read_bytes() == b"// not indexed again"
    index_site(out, english)  # one part again: the others' folders go
    assert not list((out / "pagefind").glob("part-*"))
    bundles = json.loads((out / "pagefind" / "digest-bundles.json").read_text())["bundles"]
    assert [(b["path"], list(b["languages"])) for b in bundles] == [("", ["en"])]


@pytest.fixture(scope="module")
def page(site, chromium):
    tab = chromium.new_page()
    tab.goto(site[1] + "search/")
    tab.wait_for_selector(".pagefind-ui__search-input")
    yield tab
    tab.close()


@pytest.mark.parametrize("query, slug", [
    ("roads", "japan-aid"),
    ("Sokheng", "japan-aid"),        # author
    ("柬埔寨", "zh-story"),           # Chinese, inside an unspaced sentence
    ("基础设施", "zh-story"),
    ("援助", "ja-story"),             # Japanese
    ("ជំនួយថ្មី", "km-story"),         # Khmer
])
def test_query_in_chromium_links_to_story_with_snippet(page, query, slug):
    page.fill(".pagefind-ui__search-input", "")
    page.fill(".pagefind-ui__search-input", query)
    link = page.locator(f'.pagefind-ui__result-link[href="/digest/stories/{slug}/"]')
    link.wait_for(timeout=10_000)
    result = page.locator(".pagefind-ui__result", has=link)
    assert result.locator(".pagefind-ui__result-excerpt").inner_text().strip()


@pytest.fixture(scope="module")
def parted_page(tmp_path_factory, chromium):
    """The search page over an index in parts: each language apart, English in several parts."""
    from dataclasses import replace

    served = tmp_path_factory.mktemp("parted")
    out = served / "digest"
    v = views()
    more = [replace(STORIES[0], slug=f"bridge-{i}", path=f"e{i}.md", title=f"Bridge {i}",
                    body=f"A bridge numbered {i} in Kampot.\n") for i in range(4)]
    records = search_records(v) + search_records(build_views(CONFIG, more, TOPICS, [], {}, {}, {}))
    index_site(out, records, part_stories=1)
    assert len(list((out / "pagefind").glob("part-en-*"))) >= 2
    pages = render_pages(CONFIG, v, [PageSpec("search/", "search.html", {})], [theme_dir(), FIXTURE_TEMPLATES])
    (out / "search").mkdir()
    (out / "search" / "index.html").write_bytes(pages["search/index.html"])
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tab = chromium.new_page()
    tab.goto(f"http://127.0.0.1:{server.server_address[1]}/digest/search/")
    tab.wait_for_selector(".pagefind-ui__search-input")
    yield tab
    tab.close()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("query, slug", [("roads", "japan-aid"), ("基础设施", "zh-story"), ("援助", "ja-story"),
                                         ("ជំនួយថ្មី", "km-story"), ("Bridge 0", "bridge-0"), ("Bridge 3", "bridge-3")])
def test_a_query_finds_its_story_in_whichever_part_holds_it(parted_page, query, slug):
    test_query_in_chromium_links_to_story_with_snippet(parted_page, query, slug)


def test_parts_are_made_in_memory_only_where_there_is_room(tmp_path, monkeypatch):
    """/dev/shm where it has room for a part (a container's may hold only 64 MB), else the system's
    temporary folder; the index is the same either way."""
    import digest.search as search

    assert search._scratch(1) in ("/dev/shm", None)
    assert search._scratch(10**15) is None  # a petabyte of documents: not in memory
    records = [r for r in search_records(views()) if r.language != "ja"]  # Japanese loads a 4 s dictionary
    index_site(tmp_path / "shm", records)
    monkeypatch.setattr(search, "_scratch", lambda size: None)
    index_site(tmp_path / "tmp", records)
    assert _bundle_files(tmp_path / "shm") == _bundle_files(tmp_path / "tmp")
