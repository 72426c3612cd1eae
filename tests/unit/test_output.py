"""The output writer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digest.output import PendingFile, write_atomic_parts, write_site


def test_writes_only_changed_files_and_removes_stale(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write_site(out, {"a/index.html": b"A", "b/index.html": b"B", "c.txt": b"C"})
    assert (first.written, first.unchanged, first.removed) == (3, 0, 0)
    old = 1_000_000_000
    os.utime(out / "a/index.html", (old, old))
    second = write_site(out, {"a/index.html": b"A", "b/index.html": b"B2"})
    assert (second.written, second.unchanged, second.removed) == (1, 1, 1)
    assert (out / "a/index.html").stat().st_mtime == old
    assert (out / "b/index.html").read_bytes() == b"B2"
    assert not (out / "c.txt").exists()


def test_expected_files_not_rendered_are_kept_and_protected_folders_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_site(out, {"a.html": b"A", "b.html": b"B"})
    (out / "pagefind").mkdir()
    (out / "pagefind" / "index.bin").write_bytes(b"I")
    report = write_site(out, {"a.html": b"A2"}, expected={"a.html", "b.html"}, protected=frozenset({"pagefind"}))
    assert report.removed == 0
    assert (out / "b.html").read_bytes() == b"B" and (out / "pagefind" / "index.bin").exists()


def test_empty_folders_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_site(out, {"stories/x/index.html": b"X", "index.html": b"I"})
    write_site(out, {"index.html": b"I"})
    assert not (out / "stories").exists()


def test_with_previous_only_listed_files_are_removed_and_their_empty_folders(tmp_path: Path) -> None:
    write_site(tmp_path, {"a/b/old.html": b"x", "a/keep.html": b"k", "c/gone.html": b"g", "search/i": b"i"})
    (tmp_path / "hand-made.txt").write_bytes(b"mine")  # never written by a build: not ours to remove
    previous = frozenset({"a/b/old.html", "a/keep.html", "c/gone.html", "search/i", "missing.html"})
    report = write_site(tmp_path, {"a/keep.html": b"k"}, expected={"a/keep.html"},
                        protected=frozenset({"search"}), previous=previous)
    assert report.removed == 2
    assert not (tmp_path / "a" / "b").exists() and not (tmp_path / "c").exists()
    assert (tmp_path / "a" / "keep.html").read_bytes() == b"k"
    assert (tmp_path / "hand-made.txt").read_bytes() == b"mine"
    assert (tmp_path / "search" / "i").read_bytes() == b"i"


def test_write_fresh_makes_the_laid_out_tree_the_output_folder(tmp_path: Path) -> None:
    from digest.output import Staged, write_fresh

    tree = tmp_path / "staging" / "site"
    (tree / "stories" / "a").mkdir(parents=True)
    (tree / "stories" / "a" / "index.html").write_bytes(b"A")  # laid out by a worker: stays put
    (tmp_path / "staging" / "7").write_bytes(b"B")  # staged flat elsewhere: moved into the tree
    files = {"stories/a/index.html": Staged(str(tree / "stories" / "a" / "index.html")),
             "stories/b/index.html": Staged(str(tmp_path / "staging" / "7")),
             "sitemap.xml": b"S"}
    out = tmp_path / "public" / "out"  # its parent does not exist yet either
    report = write_fresh(tree, out, files)
    assert report is not None and report.written == 3
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == {
        "stories/a/index.html": b"A", "stories/b/index.html": b"B", "sitemap.xml": b"S"}
    assert not tree.exists()


def test_write_fresh_refuses_an_output_folder_that_filled_up_and_keeps_every_file(tmp_path: Path) -> None:
    from digest.output import write_fresh

    out = tmp_path / "out"
    out.mkdir()
    (out / "someone-elses.txt").write_bytes(b"x")
    tree = tmp_path / "tree"
    assert write_fresh(tree, out, {"index.html": b"I", "a/b.html": b"B"}) is None
    assert (tree / "index.html").read_bytes() == b"I" and (tree / "a" / "b.html").read_bytes() == b"B"
    assert sorted(p.name for p in out.iterdir()) == ["someone-elses.txt"]


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


def test_a_pending_file_replaces_its_target_only_when_committed(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "build.related"
    target.parent.mkdir()
    target.write_bytes(b"old")
    pending = PendingFile(target, [b"new ", memoryview(b"bytes")])
    assert target.read_bytes() == b"old"  # written beside it, not over it
    assert len(_temporaries(target.parent)) == 1
    pending.commit()
    assert target.read_bytes() == b"new bytes" and _temporaries(target.parent) == []
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    pending.discard()  # after the commit: nothing to remove, the file stays
    assert target.read_bytes() == b"new bytes"
    with pytest.raises(ValueError):
        pending.commit()


def test_a_discarded_pending_file_leaves_the_target_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "build.pages"
    target.write_bytes(b"kept")
    pending = PendingFile(target, [b"dropped"])
    pending.discard()
    pending.discard()  # twice: still nothing to do
    assert target.read_bytes() == b"kept" and _temporaries(tmp_path) == []
    with pytest.raises(ValueError):
        pending.commit()
    assert target.read_bytes() == b"kept"


def test_a_pending_file_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        PendingFile(tmp_path / "build.related", [b"start", "not bytes"])
    assert _temporaries(tmp_path) == []
    write_atomic_parts(tmp_path / "plain.bin", [b"a", b"b"])
    assert (tmp_path / "plain.bin").read_bytes() == b"ab" and _temporaries(tmp_path) == []
