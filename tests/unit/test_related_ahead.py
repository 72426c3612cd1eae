"""The related-stories update of a quick rebuild, in a process started ahead (digest/related_ahead.py):
the same pages as a clean build, the engine never imported by the build's own process, and the
update done here when that process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from digest.build import BuildOptions, build_site
from digest.cache import cache_file
from digest.related_ahead import started
from tests.unit.test_quick import NOW, _build, _edit, _same_as_clean, _site, _story

LEDE = "Cambodia bridge bridge loans loans port. "  # a new opening: what the related engine reads


def _quick_with_ahead(root: Path) -> tuple[object, list[str]]:
    """A quick rebuild with a process ahead (as `digest build` starts it); the states it went through."""
    seen = []
    with started(cache_file(root, root / "out"), True) as ahead:
        assert ahead is not None  # a fork is possible here: the test would prove nothing otherwise
        seen.append("started")
        result = build_site(root, options=BuildOptions(out_dir=root / "out"), now=NOW, ahead=ahead)
        seen.append("closed" if ahead._pid == 0 else "open")
    return result, seen


def test_an_opening_edit_updated_ahead_equals_a_clean_build(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _build(root)
    _edit(root, 7, _story(7, body=LEDE))
    result, seen = _quick_with_ahead(root)
    assert result.quick and seen == ["started", "closed"]  # it answered and was ended by the build
    _same_as_clean(root)
    _edit(root, 7, _story(7, body=LEDE + "Loans again."))  # a second quick edit reads the first one's state
    assert _quick_with_ahead(root)[0].quick
    _same_as_clean(root)


def test_when_the_process_ahead_is_gone_the_update_runs_here(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _build(root)
    _edit(root, 5, _story(5, body=LEDE))
    with started(cache_file(root, root / "out"), True) as ahead:
        assert ahead is not None
        os.kill(ahead._pid, signal.SIGKILL)  # dies before it is asked
        result = build_site(root, options=BuildOptions(out_dir=root / "out"), now=NOW, ahead=ahead)
    assert result.quick
    _same_as_clean(root)


def test_no_process_ahead_without_a_saved_index_or_when_disabled(tmp_path: Path) -> None:
    root = _site(tmp_path)
    with started(cache_file(root, root / "out"), True) as ahead:
        assert ahead is None  # nothing built yet: no index to map
    _build(root)
    with started(cache_file(root, root / "out"), False) as ahead:
        assert ahead is None


def test_the_command_leaves_the_engine_to_the_process_ahead(tmp_path: Path) -> None:
    """`digest build` after an opening edit: the build's own process never imports the engine
    (numpy), and hands the process ahead its request before importing the template engine or a
    process pool (what it does while the answer is under way)."""
    root = _site(tmp_path)
    script = textwrap.dedent("""
        import sys
        from digest import related_ahead
        from digest.cli import main
        seen = []
        asking = related_ahead.Ahead.ask
        def ask(self, request):
            seen.append(("jinja2" in sys.modules, "multiprocessing.pool" in sys.modules))
            return asking(self, request)
        related_ahead.Ahead.ask = ask
        code = main(["build", "-q", "--site", sys.argv[1]])
        print(code, "digest.related" in sys.modules, seen == [(False, False)])
    """)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}

    def build() -> str:
        done = subprocess.run([sys.executable, "-c", script, str(root)], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert build() == ["0", "True", "False"]  # a first build computes the related stories itself
    _edit(root, 7, _story(7, body=LEDE))
    assert build() == ["0", "False", "True"]
    clean = tmp_path / "clean"
    build_site(root, options=BuildOptions(out_dir=clean, use_cache=False), now=NOW)
    from tests.conftest import tree_bytes

    assert tree_bytes(root / "output") == tree_bytes(clean)


def _request_for_edit(root: Path, i: int, body: str) -> tuple[Path, "object", dict[str, str]]:
    """After a build: story `i` edited, the request a quick rebuild would make for it, and the
    page store's file hashes."""
    from digest.content import parse_story
    from digest.pagestore import load_store
    from digest.related_ahead import RelatedRequest

    _edit(root, i, _story(i, body=body))
    path = root / "content" / "stories" / f"s{i}.md"
    story = parse_story(path.read_text(encoding="utf-8"), f"content/stories/s{i}.md")
    cache_path = cache_file(root, root / "out")
    store = load_store(cache_path)
    return cache_path, RelatedRequest(5, store.token, {story.slug: "edited"}, {story.slug: story},
                                      {story.slug: store.topics[story.slug]}, frozenset()), dict(store.file_stamps)


def test_the_process_ahead_answers_what_the_update_here_gives(tmp_path: Path) -> None:
    from digest.related_ahead import ask, load_related, update_related

    root = _site(tmp_path)
    _build(root)
    cache_path, request, stamps = _request_for_edit(root, 4, LEDE)
    here = update_related(load_related(cache_path), request, stamps)
    assert here is not None and here.read and here.entries  # the edit was read, lists were made again
    with started(cache_path, True) as ahead:
        assert ahead is not None
        assert ask(ahead, cache_path, request, stamps)() == here


def test_the_process_ahead_declines_a_request_made_from_another_page_store(tmp_path: Path) -> None:
    """The process ahead reads the file hashes from the page store saved on disk; a request made
    from a store other than that one (its token differs) is answered here, from the build's own
    hashes: here, another story changed too, which the request does not hold, so the index
    cannot be used."""
    import dataclasses

    from digest.related_ahead import ask, load_related, update_related

    root = _site(tmp_path)
    _build(root)
    cache_path, request, stamps = _request_for_edit(root, 4, LEDE)
    other = dataclasses.replace(request, store_token="another store")
    assert "s5" in stamps
    stamps_there = {**stamps, "s5": "changed in that store"}
    assert update_related(load_related(cache_path), other, stamps_there) is None
    assert update_related(load_related(cache_path), request, stamps) is not None  # what the saved store gives
    with started(cache_path, True) as ahead:
        assert ahead is not None
        assert ask(ahead, cache_path, other, stamps_there)() is None


def test_an_error_in_the_process_ahead_is_raised_here_with_its_own_traceback(tmp_path: Path) -> None:
    """The process ahead reports a failure; the update then runs here and raises the real error."""
    import dataclasses

    import pytest

    from digest.related_ahead import ask

    root = _site(tmp_path)
    _build(root)
    cache_path, request, stamps = _request_for_edit(root, 4, LEDE)
    broken = dataclasses.replace(request, stories={slug: None for slug in request.stories})  # not a Story
    with started(cache_path, True) as ahead:
        assert ahead is not None
        with pytest.raises(AttributeError):
            ask(ahead, cache_path, broken, stamps)()
