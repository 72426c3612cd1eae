"""Story bodies rendered ahead in a forked process (digest/prerender.py): the same HTML as the
renderer, nothing for a text it did not finish, and only on a large first build with related stories."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from digest import prerender
from digest.build import _bodies_ahead
from digest.cache import BuildCache
from digest.inputs import BuildOptions
from digest.markdown import renderer
from digest.model import SiteConfig, Story
from tests.unit.test_parallel import _assert_forking_possible

TEXTS = [f"Paragraph {i} on the “Kampot” port -- with *emphasis*, a [link](/stories/x/) and a list:\n\n"
         f"- one\n- two {i}\n\n| a | b |\n|---|---|\n| {i} | x |\n" for i in range(400)]


def _finished(ahead: prerender.Bodies, count: int, timeout: float = 60) -> None:
    """Wait until the process has rendered `count` texts (read from its shared slots)."""
    deadline = time.monotonic() + timeout
    while prerender._SLOT.unpack_from(ahead._slots, 0)[0] < count:
        assert time.monotonic() < deadline, "the bodies were not rendered in time"
        time.sleep(0.01)


def test_bodies_rendered_ahead_are_the_renderers(tmp_path: Path) -> None:
    _assert_forking_possible()
    ahead = prerender.Bodies(tmp_path / "bodies.html", TEXTS, html=True)
    ahead.start()
    assert ahead.get(TEXTS[0], True) is None  # nothing is read before it is stopped
    _finished(ahead, len(TEXTS))
    ahead.stop()
    assert ahead.done == len(TEXTS)
    render = renderer(True)
    assert [ahead.get(text, True) for text in TEXTS] == [render(text) for text in TEXTS]
    assert ahead.get(TEXTS[0], False) is None  # rendered with raw HTML allowed: not for a site without
    assert ahead.get("A text it was not given.", True) is None
    ahead.close()
    assert not (tmp_path / "bodies.html").exists() and ahead.get(TEXTS[0], True) is None


def test_a_process_stopped_midway_gives_only_what_it_finished(tmp_path: Path) -> None:
    _assert_forking_possible()
    texts = TEXTS * 10  # more than it renders before being stopped, as a rule (not relied on)
    ahead = prerender.Bodies(tmp_path / "bodies.html", [t + f"\n{i}" for i, t in enumerate(texts)], html=True)
    ahead.start()
    ahead.stop()
    render = renderer(True)
    for i, text in enumerate(t + f"\n{i}" for i, t in enumerate(texts)):
        got = ahead.get(text, True)
        assert got == (render(text) if i < ahead.done else None)
    ahead.close()


def test_rendered_reads_the_bodies_of_the_build_in_use(tmp_path: Path) -> None:
    _assert_forking_possible()
    ahead = prerender.Bodies(tmp_path / "bodies.html", TEXTS[:3], html=True)
    ahead.start()
    _finished(ahead, 3)
    with prerender.using(ahead):
        assert prerender.rendered(TEXTS[1], True) is None  # not stopped yet: not read
        ahead.stop()
        assert prerender.rendered(TEXTS[1], True) == renderer(True)(TEXTS[1])
    assert prerender.rendered(TEXTS[1], True) is None  # the build is over: its file is gone
    assert not (tmp_path / "bodies.html").exists()


@pytest.mark.parametrize("case", ["first build", "rebuild", "related off", "small site", "one process"])
def test_bodies_are_rendered_ahead_only_on_a_large_first_build_with_related_stories(
        tmp_path: Path, monkeypatch, case: str) -> None:
    import digest.parallel

    monkeypatch.setattr(digest.parallel, "workers", lambda: 2)
    stories = [Story(slug=f"s{i}", title=f"S{i}", path=f"content/stories/s{i}.md", body=f"Body {i}.")
               for i in range(10 if case == "small site" else digest.parallel.MIN_PAGES)]
    config = SiteConfig(related_enabled=case != "related off")
    cache = BuildCache(fingerprints={"index.html": "x"} if case == "rebuild" else {})
    options = BuildOptions(parallel=case != "one process")
    ahead = _bodies_ahead(config, options, cache, stories, tmp_path / "staging")
    assert (ahead is not None) == (case == "first build")
    if ahead is not None:
        assert ahead._texts == [s.body for s in stories]
