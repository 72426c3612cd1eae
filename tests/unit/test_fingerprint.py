"""Page fingerprints: what a page shows, hashed; the memo for shared parts changes nothing."""

from __future__ import annotations

from digest.fingerprint import page_fingerprint
from digest.model import Story, Topic
from digest.views import StoryView, TagRef


def _view(slug: str) -> StoryView:
    story = Story(slug=slug, title=slug.upper(), path=f"content/stories/{slug}.md", body="Text.")
    return StoryView(story=story, url=f"stories/{slug}/", body_md="Text.", markdown_html=True, excerpt=False,
                     topics=(), tags=(TagRef("Japan", "tags/japan/"),), source_page=None, slug=slug)


def test_the_shared_memo_gives_each_page_the_fingerprint_it_has_alone() -> None:
    a, b, c = _view("a"), _view("b"), _view("c")
    topic = Topic("t", "T", "content/topics/t.md", "")
    stamps = {v.story.path: v.slug + "-stamp" for v in (a, b, c)} | {topic.path: "topic-stamp"}
    heads = [(topic, ((a, ()), (b, (c,))))]  # held by every page, as the index's per-topic heads are
    pages = [{"entries": ((a, ()),), "by_topic": heads, "pager": {"number": 1}},
             {"entries": ((b, (c,)),), "by_topic": heads, "pager": {"number": 2}},
             {"entries": ((a, ()),), "by_topic": [(topic, ((b, ()),))], "pager": {"number": 3}},
             {"entries": [], "by_topic": [], "pager": {"number": 4}}]
    alone = [page_fingerprint("salt", page, stamps) for page in pages]
    shared: dict[int, str] = {}
    assert [page_fingerprint("salt", page, stamps, shared) for page in pages] == alone
    assert len(set(alone)) == len(alone)  # each page differs from the others in what it shows
    assert page_fingerprint("salt", pages[0], {**stamps, a.story.path: "edited"}) != alone[0]


def test_listing_entries_are_fingerprinted_as_walking_them_would() -> None:
    """Entries (story, other outlets' versions) take a fast path; the same entries as lists take
    the general walk: both must give the same fingerprint, and a changed member must change it."""
    a, b, c = _view("a"), _view("b"), _view("c")
    stamps = {v.story.path: v.slug + "-stamp" for v in (a, b, c)}
    as_tuples = {"entries": ((a, ()), (b, (c,)), (c, (a, b)))}
    as_lists = {"entries": ([a, []], [b, [c]], [c, [a, b]])}
    assert page_fingerprint("salt", as_tuples, stamps) == page_fingerprint("salt", as_lists, stamps)
    moved = {"entries": ((a, ()), (b, ()), (c, (a, b)))}
    assert page_fingerprint("salt", moved, stamps) != page_fingerprint("salt", as_tuples, stamps)
