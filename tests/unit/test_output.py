"""The output writer."""

from __future__ import annotations

import os
from pathlib import Path

from digest.output import write_site


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
