"""Watching: classification of paths, debouncing, and a real watchdog observer on a temp site."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from digest.watch import BULK, Change, ChangeKind, Debouncer, SiteLayout, Watcher, classify, is_editor_junk

K = ChangeKind
LAYOUT = SiteLayout(root=Path("/site"))


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("content/stories/a.md", K.STORY),
        ("content/stories/2024/05/a.md", K.STORY),
        ("/site/content/stories/a.md", K.STORY),
        ("content/topics/japan-aid.md", K.TOPIC),
        ("content/pages/about.md", K.PAGE),
        ("templates/base.html", K.TEMPLATE),
        ("templates/partials/nav.html", K.TEMPLATE),
        ("templates/feed.xml", K.TEMPLATE),
        ("static/css/site.css", K.STATIC),
        ("static/logo.png", K.STATIC),
        ("digest.toml", K.CONFIG),
        ("/site/digest.toml", K.CONFIG),
        # ignored
        ("content/stories/a.md.swp", None),
        ("content/stories/.a.md.swp", None),
        ("content/stories/.a.md.swx", None),
        ("content/stories/a.md~", None),
        ("content/stories/.#a.md", None),
        ("content/stories/#a.md#", None),
        ("content/stories/4913", None),
        ("static/.DS_Store", None),
        ("templates/base.html~", None),
        ("templates/.base.html.swp", None),
        ("templates/base.html___jb_tmp___", None),
        ("content/stories/a.txt", None),
        ("content/topics/sub/x.md", None),
        ("content/README.md", None),
        ("content/other/x.md", None),
        ("output/index.html", None),
        ("output/stories/a/index.html", None),
        (".preview/index.html", None),
        (".digest-cache/x", None),
        (".digest/preview/index.html", None),
        (".digest/cache/build.pickle", None),
        (".git/index", None),
        ("README.md", None),
        ("digest.toml~", None),
        ("/elsewhere/content/stories/a.md", None),
    ],
)
def test_classify(path: str, kind: ChangeKind | None) -> None:
    assert classify(path, LAYOUT) == kind


def test_classify_directories_and_custom_layout() -> None:
    assert classify("content/stories/2024", LAYOUT, is_directory=True) == K.STORY
    assert classify("content/stories", LAYOUT, is_directory=True) == K.STORY
    assert classify("content/topics", LAYOUT, is_directory=True) == K.TOPIC
    assert classify("templates/partials", LAYOUT, is_directory=True) == K.TEMPLATE
    assert classify("output", LAYOUT, is_directory=True) is None
    layout = SiteLayout(root=Path("/s"), content_dir="src", templates_dir="theme", static_dir="assets",
                        ignored_dirs=("public", ".preview"))
    assert classify("/s/src/stories/a.md", layout) == K.STORY
    assert classify("/s/theme/base.html", layout) == K.TEMPLATE
    assert classify("/s/assets/x.css", layout) == K.STATIC
    assert classify("/s/content/stories/a.md", layout) is None
    assert classify("/s/public/index.html", layout) is None


def test_editor_junk_names() -> None:
    for name in ("a.swp", ".a.md.swo", "a.swx", "a~", ".#a.md", "4913", ".DS_Store", "#a#", "x.tmp"):
        assert is_editor_junk(name), name
    for name in ("a.md", "swap.md", "4914", "base.html", "a.svg"):
        assert not is_editor_junk(name), name


class Calls:
    """A callback that records its batches."""

    def __init__(self) -> None:
        self.batches: list[frozenset[Change]] = []
        self.event = threading.Event()

    def __call__(self, batch: frozenset[Change]) -> None:
        self.batches.append(batch)
        self.event.set()

    def settle(self, quiet: float = 0.6, timeout: float = 10) -> list[frozenset[Change]]:
        """Wait for the first batch, then for `quiet` seconds without another."""
        assert self.event.wait(timeout), "no callback"
        count = -1
        while count != len(self.batches):
            count = len(self.batches)
            time.sleep(quiet)
        return self.batches

    @property
    def paths(self) -> set[Path]:
        return {c.path for batch in self.batches for c in batch}


def test_debouncer_merges_a_burst_and_splits_separate_ones() -> None:
    calls = Calls()
    debouncer = Debouncer(calls, delay=0.1, max_delay=5)
    try:
        for i in range(50):
            debouncer.add([Change(K.STORY, Path(f"/s/{i}.md"))])
            debouncer.add([Change(K.STORY, Path(f"/s/{i}.md"))])
        batches = calls.settle(quiet=0.3)
        assert len(batches) == 1 and len(batches[0]) == 50
        calls.event.clear()
        debouncer.add([Change(K.CONFIG, Path("/s/digest.toml"))])
        assert len(calls.settle(quiet=0.3)) == 2
    finally:
        debouncer.close()


def test_a_bulk_burst_waits_out_longer_pauses_and_a_single_save_does_not() -> None:
    """A git checkout on a busy machine pauses longer than `delay` between files: once more than
    BULK changes are pending, the burst ends only after BULK_DELAY of quiet. One save is fast."""
    from digest.watch import BULK, BULK_DELAY

    calls = Calls()
    debouncer = Debouncer(calls, delay=0.05, max_delay=5)
    try:
        for i in range(BULK + 1):
            debouncer.add([Change(K.STORY, Path(f"/s/{i}.md"))])
        time.sleep(BULK_DELAY / 2)  # longer than `delay`: a pause in the middle of the checkout
        debouncer.add([Change(K.STORY, Path("/s/last.md"))])
        batches = calls.settle(quiet=BULK_DELAY * 2)
        assert len(batches) == 1 and len(batches[0]) == BULK + 2
        calls.event.clear()
        started = time.monotonic()
        debouncer.add([Change(K.STORY, Path("/s/a.md")), Change(K.STORY, Path("/s/.a.md.tmp"))])
        assert calls.event.wait(2)
        assert time.monotonic() - started < BULK_DELAY  # an editor's save: after `delay`
    finally:
        debouncer.close()


def test_debouncer_max_delay_bounds_a_long_burst() -> None:
    calls = Calls()
    debouncer = Debouncer(calls, delay=0.2, max_delay=0.3)
    try:
        t0 = time.monotonic()
        while not calls.event.is_set() and time.monotonic() - t0 < 3:
            debouncer.add([Change(K.STORY, Path(f"/s/{time.monotonic()}.md"))])
            time.sleep(0.02)
        assert calls.event.is_set()
        assert time.monotonic() - t0 < 1.0
    finally:
        debouncer.close()


def test_a_failing_callback_does_not_stop_the_debouncer() -> None:
    lines: list[str] = []
    calls = Calls()

    def flaky(batch: frozenset[Change]) -> None:
        if not lines:
            lines.append("first")
            raise RuntimeError("callback broke")
        calls(batch)

    debouncer = Debouncer(flaky, delay=0.05, log=lines.append)
    try:
        debouncer.add([Change(K.STORY, Path("/s/a.md"))])
        time.sleep(0.3)
        debouncer.add([Change(K.STORY, Path("/s/b.md"))])
        assert calls.settle(quiet=0.2) == [frozenset({Change(K.STORY, Path("/s/b.md"))})]
        assert any("RuntimeError: callback broke" in line for line in lines)
    finally:
        debouncer.close()


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    for folder in ("content/stories", "content/topics", "templates", "static", "output"):
        (root / folder).mkdir(parents=True)
    (root / "digest.toml").write_text('title = "T"\n')
    (root / "templates" / "base.html").write_text("<html></html>")
    return root


def _watching(site: Path, calls: Calls) -> Watcher:
    return Watcher(SiteLayout(root=site), calls).start()


def test_200_files_written_quickly_give_one_callback(site: Path) -> None:
    calls = Calls()
    watcher = _watching(site, calls)
    try:
        stories = site / "content" / "stories"
        for i in range(200):
            (stories / f"story-{i:03}.md").write_text(f"---\ntitle: Story {i}\n---\nBody {i}\n")
        batches = calls.settle()
    finally:
        watcher.stop()
    assert len(batches) == 1
    assert {c.path.name for c in batches[0]} == {f"story-{i:03}.md" for i in range(200)}
    assert {c.kind for c in batches[0]} == {K.STORY}


def test_git_checkout_of_200_files_gives_one_callback(site: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(site), *args], check=True, capture_output=True, env=env)

    stories = site / "content" / "stories"
    git("init", "-q", "-b", "main")
    for i in range(200):
        (stories / f"s{i}.md").write_text(f"---\ntitle: {i}\n---\none\n")
    git("add", "content")
    git("commit", "-q", "-m", "one")
    git("checkout", "-q", "-b", "two")
    for i in range(200):
        (stories / f"s{i}.md").write_text(f"---\ntitle: {i}\n---\ntwo\n")
    git("commit", "-q", "-am", "two")
    git("checkout", "-q", "main")
    time.sleep(0.3)  # let the events of the set-up pass before watching

    calls = Calls()
    watcher = _watching(site, calls)
    try:
        git("checkout", "-q", "two")
        batches = calls.settle()
    finally:
        watcher.stop()
    # One callback; or, when the machine stalled git for more than the editor's 50 ms before the
    # checkout counted as a bulk operation (more than BULK files), those first few files alone
    # and then the rest as one (seen once in CI on a busy host; this path's contract)
    assert len(batches) == 1 or (len(batches) == 2 and len(batches[0]) <= BULK), [len(b) for b in batches]
    assert {c.path.name for batch in batches for c in batch} == {f"s{i}.md" for i in range(200)}  # .git/ is ignored


def test_atomic_save_and_swap_files(site: Path) -> None:
    story = site / "content" / "stories" / "a.md"
    story.write_text("---\ntitle: A\n---\nold\n")
    time.sleep(0.3)
    calls = Calls()
    watcher = _watching(site, calls)
    try:
        # vim: swap file, the 4913 probe, a backup, then the write; emacs lock; a temp + rename save
        folder = story.parent
        (folder / ".a.md.swp").write_bytes(b"swap")
        (folder / "4913").write_text("")
        (folder / "4913").unlink()
        (folder / "a.md~").write_text("old")
        (folder / ".#a.md").symlink_to("user@host.1234")
        temp = folder / ".a.md.tmp"
        temp.write_text("---\ntitle: A\n---\nnew\n")
        os.replace(temp, story)
        (folder / ".a.md.swp").unlink()
        batches = calls.settle()
    finally:
        watcher.stop()
    assert batches == [frozenset({Change(K.STORY, story)})]


def test_swap_files_and_output_alone_give_no_callback(site: Path) -> None:
    calls = Calls()
    watcher = _watching(site, calls)
    try:
        (site / "content" / "stories" / ".b.md.swx").write_text("x")
        (site / "templates" / "base.html~").write_text("x")
        (site / "static" / ".DS_Store").write_text("x")
        (site / "output" / "index.html").write_text("x")
        (site / ".preview").mkdir()
        (site / ".preview" / "index.html").write_text("x")
        (site / "notes.txt").write_text("x")
        time.sleep(0.6)
    finally:
        watcher.stop()
    assert calls.batches == []


def test_every_kind_through_the_observer(site: Path) -> None:
    calls = Calls()
    watcher = _watching(site, calls)
    try:
        (site / "content" / "topics" / "japan.md").write_text("---\ntitle: Japan\n---\n")
        (site / "templates" / "base.html").write_text("<html>2</html>")
        (site / "digest.toml").write_text('title = "U"\n')
        (site / "static" / "site.css").write_text("body{}")
        calls.settle()
        calls.event.clear()
        (site / "content" / "pages").mkdir()  # a new folder inside a watched one is watched too
        (site / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\n")
        calls.settle()
    finally:
        watcher.stop()
    kinds = {(c.kind, c.path.relative_to(site).as_posix()) for batch in calls.batches for c in batch}
    assert {
        (K.TOPIC, "content/topics/japan.md"),
        (K.TEMPLATE, "templates/base.html"),
        (K.CONFIG, "digest.toml"),
        (K.STATIC, "static/site.css"),
        (K.PAGE, "content/pages/about.md"),
    } <= kinds


def test_a_source_folder_created_later_is_watched(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "content" / "stories").mkdir(parents=True)
    calls = Calls()
    watcher = _watching(root, calls)
    try:
        (root / "templates").mkdir()
        calls.settle(quiet=0.3)
        calls.event.clear()
        (root / "templates" / "story.html").write_text("x")
        calls.settle(quiet=0.3)
    finally:
        watcher.stop()
    assert root / "templates" / "story.html" in calls.paths


def test_deleting_and_renaming_stories(site: Path) -> None:
    stories = site / "content" / "stories"
    (stories / "a.md").write_text("a")
    (stories / "b.md").write_text("b")
    time.sleep(0.3)
    calls = Calls()
    watcher = _watching(site, calls)
    try:
        (stories / "a.md").unlink()
        (stories / "b.md").rename(stories / "c.md")
        calls.settle()
    finally:
        watcher.stop()
    assert {stories / "a.md", stories / "b.md", stories / "c.md"} <= calls.paths


def test_stop_joins_threads(site: Path) -> None:
    before = threading.active_count()
    watcher = _watching(site, Calls())
    watcher.stop()
    assert threading.active_count() == before


def test_set_layout_follows_renamed_source_folders(site: Path) -> None:
    (site / "theme").mkdir()
    calls = Calls()
    watcher = _watching(site, calls)
    try:
        watcher.set_layout(SiteLayout(root=site, templates_dir="theme"))
        time.sleep(0.1)
        (site / "templates" / "base.html").write_text("old folder")  # no longer a source
        (site / "theme" / "base.html").write_text("new folder")
        calls.settle(quiet=0.4)
    finally:
        watcher.stop()
    assert calls.paths == {site / "theme" / "base.html"}
    assert {c.kind for b in calls.batches for c in b} == {K.TEMPLATE}
