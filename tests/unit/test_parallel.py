"""Parallel rendering gives byte for byte the output of a single-process build."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from digest import forkmap, parallel
from digest.build import build_site
from digest.inputs import BuildOptions
from tests.conftest import tree_bytes
from tests.golden.regenerate import SITE

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _assert_forking_possible() -> None:
    import threading

    assert forkmap.can_fork(), f"threads alive, so nothing would fork: {threading.enumerate()}"


def _forked_site(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the fixture site at `tmp_path/site`, rendered by two forked workers however small."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
    monkeypatch.setattr(parallel, "MIN_PAGES", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    return site


def test_parallel_equals_serial(tmp_path: Path, monkeypatch) -> None:
    _assert_forking_possible()
    site = _forked_site(tmp_path, monkeypatch)
    monkeypatch.setattr(forkmap, "MIN_ITEMS", 1)  # parsing and topic assignment forked too
    monkeypatch.setattr(forkmap, "workers", lambda: 2)
    build_site(site, options=BuildOptions(out_dir=tmp_path / "parallel", use_cache=False), now=NOW)
    build_site(site, options=BuildOptions(out_dir=tmp_path / "serial", use_cache=False, parallel=False), now=NOW)
    parallel_files, serial_files = tree_bytes(tmp_path / "parallel"), tree_bytes(tmp_path / "serial")
    assert len(serial_files) > 20
    assert parallel_files == serial_files


def test_lanes_part_the_pages_into_listings_and_the_commonest_template_each_once_in_order() -> None:
    specs = [parallel.PageSpec(f"p{i}/", "story.html" if i % 3 else ("tag.html" if i % 2 else "topic.html"), {})
             for i in range(100)]
    listings, stories = parallel.lanes(specs, 10)
    assert [i for chunk in stories for i in chunk] == [i for i in range(100) if i % 3]
    assert [i for chunk in listings for i in chunk] == [i for i in range(100) if not i % 3]
    assert all(0 < len(chunk) <= 10 for chunk in listings + stories)
    assert parallel.lanes([], 10) == ([], [])


def test_lanes_are_claimed_front_first_then_the_other_lane_from_the_back() -> None:
    claims = parallel.Lanes(([[0], [1], [2]], [[10], [11], [12], [13]]))
    assert claims.chunks == 7
    assert [claims.join(), claims.join()] == [0, 1]
    assert claims.claim(0) == [0] and claims.claim(1) == [10] and claims.claim(0) == [1]
    assert claims.claim(0) == [2]
    assert claims.claim(0) == [13]  # its lane is empty: the other lane's last chunk
    assert claims.claim(1) == [11] and claims.claim(1) == [12]
    assert claims.claim(1) is None and claims.claim(0) is None


def test_forked_workers_claim_every_chunk_exactly_once() -> None:
    _assert_forking_possible()
    lanes = ([[i] for i in range(0, 300)], [[i] for i in range(300, 700)])
    claims = parallel.Lanes(lanes)
    pipes, pids = [], []
    for _ in range(3):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a worker: claims until nothing is left, writes what it took
            code = 1
            try:
                os.close(read)
                home, taken = claims.join() % 2, []
                while (chunk := claims.claim(home)) is not None:
                    taken.extend(chunk)
                os.write(write, " ".join(map(str, taken)).encode() + b"\n")
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        pipes.append(read)
        pids.append(pid)
    taken = []
    for read, pid in zip(pipes, pids):
        with os.fdopen(read, "rb") as handle:
            taken.append([int(x) for x in handle.read().split()])
        assert os.waitpid(pid, 0)[1] == 0
    every = sorted(i for part in taken for i in part)
    assert every == list(range(700))


def test_template_errors_from_workers_are_reported(tmp_path: Path, monkeypatch) -> None:
    import pytest

    from digest.errors import TemplateError

    site = _forked_site(tmp_path, monkeypatch)
    build_site(site, options=BuildOptions(out_dir=tmp_path / "out"), now=NOW)
    before = tree_bytes(tmp_path / "out")
    cache_before = tree_bytes(site / ".digest" / "cache")
    assert {Path(name).suffix for name in cache_before} >= {".pages", ".stamps", ".related", ".manifest"}
    (site / "templates").mkdir()
    (site / "templates" / "story.html").write_text("{{ entry.nothing_here }}\n", encoding="utf-8")
    (site / "templates" / "tag.html").write_text("{% extends 'base.html' %}{% block main %}changed{% endblock %}\n",
                                               encoding="utf-8")  # pages that do render are staged, then dropped
    with pytest.raises(TemplateError) as info:
        build_site(site, options=BuildOptions(out_dir=tmp_path / "out"), now=NOW)
    assert [p.line for p in info.value.problems] == [1]
    assert info.value.problems[0].path.endswith("templates/story.html")
    assert tree_bytes(tmp_path / "out") == before  # the failed build left the output as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "site"]  # and no staging folder behind
    # and the cache as it was (nothing of it is written before every page has rendered)
    assert tree_bytes(site / ".digest" / "cache") == cache_before


def test_fork_map_keeps_order_reports_progress_and_equals_one_process(monkeypatch) -> None:
    monkeypatch.setattr(forkmap, "workers", lambda: 2)
    items = list(range(1000))
    seen: list[int] = []
    square = lambda chunk: [(x, x * x) for x in chunk]  # noqa: E731 (a closure reaches the workers by fork)
    assert forkmap.fork_map(square, items, min_items=1, progress=seen.append) == square(items)
    assert seen == sorted(seen) and seen[-1] == 1000 and len(seen) > 2
    assert forkmap.fork_map(square, items, min_items=1, processes=1) == square(items)


def test_fork_map_hands_each_slice_to_the_parent_as_it_arrives(monkeypatch) -> None:
    monkeypatch.setattr(forkmap, "workers", lambda: 2)
    items = list(range(1000))
    slices: list[tuple[int, int]] = []  # (pid that saw the slice, its length)

    def each(part: list) -> list:
        slices.append((os.getpid(), len(part)))
        return [x + 1 for x in part]

    double = lambda chunk: [x * 2 for x in chunk]  # noqa: E731
    for processes in (None, 1):
        slices.clear()
        assert forkmap.fork_map(double, items, min_items=1, processes=processes, each=each) == [x * 2 + 1 for x in items]
        assert {pid for pid, _ in slices} == {os.getpid()} and sum(n for _, n in slices) == 1000 and len(slices) > 2


def test_content_problems_found_by_workers_are_all_reported_in_file_order(tmp_path: Path, monkeypatch) -> None:
    import pytest

    from digest.errors import ContentError

    monkeypatch.setattr(forkmap, "MIN_ITEMS", 1)
    monkeypatch.setattr(forkmap, "workers", lambda: 2)
    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
    for name in ("zz-bad.md", "aa-bad.md"):
        (site / "content" / "stories" / name).write_text("---\ntitle: [unclosed\n---\nText.\n", encoding="utf-8")
    with pytest.raises(ContentError) as info:
        build_site(site, options=BuildOptions(out_dir=tmp_path / "out"), now=NOW)
    paths = [p.path for p in info.value.problems]
    assert paths == ["content/stories/aa-bad.md", "content/stories/zz-bad.md"]


def test_generated_corpus_parallel_and_cached_builds_equal_single_process_clean_builds(tmp_path: Path, monkeypatch) -> None:
    """Issue 7 point 4 on a generated corpus (bench/generate.py, 150 stories, related on): every
    build forks (parsing, topics, rendering) and reuses the cache through edits, and each result
    is byte for byte a clean build in one process."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import generate  # noqa: E402  (the benchmark's seeded corpus generator)

    _assert_forking_possible()

    monkeypatch.setattr(parallel, "MIN_PAGES", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    monkeypatch.setattr(forkmap, "MIN_ITEMS", 1)
    monkeypatch.setattr(forkmap, "workers", lambda: 2)
    site = tmp_path / "site"
    generate.generate(site, 150, 11)
    fast = BuildOptions(out_dir=tmp_path / "fast")
    stories = sorted((site / "content" / "stories").rglob("*.md"))

    def check(step: str) -> None:
        build_site(site, options=fast, now=NOW)
        clean = tmp_path / f"clean-{step}"
        build_site(site, options=BuildOptions(out_dir=clean, use_cache=False, parallel=False), now=NOW)
        fast_files, clean_files = tree_bytes(tmp_path / "fast"), tree_bytes(clean)
        assert sorted(fast_files) == sorted(clean_files), step
        assert [k for k in clean_files if fast_files[k] != clean_files[k]] == [], step

    check("cold")
    generate.edit_story(site, 1)  # one story's text
    check("edit")
    stories[3].unlink()  # a deleted story disappears from every page
    check("delete")
    text = stories[7].read_text(encoding="utf-8")
    stories[7].write_text(text.replace("\ntitle:", "\ntitle: Renamed and", 1), encoding="utf-8")
    stories[7].rename(stories[7].with_name("renamed-story.md"))
    check("rename")


def test_no_fork_while_another_thread_runs(monkeypatch) -> None:
    """A fork beside a running thread can leave the child stuck on a lock that thread held (seen
    in `digest serve`): with another thread alive, the work stays in this process."""
    import os
    import threading

    monkeypatch.setattr(forkmap, "workers", lambda: 2)
    _assert_forking_possible()
    pids = lambda chunk: [os.getpid() for _ in chunk]  # noqa: E731
    assert set(forkmap.fork_map(pids, list(range(64)), min_items=1)) != {os.getpid()}  # forks when alone
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not forkmap.can_fork()
        assert set(forkmap.fork_map(pids, list(range(64)), min_items=1)) == {os.getpid()}
    finally:
        release.set()
        other.join()


def test_pool_workers_do_not_inherit_a_parents_signal_handlers() -> None:
    """`digest serve` turns SIGTERM into a clean stop; forked workers that kept that handler
    survived the pool's terminate() and the build waited for them forever."""
    import signal
    import subprocess
    import sys

    script = (
        "import signal, threading\n"
        "from digest import forkmap\n"
        "stop = threading.Event()\n"
        "signal.signal(signal.SIGTERM, lambda *a: stop.set())\n"
        "forkmap.workers = lambda: 2\n"
        "for _ in range(100):  # a race: terminate() reaching a worker before it reset its handler\n"
        "    n = len(forkmap.fork_map(lambda c: [x * 2 for x in c], list(range(100)), min_items=1))\n"
        "print(n)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "100"


def test_a_first_build_is_laid_out_by_the_workers_and_a_failed_one_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    import pytest

    from digest.errors import TemplateError

    _assert_forking_possible()
    site = _forked_site(tmp_path, monkeypatch)
    (site / "templates").mkdir()
    (site / "templates" / "story.html").write_text("{{ entry.nothing_here }}\n", encoding="utf-8")
    with pytest.raises(TemplateError):
        build_site(site, options=BuildOptions(out_dir=tmp_path / "out"), now=NOW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no output folder, no staging left

    shutil.rmtree(site / "templates")
    seen: list[str] = []

    def watch(stage: str, done: int, total: int) -> None:  # the first build's pages are not in the output yet
        if stage == "rendering pages":
            seen.append(",".join(sorted(p.name for p in (tmp_path / "out").glob("*"))))
    build_site(site, options=BuildOptions(out_dir=tmp_path / "out", use_cache=False), now=NOW, progress=watch)
    assert seen and set(seen) == {""}
    build_site(site, options=BuildOptions(out_dir=tmp_path / "serial", use_cache=False, parallel=False), now=NOW)
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "serial")


def test_forked_rendering_reports_progress_chunk_by_chunk(tmp_path: Path, monkeypatch) -> None:
    _assert_forking_possible()
    site = _forked_site(tmp_path, monkeypatch)
    reports: list[tuple[int, int]] = []

    def watch(stage: str, done: int, total: int) -> None:
        if stage == "rendering pages":
            reports.append((done, total))
    build_site(site, options=BuildOptions(out_dir=tmp_path / "out", use_cache=False), now=NOW, progress=watch)
    done = [d for d, _ in reports]
    total = reports[-1][1]
    assert total > 20 and done[-1] == total
    assert len(done) > 10 and done == sorted(done) and len(set(done)) == len(done)  # one report a chunk


def test_a_first_build_whose_output_folder_fills_up_meanwhile_still_writes_every_page(tmp_path: Path, monkeypatch) -> None:
    _assert_forking_possible()
    site = _forked_site(tmp_path, monkeypatch)
    out = tmp_path / "out"

    def intrude(stage: str, done: int, total: int) -> None:  # another process writes into the output folder
        if stage == "rendering pages":
            out.mkdir(exist_ok=True)
            (out / "stray.txt").write_bytes(b"x")
    build_site(site, options=BuildOptions(out_dir=out, use_cache=False), now=NOW, progress=intrude)
    build_site(site, options=BuildOptions(out_dir=tmp_path / "serial", use_cache=False, parallel=False), now=NOW)
    assert tree_bytes(out) == tree_bytes(tmp_path / "serial")  # every page in place (the stray file removed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "serial", "site"]


def _folders(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir())


def test_tree_maker_makes_the_folders_of_the_names_one_process_after_the_other(tmp_path: Path) -> None:
    import os

    tree = tmp_path / "tree"
    maker = parallel.TreeMaker(tree)
    maker.add([f"stories/s{i}/index.html" for i in range(300)])
    maker.add(["index.html", "tags/a/index.html", "tags/a/page/2/index.html", "archive/2020/01/index.html"])
    first, second = maker.pids
    os.waitpid(second, 0)  # the second ends after the first: it waited for it
    assert os.waitpid(first, os.WNOHANG) == (first, 0)
    maker.pids.clear()
    maker.abort()  # nothing left to end; the pipe closed
    assert _folders(tree) == sorted(["archive", "archive/2020", "archive/2020/01", "stories", "tags", "tags/a",
                                     "tags/a/page", "tags/a/page/2", *(f"stories/s{i}" for i in range(300))])
    assert not [p for p in tree.rglob("*") if p.is_file()]  # folders only: the workers make the files


def test_folders_in_top_folders_are_made_through_scratch_folders_and_keep_what_a_worker_wrote(
        tmp_path: Path, monkeypatch) -> None:
    import os

    tree = tmp_path / "tree"
    (tree / "stories" / "written").mkdir(parents=True)
    (tree / "stories" / "written" / "index.html").write_text("a worker's page")
    (tree / "stories" / "empty").mkdir()  # made by a worker that has not written its page yet
    empty = (tree / "stories" / "empty").stat().st_ino
    names = [f"stories/s{i}/index.html" for i in range(parallel.SCRATCH_SIZE * 2 + 3)]
    names += ["stories/written/index.html", "stories/empty/index.html", "tags/a/index.html", "tags/a/page/2/index.html"]
    isdir, looked = os.path.isdir, set()  # as if a worker made those two folders just after the maker looked

    def first_look_misses(path: str) -> bool:
        if path.endswith(("written", "empty")) and path not in looked:
            looked.add(path)
            return False
        return isdir(path)

    monkeypatch.setattr(parallel.os.path, "isdir", first_look_misses)
    parallel._make_folders(str(tree), names)
    monkeypatch.undo()
    assert _folders(tree) == sorted(["stories", "stories/written", "stories/empty", "tags", "tags/a", "tags/a/page",
                                     "tags/a/page/2", *(f"stories/s{i}" for i in range(parallel.SCRATCH_SIZE * 2 + 3))])
    assert (tree / "stories" / "written" / "index.html").read_text() == "a worker's page"
    # never replaced: the worker may have looked the folder up to make its page in it (a page
    # made in a folder replaced meanwhile fails: "No such file or directory")
    assert (tree / "stories" / "empty").stat().st_ino == empty


def test_tree_maker_abort_removes_the_scratch_folders_a_maker_left(tmp_path: Path) -> None:
    import os

    tree = tmp_path / "tree"
    maker = parallel.TreeMaker(tree)
    maker.add(["stories/x/index.html"])
    os.waitpid(maker.pids.pop(), 0)
    (tree / f"{parallel.SCRATCH}1234-0" / "5").mkdir(parents=True)  # as a maker ended midway leaves it
    maker.abort()
    assert _folders(tree) == ["stories", "stories/x"]


def test_tree_maker_marks_the_top_folders_where_the_file_system_can(tmp_path: Path) -> None:
    """ext4 spreads the folders made in a folder marked +T (FS_TOPDIR_FL) over the disk."""
    import array
    import fcntl
    import os

    import pytest

    maker = parallel.TreeMaker(tmp_path / "tree")
    maker.add(["stories/x/index.html"])
    os.waitpid(maker.pids.pop(), 0)
    maker.abort()
    flags = []
    for folder in (tmp_path / "tree", tmp_path / "tree" / "stories", tmp_path / "tree" / "stories" / "x"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            value = array.array("i", [0])
            fcntl.ioctl(fd, parallel._FS_IOC_GETFLAGS, value, True)
        except OSError:
            pytest.skip("this file system has no inode flags")
        finally:
            os.close(fd)
        flags.append(bool(value[0] & parallel._FS_TOPDIR_FL))
    if not flags[0]:
        probe = tmp_path / "probe"
        probe.mkdir()
        parallel._spread(str(probe))
        fd = os.open(probe, os.O_RDONLY | os.O_DIRECTORY)
        value = array.array("i", [0])
        fcntl.ioctl(fd, parallel._FS_IOC_GETFLAGS, value, True)
        os.close(fd)
        if not value[0] & parallel._FS_TOPDIR_FL:
            pytest.skip("this file system keeps no FS_TOPDIR_FL")
    assert flags == [True, True, False]


def test_a_first_parallel_build_has_the_folders_of_a_serial_one(tmp_path: Path, monkeypatch) -> None:
    _assert_forking_possible()
    site = _forked_site(tmp_path, monkeypatch)
    build_site(site, options=BuildOptions(out_dir=tmp_path / "out", use_cache=False), now=NOW)
    build_site(site, options=BuildOptions(out_dir=tmp_path / "serial", use_cache=False, parallel=False), now=NOW)
    assert _folders(tmp_path / "out") == _folders(tmp_path / "serial")
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "serial")


def test_the_cache_files_written_while_the_pages_render_are_those_of_the_state_saved(tmp_path: Path, monkeypatch) -> None:
    from digest import build
    from digest.cache import save_related
    from digest.pagestore import save_store

    site = _forked_site(tmp_path, monkeypatch)
    saved, stores = [], []
    keep, pending_store = build._keep, build.pending_store
    monkeypatch.setattr(build, "_keep", lambda *args: (saved.append(args), keep(*args))[1])
    monkeypatch.setattr(build, "pending_store", lambda path, store: (stores.append(store), pending_store(path, store))[1])
    build_site(site, options=BuildOptions(out_dir=tmp_path / "out"), now=NOW)
    (cache_path, _, state, _, store_files, related_file), = saved
    store, = stores
    assert len(store_files) == 2 and related_file is not None  # written ahead, moved into place by _keep
    files = tree_bytes(cache_path.parent)
    assert not [name for name in files if name.startswith(".tmp-")]
    # what saving the kept state at the end would have written, byte for byte
    check = tmp_path / "check" / cache_path.name
    save_related(check, state.related_state)
    save_store(check, store)
    for suffix in (".related", ".pages", ".stamps"):
        assert files[cache_path.with_suffix(suffix).name] == check.with_suffix(suffix).read_bytes(), suffix
