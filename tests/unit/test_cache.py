"""The build cache on disk: parsed content as a base file plus a delta of what changed since."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

from digest.build import BuildOptions, build_site
from digest.cache import cache_file, load_cache
from tests.conftest import tree_bytes
from tests.golden.regenerate import SITE

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_edits_write_a_delta_and_reload_to_the_same_records(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
    out = tmp_path / "out"
    options = BuildOptions(out_dir=out)
    build_site(site, options=options, now=NOW)
    cache = cache_file(site, out)
    base = cache.with_suffix(".records")
    base_bytes = base.read_bytes()
    assert not cache.with_suffix(".delta").exists()

    stories = sorted((site / "content" / "stories").glob("*.md"))
    stories[0].write_text(stories[0].read_text(encoding="utf-8") + "\nA correction.\n", encoding="utf-8")
    stories[1].unlink()
    build_site(site, options=options, now=NOW)
    assert base.read_bytes() == base_bytes  # the base is kept; only the delta is written
    assert cache.with_suffix(".delta").is_file()
    loaded = load_cache(cache)
    shown = {p.relative_to(site).as_posix() for p in (site / "content").rglob("*.md")}
    assert set(loaded.records) == shown
    assert "A correction." in loaded.records[stories[0].relative_to(site).as_posix()].item.body

    build_site(site, options=BuildOptions(out_dir=tmp_path / "clean", use_cache=False), now=NOW)
    assert tree_bytes(out) == tree_bytes(tmp_path / "clean")


def test_a_records_file_from_another_state_is_not_trusted(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
    first, second = tmp_path / "a", tmp_path / "b"
    build_site(site, options=BuildOptions(out_dir=first), now=NOW)
    build_site(site, options=BuildOptions(out_dir=second), now=NOW)
    # another build's parsed content put beside this state (e.g. a crash between two writes)
    shutil.copyfile(cache_file(site, second).with_suffix(".records"), cache_file(site, first).with_suffix(".records"))
    assert load_cache(cache_file(site, first)).records == {}
    assert load_cache(cache_file(site, second)).records != {}


def _state(records: dict):
    from digest.cache import BuildCache, Manifest, code_version

    return BuildCache(manifest=Manifest(version=code_version()), records=records)


def _records(site: Path) -> dict:
    from digest.config import load_config
    from digest.content import load_site_cached

    return load_site_cached(load_config(site), {}, 0, parallel=False)[1]


def test_records_written_while_parsing_read_back_as_saved(tmp_path: Path) -> None:
    import pickle

    from digest.cache import RecordsWriter, StoredRecords, save_cache

    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
    records = _records(site)
    saved = tmp_path / "saved" / "build.pickle"
    save_cache(saved, _state(records))  # pickled at save time
    path = tmp_path / "written" / "build.pickle"
    writer = RecordsWriter(path)
    for name, loaded in reversed(records.items()):  # in the order the parse hands them over, not the records' order
        writer.add(name, loaded, pickle.dumps(loaded))
    assert writer.holds(records)
    save_cache(path, _state(records), writer)
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".tmp-")] == []
    for cache in (saved, path):
        token = load_cache(cache).records_base[0]
        stored = StoredRecords.open(cache, token)
        assert stored is not None and stored.all() == records
        name = next(iter(records))
        assert stored.get(name) == records[name]  # one record read alone, at its span


def test_records_written_for_other_content_are_not_saved(tmp_path: Path) -> None:
    import pickle

    from digest.cache import RecordsWriter, save_cache

    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
    records = _records(site)
    path = tmp_path / "cache" / "build.pickle"
    writer = RecordsWriter(path)
    first = next(iter(records))
    for name, loaded in records.items():
        if name != first:
            writer.add(name, loaded, pickle.dumps(loaded))
    assert not writer.holds(records)
    save_cache(path, _state(records), writer)  # one record missing: pickled again, all of them
    writer.abort()
    assert load_cache(path).records == records
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".tmp-")] == []


def test_a_first_build_that_fails_leaves_no_partial_records(tmp_path: Path) -> None:
    import pytest

    from digest.errors import DigestError

    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
    (site / "content" / "stories" / "broken.md").write_text("---\ntitle: [unclosed\n---\nBody.\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(DigestError):
        build_site(site, options=BuildOptions(out_dir=out), now=NOW)
    folder = cache_file(site, out).parent
    assert not folder.is_dir() or [p.name for p in folder.iterdir()] == []


def test_temporaries_a_killed_build_left_are_removed_and_a_running_builds_kept(tmp_path: Path) -> None:
    import os
    import time

    from digest.cache import STALE_TEMPORARY_NS, remove_stale_temporaries

    folder = tmp_path / "cache"
    assert remove_stale_temporaries(folder, time.time_ns()) == []  # no folder yet
    folder.mkdir()
    now = time.time_ns()
    old = (now - STALE_TEMPORARY_NS - 10**9) // 10**9
    for name in (".tmp-dead.related", ".tmp-dead.pages", "build-x.related", ".tmp-fresh.records"):
        (folder / name).write_bytes(b"x")
    for name in (".tmp-dead.related", ".tmp-dead.pages", "build-x.related"):
        os.utime(folder / name, (old, old))
    (folder / ".tmp-dir").mkdir()
    os.utime(folder / ".tmp-dir", (old, old))
    assert remove_stale_temporaries(folder, now) == [".tmp-dead.pages", ".tmp-dead.related"]
    assert sorted(p.name for p in folder.iterdir()) == [".tmp-dir", ".tmp-fresh.records", "build-x.related"]


def test_a_build_removes_what_a_killed_build_left_in_its_cache_folder(tmp_path: Path) -> None:
    import os

    site = tmp_path / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns(".digest"))
    build_site(site, options=BuildOptions(out_dir=tmp_path / "out"), now=NOW)
    folder = cache_file(site, tmp_path / "out").parent
    left = folder / ".tmp-killed.related"
    left.write_bytes(b"half a file")
    os.utime(left, (1_000_000_000, 1_000_000_000))
    build_site(site, options=BuildOptions(out_dir=tmp_path / "out", use_cache=False), now=NOW)
    assert not left.exists()
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")]
